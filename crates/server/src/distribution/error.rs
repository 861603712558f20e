//! The one place where failures become OCI error responses.
//!
//! Every handler returns `Result<Response, ApiError>`. An [`ApiError`] carries
//! an [`ErrorCode`] from the OCI Distribution Specification, a message for
//! people, an optional machine-readable `detail`, the HTTP status (the code's
//! default unless a handler says otherwise, e.g. 416 for an out-of-order
//! chunk) and any headers the client needs to recover (`Range`,
//! `WWW-Authenticate`, `Content-Range`). Its [`IntoResponse`] renders the
//! specification's body: `{"errors":[{"code","message","detail"}]}`.
//!
//! Errors from the other Wharf crates are converted here and nowhere else, so
//! the mapping from "what went wrong" to "what the client sees" can be read in
//! one file.

use std::borrow::Cow;
use std::fmt;

use axum::response::{IntoResponse, Response};
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use serde::Serialize;
pub use wharf_reference::ErrorCode;

/// The HTTP status `code` is sent with unless a handler picks another one
/// the specification allows.
///
/// ```
/// use wharf_server::{distribution::error::default_status, ErrorCode};
/// assert_eq!(default_status(ErrorCode::BlobUnknown).as_u16(), 404);
/// ```
pub const fn default_status(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::BlobUnknown | C::BlobUploadUnknown | C::ManifestUnknown | C::NameUnknown => {
            StatusCode::NOT_FOUND
        }
        C::BlobUploadInvalid
        | C::DigestInvalid
        | C::ManifestBlobUnknown
        | C::ManifestInvalid
        | C::NameInvalid
        | C::SizeInvalid => StatusCode::BAD_REQUEST,
        C::Unauthorized => StatusCode::UNAUTHORIZED,
        C::Denied => StatusCode::FORBIDDEN,
        C::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        C::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        C::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        // UNKNOWN, and any code a later release of the specification adds.
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error as the API reports it: code, message, detail, status and the
/// headers a client needs to recover.
///
/// Build one with [`ApiError::new`] and the `with_*` methods, or convert one
/// of the Wharf crates' errors with `From`/`?`.
///
/// ```
/// use wharf_server::{ApiError, ErrorCode};
/// let err = ApiError::new(ErrorCode::ManifestBlobUnknown, "blob unknown to repository")
///     .with_detail(serde_json::json!({ "digest": "sha256:abc" }));
/// assert_eq!(err.status().as_u16(), 400);
/// ```
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    status: StatusCode,
    message: Cow<'static, str>,
    detail: Option<serde_json::Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    /// An error with the code's default status.
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            status: default_status(code),
            message: message.into(),
            detail: None,
            headers: Vec::new(),
        }
    }

    /// Sends the error with another status (the specification allows, e.g.,
    /// 416 for `BLOB_UPLOAD_INVALID` and 405 for `UNSUPPORTED`).
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds the machine-readable `detail` member.
    #[must_use]
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// Adds a response header (e.g. `Range` with the session's offset, or
    /// `WWW-Authenticate` with a challenge).
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status the error is sent with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The `detail` member, if any.
    pub fn detail(&self) -> Option<&serde_json::Value> {
        self.detail.as_ref()
    }

    /// The extra response headers.
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }

    // Shorthands for the errors handlers raise most.

    pub(crate) fn blob_unknown(digest: &impl fmt::Display) -> Self {
        Self::new(ErrorCode::BlobUnknown, "blob unknown to repository")
            .with_detail(serde_json::json!({ "digest": digest.to_string() }))
    }

    pub(crate) fn manifest_unknown(reference: &impl fmt::Display) -> Self {
        Self::new(ErrorCode::ManifestUnknown, "manifest unknown to repository")
            .with_detail(serde_json::json!({ "reference": reference.to_string() }))
    }

    pub(crate) fn name_unknown(name: &impl fmt::Display) -> Self {
        Self::new(
            ErrorCode::NameUnknown,
            "repository name not known to registry",
        )
        .with_detail(serde_json::json!({ "name": name.to_string() }))
    }

    pub(crate) fn upload_unknown() -> Self {
        Self::new(
            ErrorCode::BlobUploadUnknown,
            "blob upload unknown to registry: it was cancelled, completed, expired or never started",
        )
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            ErrorCode::Unsupported,
            "the endpoint does not support this method",
        )
        .with_status(StatusCode::METHOD_NOT_ALLOWED)
    }

    /// A failure of the registry itself. The cause is logged here; the
    /// client gets a generic message, never the internal detail.
    pub(crate) fn internal(cause: &dyn fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            ErrorCode::Unknown,
            "internal registry error; the cause is in the registry's log",
        )
    }

    /// The registry ran out of storage space (ENOSPC).
    /// 503: a service behind the storage (object store, database) is down
    /// or overloaded; the client may retry.
    pub(crate) fn unavailable(cause: &dyn fmt::Display) -> Self {
        tracing::error!(error = %cause, "storage backend unavailable");
        Self::new(
            ErrorCode::Unavailable,
            "the registry's storage backend is unavailable; retry later",
        )
        .with_header(http::header::RETRY_AFTER, HeaderValue::from_static("1"))
    }

    pub(crate) fn insufficient_storage(cause: &dyn fmt::Display) -> Self {
        tracing::error!(error = %cause, "storage is full");
        Self::new(
            ErrorCode::Unknown,
            "the registry's storage is full; retry later or ask its operator to free space",
        )
        .with_status(StatusCode::INSUFFICIENT_STORAGE)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

#[derive(Serialize)]
struct Body<'a> {
    errors: [Entry<'a>; 1],
}

#[derive(Serialize)]
struct Entry<'a> {
    code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a serde_json::Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            errors: [Entry {
                code: self.code.as_str(),
                message: &self.message,
                detail: self.detail.as_ref(),
            }],
        };
        // Serializing a struct of strings and a JSON value cannot fail.
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        response
    }
}

impl From<wharf_storage::Error> for ApiError {
    fn from(err: wharf_storage::Error) -> Self {
        use wharf_storage::Error as E;
        match err {
            E::BlobNotFound(digest) | E::BlobNotLinked { digest, .. } => {
                ApiError::blob_unknown(&digest)
            }
            E::ManifestNotFound { digest, .. } => ApiError::manifest_unknown(&digest),
            E::TagNotFound { tag, .. } => ApiError::manifest_unknown(&tag),
            E::UploadNotFound { .. } => ApiError::upload_unknown(),
            E::RepositoryNotFound(name) => ApiError::name_unknown(&name),
            E::DigestMismatch { expected, actual } => ApiError::new(
                ErrorCode::DigestInvalid,
                format!("the content's digest is {actual}, not {expected}"),
            )
            .with_detail(serde_json::json!({ "digest": expected.to_string(), "actual": actual.to_string() })),
            E::WrongOffset { requested, current } => ApiError::new(
                ErrorCode::BlobUploadInvalid,
                format!("the chunk starts at byte {requested} but the upload holds {current} bytes; resume at {current}"),
            )
            .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
            .with_header(
                http::header::RANGE,
                range_value(current),
            ),
            E::RangeNotSatisfiable { size, .. } => ApiError::new(
                ErrorCode::SizeInvalid,
                format!("the requested range is not satisfiable for a blob of {size} bytes"),
            )
            .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
            .with_header(
                http::header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}"))
                    .unwrap_or_else(|_| HeaderValue::from_static("bytes */0")),
            ),
            E::TooLarge { limit } => ApiError::new(
                ErrorCode::SizeInvalid,
                format!("the content is larger than this registry's limit of {limit} bytes"),
            )
            .with_status(StatusCode::PAYLOAD_TOO_LARGE)
            .with_detail(serde_json::json!({ "limit": limit })),
            E::UnsupportedAlgorithm(algorithm) => ApiError::new(
                ErrorCode::DigestInvalid,
                format!("digest algorithm {algorithm:?} is not supported; use sha256 or sha512"),
            ),
            E::BodyInterrupted { offset, source } => {
                crate::http::body::body_failed(&source).with_header(http::header::RANGE, range_value(offset))
            }
            full @ E::InsufficientStorage { .. } => ApiError::insufficient_storage(&full),
            down @ E::Unavailable { .. } => ApiError::unavailable(&down),
            other => ApiError::internal(&other),
        }
    }
}

impl From<wharf_manifest::Error> for ApiError {
    fn from(err: wharf_manifest::Error) -> Self {
        let code = err.code();
        let status = match code {
            // Over the configured limit: a body too large.
            ErrorCode::SizeInvalid => StatusCode::PAYLOAD_TOO_LARGE,
            code => default_status(code),
        };
        let mut detail = serde_json::Map::new();
        if let Some(path) = err.path() {
            detail.insert("path".into(), path.into());
        }
        if let Some((line, column)) = err.line_column() {
            detail.insert("line".into(), line.into());
            detail.insert("column".into(), column.into());
        }
        let api = ApiError::new(code, err.to_string()).with_status(status);
        if detail.is_empty() {
            api
        } else {
            api.with_detail(serde_json::Value::Object(detail))
        }
    }
}

/// `Range: 0-<last byte>` for an upload holding `offset` bytes.
pub(crate) fn range_value(offset: u64) -> HeaderValue {
    HeaderValue::from_str(&crate::http::range::upload_range(offset))
        .unwrap_or_else(|_| HeaderValue::from_static("0-0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_the_status_of_the_specification_table() {
        let table: [(ErrorCode, &str, u16); 16] = [
            (ErrorCode::BlobUnknown, "BLOB_UNKNOWN", 404),
            (ErrorCode::BlobUploadInvalid, "BLOB_UPLOAD_INVALID", 400),
            (ErrorCode::BlobUploadUnknown, "BLOB_UPLOAD_UNKNOWN", 404),
            (ErrorCode::DigestInvalid, "DIGEST_INVALID", 400),
            (ErrorCode::ManifestBlobUnknown, "MANIFEST_BLOB_UNKNOWN", 400),
            (ErrorCode::ManifestInvalid, "MANIFEST_INVALID", 400),
            (ErrorCode::ManifestUnknown, "MANIFEST_UNKNOWN", 404),
            (ErrorCode::NameInvalid, "NAME_INVALID", 400),
            (ErrorCode::NameUnknown, "NAME_UNKNOWN", 404),
            (ErrorCode::SizeInvalid, "SIZE_INVALID", 400),
            (ErrorCode::Unauthorized, "UNAUTHORIZED", 401),
            (ErrorCode::Denied, "DENIED", 403),
            (ErrorCode::Unsupported, "UNSUPPORTED", 415),
            (ErrorCode::TooManyRequests, "TOOMANYREQUESTS", 429),
            // Not in the OCI table: Distribution's code for 503.
            (ErrorCode::Unavailable, "UNAVAILABLE", 503),
            (ErrorCode::Unknown, "UNKNOWN", 500),
        ];
        for (code, wire, status) in table {
            assert_eq!(code.as_str(), wire);
            assert_eq!(default_status(code).as_u16(), status, "{wire}");
        }
        assert_eq!(ErrorCode::ALL.len(), table.len());
    }

    #[tokio::test]
    async fn the_body_is_the_specification_error_envelope() {
        let response = ApiError::new(ErrorCode::DigestInvalid, "bad digest")
            .with_detail(serde_json::json!({"digest": "sha256:00"}))
            .with_header(http::header::RANGE, HeaderValue::from_static("0-9"))
            .into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(response.headers()[http::header::RANGE], "0-9");
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .expect("body");
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(
            value,
            serde_json::json!({"errors": [{"code": "DIGEST_INVALID", "message": "bad digest", "detail": {"digest": "sha256:00"}}]})
        );
    }
}
