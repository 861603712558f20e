//! Stored credentials: personal access tokens and workflow tokens, both
//! kept only as a hash and found by it.

use wharf_auth::{
    CodeRepository, Principal, StoredToken, Timestamp, TokenHash, WorkflowPermission,
};

use crate::id::TokenId;

/// What the store keeps about a workflow token (the `GITHUB_TOKEN`
/// analogue): a random secret, stored as its hash, bound to the source
/// repository whose workflows use it.
///
/// The secret can be generated like a personal access token's
/// ([`wharf_auth::PersonalAccessToken::generate`]); only its hash is
/// stored.
///
/// ```
/// use wharf_auth::{PersonalAccessToken, Timestamp, WorkflowPermission};
/// use wharf_packages::WorkflowToken;
///
/// let now = Timestamp::from_unix_seconds(1_700_000_000);
/// let secret = PersonalAccessToken::generate()?;
/// let token = WorkflowToken::new(secret.hash(), "acme/app".parse()?, WorkflowPermission::Write, None);
/// let principal = token.authenticate(secret.expose_secret(), now)?;
/// assert_eq!(principal.identity().subject(), "repo:acme/app");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// builds it with [`WorkflowToken::new`] and sets the other public fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct WorkflowToken {
    /// The token's hash.
    pub hash: TokenHash,
    /// The repository the token's workflows run in.
    pub repository: CodeRepository,
    /// The `packages` permission the token carries.
    pub packages: WorkflowPermission,
    /// When it stops working, if ever.
    #[serde(default)]
    pub expires_at: Option<Timestamp>,
    /// Whether it was revoked.
    #[serde(default)]
    pub revoked: bool,
}

impl WorkflowToken {
    /// A live token with this hash, for `repository`.
    pub fn new(
        hash: TokenHash,
        repository: CodeRepository,
        packages: WorkflowPermission,
        expires_at: Option<Timestamp>,
    ) -> WorkflowToken {
        WorkflowToken {
            hash,
            repository,
            packages,
            expires_at,
            revoked: false,
        }
    }

    /// Whether the token has expired at `now` (it is valid up to, not
    /// including, `expires_at`).
    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// Checks a presented secret against this record at `now`, as
    /// [`StoredToken::authenticate`] does, and gives the workflow principal.
    pub fn authenticate(
        &self,
        presented: &str,
        now: Timestamp,
    ) -> Result<Principal, wharf_auth::Error> {
        if !self.hash.matches(presented) {
            return Err(wharf_auth::Error::TokenMismatch);
        }
        self.principal_at(now)
    }

    /// The workflow principal the token stands for at `now`, while it
    /// works, as [`StoredToken::principal_at`] gives a user's.
    pub fn principal_at(&self, now: Timestamp) -> Result<Principal, wharf_auth::Error> {
        if self.revoked {
            return Err(wharf_auth::Error::TokenRevoked);
        }
        if let Some(expired_at) = self.expires_at.filter(|_| self.is_expired(now)) {
            return Err(wharf_auth::Error::TokenExpired { expired_at });
        }
        Ok(Principal::Workflow {
            repository: self.repository.clone(),
            packages: self.packages,
        })
    }
}

/// A stored credential of either kind.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Credential {
    /// A user's personal access token.
    Personal(StoredToken),
    /// A workflow token.
    Workflow(WorkflowToken),
}

impl Credential {
    /// The token's hash.
    pub fn hash(&self) -> TokenHash {
        match self {
            Credential::Personal(token) => token.hash,
            Credential::Workflow(token) => token.hash,
        }
    }

    /// Whether it was revoked.
    pub fn is_revoked(&self) -> bool {
        match self {
            Credential::Personal(token) => token.revoked,
            Credential::Workflow(token) => token.revoked,
        }
    }
}

/// A token as the store keeps it: the credential, and when it was
/// created, last used and revoked. Never holds the secret.
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// builds it with [`TokenRecord::new`] and sets the other public fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct TokenRecord {
    /// The store's id (what a "revoke" command names).
    pub id: TokenId,
    /// The credential.
    pub credential: Credential,
    /// When it was stored.
    pub created_at: Timestamp,
    /// When it last authenticated a request, to within
    /// [`LAST_USED_GRANULARITY`](crate::LAST_USED_GRANULARITY).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
}

impl TokenRecord {
    /// Token `id`, holding `credential`, stored at `created_at`, never used
    /// nor revoked.
    pub fn new(id: TokenId, credential: Credential, created_at: Timestamp) -> TokenRecord {
        TokenRecord {
            id,
            credential,
            created_at,
            last_used_at: None,
            revoked_at: None,
        }
    }

    /// Checks a presented secret against the record at `now` and gives the
    /// principal it authenticates: a user for a personal access token, a
    /// workflow for a workflow token. Errors are
    /// [`wharf_auth::Error::TokenMismatch`], `TokenRevoked` and
    /// `TokenExpired`.
    pub fn authenticate(
        &self,
        presented: &str,
        now: Timestamp,
    ) -> Result<Principal, wharf_auth::Error> {
        match &self.credential {
            Credential::Personal(token) => token.authenticate(presented, now),
            Credential::Workflow(token) => token.authenticate(presented, now),
        }
    }

    /// The principal the token stands for at `now`, while it is neither
    /// revoked nor expired: what a bearer token minted from it may act as
    /// at most (see [`StoredToken::principal_at`]).
    pub fn principal_at(&self, now: Timestamp) -> Result<Principal, wharf_auth::Error> {
        match &self.credential {
            Credential::Personal(token) => token.principal_at(now),
            Credential::Workflow(token) => token.principal_at(now),
        }
    }

    /// The personal access token, if that is what this is.
    pub fn personal(&self) -> Option<&StoredToken> {
        match &self.credential {
            Credential::Personal(token) => Some(token),
            Credential::Workflow(_) => None,
        }
    }

    /// The workflow token, if that is what this is.
    pub fn workflow(&self) -> Option<&WorkflowToken> {
        match &self.credential {
            Credential::Workflow(token) => Some(token),
            Credential::Personal(_) => None,
        }
    }
}
