use async_trait::async_trait;
use wharf_reference::Digest;

use crate::error::Result;
use crate::page::{Page, PageRequest};
use crate::range::{BlobContent, ByteRange};
use crate::ChunkStream;

/// Global, content-addressed blob storage.
///
/// A blob is stored once, under its digest, whichever repository pushed it;
/// repositories see blobs only through their links
/// ([`RepositoryStore::link_blob`](crate::RepositoryStore::link_blob)). The
/// methods here know nothing of repositories: a registry checks the link
/// before it serves a blob.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// The blob's size, or [`Error::BlobNotFound`](crate::Error::BlobNotFound).
    async fn blob_size(&self, digest: &Digest) -> Result<u64>;

    /// Streams the blob, or the part of it `range` selects.
    ///
    /// A range that starts at or past the end is
    /// [`Error::RangeNotSatisfiable`](crate::Error::RangeNotSatisfiable); an
    /// end past the end is clipped.
    async fn read_blob(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobContent>;

    /// Stores `body` as the blob `digest` in one step, verifying it as it
    /// streams: the blob becomes visible only complete and verified. A
    /// mismatch is [`Error::DigestMismatch`](crate::Error::DigestMismatch)
    /// and leaves nothing behind. Storing a blob that already exists (even
    /// concurrently) succeeds and keeps one copy. Returns the size.
    ///
    /// This does not link the blob to any repository; uploads through
    /// [`UploadStore`](crate::UploadStore) do.
    async fn put_blob(&self, digest: &Digest, body: ChunkStream) -> Result<u64>;

    /// Deletes the blob whatever links to it (garbage collection decides
    /// when that is safe). [`Error::BlobNotFound`](crate::Error::BlobNotFound)
    /// if it is not stored.
    async fn delete_blob(&self, digest: &Digest) -> Result<()>;

    /// A page of the stored blobs, in digest order (by the digest's string
    /// form, `algorithm:encoded`), for garbage collection: follow
    /// [`Page::next_last`] until it is `None` to see them all.
    async fn list_blobs(&self, page: &PageRequest) -> Result<Page<Digest>>;
}
