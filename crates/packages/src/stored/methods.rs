//! The store traits' methods that both SQL backends implement alike: one
//! table row per method, naming the function of the backend's own table
//! module (`accounts`, `tokens`, `packages`, `versions`, `retention`,
//! `repositories`) that answers it, and how it runs.

use std::borrow::Borrow;

/// `value` as an optional reference, whether the calling method borrows it
/// (PostgreSQL's) or owns a copy (SQLite's, which copy their arguments to
/// run them on another thread). Arguments passed by reference are written
/// `&name` in the tables for the same reason: a borrowed one then loses the
/// extra reference to deref coercion.
pub(crate) fn borrowed<T, B: Borrow<T>>(value: &Option<B>) -> Option<&T> {
    value.as_ref().map(Borrow::borrow)
}

/// Implements a store trait for `$store`: first the methods written out in
/// full, then one line per method, `RUN fn NAME(ARGS) -> T = |c| BODY;`,
/// which the backend's macro `$call` runs as its kind `RUN` says (with
/// `|c, window|`, `BODY` is also given the store's
/// [`restore_window`](crate::PackageRecords::restore_window)):
///
/// - `read`: one statement, outside a transaction;
/// - `lookup`: a read of one record that PostgreSQL answers outside a
///   transaction and SQLite (which reads a record's parts, a package and
///   its grants, with several statements) in a snapshot;
/// - `snapshot`: several statements in one consistent read;
/// - `write`: a change, in a write transaction.
macro_rules! store_methods {
    (
        $call:ident for $store:ty;
        impl $trait:ident { $($written:tt)* }
        $( $run:ident fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty
            = |$conn:ident $(, $window:ident)?| $body:expr; )*
    ) => {
        #[::async_trait::async_trait]
        impl $trait for $store {
            $($written)*

            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret, $crate::Error> {
                    $(let $window = self.restore_window();)?
                    $call!(self, $run, $name($($arg,)* $($window)?), |$conn| $body)
                }
            )*
        }
    };
}

/// Implements [`AccountStore`](crate::AccountStore),
/// [`TokenStore`](crate::TokenStore) and
/// [`PackageRecords`](crate::PackageRecords) for the SQL backend `$store`
/// with its `$call` (see [`store_methods!`]): the methods each backend
/// writes out in full (`tokens { ... }`, `packages { ... }`), and the
/// others from the one table below. Expanded in the backend's `store`
/// module, whose imports name its table modules and the traits' types.
macro_rules! sql_store_traits {
    (
        $call:ident for $store:ty;
        tokens { $($tokens:tt)* }
        packages { $($packages:tt)* }
    ) => {
        $crate::stored::store_methods! {
            $call for $store;
            impl AccountStore {}
            write fn create_user(login: &Login, now: Timestamp) -> Account
                = |c| accounts::create(c, &login, OwnerKind::User, now);
            write fn create_organization(login: &Login, policy: OrganizationPolicy, now: Timestamp) -> Account
                = |c| accounts::create(c, &login, OwnerKind::Organization(policy), now);
            read fn account(login: &Login) -> Option<Account>
                = |c| accounts::get(c, login.as_str());
            write fn set_organization_policy(organization: &Login, policy: OrganizationPolicy) -> Account
                = |c| accounts::set_policy(c, &organization, policy);
            read fn list_accounts(page: &PageRequest) -> Page<Account>
                = |c| accounts::list(c, &page);
            write fn add_member(organization: &Login, user: &Login, role: OrgRole, now: Timestamp) -> Member
                = |c| accounts::add_member(c, &organization, &user, role, now);
            write fn remove_member(organization: &Login, user: &Login) -> ()
                = |c| accounts::remove_member(c, &organization, &user);
            snapshot fn membership(organization: &Login, user: &Login) -> Membership
                = |c| accounts::membership(c, &organization, &user);
            snapshot fn members(organization: &Login) -> Vec<Member>
                = |c| accounts::members(c, &organization);
            snapshot fn organizations_of(user: &Login) -> Vec<OrganizationMembership>
                = |c| accounts::organizations_of(c, &user);
            write fn create_team(organization: &Login, team: &TeamSlug, now: Timestamp) -> ()
                = |c| accounts::create_team(c, &organization, &team, now);
            write fn delete_team(organization: &Login, team: &TeamSlug) -> ()
                = |c| accounts::delete_team(c, &organization, &team);
            snapshot fn teams(organization: &Login) -> Vec<TeamSlug>
                = |c| accounts::teams(c, &organization);
            write fn add_team_member(organization: &Login, team: &TeamSlug, user: &Login) -> ()
                = |c| accounts::add_team_member(c, &organization, &team, &user);
            write fn remove_team_member(organization: &Login, team: &TeamSlug, user: &Login) -> ()
                = |c| accounts::remove_team_member(c, &organization, &team, &user);
        }

        $crate::stored::store_methods! {
            $call for $store;
            impl TokenStore { $($tokens)* }
            write fn insert_personal_token(token: &StoredToken, now: Timestamp) -> TokenRecord
                = |c| tokens::insert_personal(c, &token, now);
            write fn insert_workflow_token(token: &WorkflowToken, now: Timestamp) -> TokenRecord
                = |c| tokens::insert_workflow(c, &token, now);
            read fn find_token(hash: &TokenHash) -> Option<TokenRecord>
                = |c| tokens::find(c, &hash);
            read fn token(id: TokenId) -> Option<TokenRecord>
                = |c| tokens::get(c, id);
            snapshot fn personal_tokens(owner: &Login) -> Vec<TokenRecord>
                = |c| tokens::personal(c, &owner);
            read fn workflow_tokens(repository: &CodeRepository) -> Vec<TokenRecord>
                = |c| tokens::workflow(c, &repository);
            write fn revoke_token(id: TokenId, now: Timestamp) -> TokenRecord
                = |c| tokens::revoke(c, id, now);
        }

        $crate::stored::store_methods! {
            $call for $store;
            impl PackageRecords { $($packages)* }
            write fn create_package(package: &Package, now: Timestamp) -> PackageRecord
                = |c| packages::create(c, &package, now);
            lookup fn package(name: &RepositoryName) -> Option<PackageRecord>
                = |c| packages::get_live(c, &name);
            lookup fn package_by_id(id: PackageId) -> Option<PackageRecord>
                = |c| packages::get_by_id(c, id);
            snapshot fn list_packages(owner: &Login, query: PackageQuery, page: &PageRequest) -> Page<PackageRecord>
                = |c| packages::list(c, &owner, query, &page);
            write fn update_package(name: &RepositoryName, changes: &PackageChanges, now: Timestamp) -> PackageRecord
                = |c| packages::update(c, &name, &changes, now);
            write fn set_grant(name: &RepositoryName, grantee: &Grantee, role: Role, now: Timestamp) -> PackageRecord
                = |c| packages::set_grant(c, &name, &grantee, role, now);
            write fn remove_grant(name: &RepositoryName, grantee: &Grantee, now: Timestamp) -> PackageRecord
                = |c| packages::remove_grant(c, &name, &grantee, now);
            write fn delete_package(name: &RepositoryName, now: Timestamp) -> PackageRecord
                = |c| packages::delete(c, &name, now);
            write fn restore_package(name: &RepositoryName, now: Timestamp) -> PackageRecord
                = |c, window| packages::restore(c, &name, now, window);
            write fn record_version(name: &RepositoryName, version: &NewVersion, now: Timestamp) -> VersionRecord
                = |c| versions::record(c, &name, &version, now);
            snapshot fn version(name: &RepositoryName, id: VersionId) -> Option<VersionRecord>
                = |c| versions::by_column(c, &name, "id", &id.get());
            snapshot fn version_by_digest(name: &RepositoryName, digest: &Digest) -> Option<VersionRecord>
                = |c| versions::by_column(c, &name, "digest", &digest.as_str());
            lookup fn version_by_tag(name: &RepositoryName, tag: &Tag) -> Option<VersionRecord>
                = |c| versions::by_tag(c, &name, &tag);
            snapshot fn list_versions(name: &RepositoryName, query: VersionQuery, page: &PageRequest) -> Page<VersionRecord>
                = |c| versions::list(c, &name, query, &page);
            write fn remove_tag(name: &RepositoryName, tag: &Tag, now: Timestamp) -> VersionRecord
                = |c| versions::remove_tag(c, &name, &tag, now);
            write fn delete_version(name: &RepositoryName, id: VersionId, now: Timestamp) -> VersionRecord
                = |c| versions::delete(c, &name, id, now);
            write fn restore_version(name: &RepositoryName, id: VersionId, now: Timestamp) -> VersionRecord
                = |c, window| versions::restore(c, &name, id, now, window);
            write fn purge_expired(now: Timestamp, limit: usize) -> PurgeReport
                = |c, window| purge::purge_expired(c, PurgeBounds::new(now, window, limit)?);
            lookup fn retention_policy(name: &RepositoryName) -> Option<RetentionPolicy>
                = |c| retention::policy(c, PolicyHolder::Package(&name));
            write fn set_retention_policy(name: &RepositoryName, policy: Option<&RetentionPolicy>) -> ()
                = |c| retention::set_policy(c, PolicyHolder::Package(&name), borrowed(&policy));
            lookup fn organization_retention_policy(organization: &Login) -> Option<RetentionPolicy>
                = |c| retention::policy(c, PolicyHolder::Organization(&organization));
            write fn set_organization_retention_policy(organization: &Login, policy: Option<&RetentionPolicy>) -> ()
                = |c| retention::set_policy(c, PolicyHolder::Organization(&organization), borrowed(&policy));
            lookup fn retained_packages(page: &PageRequest) -> Page<RetainedPackage>
                = |c| retention::retained(c, &page);
            write fn set_collaborator(repository: &CodeRepository, collaborator: &Collaborator, role: RepositoryRole) -> ()
                = |c| repositories::set(c, &repository, &collaborator, role);
            write fn remove_collaborator(repository: &CodeRepository, collaborator: &Collaborator) -> ()
                = |c| repositories::remove(c, &repository, &collaborator);
            read fn repository_access(repository: &CodeRepository) -> RepositoryAccess
                = |c| repositories::all(c, &repository);
            snapshot fn access_context(name: &RepositoryName, caller: Option<&Login>, lookup: PackageLookup) -> AccessContext
                = |c| repositories::access_context(c, &name, borrowed(&caller), lookup);
        }
    };
}

pub(crate) use {sql_store_traits, store_methods};
