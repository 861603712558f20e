//! The protocol's own header names, and helpers for headers built from
//! already-validated values.

use std::fmt::Display;

use http::header::{HeaderName, HeaderValue};

use crate::distribution::error::ApiError;

/// `Docker-Distribution-API-Version: registry/2.0`, on every `/v2/` response.
pub(crate) const API_VERSION: (HeaderName, HeaderValue) = (
    HeaderName::from_static("docker-distribution-api-version"),
    HeaderValue::from_static("registry/2.0"),
);

/// `X-Content-Type-Options: nosniff`, on every `/v2/` response: blobs and
/// manifests are whatever a client pushed, and a browser must not guess
/// that one is HTML or script from its bytes.
pub(crate) const NOSNIFF: (HeaderName, HeaderValue) = (
    http::header::X_CONTENT_TYPE_OPTIONS,
    HeaderValue::from_static("nosniff"),
);

/// The digest of the content a response carries or an upload created.
pub(crate) const DOCKER_CONTENT_DIGEST: HeaderName =
    HeaderName::from_static("docker-content-digest");

/// The upload session id.
pub(crate) const DOCKER_UPLOAD_UUID: HeaderName = HeaderName::from_static("docker-upload-uuid");

/// The subject of a manifest just pushed (OCI Distribution 1.1): tells the
/// client the registry maintains the referrers index itself.
pub(crate) const OCI_SUBJECT: HeaderName = HeaderName::from_static("oci-subject");

/// Which filters a referrers response applied.
pub(crate) const OCI_FILTERS_APPLIED: HeaderName = HeaderName::from_static("oci-filters-applied");

/// A header value from a string made of validated parts (names, digests,
/// tags, upload ids, numbers), which are always visible ASCII. Should it
/// ever not be, the failure is reported as an internal error rather than
/// sending a broken header.
pub(crate) fn value(text: impl Display) -> Result<HeaderValue, ApiError> {
    let text = text.to_string();
    HeaderValue::try_from(text).map_err(|err| ApiError::internal(&err))
}
