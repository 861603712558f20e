//! The stores the registry runs on, as the `[storage]` settings choose:
//! everything in the data directory (the embedded default), or blobs in an
//! object store with metadata and packages in PostgreSQL, shared by any
//! number of replicas.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use wharf_packages::{PackageStore, PgOptions, PgPackageStore, SqliteOptions, SqlitePackageStore};
use wharf_reference::{Digest, RepositoryName};
use wharf_server::{BlobRedirects, WorkLease};
use wharf_storage::metered::ObjectStoreMetrics;
use wharf_storage::postgres::try_lease;
use wharf_storage::{
    CacheOptions, CachedStorage, Composite, FsStorage, ObjectStorage, PostgresMetadata, Storage,
};

use crate::admin::{create_private_dir, database_path, AdminError};
use crate::config::Settings;
use crate::lease::FileLease;
use crate::pool_metrics::{PoolFigures, Probe};

/// Forgets what the storage cache holds about one repository, or (`None`)
/// about all of them.
pub type Forget = Arc<dyn Fn(Option<&RepositoryName>) + Send + Sync>;

/// The registry's storage, behind its cache of manifests and tags, the way
/// to invalidate that cache when another replica reports a change, and
/// what replicas share besides (blob redirects, the lease on scheduled
/// work).
pub struct OpenStorage {
    pub storage: Arc<dyn Storage>,
    pub forget: Forget,
    pub redirects: Option<Arc<dyn BlobRedirects>>,
    pub lease: Option<Arc<dyn WorkLease>>,
    /// The figures of the metadata database's pool, when there is one.
    pub pool: Option<Probe>,
    /// The request figures of the blobs' object store, when there is one.
    pub object_store: Option<ObjectStoreMetrics>,
}

/// How long cached manifests, tags, tokens and access decisions may go
/// unchecked when no change notification reaches them: the bound on what
/// a replica may serve stale if its notification connection is down.
pub const CACHE_TTL: Duration = Duration::from_secs(1);

/// Opens the storage `settings` name: the data directory, or a composite
/// of an object store (or the data directory, for blobs) and PostgreSQL.
pub async fn open_storage(settings: &Settings) -> Result<OpenStorage, String> {
    open_storage_as(settings, Opener::Owner).await
}

/// Whether this process owns the data directory or works beside the
/// registry that does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Opener {
    /// The registry, or a command run while it is stopped: it finishes
    /// what a crash interrupted.
    Owner,
    /// A command that may run while the registry serves (`gc`): it
    /// leaves that to the registry.
    Beside,
}

/// [`open_storage`], by `opener`.
pub async fn open_storage_as(settings: &Settings, opener: Opener) -> Result<OpenStorage, String> {
    let mut options = CacheOptions::default();
    options.ttl = CACHE_TTL;
    let Some(url) = settings
        .storage
        .database
        .as_deref()
        .filter(|_| settings.storage.uses_postgres())
    else {
        // One process serves the data directory; `gc` may run beside it:
        // they take turns on scheduled work through locks in it.
        let mut open = cached(fs(settings, opener)?, options);
        open.lease = Some(Arc::new(FileLease::new(settings.data_dir.join("leases"))));
        return Ok(open);
    };
    let metadata = PostgresMetadata::connect(url)
        .await
        .map_err(|err| format!("cannot open the metadata database: {err}"))?;
    let pool = metadata.pool().clone();
    let probe: Probe = Box::new(move || figures(pool.status()));
    let lease: Arc<dyn WorkLease> = Arc::new(PostgresLease {
        url: url.to_owned(),
    });
    let mut open = match settings.storage.blob_store.as_deref() {
        Some(blob_url) => {
            let blobs = ObjectStorage::builder_from_url(blob_url)
                .map_err(|err| format!("--blob-store {blob_url}: {err}"))?
                .metered()
                .build();
            let object_store = blobs.metrics().cloned();
            let redirects = settings.storage.blob_redirects.map(|expiry| {
                Arc::new(Presigned {
                    blobs: blobs.clone(),
                    expiry,
                }) as Arc<dyn BlobRedirects>
            });
            let mut open = cached(Composite::new(blobs, metadata), options);
            open.redirects = redirects;
            open.object_store = object_store;
            open
        }
        None => cached(Composite::new(fs(settings, opener)?, metadata), options),
    };
    open.lease = Some(lease);
    open.pool = Some(probe);
    Ok(open)
}

/// A pool's figures for `/metrics`.
fn figures(status: deadpool_postgres::Status) -> PoolFigures {
    PoolFigures {
        max: status.max_size,
        open: status.size,
        idle: status.available,
        waiting: status.waiting,
    }
}

/// Blob downloads redirected to presigned object-store URLs.
struct Presigned {
    blobs: ObjectStorage,
    expiry: Duration,
}

#[async_trait]
impl BlobRedirects for Presigned {
    async fn blob_url(&self, digest: &Digest) -> Option<String> {
        match self.blobs.presigned_blob_url(digest, self.expiry).await {
            Ok(url) => url.map(String::from),
            Err(err) => {
                tracing::warn!(error = %err, %digest, "cannot presign a blob URL; serving the blob");
                None
            }
        }
    }
}

/// The lease on scheduled work: a PostgreSQL advisory lock, so that one
/// replica at a time purges, and another takes over when it dies.
struct PostgresLease {
    url: String,
}

#[async_trait]
impl WorkLease for PostgresLease {
    async fn try_acquire(&self, job: &'static str) -> Option<Box<dyn Any + Send>> {
        match try_lease(&self.url, job).await {
            Ok(lease) => lease.map(|lease| Box::new(lease) as Box<dyn Any + Send>),
            Err(err) => {
                tracing::warn!(error = %err, job, "cannot take the lease on scheduled work; skipped");
                None
            }
        }
    }
}

fn fs(settings: &Settings, opener: Opener) -> Result<FsStorage, String> {
    let open = match opener {
        Opener::Owner => FsStorage::open,
        Opener::Beside => FsStorage::open_beside,
    };
    open(&settings.data_dir).map_err(|err| {
        format!(
            "cannot open the data directory {}: {err}",
            settings.data_dir.display()
        )
    })
}

fn cached<S: Storage + 'static>(storage: S, options: CacheOptions) -> OpenStorage {
    let storage = Arc::new(CachedStorage::new(storage, options));
    let handle = storage.clone();
    OpenStorage {
        storage,
        forget: Arc::new(move |repository| match repository {
            Some(repository) => handle.invalidate_repository(repository),
            None => handle.invalidate_all(),
        }),
        redirects: None,
        lease: None,
        pool: None,
        object_store: None,
    }
}

/// Opens the package store `settings` name: PostgreSQL, a SQLite file, or
/// `<data-dir>/registry.db`.
pub async fn open_package_store(settings: &Settings) -> Result<Arc<dyn PackageStore>, AdminError> {
    Ok(open_package_store_with_pool(settings).await?.0)
}

/// [`open_package_store`], with the figures of its PostgreSQL pool.
pub async fn open_package_store_with_pool(
    settings: &Settings,
) -> Result<(Arc<dyn PackageStore>, Option<Probe>), AdminError> {
    let open_error = |path: PathBuf| {
        move |source: wharf_packages::Error| AdminError::Open {
            path,
            source: Box::new(source),
        }
    };
    let sqlite_options = SqliteOptions {
        restore_window: settings.auth.restore_window,
        ..SqliteOptions::default()
    };
    match settings.storage.database.as_deref() {
        Some(url) if settings.storage.uses_postgres() => {
            let mut options = PgOptions::default();
            options.restore_window = settings.auth.restore_window;
            let store = PgPackageStore::connect_with(url, options)
                .await
                .map_err(open_error(PathBuf::from(redacted(url))))?;
            let pool = store.pool().clone();
            let probe: Probe = Box::new(move || figures(pool.status()));
            Ok((Arc::new(store), Some(probe)))
        }
        Some(path) => {
            let path = PathBuf::from(path);
            let store =
                SqlitePackageStore::open_with(&path, &sqlite_options).map_err(open_error(path))?;
            Ok((Arc::new(store), None))
        }
        None => {
            let path = database_path(&settings.data_dir);
            create_private_dir(&settings.data_dir).map_err(|err| AdminError::Open {
                path: path.clone(),
                source: Box::new(err),
            })?;
            let store =
                SqlitePackageStore::open_with(&path, &sqlite_options).map_err(open_error(path))?;
            Ok((Arc::new(store), None))
        }
    }
}

/// A database URL without its password, for messages.
pub fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// `minimal-registry migrate`: opens both stores (which brings their
/// schemas up to date) and reports what they run on.
pub fn migrate(settings: &Settings) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("minimal-registry: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        open_storage(settings).await?;
        open_package_store(settings)
            .await
            .map_err(|err| err.to_string())?;
        Ok::<(), String>(())
    });
    match result {
        Ok(()) if settings.storage.uses_postgres() => {
            println!(
                "the schemas in {} are up to date (storage metadata version {}, package store version {})",
                redacted(settings.storage.database.as_deref().unwrap_or_default()),
                PostgresMetadata::schema_version(),
                PgPackageStore::schema_version(),
            );
            std::process::ExitCode::SUCCESS
        }
        Ok(()) => {
            println!("the embedded stores are up to date (they migrate themselves when opened)");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("minimal-registry: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_left_out_of_messages() {
        for (url, shown) in [
            ("postgres://u:secret@db/x", "postgres://u:***@db/x"),
            ("postgres://u@db/x", "postgres://u@db/x"),
            ("postgres://db/x", "postgres://db/x"),
        ] {
            assert_eq!(super::redacted(url), shown);
        }
    }

    #[tokio::test]
    async fn the_restore_window_setting_reaches_the_package_store() {
        use std::time::Duration;

        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = crate::config::Settings {
            data_dir: dir.path().join("data"),
            ..crate::config::Settings::default()
        };
        settings.auth.restore_window = Duration::from_secs(3600);
        let store = super::open_package_store(&settings).await.expect("open");
        assert_eq!(store.restore_window(), Duration::from_secs(3600));
    }
}
