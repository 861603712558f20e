//! `GET`, `HEAD` and `DELETE /v2/<name>/blobs/<digest>`.
//!
//! Only blobs linked to the repository are served: knowing a digest is not
//! enough to read a blob pushed to another repository.

use axum::body::Body;
use axum::response::Response;
use http::header::{ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};
use http::{HeaderValue, Method, StatusCode};
use wharf_reference::Digest;

use crate::distribution::auth::Repo;
use crate::distribution::error::ApiError;
use crate::http::headers::{self, DOCKER_CONTENT_DIGEST};
use crate::http::range::parse_range;

const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");
const BYTES: HeaderValue = HeaderValue::from_static("bytes");

/// Serves a blob, whole or the range the `Range` header asks for; `HEAD`
/// answers the same headers without the body.
pub(crate) async fn get(repo: Repo<'_>, digest: Digest) -> Result<Response, ApiError> {
    let storage = repo.registry.storage();
    if !storage.is_blob_linked(&repo.name, &digest).await? {
        return Err(ApiError::blob_unknown(&digest));
    }
    let digest_value = headers::value(&digest)?;
    if repo.parts.method == Method::HEAD {
        let size = storage.blob_size(&digest).await?;
        return Ok(blob_response(Body::empty(), size, digest_value));
    }

    if let Some(redirects) = repo.registry.blob_redirects() {
        if let Some(url) = redirects.blob_url(&digest).await {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::TEMPORARY_REDIRECT;
            response
                .headers_mut()
                .insert(LOCATION, headers::value(&url)?);
            response
                .headers_mut()
                .insert(DOCKER_CONTENT_DIGEST, digest_value);
            return Ok(response);
        }
    }

    let range = repo
        .parts
        .headers
        .get(RANGE)
        .and_then(|h| parse_range(h.as_bytes()));
    let partial = range.is_some();
    let content = storage.read_blob(&digest, range).await?;
    let length = content.range.end - content.range.start;
    let mut response = blob_response(Body::from_stream(content.stream), length, digest_value);
    if partial {
        response.headers_mut().insert(
            CONTENT_RANGE,
            headers::value(format_args!(
                "bytes {}-{}/{}",
                content.range.start,
                content.range.end.saturating_sub(1),
                content.size
            ))?,
        );
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    Ok(response)
}

/// A blob response: `body` of `length` bytes, with the headers a `GET` and
/// a `HEAD` share.
fn blob_response(body: Body, length: u64, digest: HeaderValue) -> Response {
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(CONTENT_TYPE, OCTET_STREAM);
    h.insert(DOCKER_CONTENT_DIGEST, digest);
    h.insert(ACCEPT_RANGES, BYTES);
    response
}

/// Unlinks the blob from the repository (202). The bytes stay until garbage
/// collection, since other repositories may link them.
pub(crate) async fn delete(repo: Repo<'_>, digest: Digest) -> Result<Response, ApiError> {
    repo.registry
        .storage()
        .unlink_blob(&repo.name, &digest)
        .await?;
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
        .headers_mut()
        .insert(DOCKER_CONTENT_DIGEST, headers::value(&digest)?);
    Ok(response)
}
