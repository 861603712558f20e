//! The store traits for [`SqlitePackageStore`]: each method runs one
//! function of the table modules on a connection of the pool.

use std::time::Duration;

use wharf_auth::{
    CodeRepository, Grantee, Login, Membership, OrgRole, OrganizationPolicy, OwnerKind, Package,
    RepositoryAccess, RepositoryRole, Role, StoredToken, TeamSlug, Timestamp, TokenHash,
};
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::access::{AccessContext, Collaborator};
use crate::account::{Account, Member, OrganizationMembership};
use crate::error::Error;
use crate::id::{PackageId, TokenId, VersionId};
use crate::package::{PackageChanges, PackageLookup, PackageQuery, PackageRecord};
use crate::page::{Page, PageRequest};
use crate::retention::{RetainedPackage, RetentionPolicy};
use crate::sqlite::{
    accounts, packages, purge, repositories, retention, tokens, versions, SqlitePackageStore,
};
use crate::store::{AccountStore, PackageRecords, PurgeReport, TokenStore};
use crate::stored::{store_methods, PolicyHolder, PurgeBounds};
use crate::token::{TokenRecord, WorkflowToken};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

/// An argument of a store method as a value the work on the blocking
/// pool can own: a reference's referent, an optional reference's value.
trait Detach {
    /// The owned value.
    type Owned: Send + 'static;

    /// Copies the value out.
    fn detach(self) -> Self::Owned;
}

impl<T: ToOwned + ?Sized> Detach for &T
where
    T::Owned: Send + 'static,
{
    type Owned = T::Owned;

    fn detach(self) -> T::Owned {
        self.to_owned()
    }
}

impl<T: Clone + Send + 'static> Detach for Option<&T> {
    type Owned = Option<T>;

    fn detach(self) -> Option<T> {
        self.cloned()
    }
}

/// Runs one method of a [`store_methods!`] table for
/// [`SqlitePackageStore`]: `body` on the blocking pool, `read` (on a
/// reader connection), `snapshot` (in a read transaction) or `write` (in a
/// write transaction). Every argument is copied to an owned value first
/// ([`Detach`]), so that `body` can run on another thread.
macro_rules! sqlite_call {
    ($store:expr, $run:ident, $name:ident($($arg:ident),*), |$conn:ident| $body:expr) => {{
        $(let $arg = $arg.detach();)*
        $store.$run(move |$conn| $body).await
    }};
}

store_methods! {
    sqlite_call for SqlitePackageStore;
    impl AccountStore {}
    write fn create_user(login: &Login, now: Timestamp) -> Account
        = |conn| accounts::create(conn, &login, OwnerKind::User, now);
    write fn create_organization(login: &Login, policy: OrganizationPolicy, now: Timestamp) -> Account
        = |conn| accounts::create(conn, &login, OwnerKind::Organization(policy), now);
    read fn account(login: &Login) -> Option<Account>
        = |conn| accounts::get(conn, login.as_str());
    write fn set_organization_policy(organization: &Login, policy: OrganizationPolicy) -> Account
        = |conn| accounts::set_policy(conn, &organization, policy);
    read fn list_accounts(page: &PageRequest) -> Page<Account>
        = |conn| accounts::list(conn, &page);
    write fn add_member(organization: &Login, user: &Login, role: OrgRole, now: Timestamp) -> Member
        = |conn| accounts::add_member(conn, &organization, &user, role, now);
    write fn remove_member(organization: &Login, user: &Login) -> ()
        = |conn| accounts::remove_member(conn, &organization, &user);
    snapshot fn membership(organization: &Login, user: &Login) -> Membership
        = |conn| accounts::membership(conn, &organization, &user);
    snapshot fn members(organization: &Login) -> Vec<Member>
        = |conn| accounts::members(conn, &organization);
    snapshot fn organizations_of(user: &Login) -> Vec<OrganizationMembership>
        = |conn| accounts::organizations_of(conn, &user);
    write fn create_team(organization: &Login, team: &TeamSlug, now: Timestamp) -> ()
        = |conn| accounts::create_team(conn, &organization, &team, now);
    write fn delete_team(organization: &Login, team: &TeamSlug) -> ()
        = |conn| accounts::delete_team(conn, &organization, &team);
    snapshot fn teams(organization: &Login) -> Vec<TeamSlug>
        = |conn| accounts::teams(conn, &organization);
    write fn add_team_member(organization: &Login, team: &TeamSlug, user: &Login) -> ()
        = |conn| accounts::add_team_member(conn, &organization, &team, &user);
    write fn remove_team_member(organization: &Login, team: &TeamSlug, user: &Login) -> ()
        = |conn| accounts::remove_team_member(conn, &organization, &team, &user);
}

store_methods! {
    sqlite_call for SqlitePackageStore;
    impl TokenStore {
        async fn record_token_use(&self, id: TokenId, now: Timestamp) -> Result<(), Error> {
            self.inner
                .token_uses
                .record(id, now, |used| {
                    self.write(move |conn| tokens::record_use(conn, id, used))
                })
                .await
        }
    }
    write fn insert_personal_token(token: &StoredToken, now: Timestamp) -> TokenRecord
        = |conn| tokens::insert_personal(conn, &token, now);
    write fn insert_workflow_token(token: &WorkflowToken, now: Timestamp) -> TokenRecord
        = |conn| tokens::insert_workflow(conn, &token, now);
    read fn find_token(hash: &TokenHash) -> Option<TokenRecord>
        = |conn| tokens::find(conn, &hash);
    read fn token(id: TokenId) -> Option<TokenRecord>
        = |conn| tokens::get(conn, id);
    snapshot fn personal_tokens(owner: &Login) -> Vec<TokenRecord>
        = |conn| tokens::personal(conn, &owner);
    read fn workflow_tokens(repository: &CodeRepository) -> Vec<TokenRecord>
        = |conn| tokens::workflow(conn, &repository);
    write fn revoke_token(id: TokenId, now: Timestamp) -> TokenRecord
        = |conn| tokens::revoke(conn, id, now);
}

store_methods! {
    sqlite_call for SqlitePackageStore;
    impl PackageRecords {
        async fn restore_package(&self, name: &RepositoryName, now: Timestamp) -> Result<PackageRecord, Error> {
            let (name, window) = (name.clone(), self.restore_window);
            self.write(move |conn| packages::restore(conn, &name, now, window)).await
        }

        async fn restore_version(
            &self,
            name: &RepositoryName,
            id: VersionId,
            now: Timestamp,
        ) -> Result<VersionRecord, Error> {
            let (name, window) = (name.clone(), self.restore_window);
            self.write(move |conn| versions::restore(conn, &name, id, now, window)).await
        }

        async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<PurgeReport, Error> {
            let bounds = PurgeBounds::new(now, self.restore_window, limit)?;
            self.write(move |conn| purge::purge_expired(conn, bounds)).await
        }

        fn restore_window(&self) -> Duration {
            self.restore_window
        }
    }
    write fn create_package(package: &Package, now: Timestamp) -> PackageRecord
        = |conn| packages::create(conn, &package, now);
    snapshot fn package(name: &RepositoryName) -> Option<PackageRecord>
        = |conn| packages::get_live(conn, &name);
    snapshot fn package_by_id(id: PackageId) -> Option<PackageRecord>
        = |conn| packages::get_by_id(conn, id);
    snapshot fn list_packages(owner: &Login, query: PackageQuery, page: &PageRequest) -> Page<PackageRecord>
        = |conn| packages::list(conn, &owner, query, &page);
    write fn update_package(name: &RepositoryName, changes: &PackageChanges, now: Timestamp) -> PackageRecord
        = |conn| packages::update(conn, &name, &changes, now);
    write fn set_grant(name: &RepositoryName, grantee: &Grantee, role: Role, now: Timestamp) -> PackageRecord
        = |conn| packages::set_grant(conn, &name, &grantee, role, now);
    write fn remove_grant(name: &RepositoryName, grantee: &Grantee, now: Timestamp) -> PackageRecord
        = |conn| packages::remove_grant(conn, &name, &grantee, now);
    write fn delete_package(name: &RepositoryName, now: Timestamp) -> PackageRecord
        = |conn| packages::delete(conn, &name, now);
    write fn record_version(name: &RepositoryName, version: &NewVersion, now: Timestamp) -> VersionRecord
        = |conn| versions::record(conn, &name, &version, now);
    snapshot fn version(name: &RepositoryName, id: VersionId) -> Option<VersionRecord>
        = |conn| versions::by_id(conn, &name, id);
    snapshot fn version_by_digest(name: &RepositoryName, digest: &Digest) -> Option<VersionRecord>
        = |conn| versions::by_digest(conn, &name, &digest);
    snapshot fn version_by_tag(name: &RepositoryName, tag: &Tag) -> Option<VersionRecord>
        = |conn| versions::by_tag(conn, &name, &tag);
    snapshot fn list_versions(name: &RepositoryName, query: VersionQuery, page: &PageRequest) -> Page<VersionRecord>
        = |conn| versions::list(conn, &name, query, &page);
    write fn remove_tag(name: &RepositoryName, tag: &Tag, now: Timestamp) -> VersionRecord
        = |conn| versions::remove_tag(conn, &name, &tag, now);
    write fn delete_version(name: &RepositoryName, id: VersionId, now: Timestamp) -> VersionRecord
        = |conn| versions::delete(conn, &name, id, now);
    snapshot fn retention_policy(name: &RepositoryName) -> Option<RetentionPolicy>
        = |conn| retention::policy(conn, PolicyHolder::Package(&name));
    write fn set_retention_policy(name: &RepositoryName, policy: Option<&RetentionPolicy>) -> ()
        = |conn| retention::set_policy(conn, PolicyHolder::Package(&name), policy.as_ref());
    snapshot fn organization_retention_policy(organization: &Login) -> Option<RetentionPolicy>
        = |conn| retention::policy(conn, PolicyHolder::Organization(&organization));
    write fn set_organization_retention_policy(organization: &Login, policy: Option<&RetentionPolicy>) -> ()
        = |conn| retention::set_policy(conn, PolicyHolder::Organization(&organization), policy.as_ref());
    snapshot fn retained_packages(page: &PageRequest) -> Page<RetainedPackage>
        = |conn| retention::retained(conn, &page);
    write fn set_collaborator(repository: &CodeRepository, collaborator: &Collaborator, role: RepositoryRole) -> ()
        = |conn| repositories::set(conn, &repository, &collaborator, role);
    write fn remove_collaborator(repository: &CodeRepository, collaborator: &Collaborator) -> ()
        = |conn| repositories::remove(conn, &repository, &collaborator);
    read fn repository_access(repository: &CodeRepository) -> RepositoryAccess
        = |conn| repositories::all(conn, &repository);
    snapshot fn access_context(name: &RepositoryName, caller: Option<&Login>, lookup: PackageLookup) -> AccessContext
        = |conn| repositories::access_context(conn, &name, caller.as_ref(), lookup);
}
