use std::collections::HashMap;
use std::time::SystemTime;

use async_trait::async_trait;
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::archive::{Archive, ArchiveKey};
use crate::collect::unsupported;
use crate::error::Result;
use crate::forward::forward;
use crate::manifest::{ManifestInfo, ManifestPut, Referrer, StoredManifest};
use crate::page::{Page, PageRequest};

/// Per-repository metadata: blob links, manifests, tags, referrers and the
/// catalog of repositories.
///
/// A repository exists once a blob has been linked or a manifest stored in
/// it, and then stays listed in the catalog. Operations that read a
/// repository that does not exist return
/// [`Error::RepositoryNotFound`](crate::Error::RepositoryNotFound) where the
/// Distribution API answers `NAME_UNKNOWN` (tags, manifests); lookups of one
/// item in an unknown repository report that item as not found.
///
/// # Archives
///
/// [`archive_repository`](RepositoryStore::archive_repository) sets a
/// repository's whole content (blob links, manifests, tags, referrers)
/// aside under a key: the name is then unknown, as if nothing had ever been
/// stored in it, so whoever stores content under it next starts empty and
/// reaches nothing of the archived content, by digest or otherwise. The
/// archive can be put back with
/// [`restore_repository`](RepositoryStore::restore_repository) while the
/// name holds nothing, or dropped with
/// [`delete_archive`](RepositoryStore::delete_archive). Blobs themselves are
/// global and stay stored; only the links that let a repository serve them
/// move.
#[async_trait]
pub trait RepositoryStore: Send + Sync {
    /// Links a stored blob to `repository`, so the repository may serve it.
    /// Idempotent. This is also how a cross-repository mount is made (no
    /// bytes are copied; the caller decides whether the mount is allowed).
    /// [`Error::BlobNotFound`](crate::Error::BlobNotFound) if the blob is not
    /// stored. Linking again counts as using the link (as
    /// [`confirm_link`](RepositoryStore::confirm_link) does). The link is
    /// made before the blob is looked at, as [the garbage-collection
    /// protocol](crate::collect) requires.
    async fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()>;

    /// Whether `repository` may serve the blob. False for unknown
    /// repositories.
    async fn is_blob_linked(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool>;

    /// Removes the link (the blob itself stays until garbage collection).
    /// [`Error::BlobNotLinked`](crate::Error::BlobNotLinked) if there was
    /// none.
    async fn unlink_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()>;

    /// A page of the blobs linked to `repository`, in digest order (by the
    /// digest's string form), for garbage collection. Empty for an unknown
    /// repository.
    async fn linked_blobs(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>>;

    /// Stores a manifest in `repository` after verifying that its bytes hash
    /// to its digest. Storing the same digest again replaces the media type
    /// and subject. If the manifest has a
    /// [`subject`](ManifestPut::subject), it is added to that subject's
    /// referrers; [`delete_manifest`](RepositoryStore::delete_manifest)
    /// removes it again, so callers never maintain the referrers index by
    /// hand.
    ///
    /// Checking that the blobs and child manifests it references are present
    /// is the caller's job (it has the parsed manifest).
    async fn put_manifest(&self, repository: &RepositoryName, manifest: ManifestPut) -> Result<()>;

    /// A stored manifest, or [`Error::ManifestNotFound`](crate::Error::ManifestNotFound).
    async fn get_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<StoredManifest>;

    /// A stored manifest's media type and size, without its bytes. The
    /// default reads the manifest with
    /// [`get_manifest`](RepositoryStore::get_manifest); a backend that can
    /// tell the size without the bytes answers itself.
    async fn stat_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<ManifestInfo> {
        let manifest = self.get_manifest(repository, digest).await?;
        Ok(ManifestInfo::new(
            manifest.digest,
            manifest.media_type,
            manifest.bytes.len() as u64,
        ))
    }

    /// Deletes a manifest, every tag pointing at it and its entry in its
    /// subject's referrers. Returns the tags that were deleted, in order.
    async fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<Tag>>;

    /// A page of the manifests stored in `repository`, in digest order (by
    /// the digest's string form). Empty for an unknown repository; ask for
    /// [`PageRequest::first(1)`](PageRequest::first) to learn whether there
    /// are any.
    async fn list_manifests(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>>;

    /// Points `tag` at a stored manifest, creating or atomically moving it:
    /// a concurrent reader sees the old target or the new one, and
    /// concurrent moves leave it at one of the written values.
    /// [`Error::ManifestNotFound`](crate::Error::ManifestNotFound) if the
    /// repository holds no such manifest.
    async fn set_tag(&self, repository: &RepositoryName, tag: &Tag, digest: &Digest) -> Result<()>;

    /// The manifest `tag` points at, or [`Error::TagNotFound`](crate::Error::TagNotFound).
    async fn resolve_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest>;

    /// Deletes a tag (not the manifest), returning the digest it pointed at.
    async fn delete_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest>;

    /// A page of the repository's tags in lexical order.
    /// [`Error::RepositoryNotFound`](crate::Error::RepositoryNotFound) for an
    /// unknown repository.
    async fn list_tags(&self, repository: &RepositoryName, page: &PageRequest)
        -> Result<Page<Tag>>;

    /// A page of the tags pointing at `digest`, in lexical order (the page
    /// holds `n` such tags; `page.last` is a tag). Empty for an unknown
    /// repository, or a manifest no tag points at.
    async fn tags_of(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        page: &PageRequest,
    ) -> Result<Page<Tag>>;

    /// A page of the manifests in `repository` whose subject is `subject`,
    /// in order of their digests' string form, keeping only those of
    /// `artifact_type` when it is given (the page holds `n` matching
    /// referrers). `page.last` is a referrer's digest, as
    /// [`Page::next_last`]`.digest` gives it. Empty when there are none,
    /// whether or not the subject exists (as the referrers API requires).
    async fn list_referrers(
        &self,
        repository: &RepositoryName,
        subject: &Digest,
        artifact_type: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Referrer>>;

    /// A page of the repository catalog in lexical order.
    async fn list_repositories(&self, page: &PageRequest) -> Result<Page<RepositoryName>>;

    /// Moves the whole content of `repository` (blob links, manifests,
    /// tags, referrers) into a new archive named `key`, leaving the name
    /// unknown: lookups in it find nothing, and it leaves the catalog until
    /// something is stored in it again. An unknown repository makes an
    /// empty archive. [`Error::ArchiveExists`](crate::Error::ArchiveExists)
    /// if `key` is taken (nothing moves).
    ///
    /// The repository's upload sessions are cancelled, except one being
    /// appended to or finished at that very moment (which may then link
    /// its blob under the emptied name).
    async fn archive_repository(&self, repository: &RepositoryName, key: &ArchiveKey)
        -> Result<()>;

    /// Moves an archive's content into `repository` (usually the one it was
    /// taken from) and removes the archive.
    /// [`Error::ArchiveNotFound`](crate::Error::ArchiveNotFound) if there is
    /// no such archive;
    /// [`Error::RepositoryNotEmpty`](crate::Error::RepositoryNotEmpty) if
    /// the repository holds any blob link, manifest or tag (nothing moves:
    /// an archive is never merged into other content).
    async fn restore_repository(&self, key: &ArchiveKey, repository: &RepositoryName)
        -> Result<()>;

    /// Removes an archive and its content for good (the blobs stay stored
    /// until garbage collection).
    /// [`Error::ArchiveNotFound`](crate::Error::ArchiveNotFound) if there is
    /// none.
    async fn delete_archive(&self, key: &ArchiveKey) -> Result<()>;

    /// A page of the archives, in key order (`page.last` is an archive
    /// key, as [`Page::next_last`]`.key` gives it).
    async fn list_archives(&self, page: &PageRequest) -> Result<Page<Archive>>;

    /// Whether `repository` links the blob, as
    /// [`is_blob_linked`](RepositoryStore::is_blob_linked) answers, and if
    /// it does, marks the link used now: a garbage collection whose cutoff
    /// is earlier then keeps it. A manifest push confirms the link of each
    /// blob it references before storing the manifest (see [the
    /// protocol](crate::collect)).
    async fn confirm_link(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        let _ = (repository, digest);
        Err(unsupported())
    }

    /// Removes the link of `repository` to the blob if it was neither made
    /// nor used ([`link_blob`](RepositoryStore::link_blob),
    /// [`confirm_link`](RepositoryStore::confirm_link)) at or after
    /// `cutoff`, in one atomic step with those two; true if it went. False
    /// if there was no link, or a recent one.
    async fn unlink_blob_unused_since(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        cutoff: SystemTime,
    ) -> Result<bool> {
        let _ = (repository, digest, cutoff);
        Err(unsupported())
    }

    /// How many repositories, live or archived, link each of `digests`;
    /// a digest no repository links is left out. Garbage collection's
    /// recount of condemned blobs: it must see every link made before it
    /// was asked.
    async fn link_counts(&self, digests: &[Digest]) -> Result<HashMap<Digest, u64>> {
        let _ = digests;
        Err(unsupported())
    }
}

// A shared store is a store: `Composite<ObjectStorage, Arc<M>>` lets
// several composites (replicas in one process, a reopened backend in a
// test) use one metadata store.
forward! {
    impl[T: RepositoryStore + ?Sized] RepositoryStore for std::sync::Arc<T> {}
    to pointee
}
