use async_trait::async_trait;
use wharf_reference::Digest;

use crate::collect::{unsupported, BlobEntry};
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

    /// A reference to the blob has just been made (a link, by a backend
    /// whose links live in another store, as [`Composite`](crate::Composite)
    /// makes them): its size once it is stored and not condemned, or
    /// [`Error::BlobNotFound`](crate::Error::BlobNotFound). A condemned
    /// blob is taken back, or its verdict awaited (see [the
    /// protocol](crate::collect)). Without garbage collection, the same
    /// as [`blob_size`](BlobStore::blob_size).
    async fn claim_blob(&self, digest: &Digest) -> Result<u64> {
        self.blob_size(digest).await
    }

    /// A page of the stored blobs with their sizes and times, in digest
    /// order, for garbage collection. Condemned blobs are not listed.
    async fn list_blob_entries(&self, page: &PageRequest) -> Result<Page<BlobEntry>> {
        let _ = page;
        Err(unsupported())
    }

    /// Condemns the blob (see [the protocol](crate::collect)): it stays
    /// stored but hidden, so that a backend taking a new reference to it
    /// notices, until [`pardon_blob`](BlobStore::pardon_blob) or
    /// [`execute_blob`](BlobStore::execute_blob). False if the blob is not
    /// stored; true if it is condemned now (or was already).
    async fn condemn_blob(&self, digest: &Digest) -> Result<bool> {
        let _ = digest;
        Err(unsupported())
    }

    /// Takes a condemned blob back: stored and visible as before. Nothing
    /// to do if it is not condemned (pardoned meanwhile, or executed).
    async fn pardon_blob(&self, digest: &Digest) -> Result<()> {
        let _ = digest;
        Err(unsupported())
    }

    /// Deletes a condemned blob for good. False if it was not condemned any
    /// more (pardoned meanwhile by a backend that took a reference to it):
    /// nothing is deleted then. Call it only after recounting the blob's
    /// links found none.
    async fn execute_blob(&self, digest: &Digest) -> Result<bool> {
        let _ = digest;
        Err(unsupported())
    }

    /// A page of the condemned blobs, in digest order: what an interrupted
    /// collection left for the next one to recount.
    async fn condemned_blobs(&self, page: &PageRequest) -> Result<Page<Digest>> {
        let _ = page;
        Err(unsupported())
    }
}
