//! Fixtures for [`SqlitePackageStore`]: in memory, in a database file, and
//! behind a [`CachedStore`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use super::{cached_with_restore_window, long_lived_cache, reopen_cached, Fixture};
use crate::{CachedStore, PackageStore, SqliteOptions, SqlitePackageStore};

/// A [`SqlitePackageStore::in_memory`] fixture.
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[derive(Debug)]
pub struct SqliteMemoryFixture {
    store: SqlitePackageStore,
}

impl SqliteMemoryFixture {
    /// A fresh in-memory database.
    pub fn new() -> Self {
        SqliteMemoryFixture {
            store: SqlitePackageStore::in_memory().expect("open an in-memory database"),
        }
    }
}

#[async_trait]
impl Fixture for SqliteMemoryFixture {
    async fn store(&self) -> Arc<dyn PackageStore> {
        Arc::new(self.store.clone())
    }

    async fn with_restore_window(&self, window: Duration) -> Option<Arc<dyn PackageStore>> {
        let store = SqlitePackageStore::in_memory().expect("open an in-memory database");
        Some(Arc::new(store.with_restore_window(window)))
    }
}

/// A [`SqlitePackageStore`] in a fresh temporary directory, removed on
/// drop; reopens the same file.
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[derive(Debug)]
pub struct SqliteFileFixture {
    dir: PathBuf,
    store: SqlitePackageStore,
}

impl SqliteFileFixture {
    /// Opens a database in a new directory under the system's temporary
    /// directory.
    pub fn new() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = std::env::temp_dir().join(format!(
            "wharf-packages-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        let store =
            SqlitePackageStore::open(dir.join("packages.db")).expect("open a database file");
        SqliteFileFixture { dir, store }
    }

    /// The database file.
    pub fn path(&self) -> PathBuf {
        self.dir.join("packages.db")
    }

    /// The directory holding the database.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for SqliteFileFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[async_trait]
impl Fixture for SqliteFileFixture {
    async fn store(&self) -> Arc<dyn PackageStore> {
        Arc::new(self.store.clone())
    }

    async fn reopen(&self) -> Option<Arc<dyn PackageStore>> {
        Some(Arc::new(
            SqlitePackageStore::open(self.path()).expect("reopen the database file"),
        ))
    }

    async fn with_restore_window(&self, window: Duration) -> Option<Arc<dyn PackageStore>> {
        let options = SqliteOptions {
            restore_window: window,
            ..SqliteOptions::default()
        };
        let store = SqlitePackageStore::open_with(self.dir.join("short-window.db"), &options)
            .expect("open a second database file");
        Some(Arc::new(store))
    }
}

/// A [`CachedStore`] over a [`SqliteFileFixture`], with a long TTL so that
/// any missed invalidation shows.
#[cfg_attr(docsrs, doc(cfg(feature = "sqlite")))]
#[derive(Debug)]
pub struct CachedSqliteFixture {
    file: SqliteFileFixture,
    store: CachedStore,
}

impl CachedSqliteFixture {
    /// A cache over a fresh database file.
    pub fn new() -> Self {
        let file = SqliteFileFixture::new();
        let store = CachedStore::new(file.store.clone(), long_lived_cache());
        CachedSqliteFixture { file, store }
    }
}

#[async_trait]
impl Fixture for CachedSqliteFixture {
    async fn store(&self) -> Arc<dyn PackageStore> {
        Arc::new(self.store.clone())
    }

    async fn reopen(&self) -> Option<Arc<dyn PackageStore>> {
        reopen_cached(&self.file).await
    }

    async fn with_restore_window(&self, window: Duration) -> Option<Arc<dyn PackageStore>> {
        cached_with_restore_window(&self.file, window).await
    }
}

/// `Default` as `new()`, for fixtures that take no settings.
macro_rules! default_is_new {
    ($($fixture:ident),*) => {
        $(
            impl Default for $fixture {
                fn default() -> Self {
                    $fixture::new()
                }
            }
        )*
    };
}

default_is_new!(SqliteMemoryFixture, SqliteFileFixture, CachedSqliteFixture);
