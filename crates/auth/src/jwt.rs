//! Registry bearer tokens: short-lived HS256 JWTs that a token endpoint
//! issues and the registry verifies, in the shape of distribution's token
//! specification (`iss`, `sub`, `aud`, `exp`, `nbf`, `iat`, `jti`, and
//! `access: [{type, name, actions}]`), plus `tid`: the id of the stored
//! token a bearer token was minted from.
//!
//! A bearer token's claims are an upper bound, never a grant: a registry
//! re-reads the stored token named by `tid` on each request (so revoking
//! it ends the bearer tokens minted from it) and authorizes against the
//! current state of the package, within what `access` allows.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::TryCryptoRng;
use sha2::Sha256;
use wharf_reference::RepositoryName;

use crate::error::{excerpt, Error};
use crate::identity::Identity;
use crate::scope::{access_claim, Resource, Scope, ScopeActions, ScopeSet};
use crate::time::Timestamp;

type HmacSha256 = Hmac<Sha256>;

/// `{"alg":"HS256","typ":"JWT"}`, base64url-encoded: the header of every
/// token this crate issues.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
/// Longest token accepted by [`TokenSigner::verify`].
const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Longest encoded header accepted (ours is 36 characters).
const MAX_HEADER_LEN: usize = 512;
/// Random bytes in a `jti`.
const JTI_BYTES: usize = 16;

/// A secret HMAC-SHA256 key for signing registry bearer tokens: at least
/// 32 bytes. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey(Vec<u8>);

impl SigningKey {
    /// The shortest key accepted, in bytes (the output size of SHA-256).
    pub const MIN_LEN: usize = 32;

    /// A key from its bytes (as loaded from configuration).
    pub fn from_bytes(bytes: &[u8]) -> Result<SigningKey, Error> {
        if bytes.len() < SigningKey::MIN_LEN {
            return Err(Error::KeyTooShort {
                len: bytes.len(),
                min: SigningKey::MIN_LEN,
            });
        }
        Ok(SigningKey(bytes.to_vec()))
    }

    /// A new 32-byte key from the operating system's random number
    /// generator.
    pub fn generate() -> Result<SigningKey, Error> {
        SigningKey::generate_with(&mut rand::rngs::OsRng)
    }

    /// A new 32-byte key from `rng`.
    pub fn generate_with<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<SigningKey, Error> {
        let mut bytes = vec![0u8; SigningKey::MIN_LEN];
        rng.try_fill_bytes(&mut bytes)
            .map_err(|e| Error::Randomness {
                message: e.to_string(),
            })?;
        Ok(SigningKey(bytes))
    }

    /// The key's bytes, to persist it. Never log them.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

/// The claims of a registry bearer token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    /// Issuer: the token endpoint.
    pub iss: String,
    /// Subject: who the token was issued to, as [`Identity::subject`]
    /// writes it (`""` for anonymous).
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
    /// it; `None` for an anonymous token. See
    /// [`TokenSigner::issue_derived`].
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

    /// Who the token was issued to.
    pub fn identity(&self) -> Result<Identity, Error> {
        Identity::from_subject(&self.sub)
    }
}

/// A freshly issued token, with what a token endpoint's response needs
/// (`token`, `expires_in`, `issued_at`).
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedToken {
    /// The JWT.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// Its claims.
    pub claims: Claims,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("issued_at", &self.issued_at)
            .field("claims", &self.claims)
            .finish()
    }
}

/// Issues and verifies registry bearer tokens (HS256 JWTs) for one service.
///
/// Tokens are bound to the service (`aud`), to the issuer (`iss`), to the
/// scopes granted (`access`) and to a short lifetime (`ttl`, checked with
/// a small leeway for clock skew). Verification costs one HMAC: the
/// signature is checked, in constant time, before the claims are parsed.
///
/// ```
/// use std::time::Duration;
/// use wharf_auth::{Identity, ScopeSet, SigningKey, Timestamp, TokenSigner};
///
/// let signer = TokenSigner::new(
///     &SigningKey::generate()?,
///     "https://registry.example/token",
///     "registry.example",
///     Duration::from_secs(300),
/// );
/// let now = Timestamp::from_unix_seconds(1_700_000_000);
/// let granted: ScopeSet = "repository:octocat/app:pull,push".parse()?;
/// let issued = signer.issue(&Identity::User("octocat".parse()?), &granted, now)?;
/// assert_eq!(issued.expires_in, 300);
///
/// let claims = signer.verify(&issued.token, now)?;
/// assert_eq!(claims.sub, "octocat");
/// assert!(claims.permits(&"repository:octocat/app:push".parse()?));
/// assert!(!claims.permits(&"repository:octocat/app:delete".parse()?));
///
/// let much_later = now.saturating_add(Duration::from_secs(3600));
/// assert!(signer.verify(&issued.token, much_later).is_err());
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone)]
pub struct TokenSigner {
    mac: HmacSha256,
    issuer: String,
    service: String,
    ttl: Duration,
    leeway: Duration,
}

impl TokenSigner {
    /// The clock skew tolerated on `exp` and `nbf` unless set otherwise.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

    /// A signer with `key`, issuing tokens as `issuer` for `service`, each
    /// valid for `ttl` (whole seconds).
    pub fn new(
        key: &SigningKey,
        issuer: impl Into<String>,
        service: impl Into<String>,
        ttl: Duration,
    ) -> TokenSigner {
        TokenSigner {
            // Keying is done once here; each use clones the keyed state.
            mac: keyed_mac(key),
            issuer: issuer.into(),
            service: service.into(),
            ttl,
            leeway: TokenSigner::DEFAULT_LEEWAY,
        }
    }

    /// This signer, tolerating `leeway` of clock skew.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> TokenSigner {
        self.leeway = leeway;
        self
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The service (`aud`).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// How long issued tokens are valid.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues a token granting `access` to `subject`, valid from `now` for
    /// the signer's `ttl`, with a random `jti` from the operating system.
    /// It names no stored token (`tid`): use it for anonymous tokens, and
    /// [`issue_derived`](Self::issue_derived) for tokens minted from a
    /// stored credential.
    pub fn issue(
        &self,
        subject: &Identity,
        access: &ScopeSet,
        now: Timestamp,
    ) -> Result<IssuedToken, Error> {
        self.mint(&mut rand::rngs::OsRng, subject, None, access, now)
    }

    /// Issues a token to `subject` minted from the stored token with id
    /// `token_id` (its `tid` claim), granting at most `access`. A registry
    /// verifying it re-reads that stored token on each request, so the
    /// bearer token stops working as soon as the stored one is revoked or
    /// expires.
    ///
    /// ```
    /// use std::time::Duration;
    /// use wharf_auth::{Identity, ScopeSet, SigningKey, Timestamp, TokenSigner};
    ///
    /// let signer = TokenSigner::new(&SigningKey::generate()?, "iss", "svc", Duration::from_secs(300));
    /// let now = Timestamp::from_unix_seconds(1_700_000_000);
    /// let granted: ScopeSet = "repository:octocat/app:pull".parse()?;
    /// let issued = signer.issue_derived(&Identity::User("octocat".parse()?), "42", &granted, now)?;
    /// assert_eq!(signer.verify(&issued.token, now)?.tid.as_deref(), Some("42"));
    /// # Ok::<(), wharf_auth::Error>(())
    /// ```
    pub fn issue_derived(
        &self,
        subject: &Identity,
        token_id: &str,
        access: &ScopeSet,
        now: Timestamp,
    ) -> Result<IssuedToken, Error> {
        self.mint(&mut rand::rngs::OsRng, subject, Some(token_id), access, now)
    }

    /// [`TokenSigner::issue`], with the `jti` drawn from `rng`.
    pub fn issue_with_rng<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        subject: &Identity,
        access: &ScopeSet,
        now: Timestamp,
    ) -> Result<IssuedToken, Error> {
        self.mint(rng, subject, None, access, now)
    }

    fn mint<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        subject: &Identity,
        token_id: Option<&str>,
        access: &ScopeSet,
        now: Timestamp,
    ) -> Result<IssuedToken, Error> {
        let mut jti = [0u8; JTI_BYTES];
        rng.try_fill_bytes(&mut jti)
            .map_err(|e| Error::Randomness {
                message: e.to_string(),
            })?;
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: subject.subject(),
            aud: self.service.clone(),
            exp: now.saturating_add(self.ttl),
            nbf: now,
            iat: now,
            jti: URL_SAFE_NO_PAD.encode(jti),
            access: access.clone(),
            tid: token_id.map(str::to_owned),
        };
        let payload = serde_json::to_vec(&claims).map_err(|_| Error::MalformedJwt {
            reason: "the claims could not be encoded",
        })?;
        let mut token = String::with_capacity(HEADER.len() + payload.len() * 4 / 3 + 50);
        token.push_str(HEADER);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut token);
        let signature = self.mac.clone().chain_update(token.as_bytes()).finalize();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.into_bytes(), &mut token);
        Ok(IssuedToken {
            token,
            expires_in: self.ttl.as_secs(),
            issued_at: now,
            claims,
        })
    }

    /// Verifies a token at `now`: well formed, `alg` HS256 (`none` and
    /// every other algorithm are refused), signature valid, issued by this
    /// issuer for this service, and within `nbf`..`exp` give or take the
    /// leeway. Gives its claims.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, Error> {
        let malformed = |reason| Error::MalformedJwt { reason };
        if token.len() > MAX_TOKEN_LEN {
            return Err(malformed("it is longer than 8 KiB"));
        }
        let mut parts = token.splitn(3, '.');
        let (Some(header), Some(payload), Some(signature)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("expected three `.`-separated parts"));
        };
        check_header(header)?;

        let mut presented = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(signature, &mut presented) {
            Ok(32) => {}
            _ => return Err(Error::InvalidSignature),
        }
        let signing_input = &token[..header.len() + 1 + payload.len()];
        self.mac
            .clone()
            .chain_update(signing_input.as_bytes())
            .verify_slice(&presented)
            .map_err(|_| Error::InvalidSignature)?;

        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| malformed("the claims are not base64url"))?;
        let claims: Claims = serde_json::from_slice(&payload)
            .map_err(|_| malformed("the claims are missing or malformed"))?;

        if claims.aud != self.service {
            return Err(Error::WrongAudience {
                expected: self.service.clone(),
                actual: excerpt(&claims.aud),
            });
        }
        if claims.iss != self.issuer {
            return Err(Error::WrongIssuer {
                expected: self.issuer.clone(),
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
        Ok(claims)
    }
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("key", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("service", &self.service)
            .field("ttl", &self.ttl)
            .field("leeway", &self.leeway)
            .finish()
    }
}

fn keyed_mac(key: &SigningKey) -> HmacSha256 {
    match HmacSha256::new_from_slice(&key.0) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this arm cannot run.
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

/// Checks the JOSE header: `alg` must be `HS256`, and `typ`, if present,
/// `JWT`. Our own header is recognised without decoding.
fn check_header(header: &str) -> Result<(), Error> {
    if header == HEADER {
        return Ok(());
    }
    #[derive(serde::Deserialize)]
    struct Jose<'a> {
        #[serde(borrow)]
        alg: Cow<'a, str>,
        #[serde(default, borrow)]
        typ: Option<Cow<'a, str>>,
    }
    let malformed = |reason| Error::MalformedJwt { reason };
    if header.len() > MAX_HEADER_LEN {
        return Err(malformed("the header is too long"));
    }
    let mut buffer = [0u8; MAX_HEADER_LEN];
    let len = URL_SAFE_NO_PAD
        .decode_slice(header, &mut buffer)
        .map_err(|_| malformed("the header is not base64url"))?;
    let jose: Jose<'_> = serde_json::from_slice(&buffer[..len])
        .map_err(|_| malformed("the header is not a JOSE header with an `alg`"))?;
    if jose.alg != "HS256" {
        return Err(Error::UnsupportedAlgorithm {
            alg: excerpt(&jose.alg),
        });
    }
    if jose.typ.is_some_and(|typ| typ != "JWT") {
        return Err(malformed("the header's `typ` is not `JWT`"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_constant_is_the_hs256_jwt_header() {
        let decoded = URL_SAFE_NO_PAD.decode(HEADER).expect("base64url");
        assert_eq!(decoded, br#"{"alg":"HS256","typ":"JWT"}"#);
    }
}
