//! Fixtures for [`PgPackageStore`]: a store over a database that the caller
//! made fresh for the fixture, and the same behind a [`CachedStore`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::{cached_with_restore_window, long_lived_cache, reopen_cached, Fixture};
use crate::{CachedStore, PackageStore, PgOptions, PgPackageStore};

/// A [`PgPackageStore`] over the empty database at a URL (one database per
/// fixture: the cases expect an empty store); [`reopen`](Fixture::reopen)
/// gives a new store, with a new pool, over the same database, as after a
/// restart or on another replica.
///
/// ```no_run
/// use wharf_packages::testkit::PgFixture;
///
/// /// The URL of a database created empty for one test (`CREATE DATABASE`
/// /// with a name no other test uses; wharf-test-servers does this).
/// fn fresh_database() -> String {
///     # String::from("postgres://postgres@127.0.0.1/empty")
/// }
///
/// wharf_packages::package_store_tests!(postgres, || PgFixture::new(fresh_database()));
/// # fn main() {}
/// ```
#[cfg_attr(docsrs, doc(cfg(all(feature = "testkit", feature = "postgres"))))]
#[derive(Debug)]
pub struct PgFixture {
    url: String,
    store: PgPackageStore,
    migrated: AtomicBool,
}

impl PgFixture {
    /// A fixture over the empty database at `url`. Connects lazily: the
    /// schema is made on the first [`store`](Fixture::store).
    pub fn new(url: impl Into<String>) -> Self {
        let url = url.into();
        let options = PgOptions {
            max_connections: 8,
            ..PgOptions::default()
        };
        let pool = options.pool(&url).expect("a valid database URL");
        PgFixture {
            store: PgPackageStore::from_pool_with(pool, options),
            url,
            migrated: AtomicBool::new(false),
        }
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The store, migrated.
    pub async fn pg_store(&self) -> PgPackageStore {
        if !self.migrated.load(Ordering::Acquire) {
            self.store
                .migrate()
                .await
                .expect("migrate the test database");
            self.migrated.store(true, Ordering::Release);
        }
        self.store.clone()
    }

    /// A second store over the same database, with its own pool.
    pub async fn replica(&self) -> PgPackageStore {
        let options = PgOptions {
            max_connections: 4,
            ..PgOptions::default()
        };
        PgPackageStore::connect_with(&self.url, options)
            .await
            .expect("connect a second store to the test database")
    }
}

#[async_trait]
impl Fixture for PgFixture {
    async fn store(&self) -> Arc<dyn PackageStore> {
        Arc::new(self.pg_store().await)
    }

    async fn reopen(&self) -> Option<Arc<dyn PackageStore>> {
        Some(Arc::new(self.replica().await))
    }

    async fn with_restore_window(&self, window: Duration) -> Option<Arc<dyn PackageStore>> {
        let options = PgOptions {
            max_connections: 4,
            restore_window: window,
            ..PgOptions::default()
        };
        let store = PgPackageStore::connect_with(&self.url, options)
            .await
            .expect("connect a store with another restore window to the test database");
        Some(Arc::new(store))
    }
}

/// A [`CachedStore`] over a [`PgFixture`], with a long TTL so that any
/// missed invalidation shows.
#[cfg_attr(docsrs, doc(cfg(all(feature = "testkit", feature = "postgres"))))]
#[derive(Debug)]
pub struct CachedPgFixture {
    database: PgFixture,
    store: CachedStore,
}

impl CachedPgFixture {
    /// A cache over a store over the empty database at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        let database = PgFixture::new(url);
        let store = CachedStore::new(database.store.clone(), long_lived_cache());
        CachedPgFixture { database, store }
    }
}

#[async_trait]
impl Fixture for CachedPgFixture {
    async fn store(&self) -> Arc<dyn PackageStore> {
        self.database.pg_store().await;
        Arc::new(self.store.clone())
    }

    async fn reopen(&self) -> Option<Arc<dyn PackageStore>> {
        reopen_cached(&self.database).await
    }

    async fn with_restore_window(&self, window: Duration) -> Option<Arc<dyn PackageStore>> {
        cached_with_restore_window(&self.database, window).await
    }
}
