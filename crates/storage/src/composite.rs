//! [`Composite`]: blobs and uploads in one store, repository metadata in
//! another.

use std::time::Duration;

use async_trait::async_trait;
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::archive::{Archive, ArchiveKey};
use crate::error::Result;
use crate::manifest::{ManifestInfo, ManifestPut, Referrer, StoredManifest};
use crate::page::{Page, PageRequest};
use crate::range::{BlobContent, ByteRange};
use crate::upload::{UploadId, UploadSession, UploadStatus};
use crate::{BlobStore, ChunkStream, RepositoryStore, UploadStore};

/// A [`Storage`](crate::Storage) made of two stores: `B` holds the bytes
/// (blobs and upload sessions; an object store, say) and `M` the repository
/// metadata (links, manifests, tags, referrers, catalog, archives; a
/// database, say). This is how a registry runs as several replicas over
/// shared services: each half is shared, the composite holds no state.
///
/// The composite keeps the one rule that spans the halves: a blob is linked
/// to a repository only once `B` holds it. [`link_blob`](RepositoryStore::link_blob)
/// asks `B` for the blob first, and [`finish_upload`](UploadStore::finish_upload)
/// links in `M` after `B` has committed the blob. `M`'s own `link_blob` is
/// therefore called only for blobs that exist; a metadata store made for
/// this role (such as [`MemoryStorage::with_external_blobs`](crate::MemoryStorage::with_external_blobs))
/// need not check them again.
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

#[async_trait]
impl<B: BlobStore, M: Send + Sync> BlobStore for Composite<B, M> {
    async fn blob_size(&self, digest: &Digest) -> Result<u64> {
        self.blobs.blob_size(digest).await
    }

    async fn read_blob(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobContent> {
        self.blobs.read_blob(digest, range).await
    }

    async fn put_blob(&self, digest: &Digest, body: ChunkStream) -> Result<u64> {
        self.blobs.put_blob(digest, body).await
    }

    async fn delete_blob(&self, digest: &Digest) -> Result<()> {
        self.blobs.delete_blob(digest).await
    }

    async fn list_blobs(&self, page: &PageRequest) -> Result<Page<Digest>> {
        self.blobs.list_blobs(page).await
    }
}

#[async_trait]
impl<B: UploadStore, M: RepositoryStore> UploadStore for Composite<B, M> {
    async fn start_upload(&self, repository: &RepositoryName) -> Result<UploadStatus> {
        self.blobs.start_upload(repository).await
    }

    async fn start_upload_for(
        &self,
        repository: &RepositoryName,
        owner: &str,
    ) -> Result<UploadStatus> {
        self.blobs.start_upload_for(repository, owner).await
    }

    async fn upload_sessions(&self, page: &PageRequest) -> Result<Page<UploadSession>> {
        self.blobs.upload_sessions(page).await
    }

    async fn append_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        offset: u64,
        body: ChunkStream,
    ) -> Result<UploadStatus> {
        self.blobs.append_upload(repository, id, offset, body).await
    }

    async fn upload_status(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<UploadStatus> {
        self.blobs.upload_status(repository, id).await
    }

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

    async fn cancel_upload(&self, repository: &RepositoryName, id: &UploadId) -> Result<()> {
        self.blobs.cancel_upload(repository, id).await
    }

    async fn cancel_uploads_in(&self, repository: &RepositoryName) -> Result<usize> {
        self.blobs.cancel_uploads_in(repository).await
    }

    async fn purge_expired_uploads(&self, max_age: Duration) -> Result<usize> {
        self.blobs.purge_expired_uploads(max_age).await
    }
}

#[async_trait]
impl<B: BlobStore + UploadStore, M: RepositoryStore> RepositoryStore for Composite<B, M> {
    async fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        self.blobs.blob_size(digest).await?;
        self.metadata.link_blob(repository, digest).await
    }

    async fn is_blob_linked(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        self.metadata.is_blob_linked(repository, digest).await
    }

    async fn unlink_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        self.metadata.unlink_blob(repository, digest).await
    }

    async fn linked_blobs(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        self.metadata.linked_blobs(repository, page).await
    }

    async fn put_manifest(&self, repository: &RepositoryName, manifest: ManifestPut) -> Result<()> {
        self.metadata.put_manifest(repository, manifest).await
    }

    async fn get_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<StoredManifest> {
        self.metadata.get_manifest(repository, digest).await
    }

    async fn stat_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<ManifestInfo> {
        self.metadata.stat_manifest(repository, digest).await
    }

    async fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<Tag>> {
        self.metadata.delete_manifest(repository, digest).await
    }

    async fn list_manifests(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        self.metadata.list_manifests(repository, page).await
    }

    async fn set_tag(&self, repository: &RepositoryName, tag: &Tag, digest: &Digest) -> Result<()> {
        self.metadata.set_tag(repository, tag, digest).await
    }

    async fn resolve_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        self.metadata.resolve_tag(repository, tag).await
    }

    async fn delete_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        self.metadata.delete_tag(repository, tag).await
    }

    async fn list_tags(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Tag>> {
        self.metadata.list_tags(repository, page).await
    }

    async fn tags_of(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        page: &PageRequest,
    ) -> Result<Page<Tag>> {
        self.metadata.tags_of(repository, digest, page).await
    }

    async fn list_referrers(
        &self,
        repository: &RepositoryName,
        subject: &Digest,
        artifact_type: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Referrer>> {
        self.metadata
            .list_referrers(repository, subject, artifact_type, page)
            .await
    }

    async fn list_repositories(&self, page: &PageRequest) -> Result<Page<RepositoryName>> {
        self.metadata.list_repositories(page).await
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

    async fn restore_repository(
        &self,
        key: &ArchiveKey,
        repository: &RepositoryName,
    ) -> Result<()> {
        self.metadata.restore_repository(key, repository).await
    }

    async fn delete_archive(&self, key: &ArchiveKey) -> Result<()> {
        self.metadata.delete_archive(key).await
    }

    async fn list_archives(&self, page: &PageRequest) -> Result<Page<Archive>> {
        self.metadata.list_archives(page).await
    }
}
