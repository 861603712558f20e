//! Repository metadata in PostgreSQL: [`PostgresMetadata`], and the
//! notifications of its changes ([`listen`], [`NOTIFY_CHANNEL`]) that keep
//! the caches of several replicas coherent.

mod archive;
mod failure;
mod lease;
mod listen;
mod options;
mod records;
mod repositories;
mod schema;

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use crate::error::{Error, Result};

use failure::Failure;
pub use lease::{try_lease, Lease};
pub use listen::{listen, Notification, Notifications};
pub use options::PostgresOptions;
pub use schema::NOTIFY_CHANNEL;

/// Repository metadata (blob links, manifests, tags, referrers, the
/// catalog and archives) in a PostgreSQL database, shared by any number of
/// registry processes: the metadata half of a [`Composite`](crate::Composite)
/// whose blob half is shared too (an object store).
///
/// ```no_run
/// use std::sync::Arc;
/// use wharf_storage::{Composite, FsStorage, PostgresMetadata, Storage};
///
/// # async fn run() -> wharf_storage::Result<()> {
/// // Connects, and brings the schema up to date.
/// let metadata = PostgresMetadata::connect("postgres://wharf@db.internal/registry").await?;
/// let storage: Arc<dyn Storage> = Arc::new(Composite::new(FsStorage::open("/srv/blobs")?, metadata));
/// # let _ = storage;
/// # Ok(()) }
/// ```
///
/// # Blobs are not its business
///
/// It implements only [`RepositoryStore`](crate::RepositoryStore), and its
/// [`link_blob`](crate::RepositoryStore::link_blob) records the link
/// without looking for the blob, which lives in another store: use it
/// inside a [`Composite`](crate::Composite), which links first and then
/// looks at the blob in its blob store (and removes the link again if the
/// blob is not there), as [the garbage-collection protocol](crate::collect)
/// requires. Likewise, archiving a repository does not cancel its
/// upload sessions; the composite does that in its blob store.
///
/// # What lives where, and what is atomic
///
/// Each operation is one statement or one transaction, so a reader never
/// sees half of a write, and a replica sees another's write as soon as
/// that write has returned:
///
/// - Manifests live in the database, bytes included (`bytea`): they are
///   small (a registry caps them at a few MiB), and so a manifest is
///   stored with its referrers entry, and deleted with its tags and that
///   entry, in one transaction, and a manifest GET is one query with no
///   object-store round trip.
/// - A manifest's referrers entry is the manifest's own row (its subject
///   column), so the referrers index cannot disagree with the manifests.
/// - A tag is a row whose foreign key points at its manifest's row, with
///   `ON DELETE CASCADE`: writing the tag locks the manifest row against
///   deletion (`FOR KEY SHARE`) and deleting the manifest deletes its tags
///   in the same transaction, so `set_tag` racing `delete_manifest` never
///   leaves a tag pointing at a deleted manifest; `set_tag` then fails
///   with `ManifestNotFound`. `delete_manifest` locks the manifest row
///   (`FOR UPDATE`) before it deletes, so the tags it returns are exactly
///   the tags it deleted. The foreign key, rather than an explicit
///   `SELECT ... FOR SHARE` in `set_tag`, puts the rule in the schema,
///   where no code path (nor an operator's SQL) can forget the lock; and
///   the lock it takes is `FOR KEY SHARE`, which does not wait for, nor
///   hold up, a manifest stored again with another media type.
/// - A repository's content hangs off one repository row: archiving
///   renames that row to its archive key and restoring renames it back,
///   each one transaction whatever the content's size. Writers lock the
///   row they write under (`FOR KEY SHARE`), so content stored while a
///   repository is archived lands either in the archive (stored first) or
///   in the new, empty repository (stored after), never lost in between.
///
/// - Garbage collection's link times are a column of the link's row
///   (`linked_at`, set by the database's `now()` when the link is made
///   or [confirmed](crate::RepositoryStore::confirm_link)), so removing a
///   link unused since a cutoff is one conditional `DELETE` of that row,
///   atomic against the confirming `UPDATE`. The cutoff is the caller's
///   clock and the times the database's: keep the grace period well
///   above their skew.
///
/// Transactions run at `READ COMMITTED`; a serialization failure or
/// deadlock is retried a few times before it is reported.
///
/// # Failures
///
/// - No connection, a lost connection, too many connections, a database
///   shutting down, a timeout: [`Error::Unavailable`] with service
///   `"database"` (a registry answers 503). Every operation is bounded by
///   [`PostgresOptions::operation_timeout`], so a database that stops
///   answering is reported, not waited on.
/// - Refusals that retrying will not fix (wrong password, missing
///   privileges, a schema never migrated): [`Error::Database`].
/// - A record this crate could not have written: [`Error::CorruptRecord`].
///
/// # Schema and migrations
///
/// Tables are named `storage_*`. The migrations this crate applied are
/// recorded in `wharf_schema_migrations` under component `storage`, a
/// table other Wharf components (the package store) share in the same
/// database under their own component names. [`connect`](Self::connect)
/// migrates; a store made [`from_pool`](Self::from_pool) must be
/// [`migrate`](Self::migrate)d once before use. Migrating takes an
/// advisory lock, so replicas starting together apply each migration
/// once.
///
/// Connections are made without TLS; for TLS, build a pool with a TLS
/// connector and use [`from_pool`](Self::from_pool). The timeouts need a
/// Tokio runtime with its time driver (`enable_all`, as `#[tokio::main]`
/// builds it).
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub struct PostgresMetadata {
    pool: Pool,
    options: PostgresOptions,
}

impl std::fmt::Debug for PostgresMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresMetadata")
            .field("pool", &self.pool.status())
            .field("options", &self.options)
            .finish()
    }
}

/// Work on one connection, as [`PostgresMetadata::run`] runs it.
type Work<'a, T> = Pin<Box<dyn Future<Output = Result<T, Failure>> + Send + 'a>>;

/// How many times work that failed with a serialization failure or a
/// deadlock is run again.
const RETRIES: u32 = 4;

impl PostgresMetadata {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`,
    /// or PostgreSQL's `key=value` form) with the default
    /// [`PostgresOptions`], and migrates its schema.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, PostgresOptions::default()).await
    }

    /// Connects to the database at `url` with `options`, and migrates its
    /// schema. [`Error::Database`] if the URL is invalid;
    /// [`Error::Unavailable`] if the database cannot be reached within
    /// the options' timeouts.
    pub async fn connect_with(url: &str, options: PostgresOptions) -> Result<Self> {
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| Error::Database {
            context: "read the database URL".to_owned(),
            source: Box::new(e),
        })?;
        config.connect_timeout(options.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name("wharf-storage");
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(options.connect_timeout))
            .wait_timeout(Some(options.wait_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| Error::Database {
                context: "build the database pool".to_owned(),
                source: Box::new(e),
            })?;
        let metadata = PostgresMetadata { pool, options };
        metadata.migrate().await?;
        Ok(metadata)
    }

    /// Metadata over an existing pool (with its own TLS, sizes and
    /// timeouts; give it the Tokio runtime so that its timeouts apply).
    /// Nothing is checked or migrated: call [`migrate`](Self::migrate)
    /// before use. Operations are bounded by the default
    /// [`operation timeout`](PostgresOptions::operation_timeout);
    /// change it with [`with_operation_timeout`](Self::with_operation_timeout).
    pub fn from_pool(pool: Pool) -> Self {
        PostgresMetadata {
            pool,
            options: PostgresOptions::default(),
        }
    }

    /// Bounds every operation by `timeout`.
    pub fn with_operation_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.options.operation_timeout = timeout;
        self
    }

    /// Brings the schema to the newest version this build knows. Harmless
    /// to run again, or from several processes at once.
    /// [`Error::Database`] if the database's schema is newer than this
    /// build's (upgrade the program).
    pub async fn migrate(&self) -> Result<()> {
        self.run("migrate the storage schema", |mut client| {
            Box::pin(async move { schema::migrate(&mut client).await })
        })
        .await
    }

    /// The schema version [`migrate`](Self::migrate) brings a database to.
    pub fn schema_version() -> i64 {
        schema::latest()
    }

    /// The pool, for its status (connections open and idle) or to share
    /// it.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs `work` on a pooled connection, again with a fresh connection
    /// when it failed with a serialization failure or a deadlock (at most
    /// [`RETRIES`] times), the whole within the operation timeout. A
    /// database error is reported as this crate's error for `context`
    /// (what was being done).
    async fn run<'a, T, F>(&'a self, context: &'static str, mut work: F) -> Result<T>
    where
        T: Send + 'a,
        F: FnMut(Object) -> Work<'a, T> + Send + 'a,
    {
        let attempts = async {
            let mut retries = 0;
            loop {
                let client = self
                    .pool
                    .get()
                    .await
                    .map_err(|e| failure::pool_error(context, e))?;
                match work(client).await {
                    Ok(value) => return Ok(value),
                    Err(Failure::Storage(e)) => return Err(e),
                    Err(Failure::Database(e)) if failure::is_retryable(&e) && retries < RETRIES => {
                        retries += 1;
                        // Let the transaction that won go first.
                        tokio::time::sleep(std::time::Duration::from_millis(
                            5 * u64::from(retries),
                        ))
                        .await;
                    }
                    Err(Failure::Database(e)) => return Err(failure::database_error(context, e)),
                }
            }
        };
        let limit = self.options.operation_timeout;
        tokio::time::timeout(limit, attempts)
            .await
            .unwrap_or_else(|_| Err(failure::timed_out(context, limit)))
    }

    /// Runs the one statement `sql` with `params` and returns how many rows
    /// it changed.
    async fn changed(
        &self,
        context: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64> {
        self.run(context, |client| {
            Box::pin(async move { Ok(execute(&client, sql, params).await?) })
        })
        .await
    }

    /// Runs the query `sql` with `params` and reads the one row it finds,
    /// if any, with `read`.
    async fn find<T: Send>(
        &self,
        context: &'static str,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        read: impl Fn(&Row) -> Result<T, Error> + Sync,
    ) -> Result<Option<T>> {
        let read = &read;
        self.run(context, |client| {
            Box::pin(async move {
                let row = query_opt(&client, sql, params).await?;
                Ok(row.as_ref().map(read).transpose()?)
            })
        })
        .await
    }

    /// The page `request` asks for of the rows the query `sql` finds, each
    /// read with `read` and ordered by `key`. `sql` takes `params`, then
    /// the page's lower bound and limit (see [`after`] and [`limit`]).
    async fn page<T: Clone + Send>(
        &self,
        context: &'static str,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
        read: impl Fn(&Row) -> Result<T, Error> + Sync,
        request: &crate::PageRequest,
        key: impl Fn(&T) -> &str,
    ) -> Result<crate::Page<T>> {
        let (after, limit) = (after(request), limit(request.n));
        let read = &read;
        let items = self
            .run(context, |client| {
                Box::pin(async move {
                    let mut params = params.to_vec();
                    params.extend([&after as &(dyn ToSql + Sync), &limit]);
                    let rows = query(&client, sql, &params).await?;
                    let items: Result<Vec<T>, Error> = rows.iter().map(read).collect();
                    Ok(items?)
                })
            })
            .await?;
        Ok(crate::Page::from_sorted_by(items, request, key))
    }
}

/// Defines each `name`, which runs `sql` with `params` through the
/// `GenericClient` method of that name, the statement prepared once per
/// connection.
macro_rules! prepared {
    ($( $(#[$doc:meta])* $name:ident -> $answer:ty; )*) => {$(
        $(#[$doc])*
        async fn $name(
            client: &impl GenericClient,
            sql: &str,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<$answer, tokio_postgres::Error> {
            let statement = client.prepare_cached(sql).await?;
            client.$name(&statement, params).await
        }
    )*};
}

prepared! {
    /// Runs `sql` and returns its rows.
    query -> Vec<Row>;
    /// Runs `sql` and returns its one row, or none.
    query_opt -> Option<Row>;
    /// Runs `sql`, which returns exactly one row.
    query_one -> Row;
    /// Runs `sql` and returns how many rows it changed.
    execute -> u64;
}

/// The `LIMIT` of a page query: one more row than the page holds, so that
/// the page knows whether more follow; `NULL` (no limit) for all.
fn limit(n: Option<usize>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX).saturating_add(1))
}

/// The lower bound of a page query (`key > $`): every key is non-empty,
/// so the empty string starts at the first.
fn after(page: &crate::PageRequest) -> &str {
    page.last.as_deref().unwrap_or("")
}
