//! The outcome of a decision: [`Decision`], and the [`DenyKind`] that
//! decides the response to a denial.

use crate::protocol::{BearerChallenge, ChallengeError};

/// Why a request was denied, which decides the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenyKind {
    /// No credentials were presented: answer 401 with a
    /// `WWW-Authenticate` challenge (`UNAUTHORIZED`).
    NeedsAuthentication,
    /// Credentials were presented but their scopes (or a workflow token's
    /// `packages` permission) do not cover the action: answer 403
    /// (`DENIED`), with `error="insufficient_scope"` in a bearer challenge.
    InsufficientScope,
    /// The principal can see the package (or namespace) but may not do
    /// this: answer 403 (`DENIED`).
    Forbidden,
    /// The package does not exist, or the principal may not know it exists:
    /// answer 404 (`NAME_UNKNOWN`). The two cases are deliberately the same
    /// answer, so a private package's existence is never revealed.
    NotVisible,
}

impl DenyKind {
    /// The `error` of the Bearer challenge that fits this denial:
    /// `insufficient_scope` for [`DenyKind::InsufficientScope`] (a token
    /// was presented but lacked scope), none otherwise.
    pub const fn challenge_error(self) -> Option<ChallengeError> {
        match self {
            DenyKind::InsufficientScope => Some(ChallengeError::InsufficientScope),
            _ => None,
        }
    }
}

/// GitHub policy meets the token protocol here, so that
/// [`crate::protocol`] needs nothing from [`crate::github`].
impl BearerChallenge {
    /// With the `error` that fits a denial
    /// ([`DenyKind::challenge_error`]): `insufficient_scope` for
    /// [`DenyKind::InsufficientScope`] (a token was presented but lacked
    /// scope), none otherwise.
    #[must_use]
    pub fn for_denial(self, kind: DenyKind) -> BearerChallenge {
        match kind.challenge_error() {
            Some(error) => self.with_error(error),
            None => self,
        }
    }
}

/// The outcome of [`authorize`](super::authorize).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused.
    Deny {
        /// Which response to give.
        kind: DenyKind,
        /// What went wrong and what the user can do about it. For
        /// [`DenyKind::NotVisible`] it never says whether the package
        /// exists.
        reason: String,
    },
}

impl Decision {
    /// Whether the request may go ahead.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// Why it was denied, if it was.
    pub fn deny_kind(&self) -> Option<DenyKind> {
        match self {
            Decision::Allow => None,
            Decision::Deny { kind, .. } => Some(*kind),
        }
    }

    /// The reason it was denied, if it was.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Decision::Allow => None,
            Decision::Deny { reason, .. } => Some(reason),
        }
    }

    pub(super) fn deny(kind: DenyKind, reason: String) -> Decision {
        Decision::Deny { kind, reason }
    }
}
