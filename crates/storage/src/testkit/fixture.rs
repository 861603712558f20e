//! The backends under test: the [`Fixture`] trait and the fixtures for
//! the crate's own backends and for a storage given whole.

#[cfg(feature = "fs")]
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use crate::{Composite, MemoryStorage, Storage};
#[cfg(feature = "fs")]
use crate::{FsStorage, UploadId};

/// A backend under test.
#[async_trait]
pub trait Fixture: Send + Sync + 'static {
    /// The storage under test; empty when the fixture is new. Calling it
    /// again returns the same storage.
    async fn storage(&self) -> Arc<dyn Storage>;

    /// The same storage as a new instance, as after a process restart, for
    /// backends that persist. `None` (the default) skips the restart cases.
    async fn reopen(&self) -> Option<Arc<dyn Storage>> {
        None
    }

    /// Whether the backend can be had here. A fixture that needs a server
    /// which is not installed answers `false` (after saying so loudly), and
    /// the cases return at once without running; the default is `true`.
    fn available(&self) -> bool {
        true
    }
}

/// A [`MemoryStorage`] fixture.
#[derive(Debug, Default)]
pub struct MemoryFixture {
    storage: Arc<MemoryStorage>,
}

#[async_trait]
impl Fixture for MemoryFixture {
    async fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }
}

/// A [`Composite`] of two [`MemoryStorage`]s: blobs and uploads in one,
/// metadata in the other (made
/// [`with_external_blobs`](MemoryStorage::with_external_blobs)), so the
/// suite checks that the composite keeps the rules that span its halves.
#[derive(Debug)]
pub struct CompositeFixture {
    storage: Arc<Composite<MemoryStorage, MemoryStorage>>,
}

impl Default for CompositeFixture {
    fn default() -> Self {
        let metadata = MemoryStorage::new().with_external_blobs();
        CompositeFixture {
            storage: Arc::new(Composite::new(MemoryStorage::new(), metadata)),
        }
    }
}

#[async_trait]
impl Fixture for CompositeFixture {
    async fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }
}

#[cfg(feature = "fs")]
/// An [`FsStorage`] fixture in a fresh temporary directory, removed on drop.
#[derive(Debug)]
pub struct FsFixture {
    root: PathBuf,
    storage: FsStorage,
}

#[cfg(feature = "fs")]
impl FsFixture {
    /// Opens storage in a new directory under the system's temporary
    /// directory.
    pub fn new() -> Self {
        let root = std::env::temp_dir().join(format!("wharf-storage-{}", UploadId::random()));
        let storage =
            FsStorage::open(&root).expect("open filesystem storage in a temporary directory");
        FsFixture { root, storage }
    }

    /// The storage root.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(feature = "fs")]
impl Default for FsFixture {
    fn default() -> Self {
        FsFixture::new()
    }
}

#[cfg(feature = "fs")]
impl Drop for FsFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[cfg(feature = "fs")]
#[async_trait]
impl Fixture for FsFixture {
    async fn storage(&self) -> Arc<dyn Storage> {
        Arc::new(self.storage.clone())
    }

    async fn reopen(&self) -> Option<Arc<dyn Storage>> {
        Some(Arc::new(
            FsStorage::open(&self.root).expect("reopen filesystem storage"),
        ))
    }
}

/// An [`ObjectStorage`](crate::ObjectStorage) fixture: blobs and uploads
/// in a bucket (under a fresh random prefix), repository metadata in a
/// [`MemoryStorage`] made
/// [`with_external_blobs`](MemoryStorage::with_external_blobs), joined in a
/// [`Composite`]. [`reopen`](Fixture::reopen) gives a new `ObjectStorage`
/// over the same bucket and the same metadata, as another replica or a
/// restarted process would see them, so the restart cases run too.
///
/// ```no_run
/// use std::sync::Arc;
/// use object_store::memory::InMemory;
/// use wharf_storage::testkit::ObjectFixture;
///
/// wharf_storage::storage_tests!(in_memory_bucket, || {
///     ObjectFixture::new(Arc::new(InMemory::new()), |storage| storage)
/// });
/// # fn main() {}
/// ```
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
pub struct ObjectFixture {
    make: Box<dyn Fn() -> crate::ObjectStorage + Send + Sync>,
    metadata: Arc<MemoryStorage>,
    storage: Arc<dyn Storage>,
    _guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

#[cfg(feature = "object-store")]
impl ObjectFixture {
    /// A fixture over `bucket`, under a prefix no other fixture uses;
    /// `configure` finishes each `ObjectStorage`'s builder (part size,
    /// listing order, signer...).
    pub fn new(
        bucket: Arc<dyn object_store::ObjectStore>,
        configure: impl Fn(crate::ObjectStorageBuilder) -> crate::ObjectStorageBuilder
            + Send
            + Sync
            + 'static,
    ) -> Self {
        let prefix = format!("wharf-testkit-{}", crate::UploadId::random());
        let make = move || {
            configure(crate::ObjectStorage::builder(bucket.clone()).prefix(&prefix)).build()
        };
        let metadata = Arc::new(MemoryStorage::new().with_external_blobs());
        let storage = Arc::new(Composite::new(make(), Arc::clone(&metadata)));
        ObjectFixture {
            make: Box::new(make),
            metadata,
            storage,
            _guard: None,
        }
    }

    /// Keeps `guard` as long as the fixture: the temporary directory of a
    /// `LocalFileSystem` bucket, say, removed when the case ends.
    pub fn keeping(mut self, guard: impl Send + Sync + 'static) -> Self {
        self._guard = Some(Box::new(guard));
        self
    }

    /// Another `ObjectStorage` over the same bucket and prefix: another
    /// replica.
    pub fn replica(&self) -> crate::ObjectStorage {
        (self.make)()
    }
}

#[cfg(feature = "object-store")]
impl std::fmt::Debug for ObjectFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectFixture").finish_non_exhaustive()
    }
}

#[cfg(feature = "object-store")]
#[async_trait]
impl Fixture for ObjectFixture {
    async fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }

    async fn reopen(&self) -> Option<Arc<dyn Storage>> {
        Some(Arc::new(Composite::new(
            self.replica(),
            Arc::clone(&self.metadata),
        )))
    }
}

/// A client of `bucket` on a local S3 server that takes any credentials
/// (moto, as `wharf-test-servers` starts it) at the plain HTTP `endpoint`:
/// test credentials, region `us-east-1`, path-style requests. Finish it
/// (retries, signing) and build it.
#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
pub fn s3_test_client(
    endpoint: impl Into<String>,
    bucket: impl Into<String>,
) -> object_store::aws::AmazonS3Builder {
    object_store::aws::AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_region("us-east-1")
        .with_bucket_name(bucket)
        .with_virtual_hosted_style_request(false)
}

/// A [`Fixture`] over a storage given whole, for backends that do not
/// persist (the restart cases are skipped).
#[derive(Clone)]
pub struct StorageFixture {
    storage: Arc<dyn Storage>,
}

impl StorageFixture {
    /// A fixture over `storage`, which must be fresh and empty.
    pub fn new(storage: impl Storage + 'static) -> Self {
        StorageFixture::from_arc(Arc::new(storage))
    }

    /// A fixture over a shared `storage`, which must be fresh and empty.
    pub fn from_arc(storage: Arc<dyn Storage>) -> Self {
        StorageFixture { storage }
    }
}

impl std::fmt::Debug for StorageFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageFixture").finish_non_exhaustive()
    }
}

#[async_trait]
impl Fixture for StorageFixture {
    async fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }
}
