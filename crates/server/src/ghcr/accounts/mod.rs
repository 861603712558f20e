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
//! A request allowed once is allowed again from memory (the same
//! `Authorization` bytes, repository and action) only while the store's
//! [`Revision`](wharf_packages::Revision) stays the one it was decided
//! under and the credentials have not expired, so it ends with the store
//! answers it was drawn from: at once for a change made through the store
//! or reported to it, within the cache's lifetime otherwise. Denials are
//! never remembered.
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

pub(crate) mod authn;
mod authz;
mod config;
mod decisions;

use std::fmt;
use std::sync::Arc;

use wharf_annotations::CodeHost;
use wharf_auth::{BearerChallenge, Timestamp, TokenSigner};
use wharf_packages::PackageStore;

use crate::distribution::error::ApiError;
use crate::ghcr::clock::Clock;

use authn::VerifiedTokens;
pub(crate) use authn::{AuthnError, Caller};
pub use config::{AccountsConfig, AccountsError, AnnotationPolicy};
use decisions::Decisions;

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
    decisions: Decisions,
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
                decisions: Decisions::default(),
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
}

/// A store failure, logged; the client gets a generic 500, or 503
/// `UNAVAILABLE` (with `Retry-After`) when the database is out of reach.
pub(crate) fn store_failure(err: &wharf_packages::Error) -> ApiError {
    if err.is_unavailable() {
        return ApiError::unavailable(err);
    }
    ApiError::internal(err)
}
