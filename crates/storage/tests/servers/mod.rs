//! Set-up over the real servers `wharf-test-servers` starts, shared by
//! the storage test files: moto's buckets and PostgreSQL fixtures. A file
//! takes it with `mod servers;` and uses the parts its features build.

// Each test file uses only some of these.
#![allow(dead_code)]

#[cfg(any(feature = "object-store", feature = "postgres"))]
use std::sync::Arc;

use wharf_reference::RepositoryName;

pub fn repo(name: &str) -> RepositoryName {
    name.parse().expect("valid repository name")
}

/// A fresh bucket of moto's S3 server, or `None` (after a loud skip)
/// without moto.
#[cfg(feature = "aws")]
pub fn moto_bucket() -> Option<Arc<dyn object_store::ObjectStore>> {
    let s3 = wharf_test_servers::s3()?;
    let store = wharf_storage::testkit::s3_test_client(s3.endpoint(), s3.fresh_bucket())
        .with_retry(wharf_storage::ObjectStorage::retry_config())
        .build()
        .expect("an S3 client for moto");
    Some(Arc::new(store))
}

#[cfg(all(feature = "object-store", not(feature = "aws")))]
pub fn moto_bucket() -> Option<Arc<dyn object_store::ObjectStore>> {
    eprintln!(
        "\n*** SKIPPING the S3 tests: wharf-storage was built without the `aws` feature ***\n"
    );
    None
}

#[cfg(feature = "postgres")]
#[allow(unused_imports)]
pub use self::postgres::*;

#[cfg(feature = "postgres")]
mod postgres {
    use std::sync::Arc;

    use tokio::sync::OnceCell;
    use wharf_storage::testkit::Fixture;
    use wharf_storage::{PostgresMetadata, PostgresOptions, Storage};

    /// A fresh database's URL, or `None` (skipped loudly) without
    /// PostgreSQL.
    pub fn fresh_database() -> Option<String> {
        wharf_test_servers::postgres().map(|pg| pg.fresh_database())
    }

    /// A new pool over the database at `url`, migrated.
    pub async fn metadata(url: &str) -> PostgresMetadata {
        let mut options = PostgresOptions::default();
        options.max_connections = 4;
        PostgresMetadata::connect_with(url, options)
            .await
            .expect("connect and migrate")
    }

    type Compose = dyn Fn(PostgresMetadata) -> Arc<dyn Storage> + Send + Sync;

    /// Metadata in a fresh database, joined to blobs by `compose` (which
    /// owns what the blobs need, a temporary directory say); reopened as
    /// a new pool over the same database, as another replica sees it.
    pub struct PostgresFixture {
        url: Option<String>,
        compose: Box<Compose>,
        storage: OnceCell<Arc<dyn Storage>>,
    }

    impl PostgresFixture {
        pub fn new(
            compose: impl Fn(PostgresMetadata) -> Arc<dyn Storage> + Send + Sync + 'static,
        ) -> Self {
            PostgresFixture {
                url: fresh_database(),
                compose: Box::new(compose),
                storage: OnceCell::new(),
            }
        }

        async fn open(&self) -> Arc<dyn Storage> {
            let url = self.url.as_deref().expect("only opened when available");
            (self.compose)(metadata(url).await)
        }
    }

    #[async_trait::async_trait]
    impl Fixture for PostgresFixture {
        async fn storage(&self) -> Arc<dyn Storage> {
            self.storage.get_or_init(|| self.open()).await.clone()
        }

        async fn reopen(&self) -> Option<Arc<dyn Storage>> {
            Some(self.open().await)
        }

        fn available(&self) -> bool {
            self.url.is_some()
        }
    }
}
