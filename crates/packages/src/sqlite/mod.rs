//! [`SqlitePackageStore`]: the embedded default, one SQLite database file.

mod accounts;
mod convert;
mod files;
mod packages;
mod paging;
mod repositories;
mod schema;
mod statement;
mod tokens;
mod versions;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use wharf_auth::{
    CodeRepository, Grantee, Login, Membership, OrgRole, OrganizationPolicy, OwnerKind, Package,
    RepositoryAccess, RepositoryRole, Role, StoredToken, TeamSlug, Timestamp, TokenHash,
};
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::access::{AccessContext, Collaborator};
use crate::account::{Account, Member, OrganizationMembership};
use crate::error::Error;
use crate::id::{PackageId, TokenId, VersionId};
use crate::package::{PackageChanges, PackageLookup, PackageQuery, PackageRecord};
use crate::page::{Page, PageRequest};
use crate::store::{AccountStore, PackageRecords, PurgeReport, TokenStore, LAST_USED_GRANULARITY};
use crate::token::{TokenRecord, WorkflowToken};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

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
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            busy_timeout: Duration::from_secs(5),
            statement_cache: 64,
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
}

struct Inner {
    path: Option<PathBuf>,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// The last `last_used_at` each token was given by this process, so
    /// most uses are not written: bounded, least useful entries evicted
    /// first, each forgotten after the granularity it saves writes for.
    token_uses: moka::sync::Cache<TokenId, Timestamp>,
}

/// The most tokens whose last use is remembered (an optimisation only: a
/// forgotten one costs a write).
const TOKEN_USES_CAPACITY: u64 = 100_000;

impl std::fmt::Debug for SqlitePackageStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlitePackageStore")
            .field("path", &self.inner.path)
            .field("readers", &self.inner.readers.len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a connection leaves no transaction open
    // (rusqlite rolls back on drop), so the connection is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn configure(conn: &Connection, options: &SqliteOptions) -> Result<(), Error> {
    conn.busy_timeout(options.busy_timeout)
        .during("setting the busy timeout")?;
    conn.set_prepared_statement_cache_capacity(options.statement_cache);
    conn.pragma_update(None, "foreign_keys", true)
        .during("enabling foreign keys")?;
    Ok(())
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
        Ok(SqlitePackageStore::from_parts(Some(path), writer, readers))
    }

    /// A private database in memory, gone when the last clone is dropped.
    /// For tests; reads and writes share one connection.
    pub fn in_memory() -> Result<SqlitePackageStore, Error> {
        let mut conn = Connection::open_in_memory().during("opening an in-memory database")?;
        configure(&conn, &SqliteOptions::default())?;
        schema::migrate(&mut conn)?;
        Ok(SqlitePackageStore::from_parts(None, conn, Vec::new()))
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
                token_uses: moka::sync::Cache::builder()
                    .max_capacity(TOKEN_USES_CAPACITY)
                    .time_to_live(LAST_USED_GRANULARITY)
                    .build(),
            }),
        }
    }

    /// The database file, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.inner.path.as_deref()
    }

    /// The schema version this build writes (the file's `user_version`
    /// after opening).
    pub fn schema_version() -> i64 {
        schema::current_version()
    }

    /// Runs `f` on a reader connection on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || inner.read(f))
            .await
            .map_err(|e| Error::database("running a read", e))?
    }

    /// Runs `f` in one read transaction (a consistent snapshot) on the
    /// blocking pool.
    async fn snapshot<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        self.read(|conn| {
            if !conn.is_autocommit() {
                // Left open by a read that panicked: end it, or the
                // connection could never start another.
                conn.execute_batch("ROLLBACK")
                    .during("ending an abandoned read transaction")?;
            }
            conn.execute_batch("BEGIN")
                .during("starting a read transaction")?;
            let result = f(conn);
            // Ending a read transaction cannot lose anything; report the
            // read's own error first.
            let end = conn
                .execute_batch("COMMIT")
                .during("ending a read transaction");
            let value = result?;
            end?;
            Ok(value)
        })
        .await
    }

    /// Runs `f` in one write transaction on the blocking pool.
    async fn write<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || inner.write(f))
            .await
            .map_err(|e| Error::database("running a write", e))?
    }
}

impl Inner {
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        if self.readers.is_empty() {
            return f(&lock(&self.writer));
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            if let Ok(conn) = self.readers[(start + i) % n].try_lock() {
                return f(&conn);
            }
        }
        f(&lock(&self.readers[start % n]))
    }

    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = lock(&self.writer);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .during("starting a write transaction")?;
        // On error the transaction is dropped, which rolls it back.
        let value = f(&tx)?;
        tx.commit().during("committing")?;
        Ok(value)
    }
}

#[async_trait]
impl AccountStore for SqlitePackageStore {
    async fn create_user(&self, login: &Login, now: Timestamp) -> Result<Account, Error> {
        let login = login.clone();
        self.write(move |conn| accounts::create(conn, &login, OwnerKind::User, now))
            .await
    }

    async fn create_organization(
        &self,
        login: &Login,
        policy: OrganizationPolicy,
        now: Timestamp,
    ) -> Result<Account, Error> {
        let login = login.clone();
        self.write(move |conn| accounts::create(conn, &login, OwnerKind::Organization(policy), now))
            .await
    }

    async fn account(&self, login: &Login) -> Result<Option<Account>, Error> {
        let login = login.clone();
        self.read(move |conn| accounts::get(conn, login.as_str()))
            .await
    }

    async fn set_organization_policy(
        &self,
        organization: &Login,
        policy: OrganizationPolicy,
    ) -> Result<Account, Error> {
        let organization = organization.clone();
        self.write(move |conn| accounts::set_policy(conn, &organization, policy))
            .await
    }

    async fn list_accounts(&self, page: &PageRequest) -> Result<Page<Account>, Error> {
        let page = page.clone();
        self.read(move |conn| accounts::list(conn, &page)).await
    }

    async fn add_member(
        &self,
        organization: &Login,
        user: &Login,
        role: OrgRole,
        now: Timestamp,
    ) -> Result<Member, Error> {
        let (organization, user) = (organization.clone(), user.clone());
        self.write(move |conn| accounts::add_member(conn, &organization, &user, role, now))
            .await
    }

    async fn remove_member(&self, organization: &Login, user: &Login) -> Result<(), Error> {
        let (organization, user) = (organization.clone(), user.clone());
        self.write(move |conn| accounts::remove_member(conn, &organization, &user))
            .await
    }

    async fn membership(&self, organization: &Login, user: &Login) -> Result<Membership, Error> {
        let (organization, user) = (organization.clone(), user.clone());
        self.snapshot(move |conn| accounts::membership(conn, &organization, &user))
            .await
    }

    async fn members(&self, organization: &Login) -> Result<Vec<Member>, Error> {
        let organization = organization.clone();
        self.snapshot(move |conn| accounts::members(conn, &organization))
            .await
    }

    async fn organizations_of(&self, user: &Login) -> Result<Vec<OrganizationMembership>, Error> {
        let user = user.clone();
        self.snapshot(move |conn| accounts::organizations_of(conn, &user))
            .await
    }

    async fn create_team(
        &self,
        organization: &Login,
        team: &TeamSlug,
        now: Timestamp,
    ) -> Result<(), Error> {
        let (organization, team) = (organization.clone(), team.clone());
        self.write(move |conn| accounts::create_team(conn, &organization, &team, now))
            .await
    }

    async fn delete_team(&self, organization: &Login, team: &TeamSlug) -> Result<(), Error> {
        let (organization, team) = (organization.clone(), team.clone());
        self.write(move |conn| accounts::delete_team(conn, &organization, &team))
            .await
    }

    async fn teams(&self, organization: &Login) -> Result<Vec<TeamSlug>, Error> {
        let organization = organization.clone();
        self.snapshot(move |conn| accounts::teams(conn, &organization))
            .await
    }

    async fn add_team_member(
        &self,
        organization: &Login,
        team: &TeamSlug,
        user: &Login,
    ) -> Result<(), Error> {
        let (organization, team, user) = (organization.clone(), team.clone(), user.clone());
        self.write(move |conn| accounts::add_team_member(conn, &organization, &team, &user))
            .await
    }

    async fn remove_team_member(
        &self,
        organization: &Login,
        team: &TeamSlug,
        user: &Login,
    ) -> Result<(), Error> {
        let (organization, team, user) = (organization.clone(), team.clone(), user.clone());
        self.write(move |conn| accounts::remove_team_member(conn, &organization, &team, &user))
            .await
    }
}

#[async_trait]
impl TokenStore for SqlitePackageStore {
    async fn insert_personal_token(
        &self,
        token: &StoredToken,
        now: Timestamp,
    ) -> Result<TokenRecord, Error> {
        let token = token.clone();
        self.write(move |conn| tokens::insert_personal(conn, &token, now))
            .await
    }

    async fn insert_workflow_token(
        &self,
        token: &WorkflowToken,
        now: Timestamp,
    ) -> Result<TokenRecord, Error> {
        let token = token.clone();
        self.write(move |conn| tokens::insert_workflow(conn, &token, now))
            .await
    }

    async fn find_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, Error> {
        let hash = *hash;
        self.read(move |conn| tokens::find(conn, &hash)).await
    }

    async fn token(&self, id: TokenId) -> Result<Option<TokenRecord>, Error> {
        self.read(move |conn| tokens::get(conn, id)).await
    }

    async fn personal_tokens(&self, owner: &Login) -> Result<Vec<TokenRecord>, Error> {
        let owner = owner.clone();
        self.snapshot(move |conn| tokens::personal(conn, &owner))
            .await
    }

    async fn workflow_tokens(
        &self,
        repository: &CodeRepository,
    ) -> Result<Vec<TokenRecord>, Error> {
        let repository = repository.clone();
        self.read(move |conn| tokens::workflow(conn, &repository))
            .await
    }

    async fn revoke_token(&self, id: TokenId, now: Timestamp) -> Result<TokenRecord, Error> {
        self.write(move |conn| tokens::revoke(conn, id, now)).await
    }

    async fn record_token_use(&self, id: TokenId, now: Timestamp) -> Result<(), Error> {
        let granularity = LAST_USED_GRANULARITY;
        {
            let recorded = self.inner.token_uses.get(&id);
            if recorded.is_some_and(|recorded| {
                recorded <= now && now < recorded.saturating_add(granularity)
            }) {
                return Ok(());
            }
        }
        self.write(move |conn| tokens::record_use(conn, id, now, granularity.as_secs()))
            .await?;
        self.inner.token_uses.insert(id, now);
        Ok(())
    }
}

#[async_trait]
impl PackageRecords for SqlitePackageStore {
    async fn create_package(
        &self,
        package: &Package,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        let package = package.clone();
        self.write(move |conn| packages::create(conn, &package, now))
            .await
    }

    async fn package(&self, name: &RepositoryName) -> Result<Option<PackageRecord>, Error> {
        let name = name.clone();
        self.snapshot(move |conn| packages::get_live(conn, &name))
            .await
    }

    async fn package_by_id(&self, id: PackageId) -> Result<Option<PackageRecord>, Error> {
        self.snapshot(move |conn| packages::get_by_id(conn, id))
            .await
    }

    async fn list_packages(
        &self,
        owner: &Login,
        query: PackageQuery,
        page: &PageRequest,
    ) -> Result<Page<PackageRecord>, Error> {
        let (owner, page) = (owner.clone(), page.clone());
        self.snapshot(move |conn| packages::list(conn, &owner, query, &page))
            .await
    }

    async fn update_package(
        &self,
        name: &RepositoryName,
        changes: &PackageChanges,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        let (name, changes) = (name.clone(), changes.clone());
        self.write(move |conn| packages::update(conn, &name, &changes, now))
            .await
    }

    async fn set_grant(
        &self,
        name: &RepositoryName,
        grantee: &Grantee,
        role: Role,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        let (name, grantee) = (name.clone(), grantee.clone());
        self.write(move |conn| packages::set_grant(conn, &name, &grantee, role, now))
            .await
    }

    async fn remove_grant(
        &self,
        name: &RepositoryName,
        grantee: &Grantee,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        let (name, grantee) = (name.clone(), grantee.clone());
        self.write(move |conn| packages::remove_grant(conn, &name, &grantee, now))
            .await
    }

    async fn delete_package(
        &self,
        name: &RepositoryName,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        let name = name.clone();
        self.write(move |conn| packages::delete(conn, &name, now))
            .await
    }

    async fn restore_package(
        &self,
        name: &RepositoryName,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        let name = name.clone();
        self.write(move |conn| packages::restore(conn, &name, now))
            .await
    }

    async fn record_version(
        &self,
        name: &RepositoryName,
        version: &NewVersion,
        now: Timestamp,
    ) -> Result<VersionRecord, Error> {
        let (name, version) = (name.clone(), version.clone());
        self.write(move |conn| versions::record(conn, &name, &version, now))
            .await
    }

    async fn version(
        &self,
        name: &RepositoryName,
        id: VersionId,
    ) -> Result<Option<VersionRecord>, Error> {
        let name = name.clone();
        self.snapshot(move |conn| versions::by_id(conn, &name, id))
            .await
    }

    async fn version_by_digest(
        &self,
        name: &RepositoryName,
        digest: &Digest,
    ) -> Result<Option<VersionRecord>, Error> {
        let (name, digest) = (name.clone(), digest.clone());
        self.snapshot(move |conn| versions::by_digest(conn, &name, &digest))
            .await
    }

    async fn version_by_tag(
        &self,
        name: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<VersionRecord>, Error> {
        let (name, tag) = (name.clone(), tag.clone());
        self.snapshot(move |conn| versions::by_tag(conn, &name, &tag))
            .await
    }

    async fn list_versions(
        &self,
        name: &RepositoryName,
        query: VersionQuery,
        page: &PageRequest,
    ) -> Result<Page<VersionRecord>, Error> {
        let (name, page) = (name.clone(), page.clone());
        self.snapshot(move |conn| versions::list(conn, &name, query, &page))
            .await
    }

    async fn remove_tag(
        &self,
        name: &RepositoryName,
        tag: &Tag,
        now: Timestamp,
    ) -> Result<VersionRecord, Error> {
        let (name, tag) = (name.clone(), tag.clone());
        self.write(move |conn| versions::remove_tag(conn, &name, &tag, now))
            .await
    }

    async fn delete_version(
        &self,
        name: &RepositoryName,
        id: VersionId,
        now: Timestamp,
    ) -> Result<VersionRecord, Error> {
        let name = name.clone();
        self.write(move |conn| versions::delete(conn, &name, id, now))
            .await
    }

    async fn restore_version(
        &self,
        name: &RepositoryName,
        id: VersionId,
        now: Timestamp,
    ) -> Result<VersionRecord, Error> {
        let name = name.clone();
        self.write(move |conn| versions::restore(conn, &name, id, now))
            .await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<PurgeReport, Error> {
        self.write(move |conn| versions::purge_expired(conn, now))
            .await
    }

    async fn set_collaborator(
        &self,
        repository: &CodeRepository,
        collaborator: &Collaborator,
        role: RepositoryRole,
    ) -> Result<(), Error> {
        let (repository, collaborator) = (repository.clone(), collaborator.clone());
        self.write(move |conn| repositories::set(conn, &repository, &collaborator, role))
            .await
    }

    async fn remove_collaborator(
        &self,
        repository: &CodeRepository,
        collaborator: &Collaborator,
    ) -> Result<(), Error> {
        let (repository, collaborator) = (repository.clone(), collaborator.clone());
        self.write(move |conn| repositories::remove(conn, &repository, &collaborator))
            .await
    }

    async fn repository_access(
        &self,
        repository: &CodeRepository,
    ) -> Result<RepositoryAccess, Error> {
        let repository = repository.clone();
        self.read(move |conn| repositories::all(conn, &repository))
            .await
    }

    async fn access_context(
        &self,
        name: &RepositoryName,
        caller: Option<&Login>,
        lookup: PackageLookup,
    ) -> Result<AccessContext, Error> {
        let (name, caller) = (name.clone(), caller.cloned());
        self.snapshot(move |conn| {
            repositories::access_context(conn, &name, caller.as_ref(), lookup)
        })
        .await
    }
}
