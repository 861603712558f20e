//! Personal access tokens: generated at random, shown once, stored only as
//! a hash, compared in constant time, expiring and revocable.

use std::fmt;
use std::str::FromStr;

use rand::TryCryptoRng;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use super::identity::{Login, Principal};
use super::token_scope::TokenScopes;
use crate::error::{excerpt, Error};
use crate::protocol::Timestamp;

/// What every personal access token of this registry starts with, so
/// secret scanners can recognise one.
pub const PAT_PREFIX: &str = "wharf_pat_";

/// Random base62 characters in a token: 40 × log2(62) ≈ 238 bits.
const RANDOM_CHARS: usize = 40;
/// Base62 characters of checksum after them (a 32-bit value needs 6).
const CHECKSUM_CHARS: usize = 6;
const TOKEN_LEN: usize = PAT_PREFIX.len() + RANDOM_CHARS + CHECKSUM_CHARS;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Bytes at or above this are rejected, so `byte % 62` is uniform.
const UNBIASED_LIMIT: u8 = 248; // 62 × 4

/// A personal access token, in clear: `wharf_pat_` then 40 random base62
/// characters and a 6-character checksum.
///
/// The clear token exists only between generation and showing it to its
/// owner once; the registry stores its [`TokenHash`] (see [`StoredToken`]).
/// The checksum lets a server (or a secret scanner) reject a mistyped or
/// truncated token without a lookup. `Debug` does not show the secret.
///
/// ```
/// use wharf_auth::{PersonalAccessToken, PAT_PREFIX};
///
/// let token = PersonalAccessToken::generate()?;
/// assert!(token.expose_secret().starts_with(PAT_PREFIX));
/// assert_eq!(PersonalAccessToken::parse(token.expose_secret())?, token);
/// assert!(!format!("{token:?}").contains(token.expose_secret()));
///
/// // A typo breaks the checksum.
/// let mut typo = token.expose_secret().to_owned();
/// let last = if typo.ends_with('0') { "1" } else { "0" };
/// typo.replace_range(typo.len() - 1.., last);
/// assert!(PersonalAccessToken::parse(&typo).is_err());
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct PersonalAccessToken(String);

impl PersonalAccessToken {
    /// A new token from the operating system's random number generator.
    pub fn generate() -> Result<PersonalAccessToken, Error> {
        PersonalAccessToken::generate_with(&mut rand::rngs::OsRng)
    }

    /// A new token from `rng` (a cryptographically secure generator; a
    /// seeded one makes tests reproducible).
    pub fn generate_with<R: TryCryptoRng + ?Sized>(
        rng: &mut R,
    ) -> Result<PersonalAccessToken, Error> {
        let mut token = String::with_capacity(TOKEN_LEN);
        token.push_str(PAT_PREFIX);
        let mut buffer = [0u8; 48];
        while token.len() < PAT_PREFIX.len() + RANDOM_CHARS {
            rng.try_fill_bytes(&mut buffer)
                .map_err(|e| Error::Randomness {
                    message: e.to_string(),
                })?;
            for byte in buffer {
                if byte < UNBIASED_LIMIT && token.len() < PAT_PREFIX.len() + RANDOM_CHARS {
                    token.push(char::from(BASE62[usize::from(byte % 62)]));
                }
            }
        }
        let checksum = checksum(&token[PAT_PREFIX.len()..]);
        token.push_str(&checksum);
        Ok(PersonalAccessToken(token))
    }

    /// Checks that `s` has the shape and checksum of a token of this
    /// registry (it says nothing about whether the token was ever issued).
    pub fn parse(s: &str) -> Result<PersonalAccessToken, Error> {
        let malformed = |reason| Error::MalformedToken { reason };
        let rest = s
            .strip_prefix(PAT_PREFIX)
            .ok_or_else(|| malformed("it does not start with `wharf_pat_`"))?;
        if s.len() != TOKEN_LEN {
            return Err(malformed("it is not 56 characters long; was it truncated?"));
        }
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(malformed(
                "it holds characters other than letters and digits",
            ));
        }
        let (random, check) = rest.split_at(RANDOM_CHARS);
        if checksum(random)
            .as_bytes()
            .ct_eq(check.as_bytes())
            .unwrap_u8()
            != 1
        {
            return Err(malformed("its checksum does not match; was it mistyped?"));
        }
        Ok(PersonalAccessToken(s.to_owned()))
    }

    /// The token in clear, to show its owner once.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The hash to store and look the token up by.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for PersonalAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonalAccessToken(<redacted>)")
    }
}

/// The checksum of a token's random part: the first 32 bits of its SHA-256,
/// in 6 base62 digits, most significant first.
fn checksum(random: &str) -> String {
    let hash = Sha256::digest(random.as_bytes());
    let mut value = u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]);
    let mut digits = [b'0'; CHECKSUM_CHARS];
    for digit in digits.iter_mut().rev() {
        // `value % 62` < 62, so the index and the narrowing are exact.
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits.iter().map(|&b| char::from(b)).collect()
}

/// The SHA-256 of a personal access token: what the registry stores
/// instead of the token. A fast hash is enough because tokens carry over
/// 200 bits of entropy (no dictionary to try); a lookup by hash finds a
/// token without storing it.
///
/// [`TokenHash::matches`] compares in constant time. `Display`, `FromStr`
/// and serde use 64 lowercase hex digits.
///
/// ```
/// use wharf_auth::TokenHash;
///
/// let stored = TokenHash::of("wharf_pat_example");
/// assert!(stored.matches("wharf_pat_example"));
/// assert!(!stored.matches("wharf_pat_examplf"));
/// assert_eq!(stored.to_string().parse::<TokenHash>()?, stored);
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// The hash of a presented token (any string: hash first, then look
    /// up, so nothing depends on whether it is well formed).
    pub fn of(presented: &str) -> TokenHash {
        TokenHash(Sha256::digest(presented.as_bytes()).into())
    }

    /// A hash from its bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> TokenHash {
        TokenHash(bytes)
    }

    /// The hash's bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `presented` hashes to this hash, compared in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.ct_eq(&TokenHash::of(presented).0).into()
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

wharf_reference::debug_as_display!(TokenHash);

impl FromStr for TokenHash {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        let lower_hex = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !lower_hex || hex::decode_to_slice(s, &mut bytes).is_err() {
            return Err(Error::InvalidName {
                what: "token hash",
                input: excerpt(s),
                reason: "expected 64 lowercase hex digits",
            });
        }
        Ok(TokenHash(bytes))
    }
}

super::identity::serde_as_string!(TokenHash, "a token hash of 64 lowercase hex digits");

/// What the registry keeps about a personal access token.
///
/// ```
/// use std::time::Duration;
/// use wharf_auth::{Error, PersonalAccessToken, Principal, StoredToken, Timestamp};
///
/// let now = Timestamp::from_unix_seconds(1_700_000_000);
/// let token = PersonalAccessToken::generate()?;
/// let stored = StoredToken::new(
///     &token,
///     "octocat".parse()?,
///     "read:packages".parse()?,
///     Some(now.saturating_add(Duration::from_secs(30 * 86_400))),
/// );
///
/// let principal = stored.authenticate(token.expose_secret(), now)?;
/// assert_eq!(principal.identity().subject(), "octocat");
///
/// let later = now.saturating_add(Duration::from_secs(31 * 86_400));
/// assert!(matches!(
///     stored.authenticate(token.expose_secret(), later),
///     Err(Error::TokenExpired { .. })
/// ));
/// # Ok::<(), wharf_auth::Error>(())
/// ```
///
/// Non-exhaustive so that fields can be added in a minor release: build it
/// with [`StoredToken::new`] (a new token) or [`StoredToken::from_hash`] (a
/// token read back from a store) and set the other public fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct StoredToken {
    /// The token's hash.
    pub hash: TokenHash,
    /// The user the token authenticates as.
    pub owner: Login,
    /// What the token may do at most.
    pub scopes: TokenScopes,
    /// When it stops working, if ever.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// Whether its owner revoked it.
    #[serde(default)]
    pub revoked: bool,
    /// What its owner said it is for.
    #[serde(default)]
    pub note: String,
}

impl StoredToken {
    /// The record of a freshly generated `token`.
    pub fn new(
        token: &PersonalAccessToken,
        owner: Login,
        scopes: TokenScopes,
        expires_at: Option<Timestamp>,
    ) -> StoredToken {
        StoredToken::from_hash(token.hash(), owner, scopes, expires_at)
    }

    /// The record of the token whose hash is `hash`, as a store reads it
    /// back: not revoked, without a note.
    pub fn from_hash(
        hash: TokenHash,
        owner: Login,
        scopes: TokenScopes,
        expires_at: Option<Timestamp>,
    ) -> StoredToken {
        StoredToken {
            hash,
            owner,
            scopes,
            expires_at,
            revoked: false,
            note: String::new(),
        }
    }

    /// Whether the token has expired at `now` (it is valid up to, not
    /// including, `expires_at`).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// Checks a presented token against this record at `now`, and gives
    /// the principal it authenticates. The hash is compared first, in
    /// constant time, so revocation and expiry are only told to someone
    /// who holds the token.
    pub fn authenticate(&self, presented: &str, now: Timestamp) -> Result<Principal, Error> {
        if !self.hash.matches(presented) {
            return Err(Error::TokenMismatch);
        }
        self.principal_at(now)
    }

    /// The principal the token stands for at `now`, while it works: not
    /// revoked ([`Error::TokenRevoked`]) and not expired
    /// ([`Error::TokenExpired`]). What a registry asks again on each
    /// request made with a bearer token minted from this one, so that
    /// revoking it ends those too.
    ///
    /// ```
    /// use wharf_auth::{Error, PersonalAccessToken, StoredToken, Timestamp};
    ///
    /// let now = Timestamp::from_unix_seconds(1_700_000_000);
    /// let token = PersonalAccessToken::generate()?;
    /// let mut stored = StoredToken::new(&token, "octocat".parse()?, "read:packages".parse()?, None);
    /// assert_eq!(stored.principal_at(now)?.identity().subject(), "octocat");
    /// stored.revoked = true;
    /// assert!(matches!(stored.principal_at(now), Err(Error::TokenRevoked)));
    /// # Ok::<(), wharf_auth::Error>(())
    /// ```
    pub fn principal_at(&self, now: Timestamp) -> Result<Principal, Error> {
        if self.revoked {
            return Err(Error::TokenRevoked);
        }
        if let Some(expired_at) = self.expires_at.filter(|_| self.is_expired(now)) {
            return Err(Error::TokenExpired { expired_at });
        }
        Ok(Principal::User {
            login: self.owner.clone(),
            scopes: self.scopes,
        })
    }
}
