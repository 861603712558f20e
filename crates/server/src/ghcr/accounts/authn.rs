//! Authentication: who a request is from ([`Caller`]), from its
//! `Authorization` header, with recently verified bearer tokens remembered.

use std::sync::Arc;

use http::header::AUTHORIZATION;
use http::request::Parts;
use wharf_auth::{
    ChallengeError, Claims, Credentials, Identity, Principal, Resource, Scope, ScopeActions,
    Timestamp, TokenHash, TokenSigner,
};
use wharf_packages::{Credential, TokenId, TokenRecord};
use wharf_reference::RepositoryName;

use super::{store_failure, Accounts};
use crate::distribution::error::ApiError;

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
        /// When it, or the stored token, stops working.
        until: Timestamp,
    },
    /// A stored token: a personal access token or a workflow token.
    Stored {
        /// Who it authenticates.
        principal: Principal,
        /// The stored token's id, which bearer tokens minted from it name.
        token: TokenId,
        /// When it expires, if it does.
        until: Option<Timestamp>,
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

    /// When the caller's credentials stop working by themselves (an
    /// expiry), if they do.
    pub(crate) fn until(&self) -> Option<Timestamp> {
        match self {
            Caller::Anonymous => None,
            Caller::Bearer { until, .. } => Some(*until),
            Caller::Stored { until, .. } => *until,
        }
    }

    pub(crate) fn is_bearer(&self) -> bool {
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

/// How many verified bearer tokens are remembered (the least useful are
/// evicted first).
const VERIFIED_CAPACITY: u64 = 10_000;

/// Bearer tokens verified recently, by their signature. Their claims never
/// change, so only expiry needs checking again. Bounded by moka, with
/// entries dropped an hour after they were verified (a registry token
/// lives minutes), so neither a full memory nor a flood of new tokens
/// makes every request verify again at once.
pub(super) struct VerifiedTokens {
    map: moka::sync::Cache<Box<str>, Arc<Verified>>,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        VerifiedTokens {
            map: moka::sync::Cache::builder()
                .max_capacity(VERIFIED_CAPACITY)
                .time_to_live(std::time::Duration::from_secs(60 * 60))
                .build(),
        }
    }
}

/// A verified bearer token (whole, to compare with the one presented),
/// its claims, and what they name, read once when it was verified rather
/// than on every request.
pub(super) struct Verified {
    token: Box<str>,
    claims: Arc<Claims>,
    identity: Identity,
    minted_from: MintedFrom,
}

/// The stored token a bearer token names in its `tid` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MintedFrom {
    /// None (an anonymous token, or one issued before tokens named theirs).
    Nothing,
    Token(TokenId),
    /// A `tid` that names no token this registry could have stored.
    Unreadable,
}

impl Verified {
    /// Reads what `claims` name; an error for a subject that is no
    /// identity.
    fn new(token: &str, claims: Claims) -> Result<Verified, wharf_auth::Error> {
        let identity = claims.identity()?;
        let minted_from = match claims.tid.as_deref() {
            None => MintedFrom::Nothing,
            Some(tid) => tid
                .parse()
                .map_or(MintedFrom::Unreadable, MintedFrom::Token),
        };
        Ok(Verified {
            token: token.into(),
            claims: Arc::new(claims),
            identity,
            minted_from,
        })
    }
}

impl VerifiedTokens {
    fn get(&self, token: &str, now: Timestamp) -> Option<Arc<Verified>> {
        let signature = token.rsplit('.').next()?;
        let verified = self.map.get(signature)?;
        let claims = &verified.claims;
        let leeway = TokenSigner::DEFAULT_LEEWAY;
        let current =
            now < claims.exp.saturating_add(leeway) && now.saturating_add(leeway) >= claims.nbf;
        (*verified.token == *token && current).then_some(verified)
    }

    fn insert(&self, verified: Arc<Verified>) {
        let Some(signature) = verified.token.rsplit('.').next() else {
            return;
        };
        self.map.insert(signature.into(), verified);
    }
}

/// When a stored token expires, if it does.
fn token_expiry(record: &TokenRecord) -> Option<Timestamp> {
    match &record.credential {
        Credential::Personal(token) => token.expires_at,
        Credential::Workflow(token) => token.expires_at,
    }
}

/// Whether `principal` is `identity`, without building its identity.
fn is_identity(principal: &Principal, identity: &Identity) -> bool {
    match (principal, identity) {
        (Principal::Anonymous, Identity::Anonymous) => true,
        (Principal::User { login, .. }, Identity::User(user)) => login == user,
        (Principal::Workflow { repository, .. }, Identity::Workflow(workflow)) => {
            repository == workflow
        }
        _ => false,
    }
}

impl Accounts {
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
        let verified = self
            .verify_bearer(token)
            .map_err(|err| bad(err.to_string()))?;
        let stale = || {
            bad(
                "the token this bearer token was minted from no longer exists; log in again"
                    .to_owned(),
            )
        };
        let claims = &verified.claims;
        let mut until = claims.exp.saturating_add(TokenSigner::DEFAULT_LEEWAY);
        let principal = match (verified.minted_from, &verified.identity) {
            (MintedFrom::Nothing, Identity::Anonymous) => Principal::Anonymous,
            (MintedFrom::Nothing, _) => {
                return Err(bad(
                    "the bearer token names no stored token to check it against; request a new one from the token endpoint".to_owned(),
                ))
            }
            (MintedFrom::Unreadable, _) => return Err(stale()),
            (MintedFrom::Token(id), identity) => {
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
                if !is_identity(&principal, identity) {
                    return Err(stale());
                }
                if let Some(expires) = token_expiry(&record) {
                    until = until.min(expires);
                }
                principal
            }
        };
        let claims = claims.clone();
        Ok(Caller::Bearer {
            claims,
            principal,
            until,
        })
    }

    /// Verifies a registry bearer token, remembering the tokens it verified
    /// so that a client's next requests with the same token cost a lookup
    /// rather than an HMAC and a JSON parse. A remembered token is checked
    /// against the presented one byte for byte, and for expiry.
    fn verify_bearer(&self, token: &str) -> Result<Arc<Verified>, wharf_auth::Error> {
        let now = self.now();
        if let Some(verified) = self.inner.verified.get(token, now) {
            return Ok(verified);
        }
        let claims = self.inner.signer.verify(token, now)?;
        let verified = Arc::new(Verified::new(token, claims)?);
        self.inner.verified.insert(verified.clone());
        Ok(verified)
    }

    /// Looks a personal access token or a workflow token up by its hash
    /// and checks it.
    pub(crate) async fn stored_token(
        &self,
        secret: &str,
        bearer: bool,
    ) -> Result<Caller, AuthnError> {
        let bad = |reason: String| AuthnError::Bad(BadCredentials { reason, bearer });
        let hash = TokenHash::of(secret);
        let record = self
            .inner
            .store
            .find_token(&hash)
            .await
            .map_err(|err| AuthnError::Internal(store_failure(&err)))?
            .ok_or_else(|| {
                bad("bad credentials: the token is not known to this registry; use a personal access token as the password".to_owned())
            })?;
        // Found by the secret's hash; checked once more against the record
        // (a store must never answer another token), without hashing the
        // secret a second time as `TokenRecord::authenticate` would.
        if record.credential.hash() != hash {
            return Err(bad(wharf_auth::Error::TokenMismatch.to_string()));
        }
        let now = self.now();
        let principal = record
            .principal_at(now)
            .map_err(|err| bad(err.to_string()))?;
        if let Err(err) = self.inner.store.record_token_use(record.id, now).await {
            tracing::warn!(error = %err, token = %record.id, "recording a token's use failed");
        }
        Ok(Caller::Stored {
            principal,
            token: record.id,
            until: token_expiry(&record),
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

    /// The caller of a registry API request, or the 401 (or 500) to answer
    /// (whose challenge asks for `scope`, made only then).
    pub(crate) async fn caller(
        &self,
        parts: &Parts,
        scope: impl FnOnce() -> Option<Scope>,
    ) -> Result<Caller, ApiError> {
        match self.authenticate(parts).await {
            Ok(caller) => Ok(caller),
            Err(AuthnError::Bad(bad)) => Err(self.bad_credentials(&bad, scope())),
            Err(AuthnError::Internal(err)) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use wharf_auth::SigningKey;

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
        let claims = signer.verify(&issued.token, now).expect("verify");
        let verified = VerifiedTokens::default();
        verified.insert(Arc::new(
            Verified::new(&issued.token, claims.clone()).expect("identity"),
        ));

        let hit = verified.get(&issued.token, now).expect("remembered");
        assert_eq!(*hit.claims, claims);
        assert_eq!(hit.identity, Identity::Anonymous);
        assert_eq!(hit.minted_from, MintedFrom::Nothing);
        // Another payload under the same signature is not the token verified.
        let (_, signature) = issued.token.rsplit_once('.').expect("jwt");
        let forged = format!("eyJhbGciOiJIUzI1NiJ9.e30.{signature}");
        assert!(verified.get(&forged, now).is_none());
        // Past its expiry (and the leeway), it is not given back.
        let late = now.saturating_add(Duration::from_secs(300) + TokenSigner::DEFAULT_LEEWAY);
        assert!(verified.get(&issued.token, late).is_none());
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
