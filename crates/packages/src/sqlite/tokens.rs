//! Personal access tokens and workflow tokens in SQLite.

use rusqlite::{params, Connection, OptionalExtension};
use wharf_auth::{Login, SourceRepository, StoredToken, Timestamp, TokenHash, TokenScopes};

use crate::error::Error;
use crate::id::TokenId;
use crate::sqlite::accounts;
use crate::sqlite::convert::{
    opt_time_from_sql, opt_time_to_sql, parse, time_from_sql, time_to_sql, Context,
};
use crate::token::{Credential, TokenRecord, WorkflowToken};

const SELECT_TOKEN: &str = "SELECT t.id, t.kind, t.hash, a.login, t.scopes, t.repository,
        t.workflow_permission, t.note, t.created_at, t.expires_at, t.revoked_at, t.last_used_at
    FROM tokens t LEFT JOIN accounts a ON a.id = t.owner_id";

struct TokenRow {
    id: i64,
    kind: String,
    hash: Vec<u8>,
    owner: Option<String>,
    scopes: String,
    repository: Option<String>,
    workflow_permission: Option<String>,
    note: String,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

fn token_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok(TokenRow {
        id: row.get(0)?,
        kind: row.get(1)?,
        hash: row.get(2)?,
        owner: row.get(3)?,
        scopes: row.get(4)?,
        repository: row.get(5)?,
        workflow_permission: row.get(6)?,
        note: row.get(7)?,
        created_at: row.get(8)?,
        expires_at: row.get(9)?,
        revoked_at: row.get(10)?,
        last_used_at: row.get(11)?,
    })
}

fn token_from_row(row: TokenRow) -> Result<TokenRecord, Error> {
    let hash = <[u8; 32]>::try_from(row.hash.as_slice())
        .map(TokenHash::from_bytes)
        .map_err(|_| {
            Error::corrupt(
                "token hash",
                format!("{} bytes instead of 32", row.hash.len()),
            )
        })?;
    let expires_at = opt_time_from_sql(row.expires_at)?;
    let revoked_at = opt_time_from_sql(row.revoked_at)?;
    let credential = match row.kind.as_str() {
        "personal" => {
            let owner = row.owner.ok_or_else(|| {
                Error::corrupt("token", "a personal access token without an owner")
            })?;
            Credential::Personal(StoredToken {
                hash,
                owner: parse("login", &owner)?,
                scopes: parse::<TokenScopes>("token scopes", &row.scopes)?,
                expires_at,
                revoked: revoked_at.is_some(),
                note: row.note,
            })
        }
        "workflow" => {
            let repository = row
                .repository
                .ok_or_else(|| Error::corrupt("token", "a workflow token without a repository"))?;
            let permission = row
                .workflow_permission
                .ok_or_else(|| Error::corrupt("token", "a workflow token without a permission"))?;
            Credential::Workflow(WorkflowToken {
                hash,
                repository: parse("source repository", &repository)?,
                packages: parse("workflow permission", &permission)?,
                expires_at,
                revoked: revoked_at.is_some(),
            })
        }
        other => return Err(Error::corrupt("token kind", other)),
    };
    Ok(TokenRecord {
        id: TokenId::new(row.id),
        credential,
        created_at: time_from_sql(row.created_at)?,
        last_used_at: opt_time_from_sql(row.last_used_at)?,
        revoked_at,
    })
}

/// The token with this hash.
pub(crate) fn find(conn: &Connection, hash: &TokenHash) -> Result<Option<TokenRecord>, Error> {
    conn.prepare_cached(&format!("{SELECT_TOKEN} WHERE t.hash = ?1"))
        .and_then(|mut stmt| {
            stmt.query_row([hash.as_bytes().as_slice()], token_row)
                .optional()
        })
        .during("looking up a token")?
        .map(token_from_row)
        .transpose()
}

/// The token with this id.
pub(crate) fn get(conn: &Connection, id: TokenId) -> Result<Option<TokenRecord>, Error> {
    conn.prepare_cached(&format!("{SELECT_TOKEN} WHERE t.id = ?1"))
        .and_then(|mut stmt| stmt.query_row([id.get()], token_row).optional())
        .during("looking up a token")?
        .map(token_from_row)
        .transpose()
}

fn require(conn: &Connection, id: TokenId) -> Result<TokenRecord, Error> {
    get(conn, id)?.ok_or_else(|| Error::not_found("token", id))
}

fn ensure_new_hash(conn: &Connection, hash: &TokenHash) -> Result<(), Error> {
    let taken = conn
        .prepare_cached("SELECT 1 FROM tokens WHERE hash = ?1")
        .and_then(|mut stmt| stmt.exists([hash.as_bytes().as_slice()]))
        .during("checking a token hash")?;
    if taken {
        // The hash is not secret, but there is no use in echoing it.
        return Err(Error::already_exists("token", "with this hash"));
    }
    Ok(())
}

/// Stores a personal access token.
pub(crate) fn insert_personal(
    conn: &Connection,
    token: &StoredToken,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    let owner_id = accounts::require_user(conn, &token.owner)?;
    ensure_new_hash(conn, &token.hash)?;
    let now_sql = time_to_sql(now)?;
    let expires_at = opt_time_to_sql(token.expires_at)?;
    let revoked_at = token.revoked.then_some(now_sql);
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO tokens (hash, kind, owner_id, scopes, note, created_at, expires_at, revoked_at)
             VALUES (?1, 'personal', ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )
        .and_then(|mut stmt| {
            stmt.query_row(
                params![
                    token.hash.as_bytes().as_slice(),
                    owner_id.get(),
                    token.scopes.to_string(),
                    token.note,
                    now_sql,
                    expires_at,
                    revoked_at,
                ],
                |row| row.get(0),
            )
        })
        .during("storing a personal access token")?;
    require(conn, TokenId::new(id))
}

/// Stores a workflow token.
pub(crate) fn insert_workflow(
    conn: &Connection,
    token: &WorkflowToken,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    ensure_new_hash(conn, &token.hash)?;
    let now_sql = time_to_sql(now)?;
    let expires_at = opt_time_to_sql(token.expires_at)?;
    let revoked_at = token.revoked.then_some(now_sql);
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO tokens (hash, kind, repository, workflow_permission, created_at, expires_at, revoked_at)
             VALUES (?1, 'workflow', ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )
        .and_then(|mut stmt| {
            stmt.query_row(
                params![
                    token.hash.as_bytes().as_slice(),
                    token.repository.as_str(),
                    token.packages.as_str(),
                    now_sql,
                    expires_at,
                    revoked_at,
                ],
                |row| row.get(0),
            )
        })
        .during("storing a workflow token")?;
    require(conn, TokenId::new(id))
}

fn collect(
    rows: rusqlite::Result<Vec<TokenRow>>,
    operation: &'static str,
) -> Result<Vec<TokenRecord>, Error> {
    rows.during(operation)?
        .into_iter()
        .map(token_from_row)
        .collect()
}

/// A user's personal access tokens, oldest first.
pub(crate) fn personal(conn: &Connection, owner: &Login) -> Result<Vec<TokenRecord>, Error> {
    let owner_id = accounts::require_user(conn, owner)?;
    let rows = conn
        .prepare_cached(&format!(
            "{SELECT_TOKEN} WHERE t.owner_id = ?1 AND t.kind = 'personal' ORDER BY t.id"
        ))
        .and_then(|mut stmt| stmt.query_map([owner_id.get()], token_row)?.collect());
    collect(rows, "listing personal access tokens")
}

/// A repository's workflow tokens, oldest first.
pub(crate) fn workflow(
    conn: &Connection,
    repository: &SourceRepository,
) -> Result<Vec<TokenRecord>, Error> {
    let rows = conn
        .prepare_cached(&format!(
            "{SELECT_TOKEN} WHERE t.repository = ?1 AND t.kind = 'workflow' ORDER BY t.id"
        ))
        .and_then(|mut stmt| stmt.query_map([repository.as_str()], token_row)?.collect());
    collect(rows, "listing workflow tokens")
}

/// Revokes a token, keeping the first revocation time.
pub(crate) fn revoke(conn: &Connection, id: TokenId, now: Timestamp) -> Result<TokenRecord, Error> {
    let now_sql = time_to_sql(now)?;
    let changed = conn
        .prepare_cached("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?1) WHERE id = ?2")
        .and_then(|mut stmt| stmt.execute(params![now_sql, id.get()]))
        .during("revoking a token")?;
    if changed == 0 {
        return Err(Error::not_found("token", id));
    }
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
    let changed = conn
        .prepare_cached(
            "UPDATE tokens SET last_used_at = ?1
             WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?3)",
        )
        .and_then(|mut stmt| stmt.execute(params![now_sql, id.get(), threshold]))
        .during("recording a token's use")?;
    if changed == 0 && get(conn, id)?.is_none() {
        return Err(Error::not_found("token", id));
    }
    Ok(())
}
