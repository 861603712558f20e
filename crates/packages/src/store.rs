//! The [`PackageStore`] trait: everything the registry keeps about
//! accounts, tokens, packages and versions.

use std::time::Duration;

use async_trait::async_trait;
use wharf_auth::{
    Grantee, Login, Membership, OrgRole, OrganizationPolicy, OwnerKind, Package, RepositoryAccess,
    RepositoryRole, Role, SourceRepository, StoredToken, TeamSlug, Timestamp, TokenHash,
};
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::access::{AccessContext, Collaborator};
use crate::account::{Account, Member, OrganizationMembership};
use crate::error::Error;
use crate::id::{PackageId, TokenId, VersionId};
use crate::package::{PackageChanges, PackageLookup, PackageQuery, PackageRecord};
use crate::page::{Page, PageRequest};
use crate::token::{TokenRecord, WorkflowToken};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

/// How precisely [`PackageStore::record_token_use`] keeps a token's
/// `last_used_at`: a use within this long of the recorded one is not
/// written, so authenticating a request does not cost a write.
pub const LAST_USED_GRANULARITY: Duration = Duration::from_secs(5 * 60);

/// What [`PackageStore::purge_expired`] removed.
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// starts from `PurgeReport::default()` and fills the lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct PurgeReport {
    /// Deleted packages removed for good, with all their versions.
    pub packages: Vec<PurgedPackage>,
    /// Versions removed for good: deleted versions, and the versions of
    /// the purged packages.
    pub versions: Vec<PurgedVersion>,
    /// Manifests that no remaining record references under their
    /// repository name: what the registry may now remove from its
    /// content storage. A digest still held by another package of the same
    /// name (one published after the purged one was deleted) is not listed.
    pub unreferenced: Vec<(RepositoryName, Digest)>,
}

impl PurgeReport {
    /// Whether nothing was purged.
    pub fn is_empty(&self) -> bool {
        self.packages.is_empty() && self.versions.is_empty()
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
}

impl PurgedVersion {
    /// Version `id` (manifest `digest`) of package `package_id`, named
    /// `name`.
    pub fn new(package_id: PackageId, name: RepositoryName, id: VersionId, digest: Digest) -> Self {
        PurgedVersion {
            package_id,
            name,
            id,
            digest,
        }
    }
}

/// The registry's persistent records: accounts (users and organizations),
/// organization members and teams, personal access and workflow tokens,
/// packages with their settings and metadata, package versions with their
/// tags, and the collaborators of source repositories.
///
/// # Conventions
///
/// - **Time is passed in.** Every change takes `now`; the store reads no
///   clock, so tests can move time (deleted records are restorable for
///   [`RESTORE_WINDOW`](crate::RESTORE_WINDOW), then purged).
/// - **Names are parsed.** Methods take [`Login`], [`RepositoryName`],
///   [`Tag`], [`Digest`]: never unchecked strings.
/// - **Packages by name are live packages.** A name addresses the live
///   (not deleted) package of that name; a deleted package is addressed by
///   [`restore_package`](Self::restore_package), by id, or in a
///   [`PackageQuery::deleted`] listing. Version methods act on versions of
///   the live package.
/// - **Errors** are [`Error::NotFound`] (the named account, package,
///   version, tag or token does not exist), [`Error::AlreadyExists`],
///   [`Error::Conflict`] (with a reason), and the store's own failures.
///   Lookups answer `Ok(None)` rather than `NotFound`.
/// - **Every change is atomic**: it happens whole or not at all.
///
/// The trait is object safe (`Arc<dyn PackageStore>`); implementations
/// check their behaviour with the [`testkit`](crate#testkit) suite.
#[async_trait]
pub trait PackageStore: Send + Sync {
    // ------------------------------------------------------------ accounts

    /// Creates a user. [`Error::AlreadyExists`] when the login is taken by
    /// a user or an organization.
    async fn create_user(&self, login: &Login, now: Timestamp) -> Result<Account, Error>;

    /// Creates an organization with `policy`. [`Error::AlreadyExists`] when
    /// the login is taken.
    async fn create_organization(
        &self,
        login: &Login,
        policy: OrganizationPolicy,
        now: Timestamp,
    ) -> Result<Account, Error>;

    /// The account with this login.
    async fn account(&self, login: &Login) -> Result<Option<Account>, Error>;

    /// The kind of account with this login: whether a namespace exists and
    /// who owns it.
    async fn owner_kind(&self, login: &Login) -> Result<Option<OwnerKind>, Error> {
        Ok(self.account(login).await?.map(|account| account.kind))
    }

    /// Changes an organization's package policy.
    async fn set_organization_policy(
        &self,
        organization: &Login,
        policy: OrganizationPolicy,
    ) -> Result<Account, Error>;

    /// Accounts in login order.
    async fn list_accounts(&self, page: &PageRequest) -> Result<Page<Account>, Error>;

    // ------------------------------------------------- members and teams

    /// Makes `user` a member of `organization` with `role`, or changes the
    /// role of a member (keeping their teams).
    async fn add_member(
        &self,
        organization: &Login,
        user: &Login,
        role: OrgRole,
        now: Timestamp,
    ) -> Result<Member, Error>;

    /// Removes `user` from `organization` and from all its teams.
    /// [`Error::NotFound`] when they were not a member.
    async fn remove_member(&self, organization: &Login, user: &Login) -> Result<(), Error>;

    /// `user`'s membership in `organization`: role and teams, or
    /// [`Membership::none`] for a non-member (or an account that is not an
    /// organization).
    async fn membership(&self, organization: &Login, user: &Login) -> Result<Membership, Error>;

    /// The members of `organization`, in login order.
    async fn members(&self, organization: &Login) -> Result<Vec<Member>, Error>;

    /// The organizations `user` belongs to, in login order.
    async fn organizations_of(&self, user: &Login) -> Result<Vec<OrganizationMembership>, Error>;

    /// Creates a team in `organization`.
    async fn create_team(
        &self,
        organization: &Login,
        team: &TeamSlug,
        now: Timestamp,
    ) -> Result<(), Error>;

    /// Deletes a team (its members stay in the organization).
    async fn delete_team(&self, organization: &Login, team: &TeamSlug) -> Result<(), Error>;

    /// The teams of `organization`, in slug order.
    async fn teams(&self, organization: &Login) -> Result<Vec<TeamSlug>, Error>;

    /// Adds a member of `organization` to one of its teams.
    /// [`Error::Conflict`] when `user` is not a member of the organization.
    async fn add_team_member(
        &self,
        organization: &Login,
        team: &TeamSlug,
        user: &Login,
    ) -> Result<(), Error>;

    /// Removes `user` from a team.
    async fn remove_team_member(
        &self,
        organization: &Login,
        team: &TeamSlug,
        user: &Login,
    ) -> Result<(), Error>;

    // -------------------------------------------------------------- tokens

    /// Stores a personal access token (only its hash is in it). The owner
    /// must be a user; [`Error::AlreadyExists`] if the hash is stored.
    async fn insert_personal_token(
        &self,
        token: &StoredToken,
        now: Timestamp,
    ) -> Result<TokenRecord, Error>;

    /// Stores a workflow token for a repository.
    async fn insert_workflow_token(
        &self,
        token: &WorkflowToken,
        now: Timestamp,
    ) -> Result<TokenRecord, Error>;

    /// The token with this hash, of either kind, revoked and expired ones
    /// included (check with [`TokenRecord::authenticate`]). Hash whatever
    /// was presented ([`TokenHash::of`]) and look that up, so nothing
    /// depends on whether it was well formed. The hot path of every
    /// authenticated request.
    async fn find_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, Error>;

    /// The token with this id.
    async fn token(&self, id: TokenId) -> Result<Option<TokenRecord>, Error>;

    /// A user's personal access tokens, oldest first, revoked ones
    /// included.
    async fn personal_tokens(&self, owner: &Login) -> Result<Vec<TokenRecord>, Error>;

    /// A repository's workflow tokens, oldest first, revoked ones included.
    async fn workflow_tokens(
        &self,
        repository: &SourceRepository,
    ) -> Result<Vec<TokenRecord>, Error>;

    /// Revokes a token. Revoking a revoked token keeps its first
    /// revocation time.
    async fn revoke_token(&self, id: TokenId, now: Timestamp) -> Result<TokenRecord, Error>;

    /// Notes that a token authenticated a request at `now`, to within
    /// [`LAST_USED_GRANULARITY`] (most calls write nothing).
    async fn record_token_use(&self, id: TokenId, now: Timestamp) -> Result<(), Error>;

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
    /// kept for [`RESTORE_WINDOW`](crate::RESTORE_WINDOW). The name is
    /// free for a new package at once.
    async fn delete_package(
        &self,
        name: &RepositoryName,
        now: Timestamp,
    ) -> Result<PackageRecord, Error>;

    /// Restores the most recently deleted package of this name, with the
    /// versions it had. [`Error::Conflict`] when a live package has taken
    /// the name; [`Error::RestoreWindowPassed`] when it was deleted
    /// [`RESTORE_WINDOW`](crate::RESTORE_WINDOW) or longer ago.
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
    /// [`RESTORE_WINDOW`](crate::RESTORE_WINDOW) or longer ago.
    async fn restore_version(
        &self,
        name: &RepositoryName,
        id: VersionId,
        now: Timestamp,
    ) -> Result<VersionRecord, Error>;

    /// Removes for good every package and version deleted
    /// [`RESTORE_WINDOW`](crate::RESTORE_WINDOW) or longer before `now`.
    async fn purge_expired(&self, now: Timestamp) -> Result<PurgeReport, Error>;

    // ------------------------------------------------ source repositories

    /// Gives `collaborator` `role` on a source repository (for packages
    /// that inherit access from it), replacing any role it had.
    async fn set_collaborator(
        &self,
        repository: &SourceRepository,
        collaborator: &Collaborator,
        role: RepositoryRole,
    ) -> Result<(), Error>;

    /// Removes a collaborator. [`Error::NotFound`] when it was none.
    async fn remove_collaborator(
        &self,
        repository: &SourceRepository,
        collaborator: &Collaborator,
    ) -> Result<(), Error>;

    /// Every collaborator of a source repository.
    async fn repository_access(
        &self,
        repository: &SourceRepository,
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
