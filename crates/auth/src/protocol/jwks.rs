//! Bearer tokens from an external token server: RS256 and ES256 JWTs
//! verified against the server's JSON Web Key Set (RFC 7517), key chosen by
//! the token's `kid`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use sha2::Sha256;

use super::bearer::{decode_header, malformed, BearerVerifier, Claims, Compact, Expect};
use super::scope::{access_claim, ScopeSet};
use super::time::Timestamp;
use crate::error::{excerpt, Error};

/// The shortest RSA modulus accepted, in bits.
const MIN_RSA_BITS: usize = 2048;
/// The longest RSA modulus accepted, in bits (bounds the work per token).
const MAX_RSA_BITS: usize = 4096;

/// One verification key of a [`Jwks`].
#[derive(Clone)]
enum PublicKey {
    /// `kty: RSA`, for RS256 (RSASSA-PKCS1-v1_5 with SHA-256).
    Rs256(rsa::pkcs1v15::VerifyingKey<Sha256>),
    /// `kty: EC`, `crv: P-256`, for ES256 (ECDSA P-256 with SHA-256).
    Es256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    const fn alg(&self) -> &'static str {
        match self {
            PublicKey::Rs256(_) => "RS256",
            PublicKey::Es256(_) => "ES256",
        }
    }

    const fn accepted(&self) -> &'static str {
        match self {
            PublicKey::Rs256(_) => "RS256 for this RSA key",
            PublicKey::Es256(_) => "ES256 for this P-256 key",
        }
    }

    /// Whether `signature` (as decoded from the token) signs `message`.
    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Rs256(key) => rsa::pkcs1v15::Signature::try_from(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            // JWS writes ES256 signatures as r || s, 32 bytes each.
            PublicKey::Es256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
        }
    }
}

/// A JSON Web Key Set, as a token server publishes it (often at
/// `/.well-known/jwks.json`): the RS256 and ES256 signature keys in it,
/// by key id.
///
/// Keys for other uses (`"use": "enc"`), of other types (`OKP`, other
/// curves) or for other algorithms are skipped; keys without a `kid` too,
/// since tokens choose their key by `kid`. A document with no usable key,
/// two keys with one `kid`, an RSA key shorter than 2048 bits, a key whose
/// `alg` does not fit its type, or a key that does not decode is refused.
///
/// ```
/// use wharf_auth::protocol::Jwks;
///
/// let jwks = Jwks::from_json(br#"{"keys": [{
///     "kty": "EC", "crv": "P-256", "kid": "2026-12", "use": "sig", "alg": "ES256",
///     "x": "DxpIKBSfNwjBqPoNydQOMCKLqHKT7a3D221RSQ95wKg",
///     "y": "S6sn_LuRKHEJyrmTunpd5lKRo8I2fYZMtvRApFv9yv4"
/// }]}"#)?;
/// assert_eq!(jwks.key_ids().collect::<Vec<_>>(), ["2026-12"]);
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone)]
pub struct Jwks {
    keys: BTreeMap<String, PublicKey>,
}

impl Jwks {
    /// Parses a JWKS document (`{"keys": [...]}`).
    pub fn from_json(json: &[u8]) -> Result<Jwks, Error> {
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<RawJwk>,
        }
        let document: Document = serde_json::from_slice(json).map_err(|e| Error::InvalidJwks {
            reason: format!("not a JSON `{{\"keys\": [...]}}` document: {e}"),
        })?;
        let mut keys = BTreeMap::new();
        for raw in document.keys {
            let Some(kid) = raw.kid.clone() else {
                continue;
            };
            let Some(key) = raw.into_key(&kid)? else {
                continue;
            };
            if keys.insert(kid.clone(), key).is_some() {
                return Err(Error::InvalidJwks {
                    reason: format!("two signature keys have the id `{}`", excerpt(&kid)),
                });
            }
        }
        if keys.is_empty() {
            return Err(Error::InvalidJwks {
                reason: "no RS256 or ES256 signature key with a `kid`".to_owned(),
            });
        }
        Ok(Jwks { keys })
    }

    /// The ids of the keys kept, in order.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.keys.keys().map(String::as_str)
    }

    /// How many keys were kept.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key was kept (never true of a parsed set).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl fmt::Debug for Jwks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.keys.iter().map(|(kid, key)| (kid, key.alg())))
            .finish()
    }
}

/// A JWK as written, before it is checked.
#[derive(serde::Deserialize)]
struct RawJwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

impl RawJwk {
    /// The key, `None` if it is not an RS256 or ES256 signature key.
    fn into_key(self, kid: &str) -> Result<Option<PublicKey>, Error> {
        if self.use_.as_deref().is_some_and(|use_| use_ != "sig") {
            return Ok(None);
        }
        let invalid = |reason: &str| Error::InvalidJwks {
            reason: format!("key `{}`: {reason}", excerpt(kid)),
        };
        let alg = self.alg.as_deref();
        let key = match self.kty.as_str() {
            "RSA" => {
                let fits = alg_fits(alg, "RS256")
                    .map_err(|()| invalid("an RSA key cannot be used with that `alg`"))?;
                if !fits {
                    return Ok(None);
                }
                let n = decode_member(self.n.as_deref(), "n", kid)?;
                let e = decode_member(self.e.as_deref(), "e", kid)?;
                let n = rsa::BigUint::from_bytes_be(&n);
                let e = rsa::BigUint::from_bytes_be(&e);
                let bits = n.bits();
                if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                    return Err(invalid(&format!(
                        "the RSA modulus has {bits} bits; {MIN_RSA_BITS} to {MAX_RSA_BITS} are accepted"
                    )));
                }
                let key = rsa::RsaPublicKey::new(n, e)
                    .map_err(|e| invalid(&format!("not an RSA public key: {e}")))?;
                debug_assert!(key.size() * 8 >= MIN_RSA_BITS);
                PublicKey::Rs256(rsa::pkcs1v15::VerifyingKey::new(key))
            }
            "EC" => {
                let fits = alg_fits(alg, "ES256")
                    .map_err(|()| invalid("an EC key cannot be used with that `alg`"))?;
                if !fits {
                    return Ok(None);
                }
                if self.crv.as_deref() != Some("P-256") {
                    return Ok(None);
                }
                let x = decode_member(self.x.as_deref(), "x", kid)?;
                let y = decode_member(self.y.as_deref(), "y", kid)?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(invalid("P-256 coordinates are 32 bytes each"));
                }
                let mut sec1 = [0u8; 65];
                sec1[0] = 0x04;
                sec1[1..33].copy_from_slice(&x);
                sec1[33..].copy_from_slice(&y);
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map_err(|_| invalid("the point is not on the P-256 curve"))?;
                PublicKey::Es256(key)
            }
            _ => return Ok(None),
        };
        Ok(Some(key))
    }
}

/// Whether a key of the type whose one algorithm is `expected` is to be
/// used, given its `alg`: yes without one or with `expected`; no (the key
/// is skipped) with one this verifier does not know; `Err` with another one
/// it knows, which a key of that type cannot have.
fn alg_fits(alg: Option<&str>, expected: &str) -> Result<bool, ()> {
    match alg {
        None => Ok(true),
        Some(alg) if alg == expected => Ok(true),
        Some("HS256" | "RS256" | "ES256" | "none") => Err(()),
        Some(_) => Ok(false),
    }
}

fn decode_member(value: Option<&str>, member: &str, kid: &str) -> Result<Vec<u8>, Error> {
    let value = value.ok_or_else(|| Error::InvalidJwks {
        reason: format!("key `{}` has no `{member}`", excerpt(kid)),
    })?;
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| Error::InvalidJwks {
            reason: format!("key `{}`: `{member}` is not base64url", excerpt(kid)),
        })
}

/// Verifies RS256 and ES256 bearer tokens of an external token server
/// against its [`Jwks`]: the key is the one the token's `kid` names, the
/// token's `alg` must be the key's (`none`, HS256 and every other
/// algorithm are refused, so an HS256 token "signed" with a public key
/// never verifies), `iss` must be the configured issuer, `aud` (a string
/// or an array) must hold the configured audience, and `exp`/`nbf` are
/// checked with a small leeway.
///
/// The claims are distribution's (`iss`, `sub`, `aud`, `exp`, `nbf`,
/// `iat`, `jti`, `access`); `nbf`, `iat`, `jti` and `sub` may be missing.
/// The verified [`Claims`] have `aud` set to the configured audience, and
/// no `tid`: a `tid` names a token in this registry's own store, which an
/// external server knows nothing about.
///
/// To rotate keys, build a new verifier from the new JWKS and swap it in.
///
/// ```
/// use wharf_auth::protocol::{BearerVerifier, Jwks, JwksVerifier, Timestamp};
///
/// let jwks = Jwks::from_json(br#"{"keys": [{
///     "kty": "EC", "crv": "P-256", "kid": "2026-12",
///     "x": "DxpIKBSfNwjBqPoNydQOMCKLqHKT7a3D221RSQ95wKg",
///     "y": "S6sn_LuRKHEJyrmTunpd5lKRo8I2fYZMtvRApFv9yv4"
/// }]}"#)?;
/// let verifier = JwksVerifier::new(jwks, "https://auth.example", "registry.example");
/// let now = Timestamp::from_unix_seconds(1_700_000_000);
/// // An unsigned token is refused whatever it claims.
/// let unsigned = "eyJhbGciOiJub25lIiwia2lkIjoiMjAyNi0xMiJ9.e30.";
/// assert!(verifier.verify(unsigned, now).is_err());
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct JwksVerifier {
    jwks: Jwks,
    expect: Expect,
}

impl JwksVerifier {
    /// The clock skew tolerated on `exp` and `nbf` unless set otherwise.
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

    /// A verifier of tokens signed with the keys of `jwks`, issued by
    /// `issuer` (`iss`) for `audience` (`aud`, the registry's service name).
    pub fn new(jwks: Jwks, issuer: impl Into<String>, audience: impl Into<String>) -> JwksVerifier {
        JwksVerifier {
            jwks,
            expect: Expect::new(issuer, audience, JwksVerifier::DEFAULT_LEEWAY),
        }
    }

    /// This verifier, tolerating `leeway` of clock skew.
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> JwksVerifier {
        self.expect.leeway = leeway;
        self
    }

    /// The keys.
    pub fn jwks(&self) -> &Jwks {
        &self.jwks
    }

    /// The issuer (`iss`) accepted.
    pub fn issuer(&self) -> &str {
        &self.expect.issuer
    }

    /// The audience (`aud`) required.
    pub fn audience(&self) -> &str {
        &self.expect.audience
    }

    /// Verifies `token` at `now` and gives its claims.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, Error> {
        let parts = Compact::split(token)?;
        let header = decode_header(parts.header)?;
        if !matches!(header.alg.as_str(), "RS256" | "ES256") {
            return Err(Error::UnsupportedAlgorithm {
                alg: excerpt(&header.alg),
                accepted: "RS256 or ES256",
            });
        }
        let kid = header
            .kid
            .as_deref()
            .ok_or(Error::UnknownKeyId { kid: None })?;
        let key = self.jwks.keys.get(kid).ok_or_else(|| Error::UnknownKeyId {
            kid: Some(excerpt(kid)),
        })?;
        if header.alg != key.alg() {
            return Err(Error::UnsupportedAlgorithm {
                alg: excerpt(&header.alg),
                accepted: key.accepted(),
            });
        }
        let signature = URL_SAFE_NO_PAD
            .decode(parts.signature)
            .map_err(|_| Error::InvalidSignature)?;
        if !key.verifies(parts.signing_input.as_bytes(), &signature) {
            return Err(Error::InvalidSignature);
        }

        let payload = URL_SAFE_NO_PAD
            .decode(parts.payload)
            .map_err(|_| malformed("the claims are not base64url"))?;
        let external: ExternalClaims<'_> = serde_json::from_slice(&payload)
            .map_err(|_| malformed("the claims are missing or malformed"))?;
        if !external.aud.contains(&self.expect.audience) {
            return Err(Error::WrongAudience {
                expected: self.expect.audience.clone(),
                actual: excerpt(&external.aud.to_string()),
            });
        }
        let nbf = external.nbf.or(external.iat).unwrap_or(Timestamp::EPOCH);
        let claims = Claims {
            iss: external.iss,
            sub: external.sub,
            aud: self.expect.audience.clone(),
            exp: external.exp,
            nbf,
            iat: external.iat.unwrap_or(nbf),
            jti: external.jti,
            access: external.access,
            tid: None,
        };
        self.expect.check_issuer_and_time(&claims, now)?;
        Ok(claims)
    }
}

impl BearerVerifier for JwksVerifier {
    fn verify(&self, token: &str, now: Timestamp) -> Result<Claims, Error> {
        JwksVerifier::verify(self, token, now)
    }
}

/// The claims of an external token, as lenient as the specifications
/// allow: `aud` a string or an array, `nbf`, `iat`, `jti` and `sub`
/// optional.
#[derive(serde::Deserialize)]
struct ExternalClaims<'a> {
    iss: String,
    #[serde(default)]
    sub: String,
    #[serde(borrow)]
    aud: Audience<'a>,
    exp: Timestamp,
    #[serde(default)]
    nbf: Option<Timestamp>,
    #[serde(default)]
    iat: Option<Timestamp>,
    #[serde(default)]
    jti: String,
    #[serde(with = "access_claim", default)]
    access: ScopeSet,
}

/// `aud`: one audience or several (RFC 7519, section 4.1.3).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Audience<'a> {
    One(#[serde(borrow)] Cow<'a, str>),
    Many(#[serde(borrow)] Vec<Cow<'a, str>>),
}

impl Audience<'_> {
    fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(one) => one == audience,
            Audience::Many(many) => many.iter().any(|one| one == audience),
        }
    }
}

impl fmt::Display for Audience<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Audience::One(one) => f.write_str(one),
            Audience::Many(many) => f.write_str(&many.join(", ")),
        }
    }
}
