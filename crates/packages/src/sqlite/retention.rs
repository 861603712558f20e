//! Retention policies: a package's own, an organization's default, and
//! the live packages with one in force.

use rusqlite::{params, Connection};
use wharf_auth::Login;
use wharf_reference::RepositoryName;

use crate::error::Error;
use crate::page::{Page, PageRequest};
use crate::retention::{RetainedPackage, RetentionPolicy};
use crate::sqlite::accounts::require_organization;
use crate::sqlite::packages::require_live_id;
use crate::sqlite::statement::{execute, query_all, query_optional, read};
use crate::stored::{
    limit_plus_one, retained_after, retained_page, retention_from_sql, retention_to_sql,
    RetainedPackageRow,
};

/// The own retention policy of the live package `name`.
pub(crate) fn package_policy(
    conn: &Connection,
    name: &RepositoryName,
) -> Result<Option<RetentionPolicy>, Error> {
    let id = require_live_id(conn, name)?;
    read_policy(conn, "SELECT retention FROM packages WHERE id = ?1", id)
}

/// Sets or removes the own retention policy of the live package `name`.
pub(crate) fn set_package_policy(
    conn: &Connection,
    name: &RepositoryName,
    policy: Option<&RetentionPolicy>,
) -> Result<(), Error> {
    let id = require_live_id(conn, name)?;
    let sql = "UPDATE packages SET retention = ?1 WHERE id = ?2";
    write_policy(conn, sql, id, policy)
}

/// The default retention policy of the organization `organization`.
pub(crate) fn organization_policy(
    conn: &Connection,
    organization: &Login,
) -> Result<Option<RetentionPolicy>, Error> {
    let id = require_organization(conn, organization)?;
    read_policy(
        conn,
        "SELECT retention FROM accounts WHERE id = ?1",
        id.get(),
    )
}

/// Sets or removes the default retention policy of `organization`.
pub(crate) fn set_organization_policy(
    conn: &Connection,
    organization: &Login,
    policy: Option<&RetentionPolicy>,
) -> Result<(), Error> {
    let id = require_organization(conn, organization)?;
    let sql = "UPDATE accounts SET retention = ?1 WHERE id = ?2";
    write_policy(conn, sql, id.get(), policy)
}

/// The policy `select` reads from the row `id` (`None` for no row or no
/// policy).
fn read_policy(conn: &Connection, select: &str, id: i64) -> Result<Option<RetentionPolicy>, Error> {
    let stored: Option<String> = query_optional(
        conn,
        select,
        [id],
        |row| row.get(0),
        "reading a retention policy",
    )?
    .flatten();
    stored.as_deref().map(retention_from_sql).transpose()
}

/// Writes `policy` (`None` removes it) to the row `id` with `update`.
fn write_policy(
    conn: &Connection,
    update: &str,
    id: i64,
    policy: Option<&RetentionPolicy>,
) -> Result<(), Error> {
    execute(
        conn,
        update,
        params![retention_to_sql(policy)?, id],
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
