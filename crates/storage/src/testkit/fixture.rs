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
