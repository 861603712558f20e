//! [`TokenStore`]: personal access tokens and workflow tokens.

use std::time::Duration;

use async_trait::async_trait;
use wharf_auth::{CodeRepository, Login, StoredToken, Timestamp, TokenHash};

use crate::error::Error;
use crate::id::TokenId;
use crate::token::{TokenRecord, WorkflowToken};

/// How precisely [`TokenStore::record_token_use`] keeps a token's
/// `last_used_at`: a use within this long of the recorded one is not
/// written, so authenticating a request does not cost a write.
pub const LAST_USED_GRANULARITY: Duration = Duration::from_secs(5 * 60);

/// The registry's access tokens: personal access tokens of users and
/// workflow tokens bound to a source repository, stored only as a
/// [`TokenHash`] and found by it.
///
/// One of the three parts of a [`PackageStore`](crate::PackageStore); the
/// [conventions](crate::PackageStore#conventions) of the whole apply.
/// Object safe (`Arc<dyn TokenStore>`).
#[async_trait]
pub trait TokenStore: Send + Sync {
    // -------------------------------------------------------------- tokens

    /// Stores a personal access token (only its hash is in it). The owner
    /// must be a user; [`Error::AlreadyExists`] if the hash is stored.
    async fn insert_personal_token(
        &self,
        token: &StoredToken,
        now: Timestamp,
    ) -> Result<TokenRecord, Error>;

    /// Stores a workflow token for a repository.
    async fn insert_workflow_token(
        &self,
        token: &WorkflowToken,
        now: Timestamp,
    ) -> Result<TokenRecord, Error>;

    /// The token with this hash, of either kind, revoked and expired ones
    /// included (check with [`TokenRecord::authenticate`]). Hash whatever
    /// was presented ([`TokenHash::of`]) and look that up, so nothing
    /// depends on whether it was well formed. The hot path of every
    /// authenticated request.
    async fn find_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, Error>;

    /// The token with this id.
    async fn token(&self, id: TokenId) -> Result<Option<TokenRecord>, Error>;

    /// A user's personal access tokens, oldest first, revoked ones
    /// included.
    async fn personal_tokens(&self, owner: &Login) -> Result<Vec<TokenRecord>, Error>;

    /// A repository's workflow tokens, oldest first, revoked ones included.
    async fn workflow_tokens(&self, repository: &CodeRepository)
        -> Result<Vec<TokenRecord>, Error>;

    /// Revokes a token. Revoking a revoked token keeps its first
    /// revocation time.
    async fn revoke_token(&self, id: TokenId, now: Timestamp) -> Result<TokenRecord, Error>;

    /// Notes that a token authenticated a request at `now`, to within
    /// [`LAST_USED_GRANULARITY`] (most calls write nothing).
    async fn record_token_use(&self, id: TokenId, now: Timestamp) -> Result<(), Error>;

    /// Which answers the whole store gives now, for callers that keep
    /// conclusions drawn from them (a registry remembering that a token
    /// may pull a repository): while two calls return the same
    /// [`Revision`], an answer about something that exists may be taken
    /// as unchanged (as stale as the store's own answers may be, and no
    /// more); a change made through the store, one reported to it, or the
    /// end of its reuse period gives a new one. Not an answer that
    /// something is missing: it may appear at any moment through another
    /// writer, so do not keep conclusions drawn from one. `None` (the
    /// default) when the store cannot say so: keep nothing.
    /// [`CachedStore`](crate::CachedStore) gives one.
    fn revision(&self) -> Option<Revision> {
        None
    }
}

/// What [`TokenStore::revision`] gives: compare two with `==`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Revision {
    generation: u64,
    period: u64,
}

impl Revision {
    /// The revision of `generation` (a count of changes) in `period` (a
    /// count of reuse periods).
    pub fn new(generation: u64, period: u64) -> Revision {
        Revision { generation, period }
    }
}
