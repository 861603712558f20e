//! [`PgPackageStore`]: the package store in PostgreSQL, for several
//! registry processes (replicas) sharing one database.

mod accounts;
mod connections;
mod convert;
mod notify;
mod packages;
mod purge;
mod repositories;
mod retention;
mod schema;
mod statement;
mod store;
mod tokens;
mod versions;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};

use crate::error::Error;
use crate::stored::RecentTokenUses;

pub use notify::CHANNEL as NOTIFY_CHANNEL;
pub use schema::MIGRATION_LOCK;

/// How [`PgPackageStore::connect_with`] sets up its pool, and how long the
/// store waits for the database.
///
/// Non-exhaustive so that settings can be added in a minor release: start
/// from `PgOptions::default()` and set the fields to change.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub struct PgOptions {
    /// The most connections the pool opens. Default 16; 0 counts as 1.
    pub max_connections: usize,
    /// How long opening a connection may take (TCP connect and startup),
    /// and how long a request waits for a free pooled connection, before it
    /// fails with [`Error::Unavailable`]. Default 5 seconds.
    pub connect_timeout: Duration,
    /// The longest one store call may take, retries included, before it
    /// fails with [`Error::Unavailable`] (its transaction rolled back).
    /// Pools built by [`PgOptions::pool`] also set it as the connections'
    /// `statement_timeout` (unless the URL sets one), so the server stops
    /// a statement its caller gave up on. Default 30 seconds.
    pub operation_timeout: Duration,
    /// How many times a change is tried when it keeps meeting serialization
    /// failures or deadlocks (concurrent changes of the same rows), with a
    /// short random pause between tries; after the last, the change fails
    /// with [`Error::Unavailable`]. Default 10; 0 counts as 1.
    pub attempts: u32,
    /// How long deleted packages and versions stay restorable before a
    /// purge removes them (see
    /// [`PackageRecords::restore_window`](crate::PackageRecords::restore_window)).
    /// Default [`RESTORE_WINDOW`](crate::RESTORE_WINDOW), 30 days. Every
    /// replica sharing a database should use the same.
    pub restore_window: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(30),
            attempts: 10,
            restore_window: crate::RESTORE_WINDOW,
        }
    }
}

impl PgOptions {
    /// A pool of connections to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?...]`,
    /// or the `key=value` form), without TLS, as these options say.
    pub fn pool(&self, url: &str) -> Result<Pool, Error> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| Error::database("reading the database URL", e))?;
        config.connect_timeout(self.connect_timeout);
        config.keepalives(true);
        // A statement still running when its call gives up (say, waiting
        // for a lock) is cancelled by the server too, rather than holding
        // its pooled connection for the next call.
        let statement_timeout = format!(
            "-c statement_timeout={}",
            self.operation_timeout.as_millis().max(1)
        );
        let options = match config.get_options() {
            Some(given) if given.contains("statement_timeout") => given.to_owned(),
            Some(given) => format!("{given} {statement_timeout}"),
            None => statement_timeout,
        };
        config.options(options);
        if config.get_application_name().is_none() {
            config.application_name("wharf-packages");
        }
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        Pool::builder(manager)
            .max_size(self.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(self.connect_timeout))
            .create_timeout(Some(self.connect_timeout))
            .recycle_timeout(Some(self.connect_timeout))
            .build()
            .map_err(|e| Error::database("building the connection pool", e))
    }
}

/// A [`PackageStore`](crate::PackageStore) in a PostgreSQL database, which
/// several registry processes share: each sees the others' changes at
/// once.
///
/// - **Schema**: versioned migrations ([`migrate`](Self::migrate)),
///   recorded in `wharf_schema_migrations` under the component `packages`
///   and applied under an advisory lock, so replicas starting together
///   apply each once. A database migrated by a newer build is refused
///   ([`Error::SchemaTooNew`]).
/// - **Changes** run in `SERIALIZABLE` transactions: whatever replicas do
///   at once, the outcome is that of some order of the changes one after
///   the other, as with the embedded store's single writer (two first
///   pushes of one name create one package; a version deleted while a
///   push moves its tag ends either deleted with the tag moved away or
///   tagged then deleted, never half of each). A change that meets a
///   serialization failure or a deadlock is run again, up to
///   [`PgOptions::attempts`] times, after a short random pause.
/// - **Lookups** are single statements (a package with its grants, a
///   version with its tags, a token), or read in one `REPEATABLE READ`
///   snapshot when they take several ([`access_context`](crate::PackageRecords::access_context), listings).
/// - **Failures**: a database that cannot be reached, a pool with no free
///   connection within [`PgOptions::connect_timeout`], a call that takes
///   longer than [`PgOptions::operation_timeout`] give
///   [`Error::Unavailable`] (a registry answers 503), never a hang.
/// - **Cache coherence**: the changes that a cache on another replica must
///   hear about (a revoked token, a package's visibility, grants or
///   versions, an organization's members, a repository's collaborators)
///   send `NOTIFY wharf_packages, '<what>:<key>'` in their transaction
///   (see [`NOTIFY_CHANNEL`] for the payloads), for a `LISTEN`er to
///   invalidate a [`CachedStore`](crate::CachedStore).
///
/// Connections are plain TCP (`NoTls`) when built from a URL; for TLS, or
/// any other setting, build a [`deadpool_postgres::Pool`] yourself and use
/// [`from_pool`](Self::from_pool). Cloning is cheap and shares the pool.
/// Methods must be called within a tokio runtime.
///
/// ```no_run
/// use wharf_auth::Timestamp;
/// use wharf_packages::prelude::*;
/// use wharf_packages::{PgOptions, PgPackageStore};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let mut options = PgOptions::default();
/// options.max_connections = 32;
/// let store = PgPackageStore::connect_with("postgres://wharf@db.internal/registry", options).await?;
/// let now = Timestamp::from_unix_seconds(1_700_000_000);
/// store.create_user(&"octocat".parse()?, now).await?;
/// assert!(store.account(&"octocat".parse()?).await?.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub struct PgPackageStore {
    pool: Pool,
    options: Arc<PgOptions>,
    /// The last `last_used_at` each token was given by this process.
    token_uses: RecentTokenUses,
}

impl std::fmt::Debug for PgPackageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPackageStore")
            .field("pool", &self.pool.status())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl PgPackageStore {
    /// Connects to the database at `url` with the default [`PgOptions`],
    /// and brings its schema up to date.
    pub async fn connect(url: &str) -> Result<PgPackageStore, Error> {
        PgPackageStore::connect_with(url, PgOptions::default()).await
    }

    /// Connects to the database at `url` with `options`, and brings its
    /// schema up to date.
    pub async fn connect_with(url: &str, options: PgOptions) -> Result<PgPackageStore, Error> {
        let pool = options.pool(url)?;
        let store = PgPackageStore::from_pool_with(pool, options);
        store.migrate().await?;
        Ok(store)
    }

    /// A store over an existing pool (with its own TLS and settings), with
    /// the default [`PgOptions`] for timeouts and retries. Opens nothing:
    /// call [`migrate`](Self::migrate) before the first use.
    pub fn from_pool(pool: Pool) -> PgPackageStore {
        PgPackageStore::from_pool_with(pool, PgOptions::default())
    }

    /// A store over an existing pool, with `options` for timeouts and
    /// retries (its pool settings are the pool's own).
    pub fn from_pool_with(pool: Pool, options: PgOptions) -> PgPackageStore {
        PgPackageStore {
            pool,
            options: Arc::new(options),
            token_uses: RecentTokenUses::new(),
        }
    }

    /// Brings the database's schema up to date (creating it in an empty
    /// database). Safe to run again, and from several processes at once:
    /// they take turns under [`MIGRATION_LOCK`], and those after the first
    /// find nothing to do. Not bounded by [`PgOptions::operation_timeout`]
    /// (a migration of a large table, or waiting for another replica's, may
    /// take longer); getting a connection is bounded as always.
    pub async fn migrate(&self) -> Result<(), Error> {
        let mut client = self.client().await?;
        schema::migrate(&mut client).await
    }

    /// The pool, for statistics or to share it.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The schema version this build writes (the `packages` component's
    /// latest version in `wharf_schema_migrations` after migrating).
    pub fn schema_version() -> i64 {
        schema::current_version()
    }
}
