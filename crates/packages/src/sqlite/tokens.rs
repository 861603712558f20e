//! Personal access tokens and workflow tokens in SQLite.

use rusqlite::{params, Connection};
use wharf_auth::{CodeRepository, Login, StoredToken, Timestamp, TokenHash};

use crate::error::Error;
use crate::id::TokenId;
use crate::sqlite::accounts;
use crate::sqlite::convert::{opt_time_to_sql, time_to_sql};
use crate::sqlite::statement::{
    execute, execute_one, exists, insert_returning_id, query_all, query_optional, read,
};
use crate::stored::TokenRow;
use crate::token::{TokenRecord, WorkflowToken};

const SELECT_TOKEN: &str = "SELECT t.id, t.kind, t.hash, a.login, t.scopes, t.repository,
        t.workflow_permission, t.note, t.created_at, t.expires_at, t.revoked_at, t.last_used_at
    FROM tokens t LEFT JOIN accounts a ON a.id = t.owner_id";

/// The token `SELECT_TOKEN` followed by `condition` finds, if any.
fn find_one(
    conn: &Connection,
    condition: &str,
    params: impl rusqlite::Params,
) -> Result<Option<TokenRecord>, Error> {
    query_optional(
        conn,
        &format!("{SELECT_TOKEN} {condition}"),
        params,
        read::<TokenRow>,
        "looking up a token",
    )?
    .map(TokenRow::into_record)
    .transpose()
}

/// The tokens `SELECT_TOKEN` followed by `condition` finds.
fn find_all(
    conn: &Connection,
    condition: &str,
    params: impl rusqlite::Params,
    operation: &'static str,
) -> Result<Vec<TokenRecord>, Error> {
    query_all(
        conn,
        &format!("{SELECT_TOKEN} {condition}"),
        params,
        read::<TokenRow>,
        operation,
    )?
    .into_iter()
    .map(TokenRow::into_record)
    .collect()
}

/// The token with this hash.
pub(crate) fn find(conn: &Connection, hash: &TokenHash) -> Result<Option<TokenRecord>, Error> {
    find_one(conn, "WHERE t.hash = ?1", [hash.as_bytes().as_slice()])
}

/// The token with this id.
pub(crate) fn get(conn: &Connection, id: TokenId) -> Result<Option<TokenRecord>, Error> {
    find_one(conn, "WHERE t.id = ?1", [id.get()])
}

fn require(conn: &Connection, id: TokenId) -> Result<TokenRecord, Error> {
    get(conn, id)?.ok_or_else(|| Error::not_found("token", id))
}

/// What every new token is stored with, checked and as SQL values.
struct NewToken<'a> {
    hash: &'a [u8],
    created_at: i64,
    expires_at: Option<i64>,
    /// A token stored revoked is revoked when stored.
    revoked_at: Option<i64>,
}

impl<'a> NewToken<'a> {
    /// Refuses a hash that is stored already.
    fn check(
        conn: &Connection,
        hash: &'a TokenHash,
        expires_at: Option<Timestamp>,
        revoked: bool,
        now: Timestamp,
    ) -> Result<NewToken<'a>, Error> {
        let hash = hash.as_bytes().as_slice();
        if exists(
            conn,
            "SELECT 1 FROM tokens WHERE hash = ?1",
            [hash],
            "checking a token hash",
        )? {
            // The hash is not secret, but there is no use in echoing it.
            return Err(Error::already_exists("token", "with this hash"));
        }
        let created_at = time_to_sql(now)?;
        Ok(NewToken {
            hash,
            created_at,
            expires_at: opt_time_to_sql(expires_at)?,
            revoked_at: revoked.then_some(created_at),
        })
    }
}

/// Stores a personal access token.
pub(crate) fn insert_personal(
    conn: &Connection,
    token: &StoredToken,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    let owner_id = accounts::require_user(conn, &token.owner)?;
    let new = NewToken::check(conn, &token.hash, token.expires_at, token.revoked, now)?;
    let id = insert_returning_id(
        conn,
        "INSERT INTO tokens (hash, kind, owner_id, scopes, note, created_at, expires_at, revoked_at)
         VALUES (?1, 'personal', ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        params![
            new.hash,
            owner_id.get(),
            token.scopes.to_string(),
            token.note,
            new.created_at,
            new.expires_at,
            new.revoked_at,
        ],
        "storing a personal access token",
    )?;
    require(conn, TokenId::new(id))
}

/// Stores a workflow token.
pub(crate) fn insert_workflow(
    conn: &Connection,
    token: &WorkflowToken,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    let new = NewToken::check(conn, &token.hash, token.expires_at, token.revoked, now)?;
    let id = insert_returning_id(
        conn,
        "INSERT INTO tokens (hash, kind, repository, workflow_permission, created_at, expires_at, revoked_at)
         VALUES (?1, 'workflow', ?2, ?3, ?4, ?5, ?6) RETURNING id",
        params![
            new.hash,
            token.repository.as_str(),
            token.packages.as_str(),
            new.created_at,
            new.expires_at,
            new.revoked_at,
        ],
        "storing a workflow token",
    )?;
    require(conn, TokenId::new(id))
}

/// A user's personal access tokens, oldest first.
pub(crate) fn personal(conn: &Connection, owner: &Login) -> Result<Vec<TokenRecord>, Error> {
    let owner_id = accounts::require_user(conn, owner)?;
    find_all(
        conn,
        "WHERE t.owner_id = ?1 AND t.kind = 'personal' ORDER BY t.id",
        [owner_id.get()],
        "listing personal access tokens",
    )
}

/// A repository's workflow tokens, oldest first.
pub(crate) fn workflow(
    conn: &Connection,
    repository: &CodeRepository,
) -> Result<Vec<TokenRecord>, Error> {
    find_all(
        conn,
        "WHERE t.repository = ?1 AND t.kind = 'workflow' ORDER BY t.id",
        [repository.as_str()],
        "listing workflow tokens",
    )
}

/// Revokes a token, keeping the first revocation time.
pub(crate) fn revoke(conn: &Connection, id: TokenId, now: Timestamp) -> Result<TokenRecord, Error> {
    let now_sql = time_to_sql(now)?;
    execute_one(
        conn,
        "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2",
        params![now_sql, id.get()],
        "revoking a token",
        || Error::not_found("token", id),
    )?;
    require(conn, id)
}

/// Records a use of a token unless one within `granularity_seconds` is
/// recorded. Never moves `last_used_at` backwards.
pub(crate) fn record_use(
    conn: &Connection,
    id: TokenId,
    now: Timestamp,
    granularity_seconds: u64,
) -> Result<(), Error> {
    let now_sql = time_to_sql(now)?;
    let threshold = now_sql.saturating_sub(i64::try_from(granularity_seconds).unwrap_or(i64::MAX));
    let changed = execute(
        conn,
        "UPDATE tokens SET last_used_at = ?1
         WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?3)",
        params![now_sql, id.get(), threshold],
        "recording a token's use",
    )?;
    if changed == 0 && get(conn, id)?.is_none() {
        return Err(Error::not_found("token", id));
    }
    Ok(())
}
