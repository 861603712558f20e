//! Applying retention policies: the versions a package's policy (its own,
//! or its organization's default) deletes now, and deleting them as a
//! user's delete would, restorably.
//!
//! What a policy deletes is decided by
//! [`RetentionPolicy::select`](wharf_packages::RetentionPolicy::select)
//! (see [`wharf_packages::RetentionPolicy`] for the rules and how they
//! combine) over the package's live versions, with the child manifests of
//! its indexes read from storage so that a kept index keeps its platforms.
//!
//! A run goes package by package, each under the package's name lock (as
//! a package delete is), so that no push through this process lands
//! between the decision and the deletes; each version is read again just
//! before it is deleted and left alone if a push through another replica
//! changed its tags or deleted it since. A package is only ever touched
//! through its id: if the package listed was deleted and another of the
//! same name published since, the new one is not touched in this run.

use std::collections::HashMap;
use std::sync::Arc;

use wharf_manifest::Manifest;
use wharf_packages::{
    Account, PackageRecord, PageRequest, RetentionPolicy, VersionId, VersionRecord,
};
use wharf_reference::{Digest, RepositoryName};
use wharf_storage::Storage;

use crate::ghcr::accounts::Accounts;
use crate::ghcr::deleted_packages::PackageContentError;
use crate::ghcr::{next_page, STORE_PAGE};
use crate::Registry;

/// Where the policy in force for a package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicySource {
    /// The package's own.
    Package,
    /// Its organization's default.
    Organization,
}

impl PolicySource {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PolicySource::Package => "package",
            PolicySource::Organization => "organization",
        }
    }
}

/// One version a retention run deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetainedDeletion {
    /// The package.
    pub name: RepositoryName,
    /// The version.
    pub id: VersionId,
    /// Its manifest.
    pub digest: Digest,
}

/// What one run of [`Registry::apply_retention_policies`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetentionReport {
    /// Packages with a policy in force that were looked at.
    pub packages: usize,
    /// The versions deleted (restorably), package by package, newest
    /// first within a package.
    pub deleted: Vec<RetainedDeletion>,
    /// Versions the policy selected but left alone, because a push changed
    /// their tags (or something deleted them) after the decision.
    pub skipped: usize,
    /// Packages whose run failed (logged); the next run tries again.
    pub failed: usize,
}

impl RetentionReport {
    /// Whether nothing was deleted and nothing failed.
    pub fn is_empty(&self) -> bool {
        self.deleted.is_empty() && self.failed == 0
    }
}

impl Accounts {
    /// The retention policy in force for the live package `name` owned by
    /// `owner`: its own, else its organization's default.
    pub(crate) async fn effective_retention(
        &self,
        name: &RepositoryName,
        owner: &Account,
    ) -> Result<Option<(RetentionPolicy, PolicySource)>, wharf_packages::Error> {
        if let Some(own) = self.store().retention_policy(name).await? {
            return Ok(Some((own, PolicySource::Package)));
        }
        if !owner.is_organization() {
            return Ok(None);
        }
        Ok(self
            .store()
            .organization_retention_policy(&owner.login)
            .await?
            .map(|default| (default, PolicySource::Organization)))
    }

    /// The live versions of package `name` that `policy` deletes now,
    /// newest first: the dry run of a retention run.
    pub(crate) async fn retention_plan(
        &self,
        storage: &Arc<dyn Storage>,
        name: &RepositoryName,
        policy: &RetentionPolicy,
    ) -> Result<Vec<VersionRecord>, PackageContentError> {
        if policy.deletes_nothing() {
            return Ok(Vec::new());
        }
        let versions = self.active_versions(name).await?;
        let mut children = HashMap::new();
        for version in versions.iter().filter(|v| v.media_type.is_index()) {
            let stored = storage.get_manifest(name, &version.digest).await?;
            match Manifest::parse(stored.bytes, Some(stored.media_type.as_str())) {
                Ok(index) => {
                    let listed = index
                        .child_manifests()
                        .iter()
                        .map(|child| child.digest.clone())
                        .collect();
                    children.insert(version.digest.clone(), listed);
                }
                Err(err) => {
                    // Its children are unknown: deleting anything could
                    // break it.
                    tracing::warn!(package = %name, index = %version.digest, error = %err, "an index of the package does not parse; its retention policy is not applied");
                    return Ok(Vec::new());
                }
            }
        }
        let selected = policy.select(&versions, self.now(), &children);
        let mut by_id: HashMap<VersionId, VersionRecord> =
            versions.into_iter().map(|v| (v.id, v)).collect();
        Ok(selected
            .into_iter()
            .filter_map(|id| by_id.remove(&id))
            .collect())
    }
}

impl Registry {
    /// Applies every retention policy in force now (each package's own,
    /// or its organization's default): the versions each selects are
    /// deleted as a user's delete would (restorable within the restore
    /// window, their tags removed). Failures are logged and counted per
    /// package; the run goes on with the next. Nothing to do without
    /// [accounts](crate::RegistryBuilder::accounts).
    pub async fn apply_retention_policies(&self) -> Result<RetentionReport, wharf_packages::Error> {
        let mut report = RetentionReport::default();
        let Some(accounts) = self.accounts() else {
            return Ok(report);
        };
        let mut next = Some(PageRequest::first(STORE_PAGE));
        while let Some(request) = next {
            let page = accounts.store().retained_packages(&request).await?;
            for retained in &page.items {
                report.packages += 1;
                if let Err(err) = self
                    .apply_retention(accounts, retained.id, &retained.name, &mut report)
                    .await
                {
                    report.failed += 1;
                    tracing::warn!(package = %retained.name, error = %err, "applying the package's retention policy failed");
                }
            }
            next = next_page(page.next);
        }
        Ok(report)
    }

    /// Applies the policy in force for package `id`, named `name`, if it
    /// is still the live package of that name.
    async fn apply_retention(
        &self,
        accounts: &Accounts,
        id: wharf_packages::PackageId,
        name: &RepositoryName,
        report: &mut RetentionReport,
    ) -> Result<(), PackageContentError> {
        let _exclusive = self.name_locks().package_change(name).await;
        let store = accounts.store();
        let Some(package) = store.package(name).await? else {
            return Ok(());
        };
        if package.id != id {
            return Ok(());
        }
        let Some(owner) = store.account(&package_owner(&package)?).await? else {
            return Ok(());
        };
        let Some((policy, _)) = accounts.effective_retention(name, &owner).await? else {
            return Ok(());
        };
        let storage = self.storage();
        for planned in accounts.retention_plan(storage, name, &policy).await? {
            let current = store.version(name, planned.id).await?;
            let unchanged = current
                .as_ref()
                .is_some_and(|v| !v.is_deleted() && v.tags == planned.tags);
            if !unchanged {
                report.skipped += 1;
                continue;
            }
            accounts.delete_version(storage, name, planned.id).await?;
            tracing::info!(package = %name, version = %planned.id, digest = %planned.digest, "deleted by the package's retention policy (restorable)");
            report.deleted.push(RetainedDeletion {
                name: name.clone(),
                id: planned.id,
                digest: planned.digest,
            });
        }
        Ok(())
    }
}

/// The login owning a package's namespace.
fn package_owner(package: &PackageRecord) -> Result<wharf_auth::Login, wharf_packages::Error> {
    package
        .name()
        .namespace()
        .parse()
        .map_err(|e| wharf_packages::Error::corrupt("package owner", e))
}
