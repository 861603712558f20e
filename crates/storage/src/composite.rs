//! [`Composite`]: blobs and uploads in one store, repository metadata in
//! another.

use std::future::Future;

use wharf_reference::{Digest, RepositoryName};

use crate::archive::ArchiveKey;
use crate::error::Result;
use crate::forward::forward;
use crate::upload::UploadId;
use crate::{BlobStore, ChunkStream, RepositoryStore, UploadStore};

/// A [`Storage`](crate::Storage) made of two stores: `B` holds the bytes
/// (blobs and upload sessions; an object store, say) and `M` the repository
/// metadata (links, manifests, tags, referrers, catalog, archives; a
/// database, say). This is how a registry runs as several replicas over
/// shared services: each half is shared, the composite holds no state.
///
/// The composite keeps the rules that span the halves:
/// - references to blobs are taken **link first, then look at the blob**,
///   as [the garbage-collection protocol](crate::collect) requires:
///   [`finish_upload`](UploadStore::finish_upload) links the digest in `M`
///   and then has `B` finish the upload (which waits for the verdict on a
///   blob that garbage collection condemned, or takes it back, and writes
///   it again if it went); [`link_blob`](RepositoryStore::link_blob) (a
///   cross-repository mount) links in `M` and then claims the blob in `B`
///   ([`claim_blob`](BlobStore::claim_blob)). If `B` then fails (a digest
///   mismatch, an unknown blob), the link is removed again, unless the
///   repository linked the digest before the call. `M`'s own `link_blob`
///   is therefore never the check that a blob exists; a metadata store
///   made for this role (such as
///   [`MemoryStorage::with_external_blobs`](crate::MemoryStorage::with_external_blobs),
///   or `PostgresMetadata` with the `postgres` feature) records links
///   without looking for blobs;
/// - archiving a repository in `M` cancels its upload sessions in `B`.
///
/// While an upload finishes, its repository links the digest before the
/// blob is in place: a read in that moment finds the blob unknown, as it
/// was a moment before. A crash between the link and the blob's commit
/// leaves a link without a blob, which serves nothing (reads find no
/// blob) and which garbage collection removes like any link no manifest
/// uses; the client's retry uploads the blob again. Nothing partial is
/// ever served.
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
    impl[B: BlobStore + UploadStore, M: RepositoryStore] UploadStore for Composite<B, M> {
        async fn upload_blob(
            &self,
            repository: &RepositoryName,
            digest: &Digest,
            body: ChunkStream,
        ) -> Result<u64> {
            self.link_first(repository, digest, || self.blobs.put_blob(digest, body))
                .await
        }

        async fn finish_upload(
            &self,
            repository: &RepositoryName,
            id: &UploadId,
            expected: &Digest,
        ) -> Result<u64> {
            self.link_first(repository, expected, || {
                self.blobs.finish_upload(repository, id, expected)
            })
            .await
        }
    }
    to blobs
}

forward! {
    impl[B: BlobStore + UploadStore, M: RepositoryStore] RepositoryStore for Composite<B, M> {
        async fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
            self.link_first(repository, digest, || self.blobs.claim_blob(digest))
                .await?;
            Ok(())
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

impl<B, M: RepositoryStore> Composite<B, M> {
    /// Links `digest` in `repository` in `M`, before anything looks at the
    /// blob, then has `B` do its part (`then`) and returns its answer.
    ///
    /// If `B` fails, the link this call made (if the repository did not
    /// link the digest before) is removed again: it must not outlive a
    /// blob that is not stored. Best effort: `B`'s failure is what the
    /// client must hear; a link left by a failed removal (the database lost
    /// meanwhile) serves nothing, since reads find no blob, and garbage
    /// collection removes it like any link no manifest uses.
    async fn link_first<T, F>(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        then: impl FnOnce() -> F,
    ) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let linked = self.metadata.is_blob_linked(repository, digest).await?;
        self.metadata.link_blob(repository, digest).await?;
        let answer = then().await;
        if answer.is_err() && !linked {
            let _ = self.metadata.unlink_blob(repository, digest).await;
        }
        answer
    }
}
