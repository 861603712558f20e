//! Presigned blob URLs, for pulls redirected to the object store.

use std::time::Duration;

use object_store::signer::Method;
use wharf_reference::Digest;

use super::failure::unavailable;
use super::ObjectStorage;
use crate::error::Result;

impl ObjectStorage {
    /// A URL from which anyone holding it may `GET` blob `digest` (with
    /// `Range` headers) straight from the object store until `expires_in`
    /// has passed, or `None` when this storage has no
    /// [signer](crate::ObjectStorageBuilder::signer).
    ///
    /// Signing is local (no request) for S3 with static credentials. The
    /// URL does not check that the blob exists: a registry looks it up
    /// (and checks that the caller may read it in the repository, and that
    /// it is linked there) first, then answers `307 Temporary Redirect` to
    /// the URL. Keep `expires_in` short (minutes): the URL is a bearer
    /// capability for those bytes.
    #[cfg_attr(
        docsrs,
        doc(cfg(any(feature = "aws", feature = "gcp", feature = "azure")))
    )]
    pub async fn presigned_blob_url(
        &self,
        digest: &Digest,
        expires_in: Duration,
    ) -> Result<Option<url::Url>> {
        let Some(signer) = &self.inner.signer else {
            return Ok(None);
        };
        signer
            .signed_url(Method::GET, &self.inner.layout.blob(digest), expires_in)
            .await
            .map(Some)
            .map_err(|e| unavailable(format!("sign a URL for blob {digest}"), e))
    }
}
