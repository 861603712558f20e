//! [`BlobRedirects`]: blob downloads served by the object store itself.

use async_trait::async_trait;
use wharf_reference::Digest;

/// Where a client may download a blob directly, instead of through the
/// registry: for an object store, a presigned URL that expires shortly.
///
/// The registry asks only after it has authorized the caller for the
/// repository and checked that the blob is linked to it, and answers `GET`
/// with `307 Temporary Redirect` to the URL (clients follow it with their
/// `Range` header, without the registry's credentials). `None`, or a
/// failure (logged), and the registry serves the blob itself.
#[async_trait]
pub trait BlobRedirects: Send + Sync {
    /// A URL the blob `digest` can be fetched from, or `None`.
    async fn blob_url(&self, digest: &Digest) -> Option<String>;
}
