//! The conformance suite every [`PackageStore`] must pass, ours and a
//! downstream user's, unchanged.
//!
//! The cases are grouped by the part of the store they check, one module
//! per trait: [`account`] ([`AccountStore`]),
//! [`token`] ([`TokenStore`]), [`package`]
//! ([`PackageRecords`]), and [`store`] for the
//! cases that span all three (a cache's consistency, surviving a restart).
//! Each case is a plain `pub async fn` named for the behaviour it checks,
//! so a failure names the rule that broke. Cases move time by passing
//! timestamps: no case sleeps. Every case takes a whole store, since
//! tokens and packages belong to accounts.
//!
//! # Running the suite against a backend
//!
//! Implement [`Fixture`] for your store (a fresh, empty store per case,
//! and optionally the same store reopened as after a restart; a store
//! that does not persist can use [`StoreFixture`]), then generate one
//! `#[tokio::test]` per case with [`package_store_tests!`](crate::package_store_tests), naming the
//! backend. In a test file of your own crate (with `wharf-packages` and
//! its `testkit` feature, and `tokio` with the `macros` and
//! `rt-multi-thread` features, as dev-dependencies):
//!
//! ```no_run
//! # // The store under test; yours would be your own type.
//! # use wharf_packages::SqlitePackageStore as MyStore;
//! use wharf_packages::testkit::StoreFixture;
//!
//! wharf_packages::package_store_tests!(my_store, || {
//!     StoreFixture::new(MyStore::in_memory().expect("open the store"))
//! });
//! # fn main() {}
//! ```
//!
//! This generates a module `my_store` with one module per trait and one
//! test per case in it, so `cargo test` reports, say,
//! `my_store::token::token_revocation_keeps_the_first_time`: the backend
//! and the case that failed. Invoke the macro once per backend (or
//! configuration) with a different name. The fixture expression is
//! evaluated inside the generated modules, which import everything of the
//! module the macro is invoked in.
//!
//! [`run_all`] runs every case in one test instead, for harnesses that
//! prefer it; [`CASES`] lists them.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use wharf_annotations::{Origin, PackageMetadata, Policy, Sources};
use wharf_auth::{
    authorize, CodeRepository, DenyKind, Grantee, Identity, Login, OrgRole, OrganizationPolicy,
    OwnerKind, Package, PackageAction, PersonalAccessToken, Principal, RepositoryRole, Role,
    StoredToken, TeamSlug, Timestamp, TokenHash, Visibility, WorkflowPermission,
};
use wharf_reference::{Digest, MediaType, RepositoryName, Tag};

use crate::prelude::*;
use crate::{
    Collaborator, Error, NewVersion, PackageChanges, PackageLookup, PackageQuery, Page,
    PageRequest, PurgeReport, VersionQuery, WorkflowToken, LAST_USED_GRANULARITY, RESTORE_WINDOW,
};

#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "sqlite")]
pub use sqlite::{CachedSqliteFixture, SqliteFileFixture, SqliteMemoryFixture};

#[cfg(feature = "postgres")]
mod postgres;

#[cfg(feature = "postgres")]
pub use postgres::{CachedPgFixture, PgFixture};

pub mod account;
pub mod package;
pub mod store;
pub mod token;

/// A store under test.
#[async_trait]
pub trait Fixture: Send + Sync + 'static {
    /// The store under test; empty when the fixture is new. Calling it
    /// again returns the same store.
    async fn store(&self) -> Arc<dyn PackageStore>;

    /// The same store as a new instance, as after a process restart, for
    /// stores that persist. `None` (the default) skips the restart cases.
    async fn reopen(&self) -> Option<Arc<dyn PackageStore>> {
        None
    }

    /// A fresh, empty store of the same backend (or the same database,
    /// still empty, when [`store`](Self::store) was not used) that keeps
    /// deleted records restorable for `window` instead of its default,
    /// for the cases about the restore window. `None` (the default) skips
    /// them.
    async fn with_restore_window(&self, window: Duration) -> Option<Arc<dyn PackageStore>> {
        let _ = window;
        None
    }
}

/// What a [`package_store_tests!`](crate::package_store_tests) fixture
/// expression may give: a [`Fixture`], or an `Option` of one, `None`
/// skipping the case (a backend whose server is missing on this machine,
/// which the fixture expression reports).
pub trait MaybeFixture {
    /// The fixture, or `None` to skip the case.
    fn into_fixture(self) -> Option<Arc<dyn Fixture>>;
}

impl<F: Fixture> MaybeFixture for F {
    fn into_fixture(self) -> Option<Arc<dyn Fixture>> {
        Some(Arc::new(self))
    }
}

impl<F: Fixture> MaybeFixture for Option<F> {
    fn into_fixture(self) -> Option<Arc<dyn Fixture>> {
        self.map(|fixture| Arc::new(fixture) as Arc<dyn Fixture>)
    }
}

/// A [`Fixture`] over a store given whole, for stores that do not persist
/// (the restart cases are skipped).
#[derive(Clone)]
pub struct StoreFixture {
    store: Arc<dyn PackageStore>,
}

impl StoreFixture {
    /// A fixture over `store`, which must be fresh and empty.
    pub fn new(store: impl PackageStore + 'static) -> Self {
        StoreFixture::from_arc(Arc::new(store))
    }

    /// A fixture over a shared `store`, which must be fresh and empty.
    pub fn from_arc(store: Arc<dyn PackageStore>) -> Self {
        StoreFixture { store }
    }
}

impl std::fmt::Debug for StoreFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreFixture").finish_non_exhaustive()
    }
}

#[async_trait]
impl Fixture for StoreFixture {
    async fn store(&self) -> Arc<dyn PackageStore> {
        self.store.clone()
    }
}

/// The cache options of the cached fixtures: a long TTL, so that any
/// missed invalidation shows.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn long_lived_cache() -> crate::CacheOptions {
    crate::CacheOptions {
        ttl: Duration::from_secs(3600),
        capacity: 1000,
    }
}

/// The store of `inner` reopened, behind a fresh cache: what a restart of
/// a cached fixture gives.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
async fn reopen_cached(inner: &impl Fixture) -> Option<Arc<dyn PackageStore>> {
    let reopened = inner.reopen().await?;
    Some(Arc::new(crate::CachedStore::from_arc(
        reopened,
        crate::CacheOptions::default(),
    )))
}

/// The store of `inner` with a restore `window`, behind a cache like
/// [`long_lived_cache`]: what a cached fixture's
/// [`with_restore_window`](Fixture::with_restore_window) gives.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
async fn cached_with_restore_window(
    inner: &impl Fixture,
    window: Duration,
) -> Option<Arc<dyn PackageStore>> {
    let inner = inner.with_restore_window(window).await?;
    Some(Arc::new(crate::CachedStore::from_arc(
        inner,
        long_lived_cache(),
    )))
}

/// One conformance case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The trait module it belongs to and the behaviour it checks, as a
    /// test path: `token::token_revocation_keeps_the_first_time`.
    pub name: &'static str,
    /// Runs it; panics on failure.
    pub run: fn(Arc<dyn Fixture>) -> BoxFuture<'static, ()>,
}

macro_rules! cases {
    ($($module:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        /// Every case, module by module, in a stable order.
        pub const CASES: &[Case] = &[
            $($(Case {
                name: concat!(stringify!($module), "::", stringify!($name)),
                run: |f| Box::pin($module::$name(f)),
            },)*)*
        ];

        /// Generates, for one backend, one `#[tokio::test]` per conformance
        /// case, each with a fresh fixture.
        ///
        /// `package_store_tests!(backend, make)` expands to a module
        /// `backend` holding one module per trait ([`account`],
        /// [`token`], [`package`], [`store`]) and in each one test per
        /// case, named for it: a failure reads
        /// `backend::token::token_use_is_recorded_coarsely`. `make` is an
        /// expression that evaluates to a closure returning a
        /// [`Fixture`](crate::testkit::Fixture); it is evaluated inside
        /// the generated modules, which import everything of the module
        /// the macro is invoked in; it may also give an `Option` of a
        /// fixture, `None` skipping the case ([`MaybeFixture`]), for a
        /// backend whose server this machine lacks. See the
        /// [`testkit`](crate::testkit) module for an example.
        ///
        /// [`MaybeFixture`]: crate::testkit::MaybeFixture
        ///
        /// [`account`]: crate::testkit::account
        /// [`token`]: crate::testkit::token
        /// [`package`]: crate::testkit::package
        /// [`store`]: crate::testkit::store
        #[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
        #[macro_export]
        macro_rules! package_store_tests {
            ($backend:ident, $make:expr) => {
                mod $backend {
                    #[allow(unused_imports)]
                    use super::*;
                    $(
                        mod $module {
                            #[allow(unused_imports)]
                            use super::*;
                            $(
                                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                                async fn $name() {
                                    let Some(fixture) =
                                        $crate::testkit::MaybeFixture::into_fixture(($make)())
                                    else {
                                        return;
                                    };
                                    $crate::testkit::$module::$name(fixture).await;
                                }
                            )*
                        }
                    )*
                }
            };
        }
    };
}

cases! {
    account: [
        users_and_organizations_share_one_namespace,
        organization_policy_round_trips,
        accounts_list_in_login_order_across_pages,
        membership_roles_change_and_removal_leaves_teams,
        team_members_must_be_organization_members,
        teams_are_created_listed_and_deleted,
        timestamps_round_trip_exactly,
    ],
    token: [
        personal_tokens_are_found_by_hash,
        token_revocation_keeps_the_first_time,
        token_expiry_is_kept_and_enforced,
        tokens_list_per_owner_oldest_first,
        workflow_tokens_authenticate_as_their_repository,
        token_use_is_recorded_coarsely,
    ],
    package: [
        first_publish_creates_a_private_package,
        package_changes_apply_together,
        an_unlink_is_remembered,
        grants_are_set_replaced_and_removed,
        grantees_must_exist,
        metadata_round_trips,
        packages_list_in_name_order_across_pages,
        deleted_packages_are_hidden_and_restorable,
        a_republished_name_blocks_restoring_the_old_package,
        restore_window_is_thirty_days,
        a_shorter_restore_window_refuses_restores_and_purges_after_it,
        purge_removes_only_expired_deletions,
        purge_reports_manifests_no_longer_referenced,
        purge_in_batches_loses_nothing,
        versions_upsert_by_digest,
        tags_move_between_versions,
        removing_a_tag_leaves_the_version,
        versions_list_newest_first_across_pages,
        deleted_versions_are_restorable_with_their_tags,
        pushing_a_deleted_digest_makes_it_live_again,
        versions_of_a_deleted_package_are_not_addressable,
        repository_collaborators_round_trip,
        access_context_gathers_what_authorize_needs,
        access_context_of_an_unknown_namespace_has_no_owner,
        concurrent_first_publishes_create_one_package,
        concurrent_pushes_keep_counts_and_tags_consistent,
        retention_policies_round_trip,
        retained_packages_follow_their_own_policy_or_their_organizations,
    ],
    store: [
        lookups_see_changes_at_once,
        data_survives_reopen,
    ],
}

/// Runs every case against fresh fixtures from `make`, one after the
/// other in one test, panicking with the name of the first case that
/// fails. Prefer [`package_store_tests!`](crate::package_store_tests), which makes each case a test.
pub async fn run_all<F: Fixture>(make: impl Fn() -> F) {
    for case in CASES {
        let fixture: Arc<dyn Fixture> = Arc::new(make());
        let run = tokio::spawn((case.run)(fixture));
        if let Err(e) = run.await {
            panic!("conformance case `{}` failed: {e}", case.name);
        }
    }
}

// ---------------------------------------------------------------- helpers

/// A day.
const DAY: Duration = Duration::from_secs(86_400);

/// A purge limit above what any case deletes: one call purges everything.
const PURGE_ALL: usize = 1_000;

/// Purges, in one call, every deletion that has outlived the restore
/// window at `now`.
async fn purge_all(store: &Arc<dyn PackageStore>, now: Timestamp) -> PurgeReport {
    store
        .purge_expired(now, PURGE_ALL)
        .await
        .unwrap_or_else(|e| panic!("purge at {now:?}: {e:?}"))
}

/// The suite's "now": 14 November 2023.
pub const T0: Timestamp = Timestamp::from_unix_seconds(1_700_000_000);

/// `T0` plus `seconds`.
fn at(seconds: u64) -> Timestamp {
    T0.saturating_add(Duration::from_secs(seconds))
}

fn login(s: &str) -> Login {
    s.parse().expect("valid login in the testkit")
}

fn team(s: &str) -> TeamSlug {
    s.parse().expect("valid team slug in the testkit")
}

fn repo(s: &str) -> CodeRepository {
    s.parse().expect("valid source repository in the testkit")
}

fn name(s: &str) -> RepositoryName {
    s.parse().expect("valid repository name in the testkit")
}

fn tag(s: &str) -> Tag {
    s.parse().expect("valid tag in the testkit")
}

fn grantee(s: &str) -> Grantee {
    s.parse().expect("valid grantee in the testkit")
}

/// A distinct manifest digest per `n`.
pub fn digest(n: u32) -> Digest {
    Digest::sha256(format!("manifest {n}").as_bytes())
}

fn manifest(n: u32) -> NewVersion {
    NewVersion::new(digest(n), MediaType::OCI_IMAGE_MANIFEST, 100 + u64::from(n))
}

fn tags(list: &[&str]) -> Vec<Tag> {
    list.iter().map(|s| tag(s)).collect()
}

/// `manifest(n)` pushed with the tags in `list`, in that order.
fn tagged(n: u32, list: &[&str]) -> NewVersion {
    NewVersion {
        tags: tags(list),
        ..manifest(n)
    }
}

/// The version count of the live package `name`.
async fn version_count(store: &Arc<dyn PackageStore>, name: &RepositoryName) -> u64 {
    store
        .package(name)
        .await
        .expect("get")
        .expect("exists")
        .version_count
}

/// Every record of a listing, read `limit` at a time by following the
/// `next` cursors; no page may hold more than `limit`.
async fn all_pages<T, F, Fut>(limit: usize, mut list: F) -> Vec<T>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, Error>>,
{
    let mut seen = Vec::new();
    let mut page = PageRequest::first(limit);
    loop {
        let result = list(page).await.expect("list");
        assert!(
            result.items.len() <= limit,
            "a page holds at most `limit` records"
        );
        seen.extend(result.items);
        match result.next {
            Some(cursor) => page = PageRequest::after(cursor, limit),
            None => return seen,
        }
    }
}

fn first_publish(package: &str, creator: &str) -> Package {
    Package::first_publish(name(package), &Identity::User(login(creator)))
}

/// The errors the suite expects by kind.
#[derive(Debug, Clone, Copy)]
enum Expected {
    NotFound,
    AlreadyExists,
    Conflict,
    InvalidCursor,
}

impl Expected {
    fn matches(self, error: &Error) -> bool {
        matches!(
            (self, error),
            (Expected::NotFound, Error::NotFound { .. })
                | (Expected::AlreadyExists, Error::AlreadyExists { .. })
                | (Expected::Conflict, Error::Conflict { .. })
                | (Expected::InvalidCursor, Error::InvalidCursor { .. })
        )
    }
}

/// Panics (naming `context`) unless `result` is the `expected` error.
fn expect_error<T: std::fmt::Debug>(expected: Expected, result: Result<T, Error>, context: &str) {
    match result {
        Err(error) if expected.matches(&error) => {}
        other => panic!("{context}: expected {expected:?}, got {other:?}"),
    }
}

/// The refusals every listing under a parent (an owner, a package) shares:
/// `list(parent, page)` is [`Expected::NotFound`] under the `[unknown,
/// known]` parent, and [`Expected::InvalidCursor`] under the known one
/// after a cursor the store did not hand out (`forged`).
async fn expect_listing_refusals<T, F, Fut>(
    [unknown, known]: [&'static str; 2],
    forged: &str,
    list: F,
) where
    T: std::fmt::Debug,
    F: Fn(&'static str, PageRequest) -> Fut,
    Fut: Future<Output = Result<Page<T>, Error>>,
{
    expect_error(
        Expected::NotFound,
        list(unknown, PageRequest::first(10)).await,
        &format!("listing under the unknown {unknown}"),
    );
    expect_error(
        Expected::InvalidCursor,
        list(known, PageRequest::after(crate::Cursor::new(forged), 2)).await,
        "a forged cursor",
    );
}

/// Panics (naming `context`) unless `result` is `Ok` (`expected` is
/// `None`) or the `expected` error.
fn expect_outcome<T: std::fmt::Debug>(
    expected: Option<Expected>,
    result: Result<T, Error>,
    context: &str,
) {
    match expected {
        None => {
            result.unwrap_or_else(|e| panic!("{context}: {e:?}"));
        }
        Some(expected) => expect_error(expected, result, context),
    }
}

/// Users named `users`, in that order, then an organization with the
/// default policy.
async fn create_accounts(store: &Arc<dyn PackageStore>, users: &[&str], organization: &str) {
    for user in users {
        store
            .create_user(&login(user), T0)
            .await
            .expect("create user");
    }
    store
        .create_organization(&login(organization), OrganizationPolicy::default(), T0)
        .await
        .expect("create organization");
}

/// The first page (of ten) of `owner`'s packages that `query` selects.
async fn first_packages(
    store: &Arc<dyn PackageStore>,
    owner: &str,
    query: PackageQuery,
) -> Page<crate::PackageRecord> {
    store
        .list_packages(&login(owner), query, &PageRequest::first(10))
        .await
        .expect("list packages")
}

/// Users alice, bob and carol, organization acme (alice a member, bob an
/// admin), and a private package `alice/app` published by alice.
async fn seed(store: &Arc<dyn PackageStore>) {
    create_accounts(store, &["alice", "bob", "carol"], "acme").await;
    store
        .add_member(&login("acme"), &login("alice"), OrgRole::Member, T0)
        .await
        .expect("add alice");
    store
        .add_member(&login("acme"), &login("bob"), OrgRole::Admin, T0)
        .await
        .expect("add bob");
    publish(store, "alice/app", "alice", T0).await;
}

/// A fresh store from `fixture`, [seeded](seed).
async fn seeded(fixture: &Arc<dyn Fixture>) -> Arc<dyn PackageStore> {
    let store = fixture.store().await;
    seed(&store).await;
    store
}

/// Creates `package` by its first publish by the user `creator` at `now`.
async fn publish(
    store: &Arc<dyn PackageStore>,
    package: &str,
    creator: &str,
    now: Timestamp,
) -> crate::PackageRecord {
    store
        .create_package(&first_publish(package, creator), now)
        .await
        .unwrap_or_else(|e| panic!("create {package}: {e:?}"))
}

/// Stores the personal access `token` at `now`.
async fn insert_token(
    store: &Arc<dyn PackageStore>,
    token: &StoredToken,
    now: Timestamp,
) -> crate::TokenRecord {
    store
        .insert_personal_token(token, now)
        .await
        .unwrap_or_else(|e| panic!("insert a token of {}: {e:?}", token.owner))
}

/// Creates the team `slug` of `organization` at `now`.
async fn add_team(
    store: &Arc<dyn PackageStore>,
    organization: &Login,
    slug: &TeamSlug,
    now: Timestamp,
) {
    store
        .create_team(organization, slug, now)
        .await
        .unwrap_or_else(|e| panic!("create team {organization}/{slug}: {e:?}"));
}

/// Makes the live package `name` public and links it to the source
/// repository of the same name, at `now`.
async fn make_public_and_linked(
    store: &Arc<dyn PackageStore>,
    name: &RepositoryName,
    now: Timestamp,
) -> crate::PackageRecord {
    let changes = PackageChanges::new()
        .visibility(Visibility::Public)
        .link(repo(name.as_str()));
    store
        .update_package(name, &changes, now)
        .await
        .unwrap_or_else(|e| panic!("make {name} public and linked: {e:?}"))
}

/// The access context of the live package `name` for `caller`.
async fn active_context(
    store: &Arc<dyn PackageStore>,
    name: &RepositoryName,
    caller: Option<&Login>,
) -> crate::AccessContext {
    store
        .access_context(name, caller, PackageLookup::Active)
        .await
        .unwrap_or_else(|e| panic!("the access context of {name}: {e:?}"))
}

/// The live version `tag` of the live package `name` points at.
async fn tagged_version(
    store: &Arc<dyn PackageStore>,
    name: &RepositoryName,
    tag: &Tag,
) -> Option<crate::VersionRecord> {
    store
        .version_by_tag(name, tag)
        .await
        .unwrap_or_else(|e| panic!("look up {name}:{tag}: {e:?}"))
}

/// The version of the live package `name` with manifest `digest`.
async fn version_with_digest(
    store: &Arc<dyn PackageStore>,
    name: &RepositoryName,
    digest: &Digest,
) -> Option<crate::VersionRecord> {
    store
        .version_by_digest(name, digest)
        .await
        .unwrap_or_else(|e| panic!("look up {name}@{digest}: {e:?}"))
}

/// Panics unless the token of `secret` is still stored and refused at
/// `now` as revoked. For a backend's own tests too.
pub async fn expect_revoked(
    store: &dyn PackageStore,
    secret: &PersonalAccessToken,
    now: Timestamp,
) {
    let found = store
        .find_token(&secret.hash())
        .await
        .expect("find")
        .expect("still stored");
    assert!(matches!(
        found.authenticate(secret.expose_secret(), now),
        Err(wharf_auth::Error::TokenRevoked)
    ));
}

/// Whether `store` holds the token of `secret` as revoked; `None` when it
/// does not hold it. For a backend's own tests too.
pub async fn token_revoked(store: &dyn PackageStore, secret: &PersonalAccessToken) -> Option<bool> {
    store
        .find_token(&secret.hash())
        .await
        .expect("find")
        .map(|token| token.revoked_at.is_some())
}

/// Version `id` of the live package `name`.
async fn version_of(
    store: &Arc<dyn PackageStore>,
    name: &RepositoryName,
    id: crate::VersionId,
) -> Option<crate::VersionRecord> {
    store
        .version(name, id)
        .await
        .unwrap_or_else(|e| panic!("look up version {id} of {name}: {e:?}"))
}

/// Pushes `version` to the live package `name` at `now`.
async fn push(
    store: &Arc<dyn PackageStore>,
    name: &RepositoryName,
    version: &NewVersion,
    now: Timestamp,
) -> crate::VersionRecord {
    store
        .record_version(name, version, now)
        .await
        .unwrap_or_else(|e| panic!("push {} to {name}: {e:?}", version.digest))
}

fn stored_token(owner: &str, scopes: &str) -> (PersonalAccessToken, StoredToken) {
    let secret = PersonalAccessToken::generate().expect("generate a token");
    let stored = StoredToken::new(
        &secret,
        login(owner),
        scopes.parse().expect("valid scopes in the testkit"),
        None,
    );
    (secret, stored)
}

// ---------------------------------------------------------------- accounts
