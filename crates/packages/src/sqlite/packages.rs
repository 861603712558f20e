//! Packages and their grants in SQLite.

use std::time::Duration;

use rusqlite::{params, Connection};
use wharf_annotations::PackageMetadata;
use wharf_auth::{Grant, Grantee, Login, OwnerKind, Package, Role, Timestamp, Visibility};
use wharf_reference::RepositoryName;

use crate::error::Error;
use crate::id::{AccountId, PackageId};
use crate::package::{PackageChanges, PackageQuery, PackageRecord, RecordState};
use crate::page::{Page, PageRequest};
use crate::sqlite::accounts;
use crate::sqlite::convert::{time_to_sql, to_json};
use crate::sqlite::statement::{
    execute, execute_one, insert_returning_id, query_all, query_optional, query_parsed_pairs, read,
    set_deleted,
};
use crate::stored::{
    ensure_package_restorable, limit_plus_one, package_cursor, packages_after, page_of, PackageRow,
    SoftDeleted,
};

const SELECT_PACKAGE: &str = "SELECT p.id, p.name, p.visibility, p.linked_repository,
        p.inherit_access, p.metadata, p.version_count, p.created_at, p.updated_at, p.deleted_at,
        a.login, p.unlinked_at
    FROM packages p JOIN accounts a ON a.id = p.owner_id";

fn grants(conn: &Connection, package_id: i64) -> Result<Vec<Grant>, Error> {
    let grants = query_parsed_pairs(
        conn,
        "SELECT grantee, role FROM package_grants WHERE package_id = ?1 ORDER BY grantee",
        [package_id],
        ("grantee", "role"),
        "reading a package's grants",
    )?;
    Ok(grants
        .into_iter()
        .map(|(grantee, role)| Grant { grantee, role })
        .collect())
}

fn package_from_row(conn: &Connection, row: PackageRow) -> Result<PackageRecord, Error> {
    let grants = grants(conn, row.id)?;
    row.into_record(grants)
}

/// The package `SELECT_PACKAGE` followed by `condition` finds, if any.
fn find(
    conn: &Connection,
    condition: &str,
    params: impl rusqlite::Params,
    operation: &'static str,
) -> Result<Option<PackageRecord>, Error> {
    query_optional(
        conn,
        &format!("{SELECT_PACKAGE} {condition}"),
        params,
        read::<PackageRow>,
        operation,
    )?
    .map(|row| package_from_row(conn, row))
    .transpose()
}

/// The live package named `name`.
pub(crate) fn get_live(
    conn: &Connection,
    name: &RepositoryName,
) -> Result<Option<PackageRecord>, Error> {
    find(
        conn,
        "WHERE p.name = ?1 AND p.deleted_at IS NULL",
        [name.as_str()],
        "looking up a package",
    )
}

/// The most recently deleted package named `name`.
pub(crate) fn get_latest_deleted(
    conn: &Connection,
    name: &RepositoryName,
) -> Result<Option<PackageRecord>, Error> {
    find(
        conn,
        "WHERE p.name = ?1 AND p.deleted_at IS NOT NULL
         ORDER BY p.deleted_at DESC, p.id DESC LIMIT 1",
        [name.as_str()],
        "looking up a deleted package",
    )
}

/// The package with this id.
pub(crate) fn get_by_id(conn: &Connection, id: PackageId) -> Result<Option<PackageRecord>, Error> {
    find(conn, "WHERE p.id = ?1", [id.get()], "looking up a package")
}

fn require_by_id(conn: &Connection, id: i64) -> Result<PackageRecord, Error> {
    get_by_id(conn, PackageId::new(id))?.ok_or_else(|| Error::not_found("package", id))
}

/// The id of the live package named `name`.
pub(crate) fn live_id(conn: &Connection, name: &RepositoryName) -> Result<Option<i64>, Error> {
    query_optional(
        conn,
        "SELECT id FROM packages WHERE name = ?1 AND deleted_at IS NULL",
        [name.as_str()],
        |row| row.get(0),
        "looking up a package",
    )
}

/// The id of the live package named `name`, or [`Error::NotFound`].
pub(crate) fn require_live_id(conn: &Connection, name: &RepositoryName) -> Result<i64, Error> {
    live_id(conn, name)?.ok_or_else(|| Error::not_found("package", name))
}

/// The account owning the namespace of `name`.
fn owner_of(conn: &Connection, name: &RepositoryName) -> Result<(AccountId, OwnerKind), Error> {
    let account = accounts::require(conn, name.namespace())?;
    Ok((account.id, account.kind))
}

/// Checks that a grantee exists where it must: a user is a user, a team is
/// a team of the organization owning the package.
fn check_grantee(
    conn: &Connection,
    name: &RepositoryName,
    owner: (AccountId, OwnerKind),
    grantee: &Grantee,
) -> Result<(), Error> {
    match grantee {
        Grantee::User(login) => accounts::require_user(conn, login).map(drop),
        Grantee::Team(team) => match owner.1 {
            OwnerKind::User => Err(Error::conflict(format!(
                "{name} belongs to a user, and only packages of organizations can grant roles to teams"
            ))),
            OwnerKind::Organization(_) => accounts::team_id(conn, owner.0, team)?
                .map(drop)
                .ok_or_else(|| Error::not_found("team", format!("{}/{team}", name.namespace()))),
        },
        // Repositories are not modelled beyond their collaborators.
        Grantee::Repository(_) => Ok(()),
    }
}

fn upsert_grant(
    conn: &Connection,
    package_id: i64,
    grantee: &Grantee,
    role: Role,
) -> Result<(), Error> {
    execute(
        conn,
        "INSERT INTO package_grants (package_id, grantee, role) VALUES (?1, ?2, ?3)
         ON CONFLICT (package_id, grantee) DO UPDATE SET role = excluded.role",
        params![package_id, grantee.to_string(), role.as_str()],
        "granting a role",
    )?;
    Ok(())
}

/// Marks a package updated at `now`, and adds `new_versions` (the change
/// in its live versions, often 0) to its version count.
pub(crate) fn touch(
    conn: &Connection,
    package_id: i64,
    new_versions: i64,
    now: Timestamp,
) -> Result<(), Error> {
    let now_sql = time_to_sql(now)?;
    execute(
        conn,
        "UPDATE packages SET version_count = version_count + ?1, updated_at = ?2 WHERE id = ?3",
        params![new_versions, now_sql, package_id],
        "updating a package",
    )?;
    Ok(())
}

/// Creates a package.
pub(crate) fn create(
    conn: &Connection,
    package: &Package,
    now: Timestamp,
) -> Result<PackageRecord, Error> {
    let now_sql = time_to_sql(now)?;
    let owner = owner_of(conn, &package.name)?;
    if live_id(conn, &package.name)?.is_some() {
        return Err(Error::already_exists("package", &package.name));
    }
    for grant in &package.grants {
        check_grantee(conn, &package.name, owner, &grant.grantee)?;
    }
    let metadata = to_json("package metadata", &PackageMetadata::default())?;
    let id = insert_returning_id(
        conn,
        "INSERT INTO packages (name, owner_id, visibility, linked_repository, inherit_access,
             metadata, version_count, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?7) RETURNING id",
        params![
            package.name.as_str(),
            owner.0.get(),
            package.visibility.as_str(),
            package.linked_repository.as_ref().map(|repo| repo.as_str()),
            package.inherit_access,
            metadata,
            now_sql,
        ],
        "creating a package",
    )?;
    for grant in &package.grants {
        upsert_grant(conn, id, &grant.grantee, grant.role)?;
    }
    require_by_id(conn, id)
}

/// A page of an owner's packages in name order; the cursor is
/// `NAME ID` of the last one.
pub(crate) fn list(
    conn: &Connection,
    owner: &Login,
    query: PackageQuery,
    page: &PageRequest,
) -> Result<Page<PackageRecord>, Error> {
    let owner_id = accounts::require(conn, owner.as_str())?.id;
    if page.limit == 0 {
        return Ok(Page::last(Vec::new()));
    }
    let (after_name, after_id) = packages_after(page)?;
    let deleted = matches!(query.state, RecordState::Deleted);
    let rows = query_all(
        conn,
        &format!(
            "{SELECT_PACKAGE}
             WHERE p.owner_id = ?1
               AND (p.deleted_at IS NOT NULL) = ?2
               AND (?3 IS NULL OR p.visibility = ?3)
               AND (p.name > ?4 OR (p.name = ?4 AND p.id > ?5))
             ORDER BY p.name, p.id LIMIT ?6"
        ),
        params![
            owner_id.get(),
            deleted,
            query.visibility.map(Visibility::as_str),
            after_name,
            after_id,
            limit_plus_one(page.limit),
        ],
        read::<PackageRow>,
        "listing packages",
    )?;
    page_of(
        rows,
        page.limit,
        |row| package_from_row(conn, row),
        package_cursor,
    )
}

/// Applies `changes` to a live package.
pub(crate) fn update(
    conn: &Connection,
    name: &RepositoryName,
    changes: &PackageChanges,
    now: Timestamp,
) -> Result<PackageRecord, Error> {
    let id = require_live_id(conn, name)?;
    let set = |sql: &str, value: &dyn rusqlite::ToSql| {
        execute(conn, sql, params![value, id], "changing a package")
    };
    if let Some(visibility) = changes.visibility {
        set(
            "UPDATE packages SET visibility = ?1 WHERE id = ?2",
            &visibility.as_str(),
        )?;
    }
    if let Some(linked) = &changes.linked_repository {
        set(
            "UPDATE packages SET linked_repository = ?1 WHERE id = ?2",
            &linked.as_ref().map(|repo| repo.as_str()),
        )?;
        if linked.is_none() {
            set(
                "UPDATE packages SET unlinked_at = ?1 WHERE id = ?2",
                &time_to_sql(now)?,
            )?;
        }
    }
    if let Some(inherit) = changes.inherit_access {
        set(
            "UPDATE packages SET inherit_access = ?1 WHERE id = ?2",
            &inherit,
        )?;
    }
    if let Some(metadata) = &changes.metadata {
        set(
            "UPDATE packages SET metadata = ?1 WHERE id = ?2",
            &to_json("package metadata", metadata)?,
        )?;
    }
    touch(conn, id, 0, now)?;
    require_by_id(conn, id)
}

/// Gives a role on a live package.
pub(crate) fn set_grant(
    conn: &Connection,
    name: &RepositoryName,
    grantee: &Grantee,
    role: Role,
    now: Timestamp,
) -> Result<PackageRecord, Error> {
    let id = require_live_id(conn, name)?;
    check_grantee(conn, name, owner_of(conn, name)?, grantee)?;
    upsert_grant(conn, id, grantee, role)?;
    touch(conn, id, 0, now)?;
    require_by_id(conn, id)
}

/// Takes away a role on a live package.
pub(crate) fn remove_grant(
    conn: &Connection,
    name: &RepositoryName,
    grantee: &Grantee,
    now: Timestamp,
) -> Result<PackageRecord, Error> {
    let id = require_live_id(conn, name)?;
    execute_one(
        conn,
        "DELETE FROM package_grants WHERE package_id = ?1 AND grantee = ?2",
        params![id, grantee.to_string()],
        "removing a grant",
        || Error::not_found("grant", format!("{grantee} on {name}")),
    )?;
    touch(conn, id, 0, now)?;
    require_by_id(conn, id)
}

/// Deletes a live package, restorably.
pub(crate) fn delete(
    conn: &Connection,
    name: &RepositoryName,
    now: Timestamp,
) -> Result<PackageRecord, Error> {
    let id = require_live_id(conn, name)?;
    set_deleted(conn, SoftDeleted::Packages, id, true, time_to_sql(now)?)?;
    require_by_id(conn, id)
}

/// Restores the latest deleted package named `name`.
pub(crate) fn restore(
    conn: &Connection,
    name: &RepositoryName,
    now: Timestamp,
    window: Duration,
) -> Result<PackageRecord, Error> {
    let deleted =
        get_latest_deleted(conn, name)?.ok_or_else(|| Error::not_found("deleted package", name))?;
    let name_taken = live_id(conn, name)?.is_some();
    ensure_package_restorable(name, &deleted, name_taken, now, window)?;
    let id = deleted.id.get();
    set_deleted(conn, SoftDeleted::Packages, id, false, time_to_sql(now)?)?;
    require_by_id(conn, id)
}
