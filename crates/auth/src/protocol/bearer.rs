//! Registry bearer tokens, whoever signed them: their [`Claims`], the
//! [`BearerVerifier`] trait a registry verifies them through, and the
//! checks every verifier shares (the JOSE header, `iss`, `aud`, `exp` and
//! `nbf`).

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use wharf_reference::RepositoryName;

use super::scope::{access_claim, Resource, Scope, ScopeActions, ScopeSet};
use super::time::Timestamp;
use crate::error::{excerpt, Error};

/// Longest token accepted by a verifier of this crate.
pub(crate) const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Longest encoded header accepted.
pub(crate) const MAX_HEADER_LEN: usize = 512;

/// The claims of a registry bearer token, in the shape of distribution's
/// token specification (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti`,
/// and `access: [{type, name, actions}]`), plus `tid`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    /// Issuer: the token endpoint.
    pub iss: String,
    /// Subject: who the token was issued to, as the token endpoint writes
    /// it (for this crate's own tokens, a [`TokenSubject`]; `""` for
    /// anonymous).
    pub sub: String,
    /// Audience: the service (registry) the token is for.
    pub aud: String,
    /// Expiry.
    pub exp: Timestamp,
    /// Not valid before.
    pub nbf: Timestamp,
    /// Issued at.
    pub iat: Timestamp,
    /// Unique token id.
    pub jti: String,
    /// What the token grants, at most.
    #[serde(with = "access_claim", default)]
    pub access: ScopeSet,
    /// The id of the stored token (a personal access token or a workflow
    /// token) this token was minted from, as the registry's store writes
    /// it; `None` for an anonymous token, and for tokens of an external
    /// token server. See [`TokenSigner::issue_derived`].
    ///
    /// [`TokenSigner::issue_derived`]: super::TokenSigner::issue_derived
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<String>,
}

impl Claims {
    /// Whether the token grants everything `scope` asks for.
    pub fn permits(&self, scope: &Scope) -> bool {
        self.access.allows(scope)
    }

    /// Whether the token grants `actions` on the repository `name`.
    pub fn allows(&self, name: &RepositoryName, actions: ScopeActions) -> bool {
        self.access
            .actions_for(&Resource::repository(name.clone()))
            .contains(actions)
    }
}

/// Who a token is issued to, as its `sub` claim writes it.
///
/// Implemented for strings, and by [`crate::github::Identity`] (`alice`,
/// `workflow:acme/app`), so [`TokenSigner::issue`] takes either.
///
/// [`TokenSigner::issue`]: super::TokenSigner::issue
pub trait TokenSubject {
    /// The `sub` claim.
    fn token_subject(&self) -> Cow<'_, str>;
}

impl TokenSubject for str {
    fn token_subject(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl TokenSubject for String {
    fn token_subject(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl<T: TokenSubject + ?Sized> TokenSubject for &T {
    fn token_subject(&self) -> Cow<'_, str> {
        (**self).token_subject()
    }
}

/// Verifies registry bearer tokens: a compact JWS (`header.payload.signature`)
/// checked at a given time gives its [`Claims`], or an [`Error`] saying
/// why not: [`Error::InvalidSignature`], [`Error::JwtExpired`],
/// [`Error::JwtNotYetValid`], [`Error::WrongAudience`],
/// [`Error::WrongIssuer`], [`Error::UnknownKeyId`],
/// [`Error::UnsupportedAlgorithm`] (always for `alg: none`) or
/// [`Error::MalformedJwt`].
///
/// A registry holds an `Arc<dyn BearerVerifier>` and does not care who
/// signed its tokens: its own token endpoint ([`TokenSigner`], HS256) or an
/// external token server ([`JwksVerifier`], RS256 and ES256, with the
/// `jwks` feature).
///
/// [`TokenSigner`]: super::TokenSigner
#[cfg_attr(feature = "jwks", doc = "[`JwksVerifier`]: super::JwksVerifier")]
#[cfg_attr(
    not(feature = "jwks"),
    doc = "[`JwksVerifier`]: crate::protocol#verifying-tokens-of-an-external-token-server"
)]
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use wharf_auth::protocol::{BearerVerifier, ScopeSet, SigningKey, Timestamp, TokenSigner};
///
/// let signer = TokenSigner::new(
///     &SigningKey::generate()?,
///     "https://registry.example/token",
///     "registry.example",
///     Duration::from_secs(300),
/// );
/// let now = Timestamp::from_unix_seconds(1_700_000_000);
/// let issued = signer.issue("octocat", &"repository:octocat/app:pull".parse::<ScopeSet>()?, now)?;
///
/// let verifier: Arc<dyn BearerVerifier> = Arc::new(signer);
/// let claims = verifier.verify(&issued.token, now)?;
/// assert_eq!(claims.sub, "octocat");
/// assert!(verifier.verify("e30.e30.", now).is_err());
/// # Ok::<(), wharf_auth::Error>(())
/// ```
pub trait BearerVerifier: Send + Sync {
    /// Verifies `token` at `now` and gives its claims.
    fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, Error>;
}

impl<T: BearerVerifier + ?Sized> BearerVerifier for &T {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, Error> {
        (**self).verify(token, now)
    }
}

impl<T: BearerVerifier + ?Sized> BearerVerifier for Box<T> {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, Error> {
        (**self).verify(token, now)
    }
}

impl<T: BearerVerifier + ?Sized> BearerVerifier for Arc<T> {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, Error> {
        (**self).verify(token, now)
    }
}

pub(crate) fn malformed(reason: &'static str) -> Error {
    Error::MalformedJwt { reason }
}

/// A compact JWS cut into its parts, before anything is verified.
pub(crate) struct Compact<'a> {
    /// The encoded header.
    pub(crate) header: &'a str,
    /// The encoded payload.
    pub(crate) payload: &'a str,
    /// The encoded signature.
    pub(crate) signature: &'a str,
    /// `header.payload`, what the signature covers.
    pub(crate) signing_input: &'a str,
}

impl<'a> Compact<'a> {
    pub(crate) fn split(token: &'a str) -> Result<Compact<'a>, Error> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(malformed("it is longer than 8 KiB"));
        }
        let mut parts = token.splitn(3, '.');
        let (Some(header), Some(payload), Some(signature)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected three `.`-separated parts"));
        };
        Ok(Compact {
            header,
            payload,
            signature,
            signing_input: &token[..header.len() + 1 + payload.len()],
        })
    }
}

/// The JOSE header fields a verifier looks at.
#[derive(Debug)]
pub(crate) struct Header {
    /// The algorithm, as written.
    pub(crate) alg: String,
    /// The key id, if any.
    #[cfg_attr(not(feature = "jwks"), allow(dead_code))]
    pub(crate) kid: Option<String>,
}

/// Decodes a JOSE header: an `alg`, a `typ` (if present) of `JWT`, and no
/// `crit` extension (none is understood here).
pub(crate) fn decode_header(header: &str) -> Result<Header, Error> {
    #[derive(serde::Deserialize)]
    struct Jose<'a> {
        #[serde(borrow)]
        alg: Cow<'a, str>,
        #[serde(default, borrow)]
        typ: Option<Cow<'a, str>>,
        #[serde(default, borrow)]
        kid: Option<Cow<'a, str>>,
        #[serde(default)]
        crit: Option<serde::de::IgnoredAny>,
    }
    if header.len() > MAX_HEADER_LEN {
        return Err(malformed("the header is too long"));
    }
    let mut buffer = [0u8; MAX_HEADER_LEN];
    let len = URL_SAFE_NO_PAD
        .decode_slice(header, &mut buffer)
        .map_err(|_| malformed("the header is not base64url"))?;
    let jose: Jose<'_> = serde_json::from_slice(&buffer[..len])
        .map_err(|_| malformed("the header is not a JOSE header with an `alg`"))?;
    if jose.typ.is_some_and(|typ| typ != "JWT") {
        return Err(malformed("the header's `typ` is not `JWT`"));
    }
    if jose.crit.is_some() {
        return Err(malformed("the header names critical extensions (`crit`)"));
    }
    Ok(Header {
        alg: jose.alg.into_owned(),
        kid: jose.kid.map(Cow::into_owned),
    })
}

/// What a verifier checks in the claims once the signature is good: who
/// issued them, for whom, and the clock skew tolerated.
#[derive(Debug, Clone)]
pub(crate) struct Expect {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) leeway: Duration,
}

impl Expect {
    /// Tokens of `issuer` for `audience`, `leeway` apart from the clock.
    pub(crate) fn new(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        leeway: Duration,
    ) -> Expect {
        Expect {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway,
        }
    }

    /// Checks `aud`, `iss`, then `exp` and `nbf` with the leeway.
    pub(crate) fn check(&self, claims: &Claims, now: Timestamp) -> Result<(), Error> {
        if claims.aud != self.audience {
            return Err(Error::WrongAudience {
                expected: self.audience.to_owned(),
                actual: excerpt(&claims.aud),
            });
        }
        self.check_issuer_and_time(claims, now)
    }

    /// Checks `iss`, then `exp` and `nbf` with the leeway.
    pub(crate) fn check_issuer_and_time(
        &self,
        claims: &Claims,
        now: Timestamp,
    ) -> Result<(), Error> {
        if claims.iss != self.issuer {
            return Err(Error::WrongIssuer {
                expected: self.issuer.to_owned(),
                actual: excerpt(&claims.iss),
            });
        }
        if now >= claims.exp.saturating_add(self.leeway) {
            return Err(Error::JwtExpired {
                expired_at: claims.exp,
            });
        }
        if now.saturating_add(self.leeway) < claims.nbf {
            return Err(Error::JwtNotYetValid {
                not_before: claims.nbf,
            });
        }
        Ok(())
    }
}
