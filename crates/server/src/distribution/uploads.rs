//! Blob uploads: `POST /v2/<name>/blobs/uploads/` (start, monolithic push
//! or cross-repository mount) and `PATCH`, `PUT`, `GET`, `DELETE` on
//! `/v2/<name>/blobs/uploads/<id>`.
//!
//! Request bodies stream straight into storage, hashed on the way; nothing
//! is buffered whole. `Location` headers are absolute paths without a query
//! string, which clients follow as given.

use axum::body::Body;
use axum::response::Response;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, LOCATION, RANGE};
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use wharf_reference::{Digest, RepositoryName};
use wharf_storage::{UploadId, UploadStatus};

use crate::distribution::auth::{Access, Action, Repo};
use crate::distribution::error::{range_value, ApiError, ErrorCode};
use crate::distribution::listing::query_param;
use crate::distribution::manifests::confirm_link;
use crate::distribution::route::{parse_digest, parse_name};
use crate::http::body::{chunk_stream, BodyPace};
use crate::http::headers::{self, DOCKER_CONTENT_DIGEST, DOCKER_UPLOAD_UUID};
use crate::http::range::ChunkRange;
use crate::Registry;

fn has_body(body: &Body) -> bool {
    http_body::Body::size_hint(body).upper() != Some(0)
}

fn declared_length(parts: &Parts) -> Option<u64> {
    parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

fn upload_location(name: &RepositoryName, id: &UploadId) -> Result<HeaderValue, ApiError> {
    headers::value(format_args!("/v2/{name}/blobs/uploads/{id}"))
}

/// 202 (or 204) with `Location`, `Range` and `Docker-Upload-UUID`.
fn session_response(
    status: StatusCode,
    name: &RepositoryName,
    id: &UploadId,
    offset: u64,
) -> Result<Response, ApiError> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(LOCATION, upload_location(name, id)?);
    h.insert(RANGE, range_value(offset));
    h.insert(DOCKER_UPLOAD_UUID, headers::value(id)?);
    h.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    Ok(response)
}

/// 201 with the blob's `Location` and `Docker-Content-Digest`.
fn created(name: &RepositoryName, digest: &Digest) -> Result<Response, ApiError> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::CREATED;
    let h = response.headers_mut();
    h.insert(
        LOCATION,
        headers::value(format_args!("/v2/{name}/blobs/{digest}"))?,
    );
    h.insert(DOCKER_CONTENT_DIGEST, headers::value(digest)?);
    h.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    Ok(response)
}

/// Adds the session's `Location` and id to an error that carries a `Range`
/// (an out-of-order chunk, an interrupted body), so the client can resume.
fn with_session(err: ApiError, name: &RepositoryName, id: &UploadId) -> ApiError {
    if !err.headers().iter().any(|(h, _)| h == RANGE) {
        return err;
    }
    let mut err = err;
    if let Ok(location) = upload_location(name, id) {
        err = err.with_header(LOCATION, location);
    }
    if let Ok(uuid) = headers::value(id) {
        err = err.with_header(DOCKER_UPLOAD_UUID, uuid);
    }
    err
}

/// `POST /v2/<name>/blobs/uploads/`: a cross-repository mount
/// (`?mount=<digest>&from=<repo>`), a monolithic upload (`?digest=` with the
/// blob as body), or a new session (202).
pub(crate) async fn start(repo: Repo<'_>, body: Body) -> Result<Response, ApiError> {
    let storage = repo.registry.storage();

    if let Some(mount) = query_param(repo.parts, "mount") {
        let digest = parse_digest(&mount)?;
        if try_mount(repo.registry, repo.parts, &repo.name, &digest).await? {
            return created(&repo.name, &digest);
        }
        // Fall through: a new session, as the specification asks when a
        // mount is not possible.
    } else if let Some(digest) = query_param(repo.parts, "digest") {
        let digest = parse_digest(&digest)?;
        let _permit = repo.registry.upload_permit(repo.parts).await?;
        let pace = BodyPace::of(repo.registry.limits());
        // Linked as the blob is stored, never after (garbage collection
        // could remove a blob found stored before the link is made).
        storage
            .upload_blob(&repo.name, &digest, chunk_stream(body, pace))
            .await?;
        return created(&repo.name, &digest);
    }

    let client = repo.registry.client_key(repo.parts).await;
    let sessions = &repo.registry.inner().upload_sessions;
    let place = sessions
        .reserve(&**storage, &client)
        .await
        .inspect_err(|_| repo.registry.inner().metrics.rejected_overload())?;
    let status = storage.start_upload_for(&repo.name, &client).await?;
    place.commit(status.id, repo.name.clone());
    repo.registry.inner().metrics.upload_started();
    session_response(StatusCode::ACCEPTED, &repo.name, &status.id, status.offset)
}

/// Links `digest` into `name` when the caller may pull it from the `from`
/// repository (or it is already linked to `name`). `false` means "not
/// possible": the blob is not there or the caller may not read the source;
/// the two are indistinguishable to the caller on purpose.
///
/// An existing link is confirmed (as a manifest push confirms it), since
/// the 201 promises the client the blob for the manifest it pushes next.
async fn try_mount(
    registry: &Registry,
    parts: &Parts,
    name: &RepositoryName,
    digest: &Digest,
) -> Result<bool, ApiError> {
    let storage = registry.storage();
    if confirm_link(&**storage, name, digest).await? {
        return Ok(true);
    }
    let Some(from) = query_param(parts, "from") else {
        return Ok(false);
    };
    let Ok(from) = parse_name(&from) else {
        return Ok(false);
    };
    let pull = Access::Repository {
        name: &from,
        action: Action::Pull,
    };
    if registry.authorize(parts, pull).await.is_err() {
        return Ok(false);
    }
    if !storage.is_blob_linked(&from, digest).await? {
        return Ok(false);
    }
    match storage.link_blob(name, digest).await {
        Ok(()) => Ok(true),
        // Linked in `from` but gone from storage: not mountable.
        Err(wharf_storage::Error::BlobNotFound(_)) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Where a chunk must start: the `Content-Range` start if given (checked
/// against the declared length), else the session's current offset.
async fn chunk_offset(
    registry: &Registry,
    parts: &Parts,
    name: &RepositoryName,
    id: &UploadId,
) -> Result<u64, ApiError> {
    match parts.headers.get(CONTENT_RANGE) {
        Some(header) => {
            let range = ChunkRange::parse(header.as_bytes()).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::BlobUploadInvalid,
                    "Content-Range must be <start>-<end>",
                )
                .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
            })?;
            if let Some(length) = declared_length(parts) {
                if length != range.len() {
                    return Err(ApiError::new(
                        ErrorCode::BlobUploadInvalid,
                        format!(
                            "Content-Range {}-{} covers {} bytes but Content-Length is {length}",
                            range.start,
                            range.end,
                            range.len()
                        ),
                    ));
                }
            }
            Ok(range.start)
        }
        None => Ok(registry.storage().upload_status(name, id).await?.offset),
    }
}

async fn append(
    registry: &Registry,
    parts: &Parts,
    body: Body,
    name: &RepositoryName,
    id: &UploadId,
) -> Result<UploadStatus, ApiError> {
    let offset = chunk_offset(registry, parts, name, id).await?;
    let _permit = registry.upload_permit(parts).await?;
    let pace = BodyPace::of(registry.limits());
    let appended = registry
        .storage()
        .append_upload(name, id, offset, chunk_stream(body, pace))
        .await;
    Ok(session_outcome(registry, name, id, appended)?)
}

/// Passes a storage result on, first freeing the session's place in the
/// count when the result says the session is gone: ended elsewhere,
/// expired, or ended by a digest mismatch.
fn session_outcome<T>(
    registry: &Registry,
    name: &RepositoryName,
    id: &UploadId,
    result: Result<T, wharf_storage::Error>,
) -> Result<T, wharf_storage::Error> {
    if let Err(
        wharf_storage::Error::UploadNotFound { .. } | wharf_storage::Error::DigestMismatch { .. },
    ) = &result
    {
        registry.inner().upload_sessions.release(name, id);
    }
    result
}

/// `PATCH /v2/<name>/blobs/uploads/<id>`: appends a chunk (with
/// `Content-Range`) or streams the body at the current offset (without).
pub(crate) async fn patch(repo: Repo<'_>, body: Body, id: UploadId) -> Result<Response, ApiError> {
    let status = append(repo.registry, repo.parts, body, &repo.name, &id)
        .await
        .map_err(|err| with_session(err, &repo.name, &id))?;
    session_response(StatusCode::ACCEPTED, &repo.name, &id, status.offset)
}

/// `PUT /v2/<name>/blobs/uploads/<id>?digest=`: appends the last chunk, if
/// the body has one, then verifies and commits the blob (201).
pub(crate) async fn put(repo: Repo<'_>, body: Body, id: UploadId) -> Result<Response, ApiError> {
    let digest = query_param(repo.parts, "digest").ok_or_else(|| {
        ApiError::new(
            ErrorCode::DigestInvalid,
            "the digest query parameter is required to complete an upload",
        )
    })?;
    let digest = parse_digest(&digest)?;
    if has_body(&body) {
        append(repo.registry, repo.parts, body, &repo.name, &id)
            .await
            .map_err(|err| with_session(err, &repo.name, &id))?;
    }
    let finished = repo
        .registry
        .storage()
        .finish_upload(&repo.name, &id, &digest)
        .await;
    match session_outcome(repo.registry, &repo.name, &id, finished) {
        Ok(_size) => {
            repo.registry
                .inner()
                .upload_sessions
                .release(&repo.name, &id);
            repo.registry.inner().metrics.upload_completed();
            created(&repo.name, &digest)
        }
        Err(err @ wharf_storage::Error::DigestMismatch { .. }) => {
            // Storage ends the session on a mismatch.
            repo.registry.inner().metrics.upload_cancelled();
            Err(err.into())
        }
        Err(err) => Err(err.into()),
    }
}

/// `GET /v2/<name>/blobs/uploads/<id>`: the session's offset (204).
pub(crate) async fn status(repo: Repo<'_>, id: UploadId) -> Result<Response, ApiError> {
    let status = repo.registry.storage().upload_status(&repo.name, &id).await;
    let status = session_outcome(repo.registry, &repo.name, &id, status)?;
    session_response(StatusCode::NO_CONTENT, &repo.name, &id, status.offset)
}

/// `DELETE /v2/<name>/blobs/uploads/<id>`: cancels the session (204).
pub(crate) async fn cancel(repo: Repo<'_>, id: UploadId) -> Result<Response, ApiError> {
    let cancelled = repo.registry.storage().cancel_upload(&repo.name, &id).await;
    session_outcome(repo.registry, &repo.name, &id, cancelled)?;
    repo.registry
        .inner()
        .upload_sessions
        .release(&repo.name, &id);
    repo.registry.inner().metrics.upload_cancelled();
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
