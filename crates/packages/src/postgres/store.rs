//! The store traits for [`PgPackageStore`]: each method runs one function
//! of the table modules as a single statement (`read`), in a read-only
//! snapshot (`snapshot`) or in a serializable transaction (`write`).

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
use crate::postgres::connections::in_transaction;
use crate::postgres::convert::Context;
use crate::postgres::{
    accounts, packages, purge, repositories, retention, tokens, versions, PgPackageStore,
};
use crate::retention::{RetainedPackage, RetentionPolicy};
use crate::store::{AccountStore, PackageRecords, PurgeReport, TokenStore};
use crate::stored::{store_methods, PolicyHolder, PurgeBounds};
use crate::token::{TokenRecord, WorkflowToken};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

/// Runs `$body` with `$c` a client for `$run`: `read` (a pooled connection,
/// one statement), `snapshot` or `write` (a transaction).
macro_rules! run {
    ($store:expr, read, $operation:expr, |$c:ident| $body:expr) => {{
        let store = $store;
        store
            .bounded($operation, async {
                let client = store.client().await?;
                let $c = &client;
                $body.await
            })
            .await
    }};
    ($store:expr, $run:ident, $operation:expr, |$c:ident| $body:expr) => {
        in_transaction!($store, $run, $operation, |tx| {
            let $c = &tx;
            $body
        })
    };
}

/// Runs one method of a [`store_methods!`] table for [`PgPackageStore`],
/// as [`run!`] says.
macro_rules! pg_call {
    ($store:expr, $run:ident, $name:ident($($arg:ident),*), |$c:ident| $body:expr) => {
        run!($store, $run, concat!("running ", stringify!($name)), |$c| {
            $body
        })
    };
}

store_methods! {
    pg_call for PgPackageStore;
    impl AccountStore {}
    write fn create_user(login: &Login, now: Timestamp) -> Account
        = |c| accounts::create(c, login, OwnerKind::User, now);
    write fn create_organization(login: &Login, policy: OrganizationPolicy, now: Timestamp) -> Account
        = |c| accounts::create(c, login, OwnerKind::Organization(policy), now);
    read fn account(login: &Login) -> Option<Account>
        = |c| accounts::get(c, login.as_str());
    write fn set_organization_policy(organization: &Login, policy: OrganizationPolicy) -> Account
        = |c| accounts::set_policy(c, organization, policy);
    read fn list_accounts(page: &PageRequest) -> Page<Account>
        = |c| accounts::list(c, page);
    write fn add_member(organization: &Login, user: &Login, role: OrgRole, now: Timestamp) -> Member
        = |c| accounts::add_member(c, organization, user, role, now);
    write fn remove_member(organization: &Login, user: &Login) -> ()
        = |c| accounts::remove_member(c, organization, user);
    snapshot fn membership(organization: &Login, user: &Login) -> Membership
        = |c| accounts::membership(c, organization, user);
    snapshot fn members(organization: &Login) -> Vec<Member>
        = |c| accounts::members(c, organization);
    snapshot fn organizations_of(user: &Login) -> Vec<OrganizationMembership>
        = |c| accounts::organizations_of(c, user);
    write fn create_team(organization: &Login, team: &TeamSlug, now: Timestamp) -> ()
        = |c| accounts::create_team(c, organization, team, now);
    write fn delete_team(organization: &Login, team: &TeamSlug) -> ()
        = |c| accounts::delete_team(c, organization, team);
    snapshot fn teams(organization: &Login) -> Vec<TeamSlug>
        = |c| accounts::teams(c, organization);
    write fn add_team_member(organization: &Login, team: &TeamSlug, user: &Login) -> ()
        = |c| accounts::add_team_member(c, organization, team, user);
    write fn remove_team_member(organization: &Login, team: &TeamSlug, user: &Login) -> ()
        = |c| accounts::remove_team_member(c, organization, team, user);
}

store_methods! {
    pg_call for PgPackageStore;
    impl TokenStore {
        async fn record_token_use(&self, id: TokenId, now: Timestamp) -> Result<(), Error> {
            // One conditional UPDATE, outside an explicit transaction: a
            // concurrent revocation waits for its row lock or it for the
            // revocation's, and neither loses the other's column.
            self.token_uses
                .record(id, now, |used| async move {
                    run!(self, read, "running record_token_use", |c| {
                        tokens::record_use(c, id, used)
                    })
                })
                .await
        }
    }
    write fn insert_personal_token(token: &StoredToken, now: Timestamp) -> TokenRecord
        = |c| tokens::insert_personal(c, token, now);
    write fn insert_workflow_token(token: &WorkflowToken, now: Timestamp) -> TokenRecord
        = |c| tokens::insert_workflow(c, token, now);
    read fn find_token(hash: &TokenHash) -> Option<TokenRecord>
        = |c| tokens::find(c, hash);
    read fn token(id: TokenId) -> Option<TokenRecord>
        = |c| tokens::get(c, id);
    snapshot fn personal_tokens(owner: &Login) -> Vec<TokenRecord>
        = |c| tokens::personal(c, owner);
    read fn workflow_tokens(repository: &CodeRepository) -> Vec<TokenRecord>
        = |c| tokens::workflow(c, repository);
    write fn revoke_token(id: TokenId, now: Timestamp) -> TokenRecord
        = |c| tokens::revoke(c, id, now);
}

store_methods! {
    pg_call for PgPackageStore;
    impl PackageRecords {
        async fn restore_package(&self, name: &RepositoryName, now: Timestamp) -> Result<PackageRecord, Error> {
            let window = self.options.restore_window;
            run!(self, write, "running restore_package", |c| {
                packages::restore(c, name, now, window)
            })
        }

        async fn restore_version(
            &self,
            name: &RepositoryName,
            id: VersionId,
            now: Timestamp,
        ) -> Result<VersionRecord, Error> {
            let window = self.options.restore_window;
            run!(self, write, "running restore_version", |c| {
                versions::restore(c, name, id, now, window)
            })
        }

        async fn purge_expired(&self, now: Timestamp, limit: usize) -> Result<PurgeReport, Error> {
            let bounds = PurgeBounds::new(now, self.options.restore_window, limit)?;
            run!(self, write, "running purge_expired", |c| {
                purge::purge_expired(c, bounds)
            })
        }

        fn restore_window(&self) -> Duration {
            self.options.restore_window
        }
    }
    write fn create_package(package: &Package, now: Timestamp) -> PackageRecord
        = |c| packages::create(c, package, now);
    read fn package(name: &RepositoryName) -> Option<PackageRecord>
        = |c| packages::get_live(c, name);
    read fn package_by_id(id: PackageId) -> Option<PackageRecord>
        = |c| packages::get_by_id(c, id);
    snapshot fn list_packages(owner: &Login, query: PackageQuery, page: &PageRequest) -> Page<PackageRecord>
        = |c| packages::list(c, owner, query, page);
    write fn update_package(name: &RepositoryName, changes: &PackageChanges, now: Timestamp) -> PackageRecord
        = |c| packages::update(c, name, changes, now);
    write fn set_grant(name: &RepositoryName, grantee: &Grantee, role: Role, now: Timestamp) -> PackageRecord
        = |c| packages::set_grant(c, name, grantee, role, now);
    write fn remove_grant(name: &RepositoryName, grantee: &Grantee, now: Timestamp) -> PackageRecord
        = |c| packages::remove_grant(c, name, grantee, now);
    write fn delete_package(name: &RepositoryName, now: Timestamp) -> PackageRecord
        = |c| packages::delete(c, name, now);
    write fn record_version(name: &RepositoryName, version: &NewVersion, now: Timestamp) -> VersionRecord
        = |c| versions::record(c, name, version, now);
    snapshot fn version(name: &RepositoryName, id: VersionId) -> Option<VersionRecord>
        = |c| versions::by_id(c, name, id);
    snapshot fn version_by_digest(name: &RepositoryName, digest: &Digest) -> Option<VersionRecord>
        = |c| versions::by_digest(c, name, digest);
    read fn version_by_tag(name: &RepositoryName, tag: &Tag) -> Option<VersionRecord>
        = |c| versions::by_tag(c, name, tag);
    snapshot fn list_versions(name: &RepositoryName, query: VersionQuery, page: &PageRequest) -> Page<VersionRecord>
        = |c| versions::list(c, name, query, page);
    write fn remove_tag(name: &RepositoryName, tag: &Tag, now: Timestamp) -> VersionRecord
        = |c| versions::remove_tag(c, name, tag, now);
    write fn delete_version(name: &RepositoryName, id: VersionId, now: Timestamp) -> VersionRecord
        = |c| versions::delete(c, name, id, now);
    read fn retention_policy(name: &RepositoryName) -> Option<RetentionPolicy>
        = |c| retention::policy(c, PolicyHolder::Package(name));
    write fn set_retention_policy(name: &RepositoryName, policy: Option<&RetentionPolicy>) -> ()
        = |c| retention::set_policy(c, PolicyHolder::Package(name), policy);
    read fn organization_retention_policy(organization: &Login) -> Option<RetentionPolicy>
        = |c| retention::policy(c, PolicyHolder::Organization(organization));
    write fn set_organization_retention_policy(organization: &Login, policy: Option<&RetentionPolicy>) -> ()
        = |c| retention::set_policy(c, PolicyHolder::Organization(organization), policy);
    read fn retained_packages(page: &PageRequest) -> Page<RetainedPackage>
        = |c| retention::retained(c, page);
    write fn set_collaborator(repository: &CodeRepository, collaborator: &Collaborator, role: RepositoryRole) -> ()
        = |c| repositories::set(c, repository, collaborator, role);
    write fn remove_collaborator(repository: &CodeRepository, collaborator: &Collaborator) -> ()
        = |c| repositories::remove(c, repository, collaborator);
    read fn repository_access(repository: &CodeRepository) -> RepositoryAccess
        = |c| repositories::all(c, repository);
    snapshot fn access_context(name: &RepositoryName, caller: Option<&Login>, lookup: PackageLookup) -> AccessContext
        = |c| repositories::access_context(c, name, caller, lookup);
}
