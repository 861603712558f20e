//! [`Composite`]: blobs and uploads in one store, repository metadata in
//! another.

use wharf_reference::{Digest, RepositoryName};

use crate::archive::ArchiveKey;
use crate::error::Result;
use crate::forward::forward;
use crate::upload::UploadId;
use crate::{BlobStore, RepositoryStore, UploadStore};

/// A [`Storage`](crate::Storage) made of two stores: `B` holds the bytes
/// (blobs and upload sessions; an object store, say) and `M` the repository
/// metadata (links, manifests, tags, referrers, catalog, archives; a
/// database, say). This is how a registry runs as several replicas over
/// shared services: each half is shared, the composite holds no state.
///
/// The composite keeps the rules that span the halves:
/// - a blob is linked to a repository only once `B` holds it:
///   [`link_blob`](RepositoryStore::link_blob) asks `B` for the blob first,
///   and [`finish_upload`](UploadStore::finish_upload) links in `M` after
///   `B` has committed the blob. `M`'s own `link_blob` is therefore called
///   only for blobs that exist; a metadata store made for this role (such
///   as [`MemoryStorage::with_external_blobs`](crate::MemoryStorage::with_external_blobs))
///   need not check them again;
/// - archiving a repository in `M` cancels its upload sessions in `B`.
///
/// A crash between `B`'s commit and `M`'s link leaves a committed blob that
/// the repository does not serve yet: the client's retry finds the blob
/// stored and links it. Nothing partial is ever served.
///
/// ```
/// use std::sync::Arc;
/// use wharf_storage::{Composite, MemoryStorage, Storage};
///
/// let blobs = MemoryStorage::new();
/// let metadata = MemoryStorage::new().with_external_blobs();
/// let storage: Arc<dyn Storage> = Arc::new(Composite::new(blobs, metadata));
/// # let _ = storage;
/// ```
#[derive(Debug, Clone)]
pub struct Composite<B, M> {
    blobs: B,
    metadata: M,
}

impl<B, M> Composite<B, M> {
    /// Blobs and uploads in `blobs`, repository metadata in `metadata`.
    pub fn new(blobs: B, metadata: M) -> Self {
        Composite { blobs, metadata }
    }

    /// The store of blobs and uploads.
    pub fn blobs(&self) -> &B {
        &self.blobs
    }

    /// The store of repository metadata.
    pub fn metadata(&self) -> &M {
        &self.metadata
    }
}

forward! {
    impl[B: BlobStore, M: Send + Sync] BlobStore for Composite<B, M> {}
    to blobs
}

forward! {
    impl[B: UploadStore, M: RepositoryStore] UploadStore for Composite<B, M> {
        async fn finish_upload(
            &self,
            repository: &RepositoryName,
            id: &UploadId,
            expected: &Digest,
        ) -> Result<u64> {
            let size = self.blobs.finish_upload(repository, id, expected).await?;
            self.metadata.link_blob(repository, expected).await?;
            Ok(size)
        }
    }
    to blobs
}

forward! {
    impl[B: BlobStore + UploadStore, M: RepositoryStore] RepositoryStore for Composite<B, M> {
        async fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
            self.blobs.blob_size(digest).await?;
            self.metadata.link_blob(repository, digest).await
        }

        async fn archive_repository(
            &self,
            repository: &RepositoryName,
            key: &ArchiveKey,
        ) -> Result<()> {
            self.metadata.archive_repository(repository, key).await?;
            self.blobs.cancel_uploads_in(repository).await?;
            Ok(())
        }
    }
    to metadata
}
