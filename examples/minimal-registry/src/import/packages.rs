//! Live packages: settings, grants, retention policy and versions (live and
//! deleted, restorable).

use wharf_auth::Login;
use wharf_packages::prelude::*;
use wharf_packages::{NewVersion, PackageChanges, PackageQuery, VersionQuery};
use wharf_reference::RepositoryName;

use super::accounts::accounts;
use super::{all_records, Summary};

pub(super) async fn copy_packages(
    source: &dyn PackageStore,
    target: &dyn PackageStore,
    summary: &mut Summary,
) -> Result<(), String> {
    let owners: Vec<Login> = accounts(source)
        .await?
        .into_iter()
        .map(|a| a.login)
        .collect();
    for owner in &owners {
        let packages = all_records(|request| async move {
            source
                .list_packages(owner, PackageQuery::active(), &request)
                .await
        })
        .await
        .map_err(|err| format!("cannot list the packages of {owner}: {err}"))?;
        for record in &packages {
            copy_package(source, target, record, summary)
                .await
                .map_err(|err| format!("package {}: {err}", record.package.name))?;
        }
    }
    Ok(())
}

pub(super) async fn copy_package(
    source: &dyn PackageStore,
    target: &dyn PackageStore,
    record: &wharf_packages::PackageRecord,
    summary: &mut Summary,
) -> Result<(), String> {
    let name = &record.package.name;
    if set_up_package(target, record).await? {
        summary.packages_created += 1;
    } else {
        summary.packages_present += 1;
    }
    // Its retention policy, if it has one of its own.
    if let Some(policy) = source
        .retention_policy(name)
        .await
        .map_err(|err| format!("cannot read its retention policy: {err}"))?
    {
        target
            .set_retention_policy(name, Some(&policy))
            .await
            .map_err(|err| format!("cannot copy its retention policy: {err}"))?;
    }
    // Live and deleted (restorable) versions. A tag is on one version at
    // most, so the order does not change where the tags end.
    let mut versions = Vec::new();
    for query in [VersionQuery::active(), VersionQuery::deleted()] {
        let listed =
            all_records(|request| async move { source.list_versions(name, query, &request).await })
                .await
                .map_err(|err| format!("cannot list its versions: {err}"))?;
        versions.extend(listed);
    }
    for version in &versions {
        copy_version(target, name, version, summary)
            .await
            .map_err(|err| format!("version {}: {err}", version.digest))?;
    }
    Ok(())
}

/// Creates the package of `record` in `target` unless it is there (live),
/// with its settings and grants; whether it created it.
pub(super) async fn set_up_package(
    target: &dyn PackageStore,
    record: &wharf_packages::PackageRecord,
) -> Result<bool, String> {
    let name = &record.package.name;
    let now = record.updated_at;
    let present = target
        .package(name)
        .await
        .map_err(|err| err.to_string())?
        .is_some();
    if !present {
        target
            .create_package(&record.package, record.created_at)
            .await
            .map_err(|err| format!("cannot create it: {err}"))?;
    }
    // An unlink is remembered (a push never links the package again), and
    // only an unlink records it: first at its time, then the link an
    // admin may have made since.
    if let Some(unlinked_at) = record.unlinked_at {
        target
            .update_package(name, &PackageChanges::new().unlink(), unlinked_at)
            .await
            .map_err(|err| format!("cannot copy when it was unlinked: {err}"))?;
    }
    let mut changes = PackageChanges::new()
        .visibility(record.package.visibility)
        .inherit_access(record.package.inherit_access)
        .metadata(record.metadata.clone());
    if let Some(repository) = &record.package.linked_repository {
        changes.linked_repository = Some(Some(repository.clone()));
    }
    target
        .update_package(name, &changes, now)
        .await
        .map_err(|err| format!("cannot copy its settings: {err}"))?;
    for grant in &record.package.grants {
        target
            .set_grant(name, &grant.grantee, grant.role, now)
            .await
            .map_err(|err| format!("cannot copy a grant: {err}"))?;
    }
    Ok(!present)
}

/// Records `version` in the package `name` of `target`; a deleted version
/// is then deleted there at the time it was deleted, so that it stays
/// restorable as long as it was.
pub(super) async fn copy_version(
    target: &dyn PackageStore,
    name: &RepositoryName,
    version: &wharf_packages::VersionRecord,
    summary: &mut Summary,
) -> Result<(), String> {
    if version.is_deleted() {
        let present = target
            .version_by_digest(name, &version.digest)
            .await
            .map_err(|err| err.to_string())?;
        // Recording it again would make it live.
        if present.is_some_and(|present| present.is_deleted()) {
            summary.deleted_versions_present += 1;
            return Ok(());
        }
    }
    let mut new = NewVersion::new(
        version.digest.clone(),
        version.media_type.clone(),
        version.size,
    );
    new.tags = version.tags.clone();
    new.platforms = version.platforms.clone();
    let copied = target
        .record_version(name, &new, version.created_at)
        .await
        .map_err(|err| format!("cannot copy it: {err}"))?;
    match version.deleted_at {
        None => summary.versions += 1,
        Some(deleted_at) => {
            target
                .delete_version(name, copied.id, deleted_at)
                .await
                .map_err(|err| format!("cannot delete its copy: {err}"))?;
            summary.deleted_versions_copied += 1;
        }
    }
    Ok(())
}
