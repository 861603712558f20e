//! [`CachedStore`]: a read-through cache for the lookups every request
//! makes, in front of any [`PackageStore`].

use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
use crate::store::{
    AccountStore, PackageRecords, PackageStore, PurgeReport, TokenStore, LAST_USED_GRANULARITY,
};
use crate::token::{TokenRecord, WorkflowToken};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

/// How long [`CachedStore`] keeps answers, and how many.
///
/// Non-exhaustive so that settings can be added in a minor release: start
/// from `CacheOptions::default()` and change it with
/// [`CacheOptions::with_ttl`] and [`CacheOptions::with_capacity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheOptions {
    /// The longest an answer is reused. This bounds how stale an answer
    /// can be after a change made *outside* this store value (another
    /// process writing the same database: the admin CLI revoking a token,
    /// a second server); changes made through it are seen at once.
    pub ttl: Duration,
    /// The most answers kept per kind (tokens by hash, tokens by id,
    /// packages, access contexts);
    /// when full, the kind's cache starts over.
    pub capacity: usize,
}

impl Default for CacheOptions {
    /// Two seconds, 10,000 answers per kind.
    fn default() -> Self {
        CacheOptions {
            ttl: Duration::from_secs(2),
            capacity: 10_000,
        }
    }
}

impl CacheOptions {
    /// With answers reused for at most `ttl`.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// With at most `capacity` answers kept per kind.
    #[must_use]
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }
}

/// One kind of answer, keyed by the cache generation it was loaded under
/// and the question: an answer of an older generation is never asked for
/// again and ages out. moka bounds each kind by
/// [`CacheOptions::capacity`] (evicting the least useful entries, not
/// everything at once), expires entries after [`CacheOptions::ttl`], and
/// lets concurrent askers of the same question share one load, so neither
/// a full cache nor a burst of requests for one token becomes a stampede
/// on the database.
struct Map<K, V> {
    entries: moka::future::Cache<(u64, K), V>,
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
/// [`CacheOptions::ttl`]. A cached token's `last_used_at` may lag.
///
/// ```
/// use wharf_auth::Timestamp;
/// use wharf_packages::prelude::*;
/// use wharf_packages::{CacheOptions, CachedStore, SqlitePackageStore};
///
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// let store = CachedStore::new(SqlitePackageStore::in_memory()?, CacheOptions::default());
/// let name = "octocat/app".parse()?;
/// assert!(store.package(&name).await?.is_none()); // asks the database
/// assert!(store.package(&name).await?.is_none()); // answered from memory
/// store.create_user(&"octocat".parse()?, Timestamp::from_unix_seconds(1)).await?; // invalidates
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

    async fn cached<K, V, Fut>(&self, map: &Map<K, V>, key: K, load: Fut) -> Result<V, Error>
    where
        K: Eq + Hash + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<V, Error>>,
    {
        let CacheOptions { ttl, capacity } = self.cache.options;
        if ttl.is_zero() || capacity == 0 {
            return load.await;
        }
        // Read the generation before loading: if a change lands while
        // loading, the answer is stored under the old generation and never
        // served.
        let generation = self.cache.generation.load(Ordering::Acquire);
        map.entries
            .try_get_with((generation, key), load)
            .await
            .map_err(|err: Arc<Error>| {
                // Concurrent askers shared the load, and its failure.
                Arc::try_unwrap(err).unwrap_or_else(|shared| Error::Database {
                    operation: "a lookup shared with concurrent requests",
                    source: Box::new(shared),
                })
            })
    }

    /// Runs a change, then invalidates the cache (whatever its outcome).
    async fn change<T>(&self, change: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        let result = change.await;
        self.invalidate();
        result
    }
}

#[async_trait]
impl AccountStore for CachedStore {
    async fn create_user(&self, login: &Login, now: Timestamp) -> Result<Account, Error> {
        self.change(self.inner.create_user(login, now)).await
    }

    async fn create_organization(
        &self,
        login: &Login,
        policy: OrganizationPolicy,
        now: Timestamp,
    ) -> Result<Account, Error> {
        self.change(self.inner.create_organization(login, policy, now))
            .await
    }

    async fn account(&self, login: &Login) -> Result<Option<Account>, Error> {
        self.inner.account(login).await
    }

    async fn set_organization_policy(
        &self,
        organization: &Login,
        policy: OrganizationPolicy,
    ) -> Result<Account, Error> {
        self.change(self.inner.set_organization_policy(organization, policy))
            .await
    }

    async fn list_accounts(&self, page: &PageRequest) -> Result<Page<Account>, Error> {
        self.inner.list_accounts(page).await
    }

    async fn add_member(
        &self,
        organization: &Login,
        user: &Login,
        role: OrgRole,
        now: Timestamp,
    ) -> Result<Member, Error> {
        self.change(self.inner.add_member(organization, user, role, now))
            .await
    }

    async fn remove_member(&self, organization: &Login, user: &Login) -> Result<(), Error> {
        self.change(self.inner.remove_member(organization, user))
            .await
    }

    async fn membership(&self, organization: &Login, user: &Login) -> Result<Membership, Error> {
        self.inner.membership(organization, user).await
    }

    async fn members(&self, organization: &Login) -> Result<Vec<Member>, Error> {
        self.inner.members(organization).await
    }

    async fn organizations_of(&self, user: &Login) -> Result<Vec<OrganizationMembership>, Error> {
        self.inner.organizations_of(user).await
    }

    async fn create_team(
        &self,
        organization: &Login,
        team: &TeamSlug,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.change(self.inner.create_team(organization, team, now))
            .await
    }

    async fn delete_team(&self, organization: &Login, team: &TeamSlug) -> Result<(), Error> {
        self.change(self.inner.delete_team(organization, team))
            .await
    }

    async fn teams(&self, organization: &Login) -> Result<Vec<TeamSlug>, Error> {
        self.inner.teams(organization).await
    }

    async fn add_team_member(
        &self,
        organization: &Login,
        team: &TeamSlug,
        user: &Login,
    ) -> Result<(), Error> {
        self.change(self.inner.add_team_member(organization, team, user))
            .await
    }

    async fn remove_team_member(
        &self,
        organization: &Login,
        team: &TeamSlug,
        user: &Login,
    ) -> Result<(), Error> {
        self.change(self.inner.remove_team_member(organization, team, user))
            .await
    }
}

#[async_trait]
impl TokenStore for CachedStore {
    async fn insert_personal_token(
        &self,
        token: &StoredToken,
        now: Timestamp,
    ) -> Result<TokenRecord, Error> {
        self.change(self.inner.insert_personal_token(token, now))
            .await
    }

    async fn insert_workflow_token(
        &self,
        token: &WorkflowToken,
        now: Timestamp,
    ) -> Result<TokenRecord, Error> {
        self.change(self.inner.insert_workflow_token(token, now))
            .await
    }

    async fn find_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, Error> {
        self.cached(&self.cache.tokens, *hash, self.inner.find_token(hash))
            .await
    }

    async fn token(&self, id: TokenId) -> Result<Option<TokenRecord>, Error> {
        self.cached(&self.cache.tokens_by_id, id, self.inner.token(id))
            .await
    }

    async fn personal_tokens(&self, owner: &Login) -> Result<Vec<TokenRecord>, Error> {
        self.inner.personal_tokens(owner).await
    }

    async fn workflow_tokens(
        &self,
        repository: &CodeRepository,
    ) -> Result<Vec<TokenRecord>, Error> {
        self.inner.workflow_tokens(repository).await
    }

    async fn revoke_token(&self, id: TokenId, now: Timestamp) -> Result<TokenRecord, Error> {
        self.change(self.inner.revoke_token(id, now)).await
    }

    async fn record_token_use(&self, id: TokenId, now: Timestamp) -> Result<(), Error> {
        // A use within the granularity of the cached last use writes
        // nothing in any store: skip the call. Otherwise write, and drop the
        // cached answer for this id so that `token(id)` shows the new time
        // (at most once per granularity per token). Answers found by hash
        // may show an older `last_used_at` (documented).
        let generation = self.cache.generation.load(Ordering::Acquire);
        let cached = self
            .cache
            .tokens_by_id
            .entries
            .get(&(generation, id))
            .await
            .flatten();
        let recent = cached
            .and_then(|record| record.last_used_at)
            .is_some_and(|last| now < last.saturating_add(LAST_USED_GRANULARITY));
        if recent {
            return Ok(());
        }
        let result = self.inner.record_token_use(id, now).await;
        self.cache
            .tokens_by_id
            .entries
            .invalidate(&(generation, id))
            .await;
        result
    }
}

#[async_trait]
impl PackageRecords for CachedStore {
    async fn create_package(
        &self,
        package: &Package,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        self.change(self.inner.create_package(package, now)).await
    }

    async fn package(&self, name: &RepositoryName) -> Result<Option<PackageRecord>, Error> {
        self.cached(&self.cache.packages, name.clone(), self.inner.package(name))
            .await
    }

    async fn package_by_id(&self, id: PackageId) -> Result<Option<PackageRecord>, Error> {
        self.inner.package_by_id(id).await
    }

    async fn list_packages(
        &self,
        owner: &Login,
        query: PackageQuery,
        page: &PageRequest,
    ) -> Result<Page<PackageRecord>, Error> {
        self.inner.list_packages(owner, query, page).await
    }

    async fn update_package(
        &self,
        name: &RepositoryName,
        changes: &PackageChanges,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        self.change(self.inner.update_package(name, changes, now))
            .await
    }

    async fn set_grant(
        &self,
        name: &RepositoryName,
        grantee: &Grantee,
        role: Role,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        self.change(self.inner.set_grant(name, grantee, role, now))
            .await
    }

    async fn remove_grant(
        &self,
        name: &RepositoryName,
        grantee: &Grantee,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        self.change(self.inner.remove_grant(name, grantee, now))
            .await
    }

    async fn delete_package(
        &self,
        name: &RepositoryName,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        self.change(self.inner.delete_package(name, now)).await
    }

    async fn restore_package(
        &self,
        name: &RepositoryName,
        now: Timestamp,
    ) -> Result<PackageRecord, Error> {
        self.change(self.inner.restore_package(name, now)).await
    }

    async fn record_version(
        &self,
        name: &RepositoryName,
        version: &NewVersion,
        now: Timestamp,
    ) -> Result<VersionRecord, Error> {
        self.change(self.inner.record_version(name, version, now))
            .await
    }

    async fn version(
        &self,
        name: &RepositoryName,
        id: VersionId,
    ) -> Result<Option<VersionRecord>, Error> {
        self.inner.version(name, id).await
    }

    async fn version_by_digest(
        &self,
        name: &RepositoryName,
        digest: &Digest,
    ) -> Result<Option<VersionRecord>, Error> {
        self.inner.version_by_digest(name, digest).await
    }

    async fn version_by_tag(
        &self,
        name: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<VersionRecord>, Error> {
        self.inner.version_by_tag(name, tag).await
    }

    async fn list_versions(
        &self,
        name: &RepositoryName,
        query: VersionQuery,
        page: &PageRequest,
    ) -> Result<Page<VersionRecord>, Error> {
        self.inner.list_versions(name, query, page).await
    }

    async fn remove_tag(
        &self,
        name: &RepositoryName,
        tag: &Tag,
        now: Timestamp,
    ) -> Result<VersionRecord, Error> {
        self.change(self.inner.remove_tag(name, tag, now)).await
    }

    async fn delete_version(
        &self,
        name: &RepositoryName,
        id: VersionId,
        now: Timestamp,
    ) -> Result<VersionRecord, Error> {
        self.change(self.inner.delete_version(name, id, now)).await
    }

    async fn restore_version(
        &self,
        name: &RepositoryName,
        id: VersionId,
        now: Timestamp,
    ) -> Result<VersionRecord, Error> {
        self.change(self.inner.restore_version(name, id, now)).await
    }

    async fn purge_expired(&self, now: Timestamp) -> Result<PurgeReport, Error> {
        self.change(self.inner.purge_expired(now)).await
    }

    async fn set_collaborator(
        &self,
        repository: &CodeRepository,
        collaborator: &Collaborator,
        role: RepositoryRole,
    ) -> Result<(), Error> {
        self.change(self.inner.set_collaborator(repository, collaborator, role))
            .await
    }

    async fn remove_collaborator(
        &self,
        repository: &CodeRepository,
        collaborator: &Collaborator,
    ) -> Result<(), Error> {
        self.change(self.inner.remove_collaborator(repository, collaborator))
            .await
    }

    async fn repository_access(
        &self,
        repository: &CodeRepository,
    ) -> Result<RepositoryAccess, Error> {
        self.inner.repository_access(repository).await
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
            self.inner.access_context(name, caller, lookup),
        )
        .await
    }
}
