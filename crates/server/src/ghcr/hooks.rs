//! The package model plugged into the distribution core: a push records a
//! package version with its metadata, a delete by digest soft-deletes the
//! version, a deleted version is not served, and every repository name is
//! `OWNER/PACKAGE`.

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;
use wharf_reference::{Digest, RepositoryName};
use wharf_storage::Storage;

use crate::distribution::error::{ApiError, ErrorCode};
use crate::distribution::hooks::{ManifestHooks, PushedManifest, StoredManifest};
use crate::distribution::route::ManifestRef;
use crate::ghcr::accounts::Accounts;
use crate::ghcr::records::PreparedPush;

#[async_trait]
impl ManifestHooks for Accounts {
    fn check_name(&self, name: &RepositoryName) -> Result<(), ApiError> {
        require_package_name(name)
    }

    async fn is_hidden(&self, name: &RepositoryName, digest: &Digest) -> Result<bool, ApiError> {
        self.is_deleted_version(name, digest).await
    }

    async fn before_store(
        &self,
        storage: &Arc<dyn Storage>,
        request: &Parts,
        push: &PushedManifest<'_>,
    ) -> Result<Box<dyn StoredManifest>, ApiError> {
        let prepared = self
            .prepare_push(
                storage,
                request,
                push.name,
                push.manifest,
                push.tag.is_some(),
            )
            .await?;
        Ok(Box::new(prepared))
    }

    async fn delete(
        &self,
        storage: &Arc<dyn Storage>,
        name: &RepositoryName,
        reference: &ManifestRef,
    ) -> Result<(), ApiError> {
        self.delete_manifest(storage, name, reference).await
    }
}

#[async_trait]
impl StoredManifest for PreparedPush {
    async fn stored(self: Box<Self>, push: &PushedManifest<'_>) -> Result<(), ApiError> {
        let accounts = self.accounts.clone();
        accounts
            .record_push(*self, push.name, push.digest, push.manifest, push.tag)
            .await
    }
}

/// Refuses a repository name without a package after its owner: it would
/// make a package named "" that no page or REST path can address. The
/// answer depends on the name alone, so it reveals nothing about accounts.
fn require_package_name(name: &RepositoryName) -> Result<(), ApiError> {
    if name.package().is_some() {
        return Ok(());
    }
    Err(ApiError::new(
        ErrorCode::NameInvalid,
        format!(
            "a package name is needed after the owner: {}/NAME",
            name.namespace()
        ),
    )
    .with_detail(serde_json::json!({ "name": name.as_str() })))
}
