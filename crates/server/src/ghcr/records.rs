//! Keeping the package records in step with the registry's content: what a
//! manifest push, a manifest or tag delete, a REST delete or restore and
//! the periodic purge do to the [`PackageStore`](wharf_packages::PackageStore)
//! and to storage.
//!
//! # A manifest push
//!
//! 1. The package metadata is extracted (see below). With
//!    [`AnnotationPolicy::reject_invalid`](crate::AnnotationPolicy), a
//!    problem refuses the push before anything is stored.
//! 2. On first publish the package is created, private, with the pushing
//!    user as admin, or linked to the workflow token's repository
//!    ([`Package::first_publish`]).
//! 3. The manifest is stored and tagged.
//! 4. The version is recorded: digest, media type, size, the tag (moved
//!    from whichever version had it), an index's platforms.
//! 5. The package's metadata is replaced by what was extracted, and when
//!    `org.opencontainers.image.source` names a repository of the
//!    package's owner on one of the configured code hosts, the package may
//!    be linked to it (see below).
//!
//! # A push never changes who may access a package
//!
//! Linking a package to a source repository gives the repository's
//! collaborators and workflows access to it, so a source label links only
//! what its pusher could link through the package API: the package must
//! not be linked yet, must never have been unlinked by an admin (an unlink
//! is remembered: only an admin links it again), and the pusher must be
//! allowed to change its settings (its creator on first publish, an admin,
//! a workflow of a repository it is linked to). A pusher with only the
//! write role stores versions and metadata, nothing more.
//!
//! Metadata comes from pushes **by tag** of images and indexes without a
//! `subject`: not from the untagged child manifests of a multi-arch push,
//! nor from signatures, SBOMs and other artifacts, which would otherwise
//! overwrite the image's description. For an image manifest, its
//! annotations win over its config's labels (the config is read from
//! storage, up to 1 MiB). For an index, its annotations win, then those
//! of one of its images (`linux/amd64` if there is one), then that
//! image's config labels.
//!
//! # Deletes and restores
//!
//! A deleted version keeps its manifest in storage until it is purged, so
//! that it can be restored: its tags are removed from storage, and a pull
//! by digest answers `MANIFEST_UNKNOWN`. A deleted package's whole content
//! is archived (see [`deleted_packages`](crate::ghcr::deleted_packages)): its
//! name answers `NAME_UNKNOWN` until it is restored (content and tags come
//! back) or published again, and a new package of the name starts empty.
//! Thirty days after the delete,
//! [`Registry::purge_expired_packages`](crate::Registry::purge_expired_packages)
//! removes the records for good, the archives of purged packages and the
//! manifests of purged versions no record references any more.

use std::sync::Arc;

use futures::StreamExt;
use http::request::Parts;
use wharf_annotations::{Extraction, PackageMetadata, Sources};
use wharf_auth::{authorize, CodeRepository, Package, Principal};
use wharf_manifest::{Descriptor, Manifest};
use wharf_packages::{
    NewVersion, PackageChanges, PackageLookup, VersionId, VersionQuery, VersionRecord,
};
use wharf_reference::{Digest, RepositoryName, Tag};
use wharf_storage::{PageRequest, Storage};

use crate::distribution::auth::{Access, Action, Authorizer};
use crate::distribution::error::{ApiError, ErrorCode};
use crate::distribution::route::ManifestRef;
use crate::ghcr::accounts::{store_failure, Accounts, Caller};
use crate::ghcr::{next_page, STORE_PAGE};

/// The largest image config read for its labels.
pub(crate) const MAX_CONFIG_SIZE: u64 = 1024 * 1024;

/// What [`Accounts::prepare_push`] found, for [`Accounts::record_push`].
#[derive(Debug)]
pub(crate) struct PreparedPush {
    /// The model that prepared it, which records it once stored.
    pub(crate) accounts: Accounts,
    metadata: Option<PackageMetadata>,
    /// Who pushes (a source label links the package only if they may
    /// change its settings).
    pusher: Principal,
}

/// Reads a blob whole when it is at most `limit` bytes; `None` when it is
/// larger.
async fn read_small_blob(
    storage: &Arc<dyn Storage>,
    digest: &Digest,
    limit: u64,
) -> Result<Option<Vec<u8>>, wharf_storage::Error> {
    let content = storage.read_blob(digest, None).await?;
    if content.size > limit {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(content.size).unwrap_or(0));
    let mut stream = content.stream;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

/// The config blob of an image manifest, when it is an image config small
/// enough to read. Failures are logged: the labels are then missing, the
/// push goes on.
async fn image_config(storage: &Arc<dyn Storage>, config: &Descriptor) -> Option<Vec<u8>> {
    if !config.media_type.is_config() || config.size > MAX_CONFIG_SIZE {
        return None;
    }
    match read_small_blob(storage, &config.digest, MAX_CONFIG_SIZE).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(error = %err, config = %config.digest, "reading an image config for its labels failed");
            None
        }
    }
}

/// Whether a push updates the package's metadata (see the module docs).
fn describes_package(manifest: &Manifest, tagged: bool) -> bool {
    if !tagged || manifest.subject().is_some() {
        return false;
    }
    match (manifest.as_image(), manifest.as_index()) {
        (Some(image), _) => !image.is_artifact(),
        (None, Some(index)) => index.artifact_type().is_none(),
        (None, None) => false,
    }
}

/// The image of an index whose annotations and labels stand in for keys
/// the index does not set: `linux/amd64` if listed, else the first image
/// with a real platform (attestations are `unknown/unknown`).
fn representative_child(index: &Manifest) -> Option<&Descriptor> {
    let images = || {
        index.child_manifests().iter().filter(|d| {
            d.media_type.is_image_manifest()
                && d.platform
                    .as_ref()
                    .is_none_or(|p| p.os != "unknown" && p.architecture != "unknown")
        })
    };
    images()
        .find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
        })
        .or_else(|| images().next())
}

impl Accounts {
    /// Extracts the package metadata of a pushed manifest.
    async fn extract_metadata(
        &self,
        storage: &Arc<dyn Storage>,
        name: &RepositoryName,
        manifest: &Manifest,
    ) -> Extraction {
        let policy = self.annotation_policy().extraction;
        if let Some(config) = manifest.config() {
            let bytes = image_config(storage, config).await;
            return wharf_annotations::extract(manifest, bytes.as_deref(), &policy);
        }
        // An index: its annotations, then one image's, then its config.
        let child = match representative_child(manifest) {
            Some(descriptor) => match storage.get_manifest(name, &descriptor.digest).await {
                Ok(stored) => Manifest::parse(stored.bytes, Some(stored.media_type.as_str())).ok(),
                Err(err) => {
                    tracing::warn!(error = %err, child = %descriptor.digest, "reading an index's image for its annotations failed");
                    None
                }
            },
            None => None,
        };
        let child_config = match child.as_ref().and_then(Manifest::config) {
            Some(config) => image_config(storage, config).await,
            None => None,
        };
        let mut sources = Sources::new().manifest(manifest);
        if let Some(child) = &child {
            sources = sources.manifest(child);
            if let (Some(descriptor), Some(bytes)) = (child.config(), child_config.as_deref()) {
                sources = sources.image_config(descriptor, bytes);
            }
        }
        sources.extract(&policy)
    }

    /// Before a manifest is stored: extracts its metadata (refusing the
    /// push if the policy says so) and creates the package on first
    /// publish. The push was authorized already.
    pub(crate) async fn prepare_push(
        &self,
        storage: &Arc<dyn Storage>,
        parts: &Parts,
        name: &RepositoryName,
        manifest: &Manifest,
        tagged: bool,
    ) -> Result<PreparedPush, ApiError> {
        let caller = self.caller(parts, || None).await?;
        let mut prepared = PreparedPush {
            accounts: self.clone(),
            metadata: None,
            pusher: caller.principal().clone(),
        };
        if describes_package(manifest, tagged) {
            let extraction = self.extract_metadata(storage, name, manifest).await;
            if !extraction.problems.is_empty() {
                let problems: Vec<String> = extraction
                    .problems
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                if self.annotation_policy().reject_invalid {
                    return Err(ApiError::new(
                        ErrorCode::ManifestInvalid,
                        format!(
                            "the image's annotations or labels break this registry's rules: {}",
                            problems.join("; ")
                        ),
                    )
                    .with_detail(serde_json::json!({ "annotations": problems })));
                }
                for problem in &problems {
                    tracing::warn!(package = %name, problem = %problem, "annotation left out of the package metadata");
                }
            }
            prepared.metadata = Some(extraction.metadata);
        }
        self.ensure_package(parts, &caller, name).await?;
        Ok(prepared)
    }

    /// Creates the package on its first publish.
    async fn ensure_package(
        &self,
        parts: &Parts,
        caller: &Caller,
        name: &RepositoryName,
    ) -> Result<(), ApiError> {
        let store = self.store();
        if store
            .package(name)
            .await
            .map_err(|err| store_failure(&err))?
            .is_some()
        {
            return Ok(());
        }
        let creator = caller.identity();
        let package = Package::first_publish(name.clone(), &creator);
        match store.create_package(&package, self.now()).await {
            Ok(_) => {
                tracing::info!(package = %name, creator = %creator, "first publish: package created, private");
                Ok(())
            }
            // Another first publish won the race: check the push against
            // the package it created.
            Err(err) if err.is_already_exists() => {
                self.authorize(
                    parts,
                    Access::Repository {
                        name,
                        action: Action::Push,
                    },
                )
                .await
            }
            Err(err) if err.is_not_found() => Err(ApiError::name_unknown(name)),
            Err(err) => Err(store_failure(&err)),
        }
    }

    /// After a manifest is stored: records the version and updates the
    /// package's metadata and link.
    pub(crate) async fn record_push(
        &self,
        prepared: PreparedPush,
        name: &RepositoryName,
        digest: &Digest,
        manifest: &Manifest,
        tag: Option<&Tag>,
    ) -> Result<(), ApiError> {
        let store = self.store();
        let now = self.now();
        let mut version = NewVersion::new(
            digest.clone(),
            manifest.media_type().clone(),
            manifest.size(),
        );
        if let Some(tag) = tag {
            version = version.with_tag(tag.clone());
        }
        let mut platforms: Vec<String> = manifest
            .platforms()
            .map(ToString::to_string)
            .filter(|p| !p.starts_with("unknown/"))
            .collect();
        platforms.sort();
        platforms.dedup();
        version.platforms = platforms;
        store
            .record_version(name, &version, now)
            .await
            .map_err(|err| store_failure(&err))?;

        let Some(metadata) = prepared.metadata else {
            return Ok(());
        };
        let mut changes = PackageChanges::new();
        match metadata.source_repository(self.code_hosts()) {
            Ok(Some(source)) => {
                let linkable = self
                    .linkable(name, &source.to_string(), &prepared.pusher)
                    .await?;
                if let Some(repository) = linkable {
                    changes = changes.link(repository);
                }
            }
            Ok(None) => {}
            Err(err) => {
                tracing::debug!(package = %name, reason = %err, "the source annotation names no repository of this registry's code hosts");
            }
        }
        changes = changes.metadata(metadata);
        store
            .update_package(name, &changes, now)
            .await
            .map_err(|err| store_failure(&err))?;
        Ok(())
    }

    /// The repository a source annotation pushed by `pusher` links the
    /// package to, if any (see the module docs): one of the package
    /// owner's repositories, when the package is not linked, was never
    /// unlinked, and `pusher` may change its settings. Linking gives the
    /// repository's collaborators and workflows access, so a push never
    /// links to another owner's repository, never moves an existing link,
    /// and never links on behalf of someone who could not link through
    /// the package API.
    async fn linkable(
        &self,
        name: &RepositoryName,
        source: &str,
        pusher: &Principal,
    ) -> Result<Option<CodeRepository>, ApiError> {
        let Ok(repository) = CodeRepository::parse(source) else {
            return Ok(None);
        };
        if repository.owner() != name.namespace() {
            tracing::info!(package = %name, source = %repository, "not linked: the source repository belongs to another owner");
            return Ok(None);
        }
        let context = self.context(pusher, name, PackageLookup::Active).await?;
        let (Some(package), Some(state)) = (&context.package, context.state()) else {
            return Ok(None);
        };
        if let Some(linked) = package.linked_repository() {
            if *linked != repository {
                tracing::info!(package = %name, linked = %linked, source = %repository, "not relinked: the package is linked to another repository");
            }
            return Ok(None);
        }
        if package.was_unlinked() {
            tracing::info!(package = %name, source = %repository, "not linked: an admin unlinked the package; only an admin links it again");
            return Ok(None);
        }
        if !authorize(pusher, wharf_auth::PackageAction::ChangeSettings, &state).is_allowed() {
            tracing::info!(package = %name, source = %repository, pusher = %pusher, "not linked: the pusher may not change the package's settings");
            return Ok(None);
        }
        Ok(Some(repository))
    }

    /// `DELETE /v2/<name>/manifests/<reference>` with accounts on: a
    /// digest soft-deletes its version (restorable; the bytes stay until
    /// purged) and removes its tags; a tag is removed from storage and from
    /// its version. A manifest with no version record is deleted from
    /// storage outright.
    pub(crate) async fn delete_manifest(
        &self,
        storage: &Arc<dyn Storage>,
        name: &RepositoryName,
        reference: &ManifestRef,
    ) -> Result<(), ApiError> {
        let store = self.store();
        let now = self.now();
        match reference {
            ManifestRef::Digest(digest) => {
                let version = store
                    .version_by_digest(name, digest)
                    .await
                    .map_err(|err| store_failure(&err))?;
                match version {
                    Some(version) if version.is_deleted() => {
                        Err(ApiError::manifest_unknown(digest))
                    }
                    Some(version) => {
                        storage.stat_manifest(name, digest).await?;
                        let version = store
                            .delete_version(name, version.id, now)
                            .await
                            .map_err(|err| store_failure(&err))?;
                        untag(storage, name, &version).await
                    }
                    None => {
                        storage.delete_manifest(name, digest).await?;
                        Ok(())
                    }
                }
            }
            ManifestRef::Tag(tag) => {
                storage.delete_tag(name, tag).await?;
                match store.remove_tag(name, tag, now).await {
                    Ok(_) => Ok(()),
                    Err(err) if err.is_not_found() => Ok(()),
                    Err(err) => Err(store_failure(&err)),
                }
            }
        }
    }

    /// Whether `digest` is a deleted version of the package `name` (its
    /// manifest is kept for a restore, but not served).
    pub(crate) async fn is_deleted_version(
        &self,
        name: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool, ApiError> {
        let version = self
            .store()
            .version_by_digest(name, digest)
            .await
            .map_err(|err| store_failure(&err))?;
        Ok(version.is_some_and(|v| v.is_deleted()))
    }

    /// Every live version of package `name`, newest first.
    pub(crate) async fn active_versions(
        &self,
        name: &RepositoryName,
    ) -> Result<Vec<VersionRecord>, wharf_packages::Error> {
        let mut versions = Vec::new();
        let mut next = Some(wharf_packages::PageRequest::first(STORE_PAGE));
        while let Some(request) = next {
            let page = self
                .store()
                .list_versions(name, VersionQuery::active(), &request)
                .await?;
            versions.extend(page.items);
            next = next_page(page.next);
        }
        Ok(versions)
    }

    /// Deletes a version (REST API): the record, restorably, and its tags
    /// in storage.
    pub(crate) async fn delete_version(
        &self,
        storage: &Arc<dyn Storage>,
        name: &RepositoryName,
        id: VersionId,
    ) -> Result<VersionRecord, wharf_packages::Error> {
        let version = self.store().delete_version(name, id, self.now()).await?;
        if let Err(err) = untag(storage, name, &version).await {
            tracing::error!(package = %name, version = %id, error = %err, "removing a deleted version's tags from storage failed");
        }
        Ok(version)
    }

    /// Restores a version (REST API): the record, and its tags in storage.
    pub(crate) async fn restore_version(
        &self,
        storage: &Arc<dyn Storage>,
        name: &RepositoryName,
        id: VersionId,
    ) -> Result<VersionRecord, wharf_packages::Error> {
        let version = self.store().restore_version(name, id, self.now()).await?;
        retag(storage, name, &version).await;
        Ok(version)
    }
}

/// Removes a version's tags from storage (those still pointing at it).
async fn untag(
    storage: &Arc<dyn Storage>,
    name: &RepositoryName,
    version: &VersionRecord,
) -> Result<(), ApiError> {
    // A page at a time: the next page starts after the last tag seen, so
    // deleting the tags of this one moves nothing.
    let mut next = Some(PageRequest::first(100));
    while let Some(request) = next {
        let page = match storage.tags_of(name, &version.digest, &request).await {
            Ok(page) => page,
            Err(err) if err.is_not_found() => return Ok(()),
            Err(err) => return Err(err.into()),
        };
        for tag in &page.items {
            match storage.delete_tag(name, tag).await {
                Ok(_) => {}
                Err(err) if err.is_not_found() => {}
                Err(err) => return Err(err.into()),
            }
        }
        next = page.next_request(&request, Tag::as_str);
    }
    Ok(())
}

/// Points a restored version's tags at it again in storage.
pub(crate) async fn retag(
    storage: &Arc<dyn Storage>,
    name: &RepositoryName,
    version: &VersionRecord,
) {
    for tag in &version.tags {
        if let Err(err) = storage.set_tag(name, tag, &version.digest).await {
            tracing::error!(package = %name, tag = %tag, error = %err, "restoring a tag failed");
        }
    }
}
