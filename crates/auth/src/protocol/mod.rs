//! The Docker token protocol, as any registry speaks it: registry token
//! [`Scope`]s (`repository:octocat/app:pull,push`), `WWW-Authenticate`
//! challenges ([`BearerChallenge`], [`BasicChallenge`]), the
//! [`Credentials`] of an `Authorization` header, and bearer tokens: their
//! [`Claims`], issued and verified as HS256 JWTs by a [`TokenSigner`], and
//! verified through the [`BearerVerifier`] trait, which a [`JwksVerifier`]
//! (feature `jwks`) also implements for RS256 and ES256 tokens from an
//! external token server.
//!
//! Nothing here knows about GitHub's policy ([`crate::github`]): a registry
//! with its own notion of users and permissions can use this module alone.
//!
//! ```
//! use std::time::Duration;
//! use wharf_auth::protocol::{
//!     BearerChallenge, BearerVerifier, Credentials, ScopeSet, SigningKey, Timestamp, TokenSigner,
//! };
//!
//! let now = Timestamp::from_unix_seconds(1_700_000_000);
//! let asked = ScopeSet::from_request(["repository:acme/app:pull,push"])?;
//!
//! // No credentials: challenge the client to fetch a token.
//! let challenge = BearerChallenge::new("https://auth.example/token", "registry.example")
//!     .with_scopes(&asked);
//! assert!(challenge.to_string().starts_with(r#"Bearer realm="https://auth.example/token""#));
//!
//! // The token endpoint grants what its own policy allows (here: pull only).
//! let signer = TokenSigner::new(
//!     &SigningKey::generate()?,
//!     "https://auth.example/token",
//!     "registry.example",
//!     Duration::from_secs(300),
//! );
//! let granted: ScopeSet = "repository:acme/app:pull".parse()?;
//! let issued = signer.issue("alice", &granted, now)?;
//!
//! // The registry reads the Authorization header and verifies the token.
//! let header = format!("Bearer {}", issued.token);
//! let Credentials::Bearer { token } = Credentials::parse_authorization(&header)? else {
//!     unreachable!("a bearer token")
//! };
//! let verifier: &dyn BearerVerifier = &signer;
//! let claims = verifier.verify(token.expose_secret(), now)?;
//! assert_eq!(claims.sub, "alice");
//! assert!(claims.permits(&"repository:acme/app:pull".parse()?));
//! assert!(!claims.permits(&"repository:acme/app:push".parse()?));
//! # Ok::<(), wharf_auth::Error>(())
//! ```
//!
//! # Verifying tokens of an external token server
//!
//! With the `jwks` feature (off by default: it adds the RustCrypto `rsa`
//! and `p256` crates), [`JwksVerifier`] verifies the RS256 and ES256 tokens
//! of a token server given its JSON Web Key Set ([`Jwks`]): a registry
//! that holds an `Arc<dyn BearerVerifier>` accepts them exactly as it
//! accepts its own.
#![cfg_attr(not(feature = "jwks"), doc = "")]
#![cfg_attr(
    not(feature = "jwks"),
    doc = "[`Jwks`]: #verifying-tokens-of-an-external-token-server"
)]
#![cfg_attr(
    not(feature = "jwks"),
    doc = "[`JwksVerifier`]: #verifying-tokens-of-an-external-token-server"
)]

mod bearer;
mod challenge;
mod credentials;
#[cfg(feature = "jwks")]
mod jwks;
mod jwt;
mod scope;
mod time;

pub use bearer::{BearerVerifier, Claims, TokenSubject};
pub use challenge::{BasicChallenge, BearerChallenge, ChallengeError};
pub use credentials::{Credentials, Secret};
#[cfg(feature = "jwks")]
#[cfg_attr(docsrs, doc(cfg(feature = "jwks")))]
pub use jwks::{Jwks, JwksVerifier};
pub use jwt::{IssuedToken, SigningKey, TokenSigner};
pub use scope::{Resource, ResourceClass, Scope, ScopeActions, ScopeSet};
pub use time::{Timestamp, UtcDateTime};
