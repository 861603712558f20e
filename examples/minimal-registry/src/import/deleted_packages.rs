//! Deleted packages, brought over restorable: each is created on the
//! destination with its settings and versions, its archived content is put
//! under its name, and it is then deleted at the time it was deleted, its
//! content archived under the key of its new id, as deleting it there
//! would have. Restoring it on the destination brings back its versions,
//! manifests and tags as on the source.
//!
//! The store traits neither list a deleted package's versions nor read an
//! archive without restoring it (which would change the source), so the
//! source is read through [`SqlitePackageStore::package_versions`] and
//! [`FsStorage::archived_content`].
//!
//! Resumable: a package found deleted on the destination with the same
//! name and creation and deletion times is the copy; one found live with
//! that name and creation time is a copy an interrupted run did not finish.

use wharf_packages::prelude::*;
use wharf_packages::{PackageId, PackageQuery, PackageRecord, SqlitePackageStore};
use wharf_reference::RepositoryName;
use wharf_server::ghcr::package_archive_key;
use wharf_storage::prelude::*;
use wharf_storage::{ArchiveKey, FsStorage};

use super::accounts::accounts;
use super::content::{archive_keys, put_manifests};
use super::packages::{copy_version, set_up_package};
use super::{all_records, Summary};

/// The stores an import reads and writes.
pub(super) struct Stores<'a> {
    pub(super) source_storage: &'a FsStorage,
    pub(super) source_packages: &'a SqlitePackageStore,
    pub(super) target_storage: &'a dyn Storage,
    pub(super) target_packages: &'a dyn PackageStore,
}

/// What the destination already has of a deleted package.
enum Found {
    /// Nothing.
    Missing,
    /// A live package an interrupted run created.
    Unfinished,
    /// The deleted copy, by id.
    Deleted(PackageId),
}

impl Stores<'_> {
    /// Copies every deleted, not yet purged package of the source.
    pub(super) async fn copy_all(&self, summary: &mut Summary) -> Result<(), String> {
        let mut deleted = Vec::new();
        for account in accounts(self.source_packages).await? {
            let owner = &account.login;
            let listed = all_records(|request| async move {
                self.source_packages
                    .list_packages(owner, PackageQuery::deleted(), &request)
                    .await
            })
            .await
            .map_err(|err| format!("cannot list the deleted packages of {owner}: {err}"))?;
            deleted.extend(listed);
        }
        // Oldest deletion first: of several deleted packages of one name,
        // the destination then restores the last deleted, as the source
        // does.
        deleted.sort_by_key(|record| record.deleted_at);
        for record in &deleted {
            self.copy(record, summary).await.map_err(|err| {
                format!(
                    "deleted package {} (id {}): {err}",
                    record.name(),
                    record.id
                )
            })?;
        }
        Ok(())
    }

    async fn copy(&self, record: &PackageRecord, summary: &mut Summary) -> Result<(), String> {
        let name = record.name();
        let Some(deleted_at) = record.deleted_at else {
            return Ok(());
        };
        let (copy, placed) = match self.find_copy(record).await? {
            Found::Deleted(copy) => {
                summary.deleted_packages_present += 1;
                (copy, false)
            }
            // Missing, or created by a run that stopped: creating and
            // setting it up again changes nothing done already.
            Found::Missing | Found::Unfinished => {
                set_up_package(self.target_packages, record).await?;
                let versions = self
                    .source_packages
                    .package_versions(record.id)
                    .await
                    .map_err(|err| format!("cannot list its versions: {err}"))?;
                // Counted apart from the versions of live packages.
                let mut counted = Summary::default();
                for version in &versions {
                    copy_version(self.target_packages, name, version, &mut counted)
                        .await
                        .map_err(|err| format!("version {}: {err}", version.digest))?;
                }
                summary.deleted_package_versions += versions.len() as u64;
                // The name holds no content on the destination yet: live
                // content is copied after the deleted packages.
                self.put_content(record, name).await?;
                let copy = self
                    .target_packages
                    .delete_package(name, deleted_at)
                    .await
                    .map_err(|err| format!("cannot delete its copy: {err}"))?;
                summary.deleted_packages_copied += 1;
                (copy.id, true)
            }
        };
        let key = package_archive_key(copy);
        if self.target_has_archive(&key).await? {
            summary.archives_present += 1;
            return Ok(());
        }
        // A run stopped between deleting the copy and archiving its
        // content: the content may be only partly under the name.
        if !placed {
            self.put_content(record, name).await?;
        }
        self.target_storage
            .archive_repository(name, &key)
            .await
            .map_err(|err| format!("cannot archive its content: {err}"))?;
        summary.archives_copied += 1;
        Ok(())
    }

    /// What the destination has of the deleted package `record`.
    async fn find_copy(&self, record: &PackageRecord) -> Result<Found, String> {
        let name = record.name();
        let deleted = all_records(|request| async move {
            self.target_packages
                .list_packages(&record.owner, PackageQuery::deleted(), &request)
                .await
        })
        .await
        .map_err(|err| format!("cannot list the deleted packages of the destination: {err}"))?;
        if let Some(copy) = deleted.into_iter().find(|copy| {
            copy.name() == name
                && copy.created_at == record.created_at
                && copy.deleted_at == record.deleted_at
        }) {
            return Ok(Found::Deleted(copy.id));
        }
        match self
            .target_packages
            .package(name)
            .await
            .map_err(|err| err.to_string())?
        {
            None => Ok(Found::Missing),
            Some(live) if live.created_at == record.created_at => Ok(Found::Unfinished),
            Some(_) => Err(
                "a live package has its name on the destination: import into a destination without it"
                    .to_owned(),
            ),
        }
    }

    /// Puts the content the source archived for `record` under `name` on
    /// the destination. A package deleted by a version that did not archive
    /// has none: its content stayed under its name and is copied with the
    /// live content.
    async fn put_content(
        &self,
        record: &PackageRecord,
        name: &RepositoryName,
    ) -> Result<(), String> {
        let content = match self
            .source_storage
            .archived_content(&package_archive_key(record.id))
            .await
        {
            Ok(content) => content,
            Err(wharf_storage::Error::ArchiveNotFound(_)) => return Ok(()),
            Err(err) => return Err(format!("cannot read its archived content: {err}")),
        };
        for digest in &content.links {
            self.target_storage
                .link_blob(name, digest)
                .await
                .map_err(|err| format!("cannot link blob {digest}: {err}"))?;
        }
        put_manifests(self.target_storage, name, &content.manifests).await?;
        for (tag, digest) in &content.tags {
            self.target_storage
                .set_tag(name, tag, digest)
                .await
                .map_err(|err| format!("cannot set tag {tag}: {err}"))?;
        }
        Ok(())
    }

    /// Whether the destination's storage has archive `key`.
    async fn target_has_archive(&self, key: &ArchiveKey) -> Result<bool, String> {
        let keys = archive_keys(self.target_storage)
            .await
            .map_err(|err| format!("cannot list the destination's archives: {err}"))?;
        Ok(keys.contains(key))
    }
}
