//! Personal access tokens and workflow tokens in PostgreSQL.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use wharf_auth::{CodeRepository, Login, StoredToken, Timestamp, TokenHash};

use crate::error::Error;
use crate::id::TokenId;
use crate::postgres::accounts;
use crate::postgres::convert::{time_to_sql, unique};
use crate::postgres::notify::{notify, Change};
use crate::postgres::statement::{
    execute, execute_one, exists, insert_returning_id, query_all, read,
};
use crate::stored::{token_hash_taken, NewToken, TokenRow, TokenUse};
use crate::token::{TokenRecord, WorkflowToken};

fn token_from_row(row: &Row) -> Result<TokenRecord, Error> {
    read::<TokenRow>(row, "reading a token")?.into_record()
}

/// The tokens [`TokenRow::SELECT`] followed by `condition` finds.
async fn find_all(
    c: &impl GenericClient,
    condition: &str,
    params: &[&(dyn ToSql + Sync)],
    operation: &'static str,
) -> Result<Vec<TokenRecord>, Error> {
    query_all(
        c,
        &format!("{} {condition}", TokenRow::SELECT),
        params,
        token_from_row,
        operation,
    )
    .await
}

/// The token with this hash (at most one: hashes are unique).
pub(crate) async fn find(
    c: &impl GenericClient,
    hash: &TokenHash,
) -> Result<Option<TokenRecord>, Error> {
    let hash = hash.as_bytes().as_slice();
    find_all(c, "WHERE t.hash = $1", &[&hash], "looking up a token")
        .await
        .map(|mut found| found.pop())
}

/// The token with this id.
pub(crate) async fn get(c: &impl GenericClient, id: TokenId) -> Result<Option<TokenRecord>, Error> {
    find_all(c, "WHERE t.id = $1", &[&id.get()], "looking up a token")
        .await
        .map(|mut found| found.pop())
}

async fn require(c: &impl GenericClient, id: TokenId) -> Result<TokenRecord, Error> {
    get(c, id)
        .await?
        .ok_or_else(|| Error::not_found("token", id))
}

/// Stores `new`, refusing a hash that is stored already.
async fn insert(c: &impl GenericClient, new: NewToken<'_>) -> Result<TokenRecord, Error> {
    if exists(
        c,
        "SELECT 1 FROM tokens WHERE hash = $1",
        &[&new.hash],
        "checking a token hash",
    )
    .await?
    {
        return Err(token_hash_taken());
    }
    let id = unique(
        insert_returning_id(
            c,
            NewToken::INSERT,
            &[
                &new.hash,
                &new.kind,
                &new.owner_id,
                &new.scopes,
                &new.note,
                &new.repository,
                &new.workflow_permission,
                &new.created_at,
                &new.expires_at,
                &new.revoked_at,
            ],
            new.operation,
        )
        .await,
        token_hash_taken,
    )?;
    require(c, TokenId::new(id)).await
}

/// Stores a personal access token.
pub(crate) async fn insert_personal(
    c: &impl GenericClient,
    token: &StoredToken,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    let owner_id = accounts::require_user(c, &token.owner).await?;
    insert(c, NewToken::personal(token, owner_id, now)?).await
}

/// Stores a workflow token.
pub(crate) async fn insert_workflow(
    c: &impl GenericClient,
    token: &WorkflowToken,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    insert(c, NewToken::workflow(token, now)?).await
}

/// A user's personal access tokens, oldest first.
pub(crate) async fn personal(
    c: &impl GenericClient,
    owner: &Login,
) -> Result<Vec<TokenRecord>, Error> {
    let owner_id = accounts::require_user(c, owner).await?;
    find_all(
        c,
        "WHERE t.owner_id = $1 AND t.kind = 'personal' ORDER BY t.id",
        &[&owner_id.get()],
        "listing personal access tokens",
    )
    .await
}

/// A repository's workflow tokens, oldest first.
pub(crate) async fn workflow(
    c: &impl GenericClient,
    repository: &CodeRepository,
) -> Result<Vec<TokenRecord>, Error> {
    find_all(
        c,
        "WHERE t.repository = $1 AND t.kind = 'workflow' ORDER BY t.id",
        &[&repository.as_str()],
        "listing workflow tokens",
    )
    .await
}

/// Revokes a token, keeping the first revocation time, and tells the
/// caches of other replicas.
pub(crate) async fn revoke(
    c: &impl GenericClient,
    id: TokenId,
    now: Timestamp,
) -> Result<TokenRecord, Error> {
    let now_sql = time_to_sql(now)?;
    execute_one(
        c,
        "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
        &[&now_sql, &id.get()],
        "revoking a token",
        || Error::not_found("token", id),
    )
    .await?;
    notify(c, Change::Token(id.get())).await?;
    require(c, id).await
}

/// Records `used` unless a later use is recorded. Never moves
/// `last_used_at` backwards.
pub(crate) async fn record_use(
    c: &impl GenericClient,
    id: TokenId,
    used: TokenUse,
) -> Result<(), Error> {
    let changed = execute(
        c,
        "UPDATE tokens SET last_used_at = $1
         WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
        &[&used.at, &id.get(), &used.recorded_after],
        "recording a token's use",
    )
    .await?;
    if changed == 0 && get(c, id).await?.is_none() {
        return Err(Error::not_found("token", id));
    }
    Ok(())
}
