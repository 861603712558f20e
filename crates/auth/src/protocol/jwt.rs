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

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::TryCryptoRng;
use sha2::Sha256;

use super::bearer::{
    decode_header, malformed, BearerVerifier, Claims, Compact, Expect, TokenSubject,
};
use super::scope::ScopeSet;
use super::time::Timestamp;
use crate::error::{excerpt, Error};

type HmacSha256 = Hmac<Sha256>;

/// `{"alg":"HS256","typ":"JWT"}`, base64url-encoded: the header of every
/// token this crate issues.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
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
/// use wharf_auth::protocol::{ScopeSet, SigningKey, Timestamp, TokenSigner};
///
/// let signer = TokenSigner::new(
///     &SigningKey::generate()?,
///     "https://registry.example/token",
///     "registry.example",
///     Duration::from_secs(300),
/// );
/// let now = Timestamp::from_unix_seconds(1_700_000_000);
/// let granted: ScopeSet = "repository:octocat/app:pull,push".parse()?;
/// let issued = signer.issue("octocat", &granted, now)?;
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
    /// The issuer, the service as the audience, and the leeway.
    expect: Expect,
    ttl: Duration,
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
            expect: Expect::new(issuer, service, TokenSigner::DEFAULT_LEEWAY),
            ttl,
        }
    }

    /// This signer, tolerating `leeway` of clock skew.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> TokenSigner {
        self.expect.leeway = leeway;
        self
    }

    /// The issuer (`iss`).
    pub fn issuer(&self) -> &str {
        &self.expect.issuer
    }

    /// The service (`aud`).
    pub fn service(&self) -> &str {
        &self.expect.audience
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
    pub fn issue<S: TokenSubject + ?Sized>(
        &self,
        subject: &S,
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
    /// use wharf_auth::protocol::{ScopeSet, SigningKey, Timestamp, TokenSigner};
    ///
    /// let signer = TokenSigner::new(&SigningKey::generate()?, "iss", "svc", Duration::from_secs(300));
    /// let now = Timestamp::from_unix_seconds(1_700_000_000);
    /// let granted: ScopeSet = "repository:octocat/app:pull".parse()?;
    /// let issued = signer.issue_derived("octocat", "42", &granted, now)?;
    /// assert_eq!(signer.verify(&issued.token, now)?.tid.as_deref(), Some("42"));
    /// # Ok::<(), wharf_auth::Error>(())
    /// ```
    pub fn issue_derived<S: TokenSubject + ?Sized>(
        &self,
        subject: &S,
        token_id: &str,
        access: &ScopeSet,
        now: Timestamp,
    ) -> Result<IssuedToken, Error> {
        self.mint(&mut rand::rngs::OsRng, subject, Some(token_id), access, now)
    }

    /// [`TokenSigner::issue`], with the `jti` drawn from `rng`.
    pub fn issue_with_rng<R: TryCryptoRng + ?Sized, S: TokenSubject + ?Sized>(
        &self,
        rng: &mut R,
        subject: &S,
        access: &ScopeSet,
        now: Timestamp,
    ) -> Result<IssuedToken, Error> {
        self.mint(rng, subject, None, access, now)
    }

    fn mint<R: TryCryptoRng + ?Sized, S: TokenSubject + ?Sized>(
        &self,
        rng: &mut R,
        subject: &S,
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
            iss: self.expect.issuer.clone(),
            sub: subject.token_subject().into_owned(),
            aud: self.expect.audience.clone(),
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
        let parts = Compact::split(token)?;
        check_header(parts.header)?;

        let mut presented = [0u8; 32];
        match URL_SAFE_NO_PAD.decode_slice(parts.signature, &mut presented) {
            Ok(32) => {}
            _ => return Err(Error::InvalidSignature),
        }
        self.mac
            .clone()
            .chain_update(parts.signing_input.as_bytes())
            .verify_slice(&presented)
            .map_err(|_| Error::InvalidSignature)?;

        let payload = URL_SAFE_NO_PAD
            .decode(parts.payload)
            .map_err(|_| malformed("the claims are not base64url"))?;
        let claims: Claims = serde_json::from_slice(&payload)
            .map_err(|_| malformed("the claims are missing or malformed"))?;
        self.expect.check(&claims, now)?;
        Ok(claims)
    }
}

/// The registry's own tokens: [`TokenSigner::verify`].
impl BearerVerifier for TokenSigner {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, Error> {
        TokenSigner::verify(self, token, now)
    }
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("key", &"<redacted>")
            .field("issuer", &self.expect.issuer)
            .field("service", &self.expect.audience)
            .field("ttl", &self.ttl)
            .field("leeway", &self.expect.leeway)
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
    let header = decode_header(header)?;
    if header.alg != "HS256" {
        return Err(Error::UnsupportedAlgorithm {
            alg: excerpt(&header.alg),
            accepted: "HS256",
        });
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
