//! The GitHub Container registry model: who a request is from, and whether
//! it may do what it asks, backed by a [`PackageStore`] and `wharf-auth`.
//!
//! [`Accounts`] is the registry's [`Authorizer`] when accounts are on
//! ([`RegistryBuilder::accounts`](crate::RegistryBuilder::accounts)).
//!
//! # Credentials on `/v2/`
//!
//! | `Authorization` | who |
//! |---|---|
//! | none | anonymous: pulls public packages, nothing else |
//! | `Bearer <JWT>` from [`/token`](crate#the-token-endpoint) | the personal access token or workflow token it was minted from (its `tid` claim, re-read on every request through the store's cache), within what the token's `access` claim grants; beyond it, public pulls |
//! | `Basic <user>:<token>` | a personal access token (a user, capped by the token's scopes) or a workflow token (its repository), found by its SHA-256 |
//! | `Bearer <token>` (not a JWT) | the same, for clients that send a token as bearer |
//!
//! The username of Basic credentials is not checked: the token says who
//! the caller is (as `docker login` users of GitHub's registry expect).
//!
//! # Bearer tokens are re-checked
//!
//! Every request is authorized against the current state: who owns the
//! package, the roles and grants in force, its visibility, and whether the
//! stored token behind the credentials still works. A bearer token's
//! `access` claim is an upper bound, never a grant: a push token minted
//! while a name was free stops pushing once someone else has created the
//! package, and revoking a personal access token ends the bearer tokens
//! minted from it within the store cache's lifetime (two seconds by
//! default). A bearer token stands for the same principal as the stored
//! token it came from, with that token's scopes, so the same caller gets
//! the same answer whichever way it authenticates: the catalog, package
//! pages and owner listings show a bearer token what its stored token
//! may pull, within its claims (a token issued for `registry:catalog:*`
//! lists the whole catalog as Basic auth would).
//!
//! # Answers
//!
//! | case | answer |
//! |---|---|
//! | no credentials, and the action needs some | 401 `UNAUTHORIZED` with `WWW-Authenticate: Bearer realm="<public URL>/token",service="<service>",scope="repository:<name>:pull"` |
//! | bad, expired or revoked credentials | 401 `UNAUTHORIZED` with the challenge (`error="invalid_token"` for a bearer token) |
//! | credentials whose scopes, or whose role, do not cover the action | 403 `DENIED` (a bearer challenge with `error="insufficient_scope"` for bearer tokens) |
//! | a package that does not exist or that the caller may not see | 404 `NAME_UNKNOWN`, the same answer for both |
//! | `GET /v2/` without (valid) credentials | 401 with the challenge, so clients log in |
//!
//! The catalog (`GET /v2/_catalog`) lists only the repositories the caller
//! may pull: public ones for anonymous callers.
//!
//! # A private package and a missing one read the same
//!
//! To whoever may not see a package, it is answered exactly as a package
//! that does not exist (or was deleted) in the same namespace: same status,
//! error code, message (which names only what the caller asked for) and
//! challenge, on the registry API, the token endpoint, the REST API and
//! the package pages. Every message that depends on the package is given
//! only to callers who may see it. Accounts are not secret (GitHub shows
//! who exists): an unknown namespace may be answered differently, except
//! to anonymous callers, who are asked to log in as for any private
//! package. The exception, by necessity, is a push by someone who could
//! create the package: they learn that the name is taken (403 `DENIED`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use http::request::Parts;
use url::Url;
use wharf_annotations::CodeHost;
use wharf_auth::{
    authorize, BearerChallenge, ChallengeError, Claims, Credentials, Decision, DenyKind, Identity,
    OwnerKind, PackageState, Principal, Resource, Scope, ScopeActions, SigningKey, Timestamp,
    TokenHash, TokenSigner, Visibility,
};
use wharf_packages::{AccessContext, PackageLookup, PackageStore, TokenId};
use wharf_reference::RepositoryName;

use crate::distribution::auth::{Access, Action, Authorizer};
use crate::distribution::error::{ApiError, ErrorCode};
use crate::ghcr::clock::Clock;

/// What a manifest push does when its annotations or labels break a rule
/// of `wharf-annotations` (a description over 512 characters, a control
/// character, a source that is not an http(s) URL).
///
/// By default the push is accepted, the offending value is left out of the
/// package's metadata and the problem is logged (as GitHub does).
/// With `reject_invalid`, the push is refused with 400 `MANIFEST_INVALID`
/// naming every problem, before anything is stored.
///
/// ```
/// use wharf_server::AnnotationPolicy;
///
/// let strict = AnnotationPolicy::default().reject_invalid(true);
/// assert!(strict.reject_invalid);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AnnotationPolicy {
    /// What extraction does with over-long values and control characters
    /// (reject them, or repair them: truncate, strip).
    pub extraction: wharf_annotations::Policy,
    /// Whether a push whose annotations break a rule is refused.
    pub reject_invalid: bool,
}

impl AnnotationPolicy {
    /// This policy with `extraction`.
    #[must_use]
    pub fn extraction(mut self, extraction: wharf_annotations::Policy) -> Self {
        self.extraction = extraction;
        self
    }

    /// This policy, refusing pushes whose annotations break a rule when
    /// `reject` is true.
    #[must_use]
    pub fn reject_invalid(mut self, reject: bool) -> Self {
        self.reject_invalid = reject;
        self
    }
}

/// Why an [`AccountsConfig`] could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountsError {
    /// The public URL is not an absolute `http` or `https` URL without
    /// query or fragment.
    #[error("invalid public URL `{url}`: {reason}")]
    InvalidPublicUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// How the registry authenticates and authorizes requests and records
/// packages: the store, the token signing key, and the names clients see.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use wharf_auth::SigningKey;
/// use wharf_packages::{CacheOptions, CachedStore, SqlitePackageStore};
/// use wharf_server::{AccountsConfig, Registry};
/// use wharf_storage::MemoryStorage;
///
/// let store = CachedStore::new(SqlitePackageStore::in_memory()?, CacheOptions::default());
/// let config = AccountsConfig::new(Arc::new(store), SigningKey::generate()?, "https://registry.example")?
///     .token_ttl(Duration::from_secs(600));
/// assert_eq!(config.service, "registry.example");
/// assert_eq!(config.code_hosts[0].to_string(), "https://registry.example");
/// let registry = Registry::builder(Arc::new(MemoryStorage::new())).accounts(config).build();
/// assert_eq!(registry.accounts().map(|a| a.realm()), Some("https://registry.example/token"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct AccountsConfig {
    /// Accounts, tokens, packages and versions. Put a
    /// [`CachedStore`](wharf_packages::CachedStore) in front of a database:
    /// every request looks up a token or a package.
    pub store: Arc<dyn PackageStore>,
    /// The key registry bearer tokens are signed with (HS256).
    pub signing_key: SigningKey,
    /// The registry's public base URL, without a trailing `/`
    /// (`https://registry.example`): the token endpoint is
    /// `<public_url>/token`, and package URLs start with it.
    pub public_url: String,
    /// The service name of challenges and tokens (`aud`); by default the
    /// public URL's `host[:port]`.
    pub service: String,
    /// The code hosts whose repositories an
    /// `org.opencontainers.image.source` annotation links a package to; by
    /// default the public URL's origin.
    pub code_hosts: Vec<CodeHost>,
    /// How long a bearer token from `/token` is valid (default 5 minutes).
    pub token_ttl: Duration,
    /// What a push with invalid annotations does.
    pub annotations: AnnotationPolicy,
    /// Where the time comes from (default: the system clock).
    pub clock: Clock,
}

impl fmt::Debug for AccountsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountsConfig")
            .field("public_url", &self.public_url)
            .field("service", &self.service)
            .field("code_hosts", &self.code_hosts)
            .field("token_ttl", &self.token_ttl)
            .field("annotations", &self.annotations)
            .finish_non_exhaustive()
    }
}

impl AccountsConfig {
    /// The default lifetime of a bearer token.
    pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);

    /// A configuration over `store`, signing tokens with `signing_key`, for
    /// the registry reachable at `public_url` (`https://registry.example`,
    /// `http://localhost:5000`).
    pub fn new(
        store: Arc<dyn PackageStore>,
        signing_key: SigningKey,
        public_url: &str,
    ) -> Result<AccountsConfig, AccountsError> {
        let invalid = |reason: &str| AccountsError::InvalidPublicUrl {
            url: public_url.to_owned(),
            reason: reason.to_owned(),
        };
        let url = Url::parse(public_url.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("it must not have a query or a fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("it must not contain credentials"));
        }
        let host = url
            .host_str()
            .ok_or_else(|| invalid("it has no host"))?
            .to_owned();
        let service = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        let origin = url.origin().ascii_serialization();
        let code_host: CodeHost = origin.parse().map_err(|e| invalid(&format!("{e}")))?;
        Ok(AccountsConfig {
            store,
            signing_key,
            public_url: url.as_str().trim_end_matches('/').to_owned(),
            service,
            code_hosts: vec![code_host],
            token_ttl: AccountsConfig::DEFAULT_TOKEN_TTL,
            annotations: AnnotationPolicy::default(),
            clock: Clock::system(),
        })
    }

    /// With another service name.
    #[must_use]
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// With these code hosts instead of the default.
    #[must_use]
    pub fn code_hosts(mut self, hosts: Vec<CodeHost>) -> Self {
        self.code_hosts = hosts;
        self
    }

    /// With another bearer token lifetime.
    #[must_use]
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// With another annotation policy.
    #[must_use]
    pub fn annotations(mut self, policy: AnnotationPolicy) -> Self {
        self.annotations = policy;
        self
    }

    /// With another clock.
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }
}

/// The accounts model in force: authenticates requests, decides with
/// [`wharf_auth::authorize`], issues tokens, and records packages. Cheap
/// to clone. Built by [`RegistryBuilder::accounts`](crate::RegistryBuilder::accounts).
#[derive(Clone)]
pub struct Accounts {
    inner: Arc<AccountsInner>,
}

struct AccountsInner {
    store: Arc<dyn PackageStore>,
    signer: TokenSigner,
    verified: VerifiedTokens,
    public_url: String,
    realm: String,
    service: String,
    code_hosts: Vec<CodeHost>,
    annotations: AnnotationPolicy,
    clock: Clock,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("public_url", &self.inner.public_url)
            .field("service", &self.inner.service)
            .field("code_hosts", &self.inner.code_hosts)
            .finish_non_exhaustive()
    }
}

/// Who a request authenticated as, and with what.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    /// No credentials.
    Anonymous,
    /// A registry bearer token from the token endpoint.
    Bearer {
        /// Its claims: an upper bound on what it may do.
        claims: Arc<Claims>,
        /// The principal of the stored token it was minted from, as that
        /// token stands now (anonymous for an anonymous bearer token).
        principal: Principal,
    },
    /// A stored token: a personal access token or a workflow token.
    Stored {
        /// Who it authenticates.
        principal: Principal,
        /// The stored token's id, which bearer tokens minted from it name.
        token: TokenId,
    },
}

impl Caller {
    /// Who the caller is.
    pub(crate) fn identity(&self) -> Identity {
        self.principal().identity()
    }

    /// The principal `authorize` decides about, the same whichever way the
    /// caller authenticated: a bearer token stands for the stored token it
    /// was minted from, with that token's scopes or permission (its claims
    /// bound it further, see [`Caller::claims_allow`]).
    pub(crate) fn principal(&self) -> &Principal {
        match self {
            Caller::Anonymous => &Principal::Anonymous,
            Caller::Bearer { principal, .. } | Caller::Stored { principal, .. } => principal,
        }
    }

    /// Whether the caller's credentials reach as far as `actions` on the
    /// repository `name`: always, except for a bearer token, whose claims
    /// must grant them.
    pub(crate) fn claims_allow(&self, name: &RepositoryName, actions: ScopeActions) -> bool {
        match self {
            Caller::Bearer { claims, .. } => claims.allows(name, actions),
            Caller::Anonymous | Caller::Stored { .. } => true,
        }
    }

    /// Whether the caller's credentials reach the whole catalog
    /// (`registry:catalog:*`): always, except for a bearer token not
    /// issued for it.
    pub(crate) fn claims_allow_catalog(&self) -> bool {
        match self {
            Caller::Bearer { claims, .. } => {
                !claims.access.actions_for(&Resource::Catalog).is_empty()
            }
            Caller::Anonymous | Caller::Stored { .. } => true,
        }
    }

    fn is_bearer(&self) -> bool {
        matches!(self, Caller::Bearer { .. })
    }
}

/// Credentials that were presented but are not good.
#[derive(Debug, Clone)]
pub(crate) struct BadCredentials {
    /// What is wrong, for the client.
    pub(crate) reason: String,
    /// Whether a bearer token was presented (its challenge says
    /// `invalid_token`).
    pub(crate) bearer: bool,
}

/// Either bad credentials or a failure of the store.
#[derive(Debug)]
pub(crate) enum AuthnError {
    Bad(BadCredentials),
    Internal(ApiError),
}

/// Whether `token` has the shape of a JWT (three base64url parts).
fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() == 2
}

/// The JWT of a `Bearer <JWT>` header, if that is what it is.
pub(crate) fn bearer_jwt(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && looks_like_jwt(token)).then_some(token)
}

/// How many verified bearer tokens are remembered; when full, the memory
/// starts over.
const VERIFIED_CAPACITY: usize = 10_000;

/// Bearer tokens verified recently, by their signature. Their claims never
/// change, so only expiry needs checking again.
#[derive(Default)]
struct VerifiedTokens {
    map: std::sync::Mutex<std::collections::HashMap<Box<str>, Verified>>,
}

/// A verified token (whole) and its claims.
type Verified = (Box<str>, Arc<Claims>);

impl VerifiedTokens {
    fn get(&self, token: &str, now: Timestamp) -> Option<Arc<Claims>> {
        let signature = token.rsplit('.').next()?;
        let map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (full, claims) = map.get(signature)?;
        let leeway = TokenSigner::DEFAULT_LEEWAY;
        let current =
            now < claims.exp.saturating_add(leeway) && now.saturating_add(leeway) >= claims.nbf;
        (**full == *token && current).then(|| claims.clone())
    }

    fn insert(&self, token: &str, claims: Arc<Claims>) {
        let Some(signature) = token.rsplit('.').next() else {
            return;
        };
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= VERIFIED_CAPACITY {
            map.clear();
        }
        map.insert(signature.into(), (token.into(), claims));
    }
}

/// The registry token action standing for a registry API action.
pub(crate) fn auth_action(action: Action) -> wharf_auth::Action {
    match action {
        Action::Pull => wharf_auth::Action::Pull,
        Action::Push => wharf_auth::Action::Push,
        Action::Delete => wharf_auth::Action::Delete,
    }
}

/// The scope a challenge asks for: `pull,push` for a push, as clients ask
/// the token endpoint for both.
fn challenge_actions(action: Action) -> ScopeActions {
    match action {
        Action::Pull => ScopeActions::PULL,
        Action::Push => ScopeActions::PULL | ScopeActions::PUSH,
        Action::Delete => ScopeActions::DELETE,
    }
}

impl Accounts {
    pub(crate) fn new(config: AccountsConfig) -> Accounts {
        let realm = format!("{}/token", config.public_url);
        let signer = TokenSigner::new(
            &config.signing_key,
            realm.clone(),
            config.service.clone(),
            config.token_ttl,
        );
        Accounts {
            inner: Arc::new(AccountsInner {
                store: config.store,
                signer,
                verified: VerifiedTokens::default(),
                public_url: config.public_url,
                realm,
                service: config.service,
                code_hosts: config.code_hosts,
                annotations: config.annotations,
                clock: config.clock,
            }),
        }
    }

    /// The store of accounts, tokens, packages and versions.
    pub fn store(&self) -> &Arc<dyn PackageStore> {
        &self.inner.store
    }

    /// The registry's public base URL (no trailing `/`).
    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// The token endpoint's URL: the `realm` of challenges and the `iss`
    /// of tokens.
    pub fn realm(&self) -> &str {
        &self.inner.realm
    }

    /// The service name (`aud` of tokens).
    pub fn service(&self) -> &str {
        &self.inner.service
    }

    /// The code hosts packages are linked to.
    pub fn code_hosts(&self) -> &[CodeHost] {
        &self.inner.code_hosts
    }

    /// The annotation policy.
    pub fn annotation_policy(&self) -> AnnotationPolicy {
        self.inner.annotations
    }

    /// The token signer.
    pub(crate) fn signer(&self) -> &TokenSigner {
        &self.inner.signer
    }

    /// The current time, from the configured clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The challenge pointing clients at the token endpoint.
    pub(crate) fn challenge(&self) -> BearerChallenge {
        BearerChallenge::new(self.inner.realm.clone(), self.inner.service.clone())
    }

    /// Authenticates a registry API request from its `Authorization`
    /// header. No header is [`Caller::Anonymous`].
    pub(crate) async fn authenticate(&self, parts: &Parts) -> Result<Caller, AuthnError> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Ok(Caller::Anonymous);
        };
        let bad = |reason: String, bearer: bool| AuthnError::Bad(BadCredentials { reason, bearer });
        let header = header
            .to_str()
            .map_err(|_| bad("the Authorization header is not ASCII".to_owned(), false))?;
        // The hot path: a bearer token, verified without copying it.
        if let Some(token) = bearer_jwt(header) {
            return self.bearer_caller(token).await;
        }
        match Credentials::parse_authorization(header) {
            Ok(Credentials::Basic { password, .. }) => {
                self.stored_token(password.expose_secret(), false).await
            }
            Ok(Credentials::Bearer { token }) if looks_like_jwt(token.expose_secret()) => {
                self.bearer_caller(token.expose_secret()).await
            }
            Ok(Credentials::Bearer { token }) => {
                self.stored_token(token.expose_secret(), true).await
            }
            Err(err) => Err(bad(err.to_string(), false)),
        }
    }

    /// The caller of a registry bearer token: its claims, and the principal
    /// of the stored token it was minted from (its `tid`), re-read now
    /// (through the store's cache), so that a bearer token stops working
    /// within seconds of the revocation or expiry of its stored token. A
    /// token naming a user or a workflow but no stored token (issued before
    /// tokens named theirs) is refused: it could not be re-checked.
    async fn bearer_caller(&self, token: &str) -> Result<Caller, AuthnError> {
        let bad = |reason: String| {
            AuthnError::Bad(BadCredentials {
                reason,
                bearer: true,
            })
        };
        let claims = self
            .verify_bearer(token)
            .map_err(|err| bad(err.to_string()))?;
        let identity = claims.identity().map_err(|err| bad(err.to_string()))?;
        let principal = match (claims.tid.as_deref(), &identity) {
            (None, Identity::Anonymous) => Principal::Anonymous,
            (None, _) => {
                return Err(bad(
                    "the bearer token names no stored token to check it against; request a new one from the token endpoint".to_owned(),
                ))
            }
            (Some(tid), _) => {
                let stale = || {
                    bad("the token this bearer token was minted from no longer exists; log in again".to_owned())
                };
                let id: TokenId = tid.parse().map_err(|_| stale())?;
                let record = self
                    .inner
                    .store
                    .token(id)
                    .await
                    .map_err(|err| AuthnError::Internal(store_failure(&err)))?
                    .ok_or_else(stale)?;
                let principal = record.principal_at(self.now()).map_err(|err| {
                    bad(format!(
                        "the bearer token was minted from a token that no longer works: {err}"
                    ))
                })?;
                if principal.identity() != identity {
                    return Err(stale());
                }
                principal
            }
        };
        Ok(Caller::Bearer { claims, principal })
    }

    /// Verifies a registry bearer token, remembering the tokens it verified
    /// so that a client's next requests with the same token cost a lookup
    /// rather than an HMAC and a JSON parse. A remembered token is checked
    /// against the presented one byte for byte, and for expiry.
    fn verify_bearer(&self, token: &str) -> Result<Arc<Claims>, wharf_auth::Error> {
        let now = self.now();
        if let Some(claims) = self.inner.verified.get(token, now) {
            return Ok(claims);
        }
        let claims = Arc::new(self.inner.signer.verify(token, now)?);
        self.inner.verified.insert(token, claims.clone());
        Ok(claims)
    }

    /// Looks a personal access token or a workflow token up by its hash
    /// and checks it.
    pub(crate) async fn stored_token(
        &self,
        secret: &str,
        bearer: bool,
    ) -> Result<Caller, AuthnError> {
        let bad = |reason: String| AuthnError::Bad(BadCredentials { reason, bearer });
        let record = self
            .inner
            .store
            .find_token(&TokenHash::of(secret))
            .await
            .map_err(|err| AuthnError::Internal(store_failure(&err)))?
            .ok_or_else(|| {
                bad("bad credentials: the token is not known to this registry; use a personal access token as the password".to_owned())
            })?;
        let now = self.now();
        let principal = record
            .authenticate(secret, now)
            .map_err(|err| bad(err.to_string()))?;
        if let Err(err) = self.inner.store.record_token_use(record.id, now).await {
            tracing::warn!(error = %err, token = %record.id, "recording a token's use failed");
        }
        Ok(Caller::Stored {
            principal,
            token: record.id,
        })
    }

    /// The 401 for bad credentials on the registry API.
    fn bad_credentials(&self, bad: &BadCredentials, scope: Option<Scope>) -> ApiError {
        let mut challenge = self.challenge();
        if let Some(scope) = scope {
            challenge = challenge.with_scope(scope);
        }
        if bad.bearer {
            challenge = challenge.with_error(ChallengeError::InvalidToken);
        }
        crate::distribution::auth::unauthorized(&challenge.to_string(), bad.reason.clone())
    }

    /// What the store knows about `name` for `principal`.
    pub(crate) async fn context(
        &self,
        principal: &Principal,
        name: &RepositoryName,
        lookup: PackageLookup,
    ) -> Result<AccessContext, ApiError> {
        self.inner
            .store
            .access_context(name, principal.login(), lookup)
            .await
            .map_err(|err| store_failure(&err))
    }

    /// What `authorize` says `principal` may do to `name`, with the access
    /// context it read.
    pub(crate) async fn decide(
        &self,
        principal: &Principal,
        name: &RepositoryName,
        action: wharf_auth::Action,
        lookup: PackageLookup,
    ) -> Result<(Decision, AccessContext), ApiError> {
        let context = self.context(principal, name, lookup).await?;
        let decision = match context.state() {
            Some(state) => authorize(principal, action, &state),
            None if principal.is_authenticated() => Decision::Deny {
                kind: DenyKind::NotVisible,
                reason: format!("no account owns the namespace of {name}"),
            },
            // An anonymous caller is told what it is told of a missing
            // package in a namespace that exists (authorize asks anonymous
            // callers to log in before it looks at the owner).
            None => authorize(principal, action, &PackageState::new(name, OwnerKind::User)),
        };
        Ok((decision, context))
    }

    /// Whether `caller` may do `action` to the repository `name`: what
    /// [`authorize`] says of its principal against the current state of
    /// the package (ownership, roles, visibility), and, for a bearer
    /// token, within its claims (beyond them, only what anyone may do:
    /// pull a public package).
    pub(crate) async fn check(
        &self,
        caller: &Caller,
        name: &RepositoryName,
        action: Action,
    ) -> Result<(), ApiError> {
        let wanted = auth_action(action);
        let (decision, context) = self
            .decide(caller.principal(), name, wanted, PackageLookup::Active)
            .await?;
        let scope = Scope::repository(name.clone(), challenge_actions(action));
        match decision {
            Decision::Allow if !caller.claims_allow(name, wanted.scope_actions()) => {
                if wanted == wharf_auth::Action::Pull && is_public(&context) {
                    return Ok(());
                }
                Err(self.denial(
                    caller,
                    DenyKind::InsufficientScope,
                    format!(
                        "the bearer token does not grant {} on {name}; request a token with scope `{scope}`",
                        action.as_str()
                    ),
                    scope,
                    name,
                ))
            }
            Decision::Allow => Ok(()),
            Decision::Deny { kind, reason } => Err(self.denial(caller, kind, reason, scope, name)),
        }
    }

    /// The answer to a denial (see the module's table).
    fn denial(
        &self,
        caller: &Caller,
        kind: DenyKind,
        reason: String,
        scope: Scope,
        name: &RepositoryName,
    ) -> ApiError {
        match kind {
            DenyKind::NeedsAuthentication => {
                let challenge = self.challenge().with_scope(scope);
                crate::distribution::auth::unauthorized(&challenge.to_string(), reason)
            }
            DenyKind::NotVisible => ApiError::new(
                ErrorCode::NameUnknown,
                "repository name not known to registry",
            )
            .with_detail(serde_json::json!({ "name": name.to_string() })),
            DenyKind::InsufficientScope | DenyKind::Forbidden => {
                let err = crate::distribution::auth::denied(reason);
                if caller.is_bearer() {
                    let challenge = self
                        .challenge()
                        .with_scope(scope)
                        .with_error(ChallengeError::InsufficientScope);
                    match HeaderValue::from_str(&challenge.to_string()) {
                        Ok(value) => err.with_header(WWW_AUTHENTICATE, value),
                        Err(_) => err,
                    }
                } else {
                    err
                }
            }
        }
    }

    /// The caller of a registry API request, or the 401 (or 500) to answer.
    pub(crate) async fn caller(
        &self,
        parts: &Parts,
        scope: Option<Scope>,
    ) -> Result<Caller, ApiError> {
        match self.authenticate(parts).await {
            Ok(caller) => Ok(caller),
            Err(AuthnError::Bad(bad)) => Err(self.bad_credentials(&bad, scope)),
            Err(AuthnError::Internal(err)) => Err(err),
        }
    }

    /// Whether `caller` may pull `name` (for package pages: no error, a
    /// yes or no), by the rule of [`check`](Self::check).
    pub(crate) async fn may_pull(
        &self,
        caller: &Caller,
        name: &RepositoryName,
    ) -> Result<bool, ApiError> {
        self.may_see(caller, name, false).await
    }

    /// Whether `caller`'s principal may pull `name` now, and its
    /// credentials reach that far: a bearer token's claims name the
    /// repository, or `whole` (a listing the token was issued for), or the
    /// package is public.
    async fn may_see(
        &self,
        caller: &Caller,
        name: &RepositoryName,
        whole: bool,
    ) -> Result<bool, ApiError> {
        let (decision, context) = self
            .decide(
                caller.principal(),
                name,
                wharf_auth::Action::Pull,
                PackageLookup::Active,
            )
            .await?;
        Ok(decision.is_allowed()
            && (whole || caller.claims_allow(name, ScopeActions::PULL) || is_public(&context)))
    }
}

#[async_trait]
impl Authorizer for Accounts {
    async fn authorize(&self, request: &Parts, access: Access<'_>) -> Result<(), ApiError> {
        let scope = match access {
            Access::Repository { name, action } => {
                Some(Scope::repository(name.clone(), challenge_actions(action)))
            }
            Access::Catalog | Access::Base => None,
        };
        let caller = self.caller(request, scope).await?;
        match access {
            Access::Base => match caller {
                Caller::Anonymous => Err(crate::distribution::auth::unauthorized(
                    &self.challenge().to_string(),
                    "authentication required: log in with your username and a personal access token",
                )),
                _ => Ok(()),
            },
            // Listed per repository: see `visible_repositories`.
            Access::Catalog => Ok(()),
            Access::Repository { name, action } => self.check(&caller, name, action).await,
        }
    }

    async fn visible_repositories(
        &self,
        request: &Parts,
        names: Vec<RepositoryName>,
    ) -> Result<Vec<RepositoryName>, ApiError> {
        let caller = self.caller(request, None).await?;
        // A bearer token issued for the catalog lists what its principal
        // may pull, as the same token through Basic auth does; one issued
        // for some repositories only, what those claims reach.
        let whole = caller.claims_allow_catalog();
        let mut visible = Vec::with_capacity(names.len());
        for name in names {
            if self.may_see(&caller, &name, whole).await? {
                visible.push(name);
            }
        }
        Ok(visible)
    }

    async fn principal(&self, request: &Parts) -> Option<String> {
        let subject = self.authenticate(request).await.ok()?.identity().subject();
        (!subject.is_empty()).then_some(subject)
    }
}

/// Whether the package of `context` is public: pulled by anyone, whatever
/// their credentials reach.
fn is_public(context: &AccessContext) -> bool {
    context
        .package
        .as_ref()
        .is_some_and(|p| p.visibility() == Visibility::Public)
}

/// A store failure, logged; the client gets a generic 500.
pub(crate) fn store_failure(err: &wharf_packages::Error) -> ApiError {
    ApiError::internal(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TokenSigner {
        let key = SigningKey::from_bytes(&[7; 32]).expect("key");
        TokenSigner::new(&key, "iss", "svc", Duration::from_secs(300))
    }

    #[test]
    fn a_remembered_token_is_given_back_only_for_the_same_bytes_and_while_current() {
        let signer = signer();
        let now = Timestamp::from_unix_seconds(1_700_000_000);
        let granted = "repository:a/b:pull".parse().expect("scope");
        let issued = signer
            .issue(&Identity::Anonymous, &granted, now)
            .expect("issue");
        let claims = Arc::new(signer.verify(&issued.token, now).expect("verify"));
        let verified = VerifiedTokens::default();
        verified.insert(&issued.token, claims.clone());

        assert_eq!(verified.get(&issued.token, now), Some(claims));
        // Another payload under the same signature is not the token verified.
        let (_, signature) = issued.token.rsplit_once('.').expect("jwt");
        let forged = format!("eyJhbGciOiJIUzI1NiJ9.e30.{signature}");
        assert_eq!(verified.get(&forged, now), None);
        // Past its expiry (and the leeway), it is not given back.
        let late = now.saturating_add(Duration::from_secs(300) + TokenSigner::DEFAULT_LEEWAY);
        assert_eq!(verified.get(&issued.token, late), None);
    }

    #[test]
    fn only_bearer_jwts_take_the_fast_path() {
        let table = [
            ("Bearer a.b.c", Some("a.b.c")),
            ("bearer  a.b.c ", Some("a.b.c")),
            ("Bearer wharf_pat_abc", None),
            ("Basic a.b.c", None),
            ("Bearer", None),
        ];
        for (header, expected) in table {
            assert_eq!(bearer_jwt(header), expected, "{header}");
        }
    }
}
