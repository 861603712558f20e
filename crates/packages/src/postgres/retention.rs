//! Retention policies: a package's own, an organization's default, and
//! the live packages with one in force.

use deadpool_postgres::GenericClient;
use wharf_auth::Login;
use wharf_reference::RepositoryName;

use crate::error::Error;
use crate::page::{Page, PageRequest};
use crate::postgres::accounts::require_organization;
use crate::postgres::packages::require_live_id;
use crate::postgres::statement::{execute, query_all, query_value, read};
use crate::retention::{RetainedPackage, RetentionPolicy};
use crate::stored::{
    limit_plus_one, retained_after, retained_page, retention_from_sql, retention_to_sql,
    RetainedPackageRow,
};

/// The own retention policy of the live package `name`.
pub(crate) async fn package_policy(
    c: &impl GenericClient,
    name: &RepositoryName,
) -> Result<Option<RetentionPolicy>, Error> {
    let id = require_live_id(c, name).await?;
    read_policy(c, "SELECT retention FROM packages WHERE id = $1", id).await
}

/// Sets or removes the own retention policy of the live package `name`.
pub(crate) async fn set_package_policy(
    c: &impl GenericClient,
    name: &RepositoryName,
    policy: Option<&RetentionPolicy>,
) -> Result<(), Error> {
    let id = require_live_id(c, name).await?;
    let sql = "UPDATE packages SET retention = $1 WHERE id = $2";
    write_policy(c, sql, id, policy).await
}

/// The default retention policy of the organization `organization`.
pub(crate) async fn organization_policy(
    c: &impl GenericClient,
    organization: &Login,
) -> Result<Option<RetentionPolicy>, Error> {
    let id = require_organization(c, organization).await?;
    read_policy(c, "SELECT retention FROM accounts WHERE id = $1", id.get()).await
}

/// Sets or removes the default retention policy of `organization`.
pub(crate) async fn set_organization_policy(
    c: &impl GenericClient,
    organization: &Login,
    policy: Option<&RetentionPolicy>,
) -> Result<(), Error> {
    let id = require_organization(c, organization).await?;
    let sql = "UPDATE accounts SET retention = $1 WHERE id = $2";
    write_policy(c, sql, id.get(), policy).await
}

/// The policy `select` reads from the row `id` (`None` for no row or no
/// policy).
async fn read_policy(
    c: &impl GenericClient,
    select: &str,
    id: i64,
) -> Result<Option<RetentionPolicy>, Error> {
    let stored: Option<Option<String>> =
        query_value(c, select, &[&id], "reading a retention policy").await?;
    stored
        .flatten()
        .as_deref()
        .map(retention_from_sql)
        .transpose()
}

/// Writes `policy` (`None` removes it) to the row `id` with `update`.
async fn write_policy(
    c: &impl GenericClient,
    update: &str,
    id: i64,
    policy: Option<&RetentionPolicy>,
) -> Result<(), Error> {
    let value = retention_to_sql(policy)?;
    execute(c, update, &[&value, &id], "setting a retention policy").await?;
    Ok(())
}

/// A page of the live packages with a policy in force, in id order. Only
/// an organization's default is inherited (a user's account has none).
pub(crate) async fn retained(
    c: &impl GenericClient,
    page: &PageRequest,
) -> Result<Page<RetainedPackage>, Error> {
    let after = retained_after(page)?;
    let operation = "listing packages with a retention policy";
    let rows = query_all(
        c,
        "SELECT p.id, p.name, p.retention,
                CASE WHEN a.kind = 'organization' THEN a.retention END
         FROM packages p JOIN accounts a ON a.id = p.owner_id
         WHERE p.deleted_at IS NULL AND p.id > $1
           AND (p.retention IS NOT NULL
                OR (a.kind = 'organization' AND a.retention IS NOT NULL))
         ORDER BY p.id LIMIT $2",
        &[&after, &limit_plus_one(page.limit)],
        |row| read::<RetainedPackageRow>(row, operation),
        operation,
    )
    .await?;
    retained_page(rows, page.limit)
}
