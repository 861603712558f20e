//! `WWW-Authenticate` challenges: the Bearer challenge of the Docker token
//! protocol, and Basic.

use std::fmt;

use super::scope::{Scope, ScopeSet};

/// The `error` of a Bearer challenge (RFC 6750, section 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengeError {
    /// `invalid_request`: the request was malformed.
    InvalidRequest,
    /// `invalid_token`: the token is expired, revoked, malformed or
    /// otherwise invalid.
    InvalidToken,
    /// `insufficient_scope`: a token was presented but does not grant what
    /// the request needs.
    InsufficientScope,
}

impl ChallengeError {
    /// The error code (`insufficient_scope`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ChallengeError::InvalidRequest => "invalid_request",
            ChallengeError::InvalidToken => "invalid_token",
            ChallengeError::InsufficientScope => "insufficient_scope",
        }
    }
}

impl fmt::Display for ChallengeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes `value` as an HTTP quoted-string: `"` and `\` are escaped with a
/// backslash, and control characters other than tab (which a header value
/// cannot carry) are left out.
fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in value.chars() {
        match c {
            '"' | '\\' => write!(f, "\\{c}")?,
            '\t' => f.write_str("\t")?,
            c if c.is_control() => {}
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

/// A `WWW-Authenticate: Bearer ...` challenge, telling a client where to
/// get a token (`realm`), for which service, and with which scopes.
///
/// Its `Display` is the header value.
///
/// ```
/// use wharf_auth::{BearerChallenge, ChallengeError, Scope};
///
/// let challenge = BearerChallenge::new("https://registry.example/token", "registry.example")
///     .with_scope("repository:octocat/app:pull,push".parse()?);
/// assert_eq!(
///     challenge.to_string(),
///     r#"Bearer realm="https://registry.example/token",service="registry.example",scope="repository:octocat/app:pull,push""#
/// );
///
/// let challenge = challenge.with_error(ChallengeError::InsufficientScope);
/// assert!(challenge.to_string().ends_with(r#",error="insufficient_scope""#));
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    realm: String,
    service: String,
    scopes: ScopeSet,
    error: Option<ChallengeError>,
    error_description: Option<String>,
}

impl BearerChallenge {
    /// A challenge pointing at the token endpoint `realm`, for `service`
    /// (the `aud` the token must carry), with no scope yet.
    pub fn new(realm: impl Into<String>, service: impl Into<String>) -> BearerChallenge {
        BearerChallenge {
            realm: realm.into(),
            service: service.into(),
            scopes: ScopeSet::new(),
            error: None,
            error_description: None,
        }
    }

    /// With one more scope the request needs.
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> BearerChallenge {
        self.scopes.insert(scope);
        self
    }

    /// With more scopes the request needs.
    #[must_use]
    pub fn with_scopes(mut self, scopes: &ScopeSet) -> BearerChallenge {
        self.scopes.extend(scopes.iter().cloned());
        self
    }

    /// With an `error` code.
    #[must_use]
    pub fn with_error(mut self, error: ChallengeError) -> BearerChallenge {
        self.error = Some(error);
        self
    }

    /// With an `error_description` for people.
    #[must_use]
    pub fn with_error_description(mut self, description: impl Into<String>) -> BearerChallenge {
        self.error_description = Some(description.into());
        self
    }

    /// The scopes the challenge asks for.
    pub fn scopes(&self) -> &ScopeSet {
        &self.scopes
    }
}

impl fmt::Display for BearerChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bearer realm=")?;
        write_quoted(f, &self.realm)?;
        f.write_str(",service=")?;
        write_quoted(f, &self.service)?;
        if !self.scopes.is_empty() {
            // Scopes hold no quote, backslash or control character.
            write!(f, ",scope=\"{}\"", self.scopes)?;
        }
        if let Some(error) = self.error {
            write!(f, ",error=\"{error}\"")?;
        }
        if let Some(description) = &self.error_description {
            f.write_str(",error_description=")?;
            write_quoted(f, description)?;
        }
        Ok(())
    }
}

/// A `WWW-Authenticate: Basic ...` challenge (RFC 7617), for endpoints
/// that take a username and personal access token directly (the token
/// endpoint itself, the package API).
///
/// ```
/// use wharf_auth::BasicChallenge;
///
/// assert_eq!(
///     BasicChallenge::new("Wharf \"registry\"").to_string(),
///     r#"Basic realm="Wharf \"registry\"",charset="UTF-8""#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicChallenge {
    realm: String,
}

impl BasicChallenge {
    /// A challenge for `realm`.
    pub fn new(realm: impl Into<String>) -> BasicChallenge {
        BasicChallenge {
            realm: realm.into(),
        }
    }
}

impl fmt::Display for BasicChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Basic realm=")?;
        write_quoted(f, &self.realm)?;
        f.write_str(",charset=\"UTF-8\"")
    }
}
