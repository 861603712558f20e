//! [`CachedStore`]: a read-through cache for the lookups every request
//! makes, in front of any [`PackageStore`].

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use wharf_auth::{
    CodeRepository, Grantee, Login, Membership, OrgRole, OrganizationPolicy, Package,
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
use crate::store::{
    AccountStore, PackageRecords, PackageStore, PurgeReport, Revision, TokenStore,
    LAST_USED_GRANULARITY,
};
use crate::token::{TokenRecord, WorkflowToken};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

/// How long [`CachedStore`] keeps answers, and how many.
///
/// Non-exhaustive so that settings can be added in a minor release: start
/// from `CacheOptions::default()` and set the fields to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheOptions {
    /// The longest an answer is reused. This bounds how stale an answer
    /// can be after a change made *outside* this store value (another
    /// process writing the same database: the admin CLI revoking a token,
    /// a second server); changes made through it are seen at once.
    /// Default 2 seconds.
    pub ttl: Duration,
    /// The most answers kept per kind (tokens by hash, tokens by id,
    /// packages, access contexts);
    /// when full, the kind's cache starts over. Default 10,000.
    pub capacity: usize,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            ttl: Duration::from_secs(2),
            capacity: 10_000,
        }
    }
}

/// One kind of answer, keyed by the [`Revision`] it was loaded under and
/// the question: an answer of an older revision is never asked for again
/// and ages out. moka bounds each kind by
/// [`CacheOptions::capacity`] (evicting the least useful entries, not
/// everything at once), expires entries after [`CacheOptions::ttl`], and
/// lets concurrent askers of the same question share one load, so neither
/// a full cache nor a burst of requests for one token becomes a stampede
/// on the database.
struct Map<K, V> {
    entries: moka::future::Cache<(Revision, K), V>,
}

impl<K, V> Map<K, V>
where
    K: Eq + Hash + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn new(options: CacheOptions) -> Self {
        Map {
            entries: moka::future::Cache::builder()
                .max_capacity(options.capacity as u64)
                .time_to_live(options.ttl.max(Duration::from_nanos(1)))
                .build(),
        }
    }
}

struct Cache {
    options: CacheOptions,
    /// Bumped after every change made through the store: an answer loaded
    /// under an older generation is not reused.
    generation: AtomicU64,
    /// Answers are kept by [`Revision`]: the generation and the number of
    /// whole `ttl` periods since this instant, so that every answer (and
    /// whatever a caller concluded from it under the same revision) ends
    /// with its period, at most `ttl` after it was read.
    started: Instant,
    tokens: Map<TokenHash, Option<TokenRecord>>,
    tokens_by_id: Map<TokenId, Option<TokenRecord>>,
    packages: Map<RepositoryName, Option<PackageRecord>>,
    contexts: Map<(RepositoryName, Option<Login>, PackageLookup), AccessContext>,
}

/// A [`PackageStore`] that answers the per-request lookups
/// ([`find_token`](TokenStore::find_token),
/// [`token`](TokenStore::token) (which a registry asks on every request
/// made with a bearer token, to see that the token it was minted from
/// still works), [`package`](PackageRecords::package) and
/// [`access_context`](PackageRecords::access_context)) from memory when it
/// answered the same question recently, and passes everything else
/// through.
///
/// Any change made through it (other than
/// [`record_token_use`](TokenStore::record_token_use)) invalidates every
/// cached answer, so its callers always read their own writes. Changes
/// made elsewhere (another process on the same database) are seen within
/// [`CacheOptions::ttl`], or sooner when something calls
/// [`invalidate`](CachedStore::invalidate) on hearing of them (the
/// PostgreSQL store announces such changes with `NOTIFY`, see its
/// `NOTIFY_CHANNEL`). A cached token's `last_used_at` may lag.
///
/// A package that is not there is not cached ([`package`](PackageRecords::package)
/// answering `None`, an [`access_context`](PackageRecords::access_context)
/// without a package): a package first published elsewhere (another
/// replica behind the same load balancer, whose announcement is still on
/// its way) is found at once, so a client that pushes through one replica
/// and pulls through another is not told it does not exist. A token that
/// is not there is cached: no one can have asked for it before it was
/// made.
///
/// ```
/// use wharf_auth::Timestamp;
/// use wharf_packages::prelude::*;
/// use wharf_packages::{CacheOptions, CachedStore, SqlitePackageStore};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let store = CachedStore::new(SqlitePackageStore::in_memory()?, CacheOptions::default());
/// let octocat = "octocat".parse()?;
/// assert!(store.account(&octocat).await?.is_none()); // asks the database
/// let hash = wharf_auth::TokenHash::of("wharf_pat_unknown");
/// assert!(store.find_token(&hash).await?.is_none()); // asks the database
/// assert!(store.find_token(&hash).await?.is_none()); // answered from memory
/// store.create_user(&octocat, Timestamp::from_unix_seconds(1)).await?; // invalidates
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct CachedStore {
    inner: Arc<dyn PackageStore>,
    cache: Arc<Cache>,
}

impl std::fmt::Debug for CachedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStore")
            .field("options", &self.cache.options)
            .finish_non_exhaustive()
    }
}

impl CachedStore {
    /// Caches lookups of `inner`.
    pub fn new(inner: impl PackageStore + 'static, options: CacheOptions) -> CachedStore {
        CachedStore::from_arc(Arc::new(inner), options)
    }

    /// Caches lookups of a shared store.
    pub fn from_arc(inner: Arc<dyn PackageStore>, options: CacheOptions) -> CachedStore {
        CachedStore {
            inner,
            cache: Arc::new(Cache {
                options,
                generation: AtomicU64::new(0),
                started: Instant::now(),
                tokens: Map::new(options),
                tokens_by_id: Map::new(options),
                packages: Map::new(options),
                contexts: Map::new(options),
            }),
        }
    }

    /// The store behind the cache.
    pub fn inner(&self) -> &Arc<dyn PackageStore> {
        &self.inner
    }

    /// Forgets every cached answer (for instance after changing the
    /// database by other means).
    pub fn invalidate(&self) {
        self.cache.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Answers from `map` or by `load` (made only on a miss: a hit
    /// allocates nothing, which matters on the per-request path, where the
    /// inner store's futures are boxed), keeping the answer only if `keep`
    /// says so (see the type's documentation for what is not kept).
    async fn cached<K, V, Fut>(
        &self,
        map: &Map<K, V>,
        key: K,
        load: impl FnOnce() -> Fut,
        keep: fn(&V) -> bool,
    ) -> Result<V, Error>
    where
        K: Eq + Hash + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<V, Error>>,
    {
        // Read the revision before loading: if a change lands while
        // loading, the answer is stored under the old one and never served.
        let Some(revision) = self.current() else {
            return load().await;
        };
        let key = (revision, key);
        if let Some(hit) = map.entries.get(&key).await {
            return Ok(hit);
        }
        // moka keeps what the load returns and nothing of a failure: an
        // answer not to keep leaves as a "failure" and is answered as is.
        let load = async {
            match load().await {
                Ok(value) if keep(&value) => Ok(value),
                Ok(value) => Err(NotKept::Answer(value)),
                Err(err) => Err(NotKept::Failed(Arc::new(err))),
            }
        };
        map.entries
            .try_get_with(key, load)
            .await
            .or_else(|not_kept: Arc<NotKept<V>>| {
                // Concurrent askers shared the load and its outcome.
                let err = match Arc::try_unwrap(not_kept) {
                    Ok(NotKept::Answer(value)) => return Ok(value),
                    Ok(NotKept::Failed(err)) => err,
                    Err(shared) => match &*shared {
                        NotKept::Answer(value) => return Ok(value.clone()),
                        NotKept::Failed(err) => err.clone(),
                    },
                };
                // Each sharer of a failure gets one of the same kind, so
                // that a database out of reach stays "unavailable" (503)
                // for all of them.
                Err(Arc::try_unwrap(err).unwrap_or_else(|shared| {
                    let operation = "a lookup shared with concurrent requests";
                    if shared.is_unavailable() {
                        Error::unavailable(operation, shared)
                    } else {
                        Error::database(operation, shared)
                    }
                }))
            })
    }

    /// The revision answers are kept under now; `None` when nothing is
    /// kept (a zero `ttl` or capacity).
    fn current(&self) -> Option<Revision> {
        let CacheOptions { ttl, capacity } = self.cache.options;
        if ttl.is_zero() || capacity == 0 {
            return None;
        }
        let generation = self.cache.generation.load(Ordering::Acquire);
        let elapsed = self.cache.started.elapsed().as_nanos();
        let period = u64::try_from(elapsed / ttl.as_nanos()).unwrap_or(u64::MAX);
        Some(Revision::new(generation, period))
    }

    /// Runs a lookup that is not cached.
    async fn pass<T>(&self, lookup: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        lookup.await
    }

    /// Runs a change, then invalidates the cache (whatever its outcome).
    async fn change<T>(&self, change: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let result = change.await;
        self.invalidate();
        result
    }
}

/// How a load of [`CachedStore::cached`] ended when its answer is not
/// kept.
enum NotKept<V> {
    /// An answer the cache does not keep.
    Answer(V),
    /// The load failed.
    Failed(Arc<Error>),
}

/// Implements a store trait for [`CachedStore`]: first the methods
/// written out in full (the cached lookups), then one line per method that
/// asks the inner store the same, either to `pass` on its answer or as a
/// `change` that invalidates the cache.
macro_rules! forward {
    (
        impl $trait:ident { $($written:tt)* }
        $( $how:ident fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty; )*
    ) => {
        #[async_trait]
        impl $trait for CachedStore {
            $($written)*

            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret, Error> {
                    self.$how(self.inner.$name($($arg),*)).await
                }
            )*
        }
    };
}

forward! {
    impl AccountStore {}
    change fn create_user(login: &Login, now: Timestamp) -> Account;
    change fn create_organization(login: &Login, policy: OrganizationPolicy, now: Timestamp) -> Account;
    pass fn account(login: &Login) -> Option<Account>;
    change fn set_organization_policy(organization: &Login, policy: OrganizationPolicy) -> Account;
    pass fn list_accounts(page: &PageRequest) -> Page<Account>;
    change fn add_member(organization: &Login, user: &Login, role: OrgRole, now: Timestamp) -> Member;
    change fn remove_member(organization: &Login, user: &Login) -> ();
    pass fn membership(organization: &Login, user: &Login) -> Membership;
    pass fn members(organization: &Login) -> Vec<Member>;
    pass fn organizations_of(user: &Login) -> Vec<OrganizationMembership>;
    change fn create_team(organization: &Login, team: &TeamSlug, now: Timestamp) -> ();
    change fn delete_team(organization: &Login, team: &TeamSlug) -> ();
    pass fn teams(organization: &Login) -> Vec<TeamSlug>;
    change fn add_team_member(organization: &Login, team: &TeamSlug, user: &Login) -> ();
    change fn remove_team_member(organization: &Login, team: &TeamSlug, user: &Login) -> ();
}

forward! {
    impl TokenStore {
        async fn find_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, Error> {
            let keep = |_: &Option<TokenRecord>| true;
            self.cached(&self.cache.tokens, *hash, || self.inner.find_token(hash), keep)
                .await
        }

        async fn token(&self, id: TokenId) -> Result<Option<TokenRecord>, Error> {
            let keep = |_: &Option<TokenRecord>| true;
            self.cached(&self.cache.tokens_by_id, id, || self.inner.token(id), keep)
                .await
        }

        async fn record_token_use(&self, id: TokenId, now: Timestamp) -> Result<(), Error> {
            // A use within the granularity of the cached last use writes
            // nothing in any store: skip the call. Otherwise write, and drop
            // the cached answer for this id so that `token(id)` shows the new
            // time (at most once per granularity per token). Answers found by
            // hash may show an older `last_used_at` (documented).
            let revision = self.current();
            let cached = match revision {
                Some(revision) => self.cache.tokens_by_id.entries.get(&(revision, id)).await.flatten(),
                None => None,
            };
            let recent = cached
                .and_then(|record| record.last_used_at)
                .is_some_and(|last| now < last.saturating_add(LAST_USED_GRANULARITY));
            if recent {
                return Ok(());
            }
            let result = self.inner.record_token_use(id, now).await;
            if let Some(revision) = revision {
                self.cache.tokens_by_id.entries.invalidate(&(revision, id)).await;
            }
            result
        }

        fn revision(&self) -> Option<Revision> {
            self.current()
        }
    }
    change fn insert_personal_token(token: &StoredToken, now: Timestamp) -> TokenRecord;
    change fn insert_workflow_token(token: &WorkflowToken, now: Timestamp) -> TokenRecord;
    pass fn personal_tokens(owner: &Login) -> Vec<TokenRecord>;
    pass fn workflow_tokens(repository: &CodeRepository) -> Vec<TokenRecord>;
    change fn revoke_token(id: TokenId, now: Timestamp) -> TokenRecord;
}

forward! {
    impl PackageRecords {
        async fn package(&self, name: &RepositoryName) -> Result<Option<PackageRecord>, Error> {
            self.cached(
                &self.cache.packages,
                name.clone(),
                || self.inner.package(name),
                Option::is_some,
            )
            .await
        }

        async fn access_context(
            &self,
            name: &RepositoryName,
            caller: Option<&Login>,
            lookup: PackageLookup,
        ) -> Result<AccessContext, Error> {
            let key = (name.clone(), caller.cloned(), lookup);
            self.cached(
                &self.cache.contexts,
                key,
                || self.inner.access_context(name, caller, lookup),
                |context| context.package.is_some(),
            )
            .await
        }

        fn restore_window(&self) -> Duration {
            self.inner.restore_window()
        }
    }
    change fn create_package(package: &Package, now: Timestamp) -> PackageRecord;
    pass fn package_by_id(id: PackageId) -> Option<PackageRecord>;
    pass fn list_packages(owner: &Login, query: PackageQuery, page: &PageRequest) -> Page<PackageRecord>;
    change fn update_package(name: &RepositoryName, changes: &PackageChanges, now: Timestamp) -> PackageRecord;
    change fn set_grant(name: &RepositoryName, grantee: &Grantee, role: Role, now: Timestamp) -> PackageRecord;
    change fn remove_grant(name: &RepositoryName, grantee: &Grantee, now: Timestamp) -> PackageRecord;
    change fn delete_package(name: &RepositoryName, now: Timestamp) -> PackageRecord;
    change fn restore_package(name: &RepositoryName, now: Timestamp) -> PackageRecord;
    pass fn retention_policy(name: &RepositoryName) -> Option<RetentionPolicy>;
    change fn set_retention_policy(name: &RepositoryName, policy: Option<&RetentionPolicy>) -> ();
    pass fn organization_retention_policy(organization: &Login) -> Option<RetentionPolicy>;
    change fn set_organization_retention_policy(organization: &Login, policy: Option<&RetentionPolicy>) -> ();
    pass fn retained_packages(page: &PageRequest) -> Page<RetainedPackage>;
    change fn record_version(name: &RepositoryName, version: &NewVersion, now: Timestamp) -> VersionRecord;
    pass fn version(name: &RepositoryName, id: VersionId) -> Option<VersionRecord>;
    pass fn version_by_digest(name: &RepositoryName, digest: &Digest) -> Option<VersionRecord>;
    pass fn version_by_tag(name: &RepositoryName, tag: &Tag) -> Option<VersionRecord>;
    pass fn list_versions(name: &RepositoryName, query: VersionQuery, page: &PageRequest) -> Page<VersionRecord>;
    change fn remove_tag(name: &RepositoryName, tag: &Tag, now: Timestamp) -> VersionRecord;
    change fn delete_version(name: &RepositoryName, id: VersionId, now: Timestamp) -> VersionRecord;
    change fn restore_version(name: &RepositoryName, id: VersionId, now: Timestamp) -> VersionRecord;
    change fn purge_expired(now: Timestamp, limit: usize) -> PurgeReport;
    change fn set_collaborator(repository: &CodeRepository, collaborator: &Collaborator, role: RepositoryRole) -> ();
    change fn remove_collaborator(repository: &CodeRepository, collaborator: &Collaborator) -> ();
    pass fn repository_access(repository: &CodeRepository) -> RepositoryAccess;
}
