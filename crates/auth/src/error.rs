//! The one error type of this crate.

use crate::protocol::Timestamp;

/// Everything that can go wrong in this crate.
///
/// Messages say what was wrong and, where there is one, what to do about it.
/// Errors about secrets (personal access tokens, passwords, bearer tokens)
/// never echo the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A personal access token scope that this registry does not know.
    #[error(
        "unknown token scope `{scope}`: expected read:packages, write:packages, delete:packages or repo"
    )]
    UnknownTokenScope {
        /// The scope as given (shortened if long).
        scope: String,
    },

    /// A registry token scope (`type:name:actions`) that does not follow the
    /// grammar.
    #[error("invalid scope `{input}`: {reason}")]
    InvalidScope {
        /// The scope as given (shortened if long).
        input: String,
        /// The rule that was broken, in words.
        reason: &'static str,
    },

    /// A registry token scope naming a resource type other than
    /// `repository` or `registry`.
    #[error("unknown resource type `{resource_type}` in scope `{input}`: expected `repository` or `registry`")]
    UnknownResourceType {
        /// The scope as given (shortened if long).
        input: String,
        /// The resource type found.
        resource_type: String,
    },

    /// A registry resource other than `registry:catalog`.
    #[error(
        "unknown registry resource `{name}` in scope `{input}`: only `registry:catalog:*` exists"
    )]
    UnknownRegistryResource {
        /// The scope as given (shortened if long).
        input: String,
        /// The resource name found.
        name: String,
    },

    /// A registry token scope action other than `pull`, `push`, `delete`
    /// or `*`.
    #[error("unknown action `{action}` in `{input}`: expected pull, push, delete or *")]
    UnknownAction {
        /// The action list or scope as given (shortened if long).
        input: String,
        /// The action found (shortened if long).
        action: String,
    },

    /// The repository name of a registry token scope is not a valid
    /// repository name.
    #[error("invalid repository name in scope `{input}`: {source}")]
    InvalidResourceName {
        /// The scope as given (shortened if long).
        input: String,
        /// Why the name is invalid.
        #[source]
        source: wharf_reference::Error,
    },

    /// A login, team slug or source repository that is not well formed.
    #[error("invalid {what} `{input}`: {reason}")]
    InvalidName {
        /// What was being parsed (`login`, `team slug`, `source repository`).
        what: &'static str,
        /// The value as given (shortened if long).
        input: String,
        /// The rule that was broken, in words.
        reason: &'static str,
    },

    /// A keyword (visibility, role, ...) outside its set of values.
    #[error("unknown {what} `{input}`: expected {expected}")]
    UnknownKeyword {
        /// What was being parsed (`visibility`, `role`, ...).
        what: &'static str,
        /// The value as given (shortened if long).
        input: String,
        /// The accepted values, in words.
        expected: &'static str,
    },

    /// A string that is not a personal access token of this registry.
    #[error("malformed personal access token: {reason}")]
    MalformedToken {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A well-formed personal access token that does not match the stored
    /// one.
    #[error("bad credentials: the personal access token does not match")]
    TokenMismatch,

    /// A personal access token past its expiry.
    #[error("the personal access token expired at {expired_at} (Unix time); create a new one")]
    TokenExpired {
        /// When it expired.
        expired_at: Timestamp,
    },

    /// A personal access token its owner revoked.
    #[error("the personal access token was revoked; create a new one")]
    TokenRevoked,

    /// A bearer token that is not a well-formed JWT of this registry.
    #[error("malformed bearer token: {reason}")]
    MalformedJwt {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A bearer token signed with an algorithm the verifier does not accept
    /// (always including `none`), or one that does not fit its key (an
    /// HS256 token for an RSA key).
    #[error("unsupported bearer token algorithm `{alg}`: {accepted} is accepted")]
    UnsupportedAlgorithm {
        /// The `alg` of the token's header (shortened if long).
        alg: String,
        /// What the verifier accepts, in words (`HS256`, `RS256 for this
        /// RSA key`).
        accepted: &'static str,
    },

    /// A bearer token naming a signing key (`kid`) the verifier does not
    /// know, or naming none where one is needed.
    #[error("bearer token is signed with unknown key {}; the token server's keys may have changed", kid.as_deref().map_or("(no `kid`)".to_owned(), |kid| format!("`{kid}`")))]
    UnknownKeyId {
        /// The token's `kid` (shortened if long), if it has one.
        kid: Option<String>,
    },

    /// A JSON Web Key Set that cannot be used to verify tokens.
    #[error("invalid JWKS: {reason}")]
    InvalidJwks {
        /// What is wrong with it.
        reason: String,
    },

    /// A bearer token whose signature does not verify.
    #[error("bearer token signature is invalid; request a new token")]
    InvalidSignature,

    /// A bearer token past its `exp` (beyond the leeway).
    #[error("bearer token expired at {expired_at} (Unix time); request a new token")]
    JwtExpired {
        /// The token's `exp`.
        expired_at: Timestamp,
    },

    /// A bearer token used before its `nbf` (beyond the leeway).
    #[error("bearer token is not valid before {not_before} (Unix time); check the clocks")]
    JwtNotYetValid {
        /// The token's `nbf`.
        not_before: Timestamp,
    },

    /// A bearer token issued for another service.
    #[error("bearer token is for service `{actual}`, not `{expected}`; request a token for `{expected}`")]
    WrongAudience {
        /// This service.
        expected: String,
        /// The token's `aud` (shortened if long).
        actual: String,
    },

    /// A bearer token issued by another issuer.
    #[error("bearer token was issued by `{actual}`, not by `{expected}`")]
    WrongIssuer {
        /// The issuer this registry trusts.
        expected: String,
        /// The token's `iss` (shortened if long).
        actual: String,
    },

    /// A signing key too short to be safe.
    #[error("signing key is {len} bytes long; at least {min} are needed")]
    KeyTooShort {
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },

    /// The random number generator failed.
    #[error("the random number generator failed: {message}")]
    Randomness {
        /// The generator's own message.
        message: String,
    },

    /// An `Authorization` header that cannot be read.
    #[error("malformed Authorization header: {reason}")]
    MalformedAuthorization {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// An `Authorization` header with a scheme other than Basic or Bearer.
    #[error("unsupported authorization scheme `{scheme}`: use Basic or Bearer")]
    UnsupportedScheme {
        /// The scheme found (shortened if long).
        scheme: String,
    },
}

/// How much of an offending input an error message repeats.
const EXCERPT_LEN: usize = 80;

/// `s`, cut to at most [`EXCERPT_LEN`] bytes on a character boundary, so an
/// error message built from hostile input stays small.
pub(crate) fn excerpt(s: &str) -> String {
    if s.len() <= EXCERPT_LEN {
        return s.to_owned();
    }
    let mut end = EXCERPT_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn excerpt_keeps_short_input_and_cuts_long_input_on_a_char_boundary() {
        assert_eq!(excerpt("abc"), "abc");
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert!(cut.ends_with("..."));
        assert!(cut.len() <= super::EXCERPT_LEN + 3);
    }
}
