//! [`TokenAuthorizer`]: Docker token authentication for a registry whose
//! bearer tokens come from a token server, its own or an external one
//! (CNCF Distribution's `auth: token`), verified through
//! [`wharf_auth::BearerVerifier`]: HS256 with a shared key
//! ([`wharf_auth::TokenSigner`]), or RS256 and ES256 against the token
//! server's JWKS (`wharf_auth::JwksVerifier`, feature `jwks` of
//! `wharf-auth`).
//!
//! Every request needs a token whose `access` claim covers what it does:
//! without one it gets 401 with a `Bearer` challenge naming the realm, the
//! service and the scope to ask for (`pull,push` for a push, as clients
//! ask); with an invalid or expired one, 401 with `error="invalid_token"`;
//! with one that grants less, 401 with `error="insufficient_scope"`, as the
//! token specification says, so the client asks again with the scope.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use axum::body::Body;
//! use http::Request;
//! use tower::ServiceExt;
//! use wharf_auth::{ScopeSet, SigningKey, Timestamp, TokenSigner};
//! use wharf_server::distribution::token_auth::TokenAuthorizer;
//! use wharf_server::Registry;
//! use wharf_storage::MemoryStorage;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! // The token server's key, shared with the registry (HS256).
//! let key = SigningKey::generate()?;
//! let token_server = TokenSigner::new(&key, "https://auth.example/token", "registry.example", Duration::from_secs(300));
//! let verifier = TokenSigner::new(&key, "https://auth.example/token", "registry.example", Duration::from_secs(300));
//! let authorizer = TokenAuthorizer::new(Arc::new(verifier), "https://auth.example/token", "registry.example");
//! let router = Registry::builder(Arc::new(MemoryStorage::new()))
//!     .authorizer(Arc::new(authorizer))
//!     .build()
//!     .router();
//!
//! let pull = || Request::get("/v2/octocat/app/tags/list");
//! let response = router.clone().oneshot(pull().body(Body::empty())?).await?;
//! assert_eq!(response.status(), 401);
//! assert_eq!(
//!     response.headers()["www-authenticate"],
//!     r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:octocat/app:pull""#
//! );
//!
//! let access: ScopeSet = "repository:octocat/app:pull".parse()?;
//! let now = Timestamp::from_system_time(std::time::SystemTime::now());
//! let token = token_server.issue("alice", &access, now)?;
//! let response = router
//!     .oneshot(pull().header("authorization", format!("Bearer {}", token.token)).body(Body::empty())?)
//!     .await?;
//! assert_eq!(response.status(), 404); // allowed; the repository does not exist
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use http::header::AUTHORIZATION;
use http::request::Parts;
use wharf_auth::{
    BearerChallenge, BearerVerifier, ChallengeError, Claims, Credentials, Scope, ScopeActions,
    Timestamp,
};

use crate::distribution::auth::{unauthorized, Access, Action, Authorizer};
use crate::distribution::error::ApiError;

/// An [`Authorizer`] that lets a request through when its bearer token,
/// verified by a [`BearerVerifier`], grants the access it asks for. See the
/// [module docs](self).
#[derive(Clone)]
pub struct TokenAuthorizer {
    verifier: Arc<dyn BearerVerifier>,
    realm: String,
    service: String,
}

impl fmt::Debug for TokenAuthorizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAuthorizer")
            .field("realm", &self.realm)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl TokenAuthorizer {
    /// Tokens checked by `verifier`; challenges send clients to `realm`
    /// (the token server's URL) for `service` (the `aud` tokens carry).
    pub fn new(
        verifier: Arc<dyn BearerVerifier>,
        realm: impl Into<String>,
        service: impl Into<String>,
    ) -> TokenAuthorizer {
        TokenAuthorizer {
            verifier,
            realm: realm.into(),
            service: service.into(),
        }
    }

    fn challenge(&self, scope: Option<Scope>, error: Option<ChallengeError>) -> BearerChallenge {
        let mut challenge = BearerChallenge::new(self.realm.clone(), self.service.clone());
        if let Some(scope) = scope {
            challenge = challenge.with_scope(scope);
        }
        if let Some(error) = error {
            challenge = challenge.with_error(error);
        }
        challenge
    }

    /// The verified claims of the request's bearer token: `Ok(None)` when
    /// it has none, the 401 to answer when it is not valid.
    fn claims(&self, request: &Parts, scope: Option<&Scope>) -> Result<Option<Claims>, ApiError> {
        let Some(header) = request.headers.get(AUTHORIZATION) else {
            return Ok(None);
        };
        let invalid = |reason: String| {
            let challenge = self.challenge(scope.cloned(), Some(ChallengeError::InvalidToken));
            unauthorized(&challenge.to_string(), reason)
        };
        let token = match header.to_str().map(Credentials::parse_authorization) {
            Ok(Ok(Credentials::Bearer { token })) => token,
            _ => {
                return Err(invalid(
                    "a bearer token from the token server is required".into(),
                ))
            }
        };
        let now = Timestamp::from_system_time(SystemTime::now());
        self.verifier
            .verify(token.expose_secret(), now)
            .map(Some)
            .map_err(|err| invalid(format!("the bearer token is not valid: {err}")))
    }
}

/// The scope a request needs, as clients ask for it.
fn scope_of(access: Access<'_>) -> Option<Scope> {
    match access {
        Access::Repository { name, action } => {
            let actions = match action {
                Action::Pull => ScopeActions::PULL,
                Action::Push => ScopeActions::PULL.union(ScopeActions::PUSH),
                Action::Delete => ScopeActions::DELETE,
            };
            Some(Scope::repository(name.clone(), actions))
        }
        Access::Catalog => Some(Scope::catalog()),
        Access::Base => None,
    }
}

/// What the request itself does (a push needs `push`, not `pull`).
fn needed(access: Access<'_>) -> Option<Scope> {
    match access {
        Access::Repository {
            name,
            action: Action::Push,
        } => Some(Scope::repository(name.clone(), ScopeActions::PUSH)),
        other => scope_of(other),
    }
}

#[async_trait]
impl Authorizer for TokenAuthorizer {
    async fn authorize(&self, request: &Parts, access: Access<'_>) -> Result<(), ApiError> {
        let ask = scope_of(access);
        let Some(claims) = self.claims(request, ask.as_ref())? else {
            let challenge = self.challenge(ask, None);
            return Err(unauthorized(
                &challenge.to_string(),
                "authentication required: ask the token server for a bearer token",
            ));
        };
        match needed(access) {
            None => Ok(()),
            Some(scope) if claims.permits(&scope) => Ok(()),
            Some(_) => {
                let challenge = self.challenge(ask, Some(ChallengeError::InsufficientScope));
                Err(unauthorized(
                    &challenge.to_string(),
                    format!("the bearer token does not grant {}", access.scope()),
                ))
            }
        }
    }

    async fn principal(&self, request: &Parts) -> Option<String> {
        let claims = self.claims(request, None).ok()??;
        (!claims.sub.is_empty()).then_some(claims.sub)
    }
}
