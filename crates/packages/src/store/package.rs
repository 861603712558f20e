//! [`PackageRecords`]: packages, their versions and tags, grants, the
//! collaborators of source repositories, purging, and the authorization
//! context.

use std::time::Duration;

use async_trait::async_trait;
use wharf_auth::{
    CodeRepository, Grantee, Login, Package, RepositoryAccess, RepositoryRole, Role, Timestamp,
};
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::access::{AccessContext, Collaborator};
use crate::error::Error;
use crate::id::{PackageId, VersionId};
use crate::package::RESTORE_WINDOW;
use crate::package::{PackageChanges, PackageLookup, PackageQuery, PackageRecord};
use crate::page::{Page, PageRequest};
use crate::retention::{RetainedPackage, RetentionPolicy};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

/// What one call of [`PackageRecords::purge_expired`] removed: at most
/// its `limit` of packages and versions together, and whether more remain.
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// starts from `PurgeReport::default()` and fills the lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Deleted packages removed for good; their versions went before them,
    /// in this call or an earlier one.
    pub packages: Vec<PurgedPackage>,
    /// Versions removed for good: deleted versions, and the versions of
    /// expired packages.
    pub versions: Vec<PurgedVersion>,
    /// Manifests that no remaining record references under their
    /// repository name: what the registry may now remove from its
    /// content storage. A digest still held by another package of the same
    /// name (one published after the purged one was deleted) is not listed.
    pub unreferenced: Vec<(RepositoryName, Digest)>,
    /// Whether expired records remain that the call's `limit` left for
    /// another call.
    #[serde(default)]
    pub more: bool,
}

impl PurgeReport {
    /// Whether nothing was purged.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty() && self.versions.is_empty()
    }

    /// Adds what a `later` call purged to this report, and takes its
    /// [`more`](Self::more): the report of the calls together.
    pub fn merge(&mut self, later: PurgeReport) {
        self.packages.extend(later.packages);
        self.versions.extend(later.versions);
        self.unreferenced.extend(later.unreferenced);
        self.more = later.more;
    }
}

/// A package removed by a purge. Non-exhaustive so that fields can be
/// added in a minor release: a store builds it with [`PurgedPackage::new`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct PurgedPackage {
    /// Its id.
    pub id: PackageId,
    /// Its name.
    pub name: RepositoryName,
}

impl PurgedPackage {
    /// Package `id`, named `name`.
    pub fn new(id: PackageId, name: RepositoryName) -> Self {
        PurgedPackage { id, name }
    }
}

/// A version removed by a purge. Non-exhaustive so that fields can be
/// added in a minor release: a store builds it with [`PurgedVersion::new`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct PurgedVersion {
    /// Its package's id.
    pub package_id: PackageId,
    /// Its package's name.
    pub name: RepositoryName,
    /// Its id.
    pub id: VersionId,
    /// Its manifest digest.
    pub digest: Digest,
    /// Whether it went because its package expired (the package itself
    /// is purged in the same call or a later one), rather than as a
    /// version deleted on its own.
    #[serde(default)]
    pub package_expired: bool,
}

impl PurgedVersion {
    /// Version `id` (manifest `digest`) of package `package_id`, named
    /// `name`, deleted on its own.
    pub fn new(package_id: PackageId, name: RepositoryName, id: VersionId, digest: Digest) -> Self {
        PurgedVersion {
            package_id,
            name,
            id,
            digest,
            package_expired: false,
        }
    }

    /// The same version, purged because its package expired.
    #[must_use]
    pub fn of_expired_package(mut self) -> Self {
        self.package_expired = true;
        self
    }
}

/// The registry's packages: their settings, grants and metadata
/// ([`PackageRecord`]), their versions and tags ([`VersionRecord`]),
/// deletion, restoring and purging, the collaborators of the source
/// repositories packages inherit access from, and the
/// [`access_context`](Self::access_context) that authorizes a request.
///
/// One of the three parts of a [`PackageStore`](crate::PackageStore); the
/// [conventions](crate::PackageStore#conventions) of the whole apply.
/// Packages are owned by accounts (an [`AccountStore`](crate::AccountStore)
/// of the same store), which is why a backend implements the three parts
/// over one database. Object safe (`Arc<dyn PackageRecords>`).
#[async_trait]
pub trait PackageRecords: Send + Sync {
    // ------------------------------------------------------------ packages

    /// Creates a package on its first publish, with the settings of
    /// `package` (see [`Package::first_publish`]).
    /// [`Error::AlreadyExists`] when a live package has that name (when
    /// two first pushes race, one creates it and the other gets this:
    /// read the package with [`package`](Self::package) and go on);
    /// [`Error::NotFound`] when no account owns the namespace.
    async fn create_package(
        &self,
        package: &Package,
        now: Timestamp,
    ) -> Result<PackageRecord, Error>;

    /// The live package with this name. The hot path of every request.
    async fn package(&self, name: &RepositoryName) -> Result<Option<PackageRecord>, Error>;

    /// The package with this id, live or deleted.
    async fn package_by_id(&self, id: PackageId) -> Result<Option<PackageRecord>, Error>;

    /// An owner's packages, in name order.
    async fn list_packages(
        &self,
        owner: &Login,
        query: PackageQuery,
        page: &PageRequest,
    ) -> Result<Page<PackageRecord>, Error>;

    /// Changes settings and metadata of a live package in one step.
    async fn update_package(
        &self,
        name: &RepositoryName,
        changes: &PackageChanges,
        now: Timestamp,
    ) -> Result<PackageRecord, Error>;

    /// Gives `role` on a package to `grantee`, replacing any role it had.
    /// A user grantee must be a user; a team grantee must be a team of the
    /// organization that owns the package.
    async fn set_grant(
        &self,
        name: &RepositoryName,
        grantee: &Grantee,
        role: Role,
        now: Timestamp,
    ) -> Result<PackageRecord, Error>;

    /// Takes away the role `grantee` had on a package.
    /// [`Error::NotFound`] when it had none.
    async fn remove_grant(
        &self,
        name: &RepositoryName,
        grantee: &Grantee,
        now: Timestamp,
    ) -> Result<PackageRecord, Error>;

    /// Deletes a live package, restorably: its versions and settings are
    /// kept for the [restore window](Self::restore_window). The name is
    /// free for a new package at once.
    async fn delete_package(
        &self,
        name: &RepositoryName,
        now: Timestamp,
    ) -> Result<PackageRecord, Error>;

    /// Restores the most recently deleted package of this name, with the
    /// versions it had. [`Error::Conflict`] when a live package has taken
    /// the name; [`Error::RestoreWindowPassed`] when it was deleted
    /// the [restore window](Self::restore_window) or longer ago.
    async fn restore_package(
        &self,
        name: &RepositoryName,
        now: Timestamp,
    ) -> Result<PackageRecord, Error>;

    // ------------------------------------------------------------ versions

    /// Records a manifest push to a live package: creates the version for
    /// the digest, or updates it (media type, size, platforms, and
    /// `updated_at`; a deleted version is live again). The given tags are
    /// added to it and removed from whichever version had them.
    async fn record_version(
        &self,
        name: &RepositoryName,
        version: &NewVersion,
        now: Timestamp,
    ) -> Result<VersionRecord, Error>;

    /// A version of the live package, by id, live or deleted.
    async fn version(
        &self,
        name: &RepositoryName,
        id: VersionId,
    ) -> Result<Option<VersionRecord>, Error>;

    /// A version of the live package, by digest, live or deleted.
    async fn version_by_digest(
        &self,
        name: &RepositoryName,
        digest: &Digest,
    ) -> Result<Option<VersionRecord>, Error>;

    /// The live version a tag points at.
    async fn version_by_tag(
        &self,
        name: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<VersionRecord>, Error>;

    /// Versions of the live package, newest first.
    async fn list_versions(
        &self,
        name: &RepositoryName,
        query: VersionQuery,
        page: &PageRequest,
    ) -> Result<Page<VersionRecord>, Error>;

    /// Removes a tag from the version it points at, and gives that
    /// version. [`Error::NotFound`] when no version has the tag.
    async fn remove_tag(
        &self,
        name: &RepositoryName,
        tag: &Tag,
        now: Timestamp,
    ) -> Result<VersionRecord, Error>;

    /// Deletes a live version, restorably; it keeps its tags unless they
    /// move.
    async fn delete_version(
        &self,
        name: &RepositoryName,
        id: VersionId,
        now: Timestamp,
    ) -> Result<VersionRecord, Error>;

    /// Restores a deleted version. [`Error::Conflict`] when it is not
    /// deleted; [`Error::RestoreWindowPassed`] when it was deleted
    /// the [restore window](Self::restore_window) or longer ago.
    async fn restore_version(
        &self,
        name: &RepositoryName,
        id: VersionId,
        now: Timestamp,
    ) -> Result<VersionRecord, Error>;

    /// Removes for good packages and versions deleted
    /// the [restore window](Self::restore_window) or longer before `now`:
    /// at most `limit` of them together (at least one when any has
    /// expired; a `limit` of 0 counts as 1), a package only after all its
    /// versions. [`PurgeReport::more`] says whether expired records
    /// remain: call again, with the same `now`, until it is false. Each
    /// call is atomic.
    async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<PurgeReport, Error>;

    /// How long this store keeps deleted packages and versions
    /// restorable: [`restore_package`](Self::restore_package) and
    /// [`restore_version`](Self::restore_version) refuse after it, and
    /// [`purge_expired`](Self::purge_expired) removes what it has passed
    /// for. [`RESTORE_WINDOW`] (30 days) unless the store was given
    /// another; a wrapper answers its inner store's.
    fn restore_window(&self) -> Duration {
        RESTORE_WINDOW
    }

    // ----------------------------------------------------------- retention

    /// The live package's own [retention policy](crate::RetentionPolicy),
    /// if it has one (not its organization's default).
    /// [`Error::NotFound`] when no live package has the name.
    async fn retention_policy(
        &self,
        name: &RepositoryName,
    ) -> Result<Option<RetentionPolicy>, Error>;

    /// Sets (`Some`) or removes (`None`) the live package's own retention
    /// policy. A deleted package keeps its policy, restored with it; a new
    /// package of the same name starts without.
    /// [`Error::NotFound`] when no live package has the name.
    async fn set_retention_policy(
        &self,
        name: &RepositoryName,
        policy: Option<&RetentionPolicy>,
    ) -> Result<(), Error>;

    /// An organization's default retention policy, which its packages
    /// without one of their own follow. [`Error::NotFound`] when there is
    /// no such organization.
    async fn organization_retention_policy(
        &self,
        organization: &Login,
    ) -> Result<Option<RetentionPolicy>, Error>;

    /// Sets (`Some`) or removes (`None`) an organization's default
    /// retention policy. [`Error::NotFound`] when there is no such
    /// organization.
    async fn set_organization_retention_policy(
        &self,
        organization: &Login,
        policy: Option<&RetentionPolicy>,
    ) -> Result<(), Error>;

    /// The live packages with a retention policy in force (their own, or
    /// their organization's default), in id order, a page at a time.
    async fn retained_packages(&self, page: &PageRequest) -> Result<Page<RetainedPackage>, Error>;

    // ------------------------------------------------ source repositories

    /// Gives `collaborator` `role` on a source repository (for packages
    /// that inherit access from it), replacing any role it had.
    async fn set_collaborator(
        &self,
        repository: &CodeRepository,
        collaborator: &Collaborator,
        role: RepositoryRole,
    ) -> Result<(), Error>;

    /// Removes a collaborator. [`Error::NotFound`] when it was none.
    async fn remove_collaborator(
        &self,
        repository: &CodeRepository,
        collaborator: &Collaborator,
    ) -> Result<(), Error>;

    /// Every collaborator of a source repository.
    async fn repository_access(
        &self,
        repository: &CodeRepository,
    ) -> Result<RepositoryAccess, Error>;

    // ------------------------------------------------------- authorization

    /// Everything [`wharf_auth::authorize`] needs about `name` for `caller`
    /// (a user's login; `None` for anonymous callers and workflows), read
    /// in one consistent snapshot: the namespace's owner kind, the caller's
    /// membership, the package (live or latest deleted, per `lookup`) and
    /// the collaborators of its linked repository. The hot path of every
    /// request.
    async fn access_context(
        &self,
        name: &RepositoryName,
        caller: Option<&Login>,
        lookup: PackageLookup,
    ) -> Result<AccessContext, Error>;
}
