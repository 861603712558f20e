//! Retention policies: a package's own, an organization's default, and
//! the live packages with one in force.

use rusqlite::{params, Connection};

use crate::error::Error;
use crate::page::{Page, PageRequest};
use crate::retention::{RetainedPackage, RetentionPolicy};
use crate::sqlite::accounts::require_organization;
use crate::sqlite::packages::require_live_id;
use crate::sqlite::statement::{execute, query_all, query_optional, read};
use crate::stored::{
    limit_plus_one, retained_after, retained_page, retention_from_sql, retention_to_sql,
    PolicyHolder, RetainedPackageRow,
};

/// The id of the row that holds `holder`'s policy; [`Error::NotFound`]
/// when there is no such live package or organization.
fn holder_id(conn: &Connection, holder: PolicyHolder<'_>) -> Result<i64, Error> {
    match holder {
        PolicyHolder::Package(name) => require_live_id(conn, name),
        PolicyHolder::Organization(login) => Ok(require_organization(conn, login)?.get()),
    }
}

/// The retention policy of `holder`, if it has one.
pub(crate) fn policy(
    conn: &Connection,
    holder: PolicyHolder<'_>,
) -> Result<Option<RetentionPolicy>, Error> {
    let id = holder_id(conn, holder)?;
    let select = format!("SELECT retention FROM {} WHERE id = ?1", holder.table());
    let stored: Option<String> = query_optional(
        conn,
        &select,
        [id],
        |row| row.get(0),
        "reading a retention policy",
    )?
    .flatten();
    stored.as_deref().map(retention_from_sql).transpose()
}

/// Sets (`Some`) or removes (`None`) the retention policy of `holder`.
pub(crate) fn set_policy(
    conn: &Connection,
    holder: PolicyHolder<'_>,
    policy: Option<&RetentionPolicy>,
) -> Result<(), Error> {
    let id = holder_id(conn, holder)?;
    let update = format!("UPDATE {} SET retention = ?1 WHERE id = ?2", holder.table());
    let value = retention_to_sql(policy)?;
    execute(
        conn,
        &update,
        params![value, id],
        "setting a retention policy",
    )?;
    Ok(())
}

/// A page of the live packages with a policy in force, in id order. Only
/// an organization's default is inherited (a user's account has none).
pub(crate) fn retained(
    conn: &Connection,
    page: &PageRequest,
) -> Result<Page<RetainedPackage>, Error> {
    let after = retained_after(page)?;
    let rows = query_all(
        conn,
        "SELECT p.id, p.name, p.retention,
                CASE WHEN a.kind = 'organization' THEN a.retention END
         FROM packages p JOIN accounts a ON a.id = p.owner_id
         WHERE p.deleted_at IS NULL AND p.id > ?1
           AND (p.retention IS NOT NULL
                OR (a.kind = 'organization' AND a.retention IS NOT NULL))
         ORDER BY p.id LIMIT ?2",
        params![after, limit_plus_one(page.limit)],
        read::<RetainedPackageRow>,
        "listing packages with a retention policy",
    )?;
    retained_page(rows, page.limit)
}
