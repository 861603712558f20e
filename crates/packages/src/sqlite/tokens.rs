//! Personal access tokens and workflow tokens in SQLite.

use rusqlite::{params, Connection};
use wharf_auth::{CodeRepository, Login, StoredToken, Timestamp, TokenHash};

use crate::error::Error;
use crate::id::TokenId;
use crate::sqlite::accounts;
use crate::sqlite::convert::time_to_sql;
use crate::sqlite::statement::{
    execute, execute_one, exists, insert_returning_id, query_all, read,
};
use crate::stored::{token_hash_taken, NewToken, TokenRow, TokenUse};
use crate::token::{TokenRecord, WorkflowToken};

/// The tokens [`TokenRow::SELECT`] followed by `condition` finds.
fn find_all(
    conn: &Connection,
    condition: &str,
    params: impl rusqlite::Params,
    operation: &'static str,
) -> Result<Vec<TokenRecord>, Error> {
    query_all(
        conn,
        &format!("{} {condition}", TokenRow::SELECT),
        params,
        read::<TokenRow>,
        operation,
    )?
    .into_iter()
    .map(TokenRow::into_record)
    .collect()
}

/// The token with this hash (at most one: hashes are unique).
pub(crate) fn find(conn: &Connection, hash: &TokenHash) -> Result<Option<TokenRecord>, Error> {
    let hash = hash.as_bytes().as_slice();
    Ok(find_all(conn, "WHERE t.hash = ?1", [hash], "looking up a token")?.pop())
}

/// The token with this id.
pub(crate) fn get(conn: &Connection, id: TokenId) -> Result<Option<TokenRecord>, Error> {
    Ok(find_all(conn, "WHERE t.id = ?1", [id.get()], "looking up a token")?.pop())
}

fn require(conn: &Connection, id: TokenId) -> Result<TokenRecord, Error> {
    get(conn, id)?.ok_or_else(|| Error::not_found("token", id))
}

/// Stores `new`, refusing a hash that is stored already.
fn insert(conn: &Connection, new: NewToken<'_>) -> Result<TokenRecord, Error> {
    if exists(
        conn,
        "SELECT 1 FROM tokens WHERE hash = ?1",
        [new.hash],
        "checking a token hash",
    )? {
        return Err(token_hash_taken());
    }
    let id = insert_returning_id(
        conn,
        NewToken::INSERT,
        params![
            new.hash,
            new.kind,
            new.owner_id,
            new.scopes,
            new.note,
            new.repository,
            new.workflow_permission,
            new.created_at,
            new.expires_at,
            new.revoked_at,
        ],
        new.operation,
    )?;
    require(conn, TokenId::new(id))
}

/// Stores a personal access token.
pub(crate) fn insert_personal(
    conn: &Connection,
    token: &StoredToken,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    let owner_id = accounts::require_user(conn, &token.owner)?;
    insert(conn, NewToken::personal(token, owner_id, now)?)
}

/// Stores a workflow token.
pub(crate) fn insert_workflow(
    conn: &Connection,
    token: &WorkflowToken,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    insert(conn, NewToken::workflow(token, now)?)
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

/// Records `used` unless a later use is recorded. Never moves
/// `last_used_at` backwards.
pub(crate) fn record_use(conn: &Connection, id: TokenId, used: TokenUse) -> Result<(), Error> {
    let changed = execute(
        conn,
        "UPDATE tokens SET last_used_at = ?1
         WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?3)",
        params![used.at, id.get(), used.recorded_after],
        "recording a token's use",
    )?;
    if changed == 0 && get(conn, id)?.is_none() {
        return Err(Error::not_found("token", id));
    }
    Ok(())
}
