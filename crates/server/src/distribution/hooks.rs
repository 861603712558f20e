//! [`ManifestHooks`]: what a registry model built on the distribution core
//! does around manifest pushes, reads and deletes, the role that CNCF
//! Distribution's notification listeners play, but synchronous, so that a
//! hook can refuse the request.
//!
//! The core calls the hooks in this order on `PUT /v2/<name>/manifests/...`:
//! authorization, the manifest parsed and its references checked,
//! [`ManifestHooks::before_store`] (which may refuse the push), the
//! manifest stored and its tag moved, then [`StoredManifest::stored`] on
//! what `before_store` returned. The GitHub package model (see
//! [`crate::ghcr`]) records package versions this way; a registry with no
//! model uses no hooks.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use async_trait::async_trait;
//! use axum::body::Body;
//! use http::request::Parts;
//! use http::Request;
//! use tower::ServiceExt;
//! use wharf_server::{ApiError, ErrorCode, ManifestHooks, PushedManifest, Registry};
//! use wharf_server::distribution::hooks::StoredManifest;
//! use wharf_storage::{MemoryStorage, Storage};
//!
//! /// Counts stored manifests, and refuses pushes into `frozen/...`.
//! #[derive(Default)]
//! struct Counter(Arc<AtomicUsize>);
//!
//! struct Count(Arc<AtomicUsize>);
//!
//! #[async_trait]
//! impl StoredManifest for Count {
//!     async fn stored(self: Box<Self>, _push: &PushedManifest<'_>) -> Result<(), ApiError> {
//!         self.0.fetch_add(1, Ordering::SeqCst);
//!         Ok(())
//!     }
//! }
//!
//! #[async_trait]
//! impl ManifestHooks for Counter {
//!     async fn before_store(
//!         &self,
//!         _storage: &Arc<dyn Storage>,
//!         _request: &Parts,
//!         push: &PushedManifest<'_>,
//!     ) -> Result<Box<dyn StoredManifest>, ApiError> {
//!         if push.name.namespace() == "frozen" {
//!             return Err(ApiError::new(ErrorCode::Denied, "this namespace is frozen"));
//!         }
//!         Ok(Box::new(Count(self.0.clone())))
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let stored = Arc::new(AtomicUsize::new(0));
//! let router = Registry::builder(Arc::new(MemoryStorage::new()))
//!     .hooks(Arc::new(Counter(stored.clone())))
//!     .build()
//!     .router();
//! let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
//! for name in ["octocat/app", "frozen/app"] {
//!     let put = Request::put(format!("/v2/{name}/manifests/latest"))
//!         .header("content-type", "application/vnd.oci.image.index.v1+json")
//!         .body(Body::from(manifest))?;
//!     router.clone().oneshot(put).await?;
//! }
//! assert_eq!(stored.load(Ordering::SeqCst), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;
use wharf_manifest::Manifest;
use wharf_reference::{Digest, RepositoryName, Tag};
use wharf_storage::Storage;

use crate::distribution::error::ApiError;
use crate::distribution::route::ManifestRef;

/// A manifest push, as the hooks see it: validated, its references
/// checked, authorized.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PushedManifest<'a> {
    /// The repository pushed to.
    pub name: &'a RepositoryName,
    /// The digest it is stored under.
    pub digest: &'a Digest,
    /// The parsed manifest, with its exact bytes.
    pub manifest: &'a Manifest,
    /// The tag pushed, when pushed by tag.
    pub tag: Option<&'a Tag>,
}

impl<'a> PushedManifest<'a> {
    /// A push of `manifest` into `name` under `digest`, by `tag` or by
    /// digest.
    pub fn new(
        name: &'a RepositoryName,
        digest: &'a Digest,
        manifest: &'a Manifest,
        tag: Option<&'a Tag>,
    ) -> Self {
        PushedManifest {
            name,
            digest,
            manifest,
            tag,
        }
    }
}

/// What [`ManifestHooks::before_store`] hands on to the moment the manifest
/// is stored and its tag moved.
#[async_trait]
pub trait StoredManifest: Send {
    /// The manifest is stored (and its tag moved). An error here fails the
    /// push (the client retries it; the manifest stays stored).
    async fn stored(self: Box<Self>, push: &PushedManifest<'_>) -> Result<(), ApiError>;
}

/// Nothing to do once stored.
#[derive(Debug, Clone, Copy, Default)]
pub struct NothingMore;

#[async_trait]
impl StoredManifest for NothingMore {
    async fn stored(self: Box<Self>, _push: &PushedManifest<'_>) -> Result<(), ApiError> {
        Ok(())
    }
}

/// What a registry model does around manifest pushes, reads and deletes.
/// Every method has a default that does what plain OCI Distribution does,
/// so an implementation overrides only what it needs. See the
/// [module docs](self).
#[async_trait]
pub trait ManifestHooks: Send + Sync + 'static {
    /// Checks a repository name before the request is authorized; an error
    /// refuses the request, whoever asks. The answer must depend on the
    /// name alone. Default: every valid name is accepted.
    fn check_name(&self, name: &RepositoryName) -> Result<(), ApiError> {
        let _ = name;
        Ok(())
    }

    /// Whether a stored manifest requested by digest is hidden from reads
    /// (a deleted version kept for a restore, say): it is then answered
    /// `MANIFEST_UNKNOWN`. Default: nothing is hidden.
    async fn is_hidden(&self, name: &RepositoryName, digest: &Digest) -> Result<bool, ApiError> {
        let _ = (name, digest);
        Ok(false)
    }

    /// Before a manifest is stored: may refuse the push with an error, and
    /// returns what to do once it is stored. Default: nothing.
    async fn before_store(
        &self,
        storage: &Arc<dyn Storage>,
        request: &Parts,
        push: &PushedManifest<'_>,
    ) -> Result<Box<dyn StoredManifest>, ApiError> {
        let _ = (storage, request, push);
        Ok(Box::new(NothingMore))
    }

    /// `DELETE /v2/<name>/manifests/<reference>`, after authorization.
    /// Default: deletes the manifest (with its tags and referrers entry) or
    /// the tag from storage.
    async fn delete(
        &self,
        storage: &Arc<dyn Storage>,
        name: &RepositoryName,
        reference: &ManifestRef,
    ) -> Result<(), ApiError> {
        delete_from_storage(storage, name, reference).await
    }
}

/// What [`ManifestHooks::delete`] does by default: deletes a manifest by
/// digest (with its tags and referrers entry), or a tag, from storage.
pub async fn delete_from_storage(
    storage: &Arc<dyn Storage>,
    name: &RepositoryName,
    reference: &ManifestRef,
) -> Result<(), ApiError> {
    match reference {
        ManifestRef::Digest(digest) => {
            storage.delete_manifest(name, digest).await?;
        }
        ManifestRef::Tag(tag) => {
            storage.delete_tag(name, tag).await?;
        }
    }
    Ok(())
}

/// The hooks of a registry without a model: every default.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHooks;

impl ManifestHooks for NoHooks {}
