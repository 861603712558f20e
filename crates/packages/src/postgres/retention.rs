//! Retention policies: a package's own, an organization's default, and
//! the live packages with one in force.

use deadpool_postgres::GenericClient;

use crate::error::Error;
use crate::page::{Page, PageRequest};
use crate::postgres::accounts::require_organization;
use crate::postgres::packages::require_live_id;
use crate::postgres::statement::{execute, query_all, query_value, read};
use crate::retention::{RetainedPackage, RetentionPolicy};
use crate::stored::{
    limit_plus_one, retained_after, retained_page, retention_from_sql, retention_to_sql,
    PolicyHolder, RetainedPackageRow,
};

/// The id of the row that holds `holder`'s policy; [`Error::NotFound`]
/// when there is no such live package or organization.
async fn holder_id(c: &impl GenericClient, holder: PolicyHolder<'_>) -> Result<i64, Error> {
    match holder {
        PolicyHolder::Package(name) => require_live_id(c, name).await,
        PolicyHolder::Organization(login) => Ok(require_organization(c, login).await?.get()),
    }
}

/// The retention policy of `holder`, if it has one.
pub(crate) async fn policy(
    c: &impl GenericClient,
    holder: PolicyHolder<'_>,
) -> Result<Option<RetentionPolicy>, Error> {
    let id = holder_id(c, holder).await?;
    let select = format!("SELECT retention FROM {} WHERE id = $1", holder.table());
    let stored: Option<Option<String>> =
        query_value(c, &select, &[&id], "reading a retention policy").await?;
    stored
        .flatten()
        .as_deref()
        .map(retention_from_sql)
        .transpose()
}

/// Sets (`Some`) or removes (`None`) the retention policy of `holder`.
pub(crate) async fn set_policy(
    c: &impl GenericClient,
    holder: PolicyHolder<'_>,
    policy: Option<&RetentionPolicy>,
) -> Result<(), Error> {
    let id = holder_id(c, holder).await?;
    let update = format!("UPDATE {} SET retention = $1 WHERE id = $2", holder.table());
    let value = retention_to_sql(policy)?;
    execute(c, &update, &[&value, &id], "setting a retention policy").await?;
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
