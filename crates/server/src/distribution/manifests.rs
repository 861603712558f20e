//! `GET`, `HEAD`, `PUT` and `DELETE /v2/<name>/manifests/<reference>`.
//!
//! # Content negotiation
//!
//! A manifest is served with the media type it was pushed with, as its
//! `Content-Type`, whatever the request's `Accept` says. The bytes are the
//! truth: converting between OCI and Docker formats would change the digest
//! the client asked for. Clients that send a narrow `Accept` (Docker-only,
//! say) handle the stored type anyway, which is what CNCF Distribution, GHCR
//! and Docker Hub do for OCI and Docker media types. Docker schema 1 is never
//! stored, so the one case where negotiation matters (schema 1 conversion)
//! does not arise.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::response::Response;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Method, StatusCode};
use wharf_manifest::{Manifest, ParseOptions};
use wharf_reference::{Digest, MediaType, RepositoryName};
use wharf_storage::{ManifestPut, Storage};

use crate::distribution::auth::Repo;
use crate::distribution::error::{ApiError, ErrorCode};
use crate::distribution::hooks::PushedManifest;
use crate::distribution::route::{ManifestRef, ManifestSegment};
use crate::http::body::read_limited;
use crate::http::headers::{self, DOCKER_CONTENT_DIGEST, OCI_SUBJECT};
use crate::Registry;

/// Resolves a tag to the digest it points at; a digest is itself.
async fn resolve(
    registry: &Registry,
    name: &RepositoryName,
    reference: ManifestRef,
) -> Result<Digest, ApiError> {
    match reference {
        ManifestRef::Digest(digest) => Ok(digest),
        ManifestRef::Tag(tag) => Ok(registry.storage().resolve_tag(name, &tag).await?),
    }
}

fn media_type_value(media_type: &MediaType) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(media_type.as_str()).map_err(|err| ApiError::internal(&err))
}

/// Serves a manifest's exact bytes with its stored media type; `HEAD`
/// answers the same headers without reading the bytes. A segment that is
/// neither a tag nor a digest names no manifest: `MANIFEST_UNKNOWN`, after
/// the same authorization as any read.
pub(crate) async fn get(repo: Repo<'_>, segment: ManifestSegment) -> Result<Response, ApiError> {
    let reference = match segment {
        ManifestSegment::Reference(reference) => reference,
        ManifestSegment::Invalid(segment) => return Err(ApiError::manifest_unknown(&segment)),
    };
    let by_digest = matches!(reference, ManifestRef::Digest(_));
    let digest = resolve(repo.registry, &repo.name, reference).await?;
    // A model may keep a manifest without serving it (a deleted version).
    if by_digest && repo.registry.hooks().is_hidden(&repo.name, &digest).await? {
        return Err(ApiError::manifest_unknown(&digest));
    }
    let storage = repo.registry.storage();
    let (media_type, size, body) = if repo.parts.method == Method::HEAD {
        let info = storage.stat_manifest(&repo.name, &digest).await?;
        (info.media_type, info.size, Body::empty())
    } else {
        let manifest = storage.get_manifest(&repo.name, &digest).await?;
        let size = manifest.bytes.len() as u64;
        (manifest.media_type, size, Body::from(manifest.bytes))
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, media_type_value(&media_type)?);
    h.insert(CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(DOCKER_CONTENT_DIGEST, headers::value(&digest)?);
    Ok(response)
}

/// Validates and stores a manifest, after checking that the repository holds
/// every blob and child manifest it references; moves the tag when pushed by
/// tag; records its subject in the referrers index.
pub(crate) async fn put(
    repo: Repo<'_>,
    body: Body,
    reference: ManifestRef,
) -> Result<Response, ApiError> {
    let limits = repo.registry.limits();
    let declared = repo
        .parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let bytes = read_limited(
        body,
        limits.max_manifest_size,
        crate::http::body::BodyPace::of(limits),
        declared,
    )
    .await?;
    let content_type = repo
        .parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let mut options = ParseOptions::default();
    options.max_size = limits.max_manifest_size;
    let manifest = Manifest::parse_with(bytes, content_type, &options)?;

    // Pushed by digest: the bytes must hash to it, with its algorithm.
    let digest = match &reference {
        ManifestRef::Digest(expected) => {
            expected.verify(manifest.bytes()).map_err(|err| {
                ApiError::new(
                    ErrorCode::DigestInvalid,
                    format!("the manifest does not match the digest it was pushed as: {err}"),
                )
                .with_detail(serde_json::json!({ "digest": expected.to_string() }))
            })?;
            expected.clone()
        }
        ManifestRef::Tag(_) => manifest.digest().clone(),
    };

    check_references(repo.registry, &repo.name, &manifest).await?;
    let tag = match &reference {
        ManifestRef::Tag(tag) => Some(tag),
        ManifestRef::Digest(_) => None,
    };
    let push = PushedManifest::new(&repo.name, &digest, &manifest, tag);
    let after = repo
        .registry
        .hooks()
        .before_store(repo.registry.storage(), repo.parts, &push)
        .await?;

    let mut put = ManifestPut::new(
        digest.clone(),
        manifest.media_type().clone(),
        manifest.bytes().clone(),
    );
    let subject = manifest.subject().map(|s| s.digest.clone());
    if let Some(subject) = &subject {
        let annotations: BTreeMap<String, String> = manifest.annotations().clone();
        put = put.with_subject(
            subject.clone(),
            manifest.artifact_type().cloned(),
            annotations,
        );
    }
    let storage = repo.registry.storage();
    storage.put_manifest(&repo.name, put).await?;
    if let Some(tag) = tag {
        storage.set_tag(&repo.name, tag, &digest).await?;
    }
    after.stored(&push).await?;

    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::CREATED;
    let h = response.headers_mut();
    h.insert(
        LOCATION,
        headers::value(format_args!("/v2/{}/manifests/{digest}", repo.name))?,
    );
    h.insert(DOCKER_CONTENT_DIGEST, headers::value(&digest)?);
    h.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    if let Some(subject) = &subject {
        h.insert(OCI_SUBJECT, headers::value(subject)?);
    }
    Ok(response)
}

/// How many referenced blobs a manifest push checks at once (each check is
/// a round trip or two on an object store).
const REFERENCE_CHECKS_IN_FLIGHT: usize = 8;

/// Every non-foreign blob must be linked to the repository and stored, and
/// every child manifest stored in it; the first missing one (in the
/// manifest's order) is reported as `MANIFEST_BLOB_UNKNOWN` with its digest
/// in `detail`. Foreign layers (Windows base layers) live elsewhere and are
/// not required.
///
/// A blob is a reference like any other (see [`crate::gc`]): its link is
/// [confirmed](confirm_link) first, so garbage collection keeps it or has
/// removed it already, and then the blob itself is
/// [claimed](wharf_storage::BlobStore::claim_blob). The link alone is not
/// enough: an upload links its digest before it stores the blob, so a link
/// can name a blob still on its way (or one whose upload then fails).
async fn check_references(
    registry: &Registry,
    name: &RepositoryName,
    manifest: &Manifest,
) -> Result<(), ApiError> {
    let storage = registry.storage();
    // Boxed: a stream of the unboxed futures trips the compiler's proof
    // that the handler's future is `Send` (rust-lang/rust#102211).
    let blobs: Vec<BoxFuture<'_, Result<(), ApiError>>> = manifest
        .required_blobs()
        .map(|blob| check_blob(&**storage, name, &blob.digest).boxed())
        .collect();
    let mut blobs = futures::stream::iter(blobs).buffered(REFERENCE_CHECKS_IN_FLIGHT);
    while let Some(checked) = blobs.next().await {
        checked?;
    }
    for child in manifest.child_manifests() {
        match storage.stat_manifest(name, &child.digest).await {
            Ok(_) => {}
            Err(err) if err.is_not_found() => {
                return Err(unknown_reference("manifest", "index", &child.digest, name));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(())
}

/// One blob of [`check_references`]: linked to `name` (confirmed), then
/// stored.
async fn check_blob(
    storage: &dyn Storage,
    name: &RepositoryName,
    digest: &Digest,
) -> Result<(), ApiError> {
    if !confirm_link(storage, name, digest).await? {
        return Err(unknown_reference("blob", "manifest", digest, name));
    }
    match storage.claim_blob(digest).await {
        Ok(_) => Ok(()),
        Err(err) if err.is_not_found() => Err(unknown_reference("blob", "manifest", digest, name)),
        Err(err) => Err(err.into()),
    }
}

/// Whether `name` links the blob, marking the link used now
/// ([`RepositoryStore::confirm_link`](wharf_storage::RepositoryStore::confirm_link)):
/// what a request asks before it stores, or promises the client, a new
/// reference to the blob. A backend without garbage collection cannot
/// confirm, and has no collector to race: it is only asked whether the
/// link exists.
pub(crate) async fn confirm_link(
    storage: &dyn Storage,
    name: &RepositoryName,
    digest: &Digest,
) -> Result<bool, wharf_storage::Error> {
    match storage.confirm_link(name, digest).await {
        Err(wharf_storage::Error::Unsupported { .. }) => storage.is_blob_linked(name, digest).await,
        confirmed => confirmed,
    }
}

/// `MANIFEST_BLOB_UNKNOWN` for the `what` (a blob, a manifest) with
/// `digest` that the pushed `by` (manifest, index) references but `name`
/// lacks, with the digest in `detail`.
fn unknown_reference(what: &str, by: &str, digest: &Digest, name: &RepositoryName) -> ApiError {
    ApiError::new(
        ErrorCode::ManifestBlobUnknown,
        format!(
            "{what} {digest} referenced by the {by} is not in repository {name}; push it first"
        ),
    )
    .with_detail(serde_json::json!({ "digest": digest.to_string() }))
}

/// Deletes a manifest by digest (with the tags pointing at it and its
/// referrers entry), or just a tag, through [`ManifestHooks::delete`]
/// (the package model soft-deletes the version instead).
pub(crate) async fn delete(repo: Repo<'_>, reference: ManifestRef) -> Result<Response, ApiError> {
    repo.registry
        .hooks()
        .delete(repo.registry.storage(), &repo.name, &reference)
        .await?;
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
        .headers_mut()
        .insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    Ok(response)
}
