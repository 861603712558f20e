//! [`SqlitePackageStore`]: the embedded default, one SQLite database file.

mod accounts;
mod connections;
mod convert;
mod files;
mod packages;
mod purge;
mod repositories;
mod retention;
mod schema;
mod statement;
mod store;
mod tokens;
mod versions;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::Error;
use crate::stored::RecentTokenUses;

use connections::{configure, Inner};
use convert::Context;

/// How [`SqlitePackageStore::open_with`] sets up the database.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub struct SqliteOptions {
    /// Connections kept for reads, which run in parallel with each other
    /// and with the one writer (WAL mode). At least one is opened.
    pub readers: usize,
    /// How long a statement waits for a lock held by another process (the
    /// admin CLI, a second server) before failing.
    pub busy_timeout: Duration,
    /// Prepared statements cached per connection.
    pub statement_cache: usize,
    /// How long deleted packages and versions stay restorable before a
    /// purge removes them (see
    /// [`PackageRecords::restore_window`](crate::PackageRecords::restore_window)).
    /// Default [`RESTORE_WINDOW`](crate::RESTORE_WINDOW), 30 days.
    pub restore_window: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            busy_timeout: Duration::from_secs(5),
            statement_cache: 64,
            restore_window: crate::RESTORE_WINDOW,
        }
    }
}

/// A [`PackageStore`](crate::PackageStore) in one SQLite database file (bundled SQLite, no
/// system library needed).
///
/// - **Durable and crash-safe**: write-ahead logging with
///   `synchronous=FULL`, so a committed change survives a crash or power
///   loss; every change is one `BEGIN IMMEDIATE` transaction.
/// - **Concurrent reads**: one writer connection and a pool of reader
///   connections; lookups never wait for a write.
/// - **Migrations**: the schema version is the `user_version` pragma;
///   opening a file upgrades it. A file from a newer version is refused
///   ([`Error::SchemaTooNew`]).
/// - **Several processes** (the server and the admin CLI) can open the
///   same file; they wait for each other's writes up to
///   [`SqliteOptions::busy_timeout`].
///
/// Methods run the blocking SQLite calls on tokio's blocking thread pool,
/// so they must be called from within a tokio runtime. Cloning is cheap
/// and shares the connections.
///
/// ```
/// use wharf_auth::Timestamp;
/// use wharf_packages::prelude::*;
/// use wharf_packages::SqlitePackageStore;
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let dir = tempfile::tempdir()?;
/// let store = SqlitePackageStore::open(dir.path().join("registry.db"))?;
/// let now = Timestamp::from_unix_seconds(1_700_000_000);
/// store.create_user(&"octocat".parse()?, now).await?;
/// assert!(store.account(&"octocat".parse()?).await?.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
pub struct SqlitePackageStore {
    inner: Arc<Inner>,
    restore_window: Duration,
}

impl std::fmt::Debug for SqlitePackageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlitePackageStore")
            .field("path", &self.inner.path)
            .field("readers", &self.inner.readers.len())
            .field("restore_window", &self.restore_window)
            .finish_non_exhaustive()
    }
}

impl SqlitePackageStore {
    /// Opens (creating it if needed) the database file at `path` with the
    /// default [`SqliteOptions`], and brings its schema up to date. The
    /// directory must exist. The database and its `-wal` and `-shm` files
    /// are readable by their owner only (`0600`), whatever the umask; an
    /// older database readable by others is made so.
    pub fn open(path: impl AsRef<Path>) -> Result<SqlitePackageStore, Error> {
        SqlitePackageStore::open_with(path, &SqliteOptions::default())
    }

    /// Opens the database file at `path` with `options`.
    pub fn open_with(
        path: impl AsRef<Path>,
        options: &SqliteOptions,
    ) -> Result<SqlitePackageStore, Error> {
        let path = path.as_ref().to_path_buf();
        files::make_private(&path)
            .map_err(|e| Error::database("making the database file private (mode 0600)", e))?;
        let mut writer = Connection::open(&path).during("opening the database")?;
        configure(&writer, options)?;
        let mode: String = writer
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .during("enabling write-ahead logging")?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::database(
                "enabling write-ahead logging",
                format!("the database stayed in journal mode `{mode}`"),
            ));
        }
        writer
            .pragma_update(None, "synchronous", "FULL")
            .during("setting synchronous mode")?;
        schema::migrate(&mut writer)?;
        let readers = (0..options.readers.max(1))
            .map(|_| {
                let reader = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX
                        | OpenFlags::SQLITE_OPEN_URI,
                )
                .during("opening a reader connection")?;
                configure(&reader, options)?;
                reader
                    .pragma_update(None, "query_only", true)
                    .during("making a reader read-only")?;
                Ok(Mutex::new(reader))
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(SqlitePackageStore::from_parts(Some(path), writer, readers)
            .with_restore_window(options.restore_window))
    }

    /// A private database in memory, gone when the last clone is dropped.
    /// For tests; reads and writes share one connection.
    pub fn in_memory() -> Result<SqlitePackageStore, Error> {
        let mut conn = Connection::open_in_memory().during("opening an in-memory database")?;
        configure(&conn, &SqliteOptions::default())?;
        schema::migrate(&mut conn)?;
        Ok(SqlitePackageStore::from_parts(None, conn, Vec::new()))
    }

    /// The same store (sharing its connections) keeping deleted packages
    /// and versions restorable for `window` instead (see
    /// [`SqliteOptions::restore_window`]).
    #[must_use]
    pub fn with_restore_window(mut self, window: Duration) -> SqlitePackageStore {
        self.restore_window = window;
        self
    }

    fn from_parts(
        path: Option<PathBuf>,
        writer: Connection,
        readers: Vec<Mutex<Connection>>,
    ) -> SqlitePackageStore {
        SqlitePackageStore {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                readers,
                next_reader: AtomicUsize::new(0),
                token_uses: RecentTokenUses::new(),
            }),
            restore_window: crate::RESTORE_WINDOW,
        }
    }

    /// The database file, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// Every source repository the store holds something for (a
    /// collaborator or a workflow token, revoked ones included), in name
    /// order. The store traits find these only by name; this lists them,
    /// so that a copy of the whole store (`minimal-registry import`)
    /// misses none.
    pub async fn code_repositories(&self) -> Result<Vec<wharf_auth::CodeRepository>, Error> {
        self.read(repositories::known).await
    }

    /// Every version of package `id`, live or deleted, of a live or a
    /// deleted package, oldest first. The store traits list only the
    /// versions of a live package; this also reads those of a deleted one,
    /// so that a copy of the whole store (`minimal-registry import`) can
    /// bring it over restorable.
    pub async fn package_versions(
        &self,
        id: crate::PackageId,
    ) -> Result<Vec<crate::VersionRecord>, Error> {
        self.read(move |conn| versions::of_package(conn, id)).await
    }

    /// The schema version this build writes (the file's `user_version`
    /// after opening).
    pub fn schema_version() -> i64 {
        schema::current_version()
    }
}
