//! What happens to a package's content when the package is deleted,
//! restored or purged: nothing of a deleted package is reachable through a
//! new package of the same name.
//!
//! Deleting a package archives its repository (blob links, manifests,
//! tags, referrers) under a key derived from the package's id, so the
//! name starts empty for whoever publishes it next: a pull, a pull by
//! digest, a referrers listing or a mount through the new package finds
//! nothing of the old one. Restoring follows GitHub's rule: only while no
//! live package has the name (409 otherwise); the archive is then put back
//! whole. Blob links left under the free name without a package (an
//! upload whose manifest never came) are dropped first, never merged into
//! the restored package. The purge deletes the archive with the record.
//!
//! The package store and storage are changed one after the other, so a
//! crash between the two leaves them disagreeing;
//! [`Accounts::reconcile_archives`] repairs that at startup.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use wharf_packages::{PackageId, PackageQuery, PackageRecord, PageRequest, PurgeReport};
use wharf_reference::RepositoryName;
use wharf_storage::{ArchiveKey, Storage};

use crate::ghcr::accounts::Accounts;
use crate::ghcr::records::retag;
use crate::ghcr::{next_page, STORE_PAGE};

/// The prefix of the archive key of a deleted package.
const PACKAGE_PREFIX: &str = "package-";
/// The prefix of the archive key under which content left under a free
/// name is set aside, just before it is dropped.
const STRAY_PREFIX: &str = "stray-";

/// The most packages and versions one call of the store's purge removes.
const PURGE_BATCH: usize = 500;

/// Why deleting, restoring, purging or reconciling a package's content
/// failed: the package records refused or failed, or the storage failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackageContentError {
    /// The package store refused the change (not found, the name is taken,
    /// the restore window has passed) or failed.
    #[error(transparent)]
    Records(#[from] wharf_packages::Error),
    /// Storage failed to archive, restore or delete the content.
    #[error("package content: {0}")]
    Storage(#[from] wharf_storage::Error),
}

/// What [`Registry::reconcile_package_archives`](crate::Registry::reconcile_package_archives)
/// repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArchiveRepairs {
    /// Deleted packages whose content was still under their name, now
    /// archived.
    pub archived: Vec<RepositoryName>,
    /// Live (restored) packages whose content was still archived, now back.
    pub restored: Vec<RepositoryName>,
    /// Archives of purged packages, and stray content, now deleted.
    pub dropped: Vec<ArchiveKey>,
}

impl ArchiveRepairs {
    /// Whether nothing needed repair.
    pub fn is_empty(&self) -> bool {
        self.archived.is_empty() && self.restored.is_empty() && self.dropped.is_empty()
    }
}

fn key(prefix: &str, id: PackageId) -> ArchiveKey {
    format!("{prefix}{}", id.get().unsigned_abs())
        .parse()
        .expect("a lower-case prefix and a decimal number make a valid archive key")
}

/// The key of the storage archive that holds the content of deleted
/// package `id` until it is restored or purged. Public for tools that
/// bring a deleted package from another registry (`minimal-registry
/// import`): they archive its content under this key of the package's new
/// id, as deleting it here would have.
pub fn package_archive_key(id: PackageId) -> ArchiveKey {
    key(PACKAGE_PREFIX, id)
}

/// The package whose archive `key` is, for keys made by [`package_archive_key`].
fn package_of(key: &ArchiveKey) -> Option<PackageId> {
    let id: i64 = key.as_str().strip_prefix(PACKAGE_PREFIX)?.parse().ok()?;
    Some(PackageId::new(id))
}

/// Drops whatever content `name` holds (stray blob links of an upload
/// under a free name): archived under a key of `id`, then deleted.
async fn drop_stray_content(
    storage: &Arc<dyn Storage>,
    name: &RepositoryName,
    id: PackageId,
) -> Result<(), wharf_storage::Error> {
    let stray = key(STRAY_PREFIX, id);
    match storage.delete_archive(&stray).await {
        Ok(()) | Err(wharf_storage::Error::ArchiveNotFound(_)) => {}
        Err(err) => return Err(err),
    }
    storage.archive_repository(name, &stray).await?;
    storage.delete_archive(&stray).await
}

/// Whether a repository holds a blob link or a manifest.
async fn holds_content(
    storage: &Arc<dyn Storage>,
    name: &RepositoryName,
) -> Result<bool, wharf_storage::Error> {
    let one = wharf_storage::PageRequest::first(1);
    Ok(!storage.list_manifests(name, &one).await?.items.is_empty()
        || !storage.linked_blobs(name, &one).await?.items.is_empty())
}

/// Deletes from storage what one batch of a purge removed from the
/// records: the archives of its packages, and the manifests of its
/// versions of live packages that no record references any more. A
/// failure is logged and left for later: the next start deletes the
/// archives of purged packages.
async fn delete_purged_content(storage: &Arc<dyn Storage>, batch: &PurgeReport) {
    for package in &batch.packages {
        match storage
            .delete_archive(&package_archive_key(package.id))
            .await
        {
            Ok(()) | Err(wharf_storage::Error::ArchiveNotFound(_)) => {}
            Err(err) => {
                tracing::warn!(package = %package.name, error = %err, "deleting a purged package's archive failed; the next start retries")
            }
        }
    }
    // A purged package's manifests left with its archive; only the
    // deleted versions of live packages are still under their name.
    let purged: HashSet<PackageId> = batch.packages.iter().map(|p| p.id).collect();
    let live_versions: HashSet<_> = batch
        .versions
        .iter()
        .filter(|v| !v.package_expired && !purged.contains(&v.package_id))
        .map(|v| (&v.name, &v.digest))
        .collect();
    for (name, digest) in &batch.unreferenced {
        if !live_versions.contains(&(name, digest)) {
            continue;
        }
        match storage.delete_manifest(name, digest).await {
            Ok(_) => {}
            Err(err) if err.is_not_found() => {}
            Err(err) => {
                tracing::warn!(package = %name, digest = %digest, error = %err, "deleting a purged manifest failed")
            }
        }
    }
}

/// How much a purge removed in all, over its batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeTotals {
    /// Deleted packages removed for good, with their archives.
    pub packages: usize,
    /// Versions removed for good.
    pub versions: usize,
    /// Manifests that no remaining record references any more.
    pub manifests: usize,
}

impl PurgeTotals {
    /// Whether nothing was purged.
    pub fn is_empty(&self) -> bool {
        self.packages == 0 && self.versions == 0
    }

    fn add(&mut self, batch: &PurgeReport) {
        self.packages += batch.packages.len();
        self.versions += batch.versions.len();
        self.manifests += batch.unreferenced.len();
    }
}

impl Accounts {
    /// Deletes a package (REST API): the record, restorably, and its
    /// content into an archive. If the content cannot be archived, the
    /// record is put back (the name must not be free while the old content
    /// is under it) and the failure returned.
    pub(crate) async fn delete_package(
        &self,
        storage: &Arc<dyn Storage>,
        name: &RepositoryName,
    ) -> Result<(), PackageContentError> {
        let record = self.store().delete_package(name, self.now()).await?;
        let Err(err) = storage
            .archive_repository(name, &package_archive_key(record.id))
            .await
        else {
            return Ok(());
        };
        tracing::error!(package = %name, error = %err, "archiving a deleted package's content failed; restoring the package");
        if let Err(undo) = self.store().restore_package(name, self.now()).await {
            tracing::error!(package = %name, error = %undo, "restoring a package whose content could not be archived failed; the next start repairs it");
        }
        Err(err.into())
    }

    /// Restores the most recently deleted package of `name` (REST API):
    /// the record, refused while a live package has the name, then its
    /// archived content and its live versions' tags. If the content cannot
    /// be put back, the record is deleted again and the failure returned.
    pub(crate) async fn restore_package(
        &self,
        storage: &Arc<dyn Storage>,
        name: &RepositoryName,
    ) -> Result<(), PackageContentError> {
        let record = self.store().restore_package(name, self.now()).await?;
        if let Err(err) = self.restore_content(storage, &record).await {
            tracing::error!(package = %name, error = %err, "restoring a package's content failed; deleting the package again");
            if let Err(undo) = self.store().delete_package(name, self.now()).await {
                tracing::error!(package = %name, error = %undo, "deleting a package whose content could not be restored failed");
            }
            return Err(err);
        }
        Ok(())
    }

    /// Puts a restored package's archive back under its name, dropping
    /// stray content found there, and its live versions' tags.
    async fn restore_content(
        &self,
        storage: &Arc<dyn Storage>,
        record: &PackageRecord,
    ) -> Result<(), PackageContentError> {
        let name = record.name();
        let archive = package_archive_key(record.id);
        match storage.restore_repository(&archive, name).await {
            Ok(()) => {}
            Err(wharf_storage::Error::RepositoryNotEmpty(_)) => {
                drop_stray_content(storage, name, record.id).await?;
                storage.restore_repository(&archive, name).await?;
            }
            // Deleted before its content was archived (by an older
            // version): the content never left the name.
            Err(wharf_storage::Error::ArchiveNotFound(_)) => {
                tracing::warn!(package = %name, "a restored package had no archive; its content is what its name holds");
            }
            Err(err) => return Err(err.into()),
        }
        // Tags come back with the archive; packages deleted by an older
        // version had them removed, and the records have them.
        for version in &self.active_versions(name).await? {
            retag(storage, name, version).await;
        }
        Ok(())
    }

    /// Removes for good the packages and versions deleted more than 30
    /// days before now, a batch at a time: each batch the store purges
    /// has its content deleted from storage (the archives of its purged
    /// packages, and the manifests of its purged versions of live packages
    /// that no record references any more) and is handed to `each` before
    /// the next batch is asked for, so no more than one batch is held at a
    /// time and a crash leaves at most one batch's content behind. Of that,
    /// [`reconcile_archives`](Self::reconcile_archives) deletes the
    /// archives at the next start (their package records are gone); the
    /// manifests of the batch's purged versions of live packages it does
    /// not see, and they stay in storage, no longer hidden by a deleted
    /// version record. Returns how much went in all.
    pub(crate) async fn purge_expired(
        &self,
        storage: &Arc<dyn Storage>,
        mut each: impl FnMut(&PurgeReport) + Send,
    ) -> Result<PurgeTotals, wharf_packages::Error> {
        let now = self.now();
        let mut totals = PurgeTotals::default();
        loop {
            let batch = self.store().purge_expired(now, PURGE_BATCH).await?;
            delete_purged_content(storage, &batch).await;
            totals.add(&batch);
            each(&batch);
            if !batch.more {
                return Ok(totals);
            }
        }
    }

    /// Brings storage in line with the package records after a crash
    /// between the two (see the module docs): archives of purged packages
    /// and stray content are deleted; a live package whose content is
    /// still archived gets it back; the most recently deleted package of
    /// a free name whose content is still under the name gets it archived.
    /// Run it before serving.
    pub(crate) async fn reconcile_archives(
        &self,
        storage: &Arc<dyn Storage>,
    ) -> Result<ArchiveRepairs, PackageContentError> {
        let mut repairs = ArchiveRepairs::default();
        let mut archived = HashSet::new();
        // A page at a time: the next page starts after the last key seen,
        // so the archives deleted or restored on this one move nothing.
        let mut next = Some(wharf_storage::PageRequest::first(100));
        while let Some(request) = next {
            let page = storage.list_archives(&request).await?;
            next = page.next_request(&request, |archive| archive.key.as_str());
            for archive in page.items {
                let record = match package_of(&archive.key) {
                    Some(id) => self.store().package_by_id(id).await?,
                    None if archive.key.as_str().starts_with(STRAY_PREFIX) => None,
                    None => {
                        tracing::warn!(archive = %archive.key, "left alone: an archive this registry did not make");
                        continue;
                    }
                };
                match record {
                    None => {
                        storage.delete_archive(&archive.key).await?;
                        repairs.dropped.push(archive.key);
                    }
                    Some(record) if !record.is_deleted() => {
                        match storage
                            .restore_repository(&archive.key, record.name())
                            .await
                        {
                            Ok(()) => repairs.restored.push(record.name().clone()),
                            Err(err) => {
                                tracing::error!(package = %record.name(), error = %err, "a live package's content is archived and could not be restored");
                            }
                        }
                    }
                    Some(record) => {
                        archived.insert(record.id);
                    }
                }
            }
        }
        for record in self.latest_deleted_packages().await?.into_values() {
            let name = record.name();
            if archived.contains(&record.id)
                || self.store().package(name).await?.is_some()
                || !holds_content(storage, name).await?
            {
                continue;
            }
            storage
                .archive_repository(name, &package_archive_key(record.id))
                .await?;
            repairs.archived.push(name.clone());
        }
        Ok(repairs)
    }

    /// The most recently deleted package of each name, of every owner.
    async fn latest_deleted_packages(
        &self,
    ) -> Result<BTreeMap<RepositoryName, PackageRecord>, wharf_packages::Error> {
        let store = self.store();
        let mut latest: BTreeMap<RepositoryName, PackageRecord> = BTreeMap::new();
        let mut next_owners = Some(PageRequest::first(STORE_PAGE));
        while let Some(request) = next_owners {
            let owners = store.list_accounts(&request).await?;
            for owner in &owners.items {
                let mut next = Some(PageRequest::first(STORE_PAGE));
                while let Some(request) = next {
                    let deleted = store
                        .list_packages(&owner.login, PackageQuery::deleted(), &request)
                        .await?;
                    for record in deleted.items {
                        let newer = latest
                            .get(record.name())
                            .is_none_or(|known| known.deleted_at < record.deleted_at);
                        if newer {
                            latest.insert(record.name().clone(), record);
                        }
                    }
                    next = next_page(deleted.next);
                }
            }
            next_owners = next_page(owners.next);
        }
        Ok(latest)
    }
}
