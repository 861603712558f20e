//! Packages and their grants in PostgreSQL.

use std::time::Duration;

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use wharf_annotations::PackageMetadata;
use wharf_auth::{Grant, Grantee, Login, OwnerKind, Package, Role, Timestamp, Visibility};
use wharf_reference::RepositoryName;

use crate::error::Error;
use crate::id::{AccountId, PackageId};
use crate::package::{PackageChanges, PackageQuery, PackageRecord, RecordState};
use crate::page::{Page, PageRequest};
use crate::postgres::accounts;
use crate::postgres::convert::{parse, time_to_sql, to_json, unique};
use crate::postgres::notify::{notify, Change};
use crate::postgres::statement::{
    column, execute, execute_one, insert_returning_id, query, query_optional, query_value, read,
};
pub(crate) use crate::stored::SoftDeleted;
use crate::stored::{
    ensure_package_restorable, limit_plus_one, package_cursor, packages_after, page_of, PackageRow,
};

/// A package with its owner's login and its grants (two arrays in grantee
/// order), in one statement: one round trip, one snapshot.
const SELECT_PACKAGE: &str = "SELECT p.id, p.name, p.visibility, p.linked_repository,
        p.inherit_access, p.metadata::text, p.version_count, p.created_at, p.updated_at,
        p.deleted_at, a.login, p.unlinked_at,
        ARRAY(SELECT g.grantee FROM package_grants g WHERE g.package_id = p.id ORDER BY g.grantee),
        ARRAY(SELECT g.role FROM package_grants g WHERE g.package_id = p.id ORDER BY g.grantee)
    FROM packages p JOIN accounts a ON a.id = p.owner_id";

fn package_from_row(row: &Row) -> Result<PackageRecord, Error> {
    let operation = "reading a package";
    let (grantees, roles): (Vec<String>, Vec<String>) =
        (column(row, 12, operation)?, column(row, 13, operation)?);
    if grantees.len() != roles.len() {
        return Err(Error::corrupt(
            "package grants",
            "grantees and roles differ in number",
        ));
    }
    let grants = grantees
        .iter()
        .zip(&roles)
        .map(|(grantee, role)| {
            Ok(Grant {
                grantee: parse("grantee", grantee)?,
                role: parse("role", role)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    read::<PackageRow>(row, operation)?.into_record(grants)
}

/// The package `SELECT_PACKAGE` followed by `condition` finds, if any.
async fn find(
    c: &impl GenericClient,
    condition: &str,
    params: &[&(dyn ToSql + Sync)],
    operation: &'static str,
) -> Result<Option<PackageRecord>, Error> {
    query_optional(
        c,
        &format!("{SELECT_PACKAGE} {condition}"),
        params,
        package_from_row,
        operation,
    )
    .await
}

/// The live package named `name`.
pub(crate) async fn get_live(
    c: &impl GenericClient,
    name: &RepositoryName,
) -> Result<Option<PackageRecord>, Error> {
    find(
        c,
        "WHERE p.name = $1 AND p.deleted_at IS NULL",
        &[&name.as_str()],
        "looking up a package",
    )
    .await
}

/// The most recently deleted package named `name`.
pub(crate) async fn get_latest_deleted(
    c: &impl GenericClient,
    name: &RepositoryName,
) -> Result<Option<PackageRecord>, Error> {
    find(
        c,
        "WHERE p.name = $1 AND p.deleted_at IS NOT NULL
         ORDER BY p.deleted_at DESC, p.id DESC LIMIT 1",
        &[&name.as_str()],
        "looking up a deleted package",
    )
    .await
}

/// The package with this id.
pub(crate) async fn get_by_id(
    c: &impl GenericClient,
    id: PackageId,
) -> Result<Option<PackageRecord>, Error> {
    find(c, "WHERE p.id = $1", &[&id.get()], "looking up a package").await
}

async fn require_by_id(c: &impl GenericClient, id: i64) -> Result<PackageRecord, Error> {
    get_by_id(c, PackageId::new(id))
        .await?
        .ok_or_else(|| Error::not_found("package", id))
}

/// The id of the live package named `name`.
pub(crate) async fn live_id(
    c: &impl GenericClient,
    name: &RepositoryName,
) -> Result<Option<i64>, Error> {
    query_value(
        c,
        "SELECT id FROM packages WHERE name = $1 AND deleted_at IS NULL",
        &[&name.as_str()],
        "looking up a package",
    )
    .await
}

/// The id of the live package named `name`, or [`Error::NotFound`].
pub(crate) async fn require_live_id(
    c: &impl GenericClient,
    name: &RepositoryName,
) -> Result<i64, Error> {
    live_id(c, name)
        .await?
        .ok_or_else(|| Error::not_found("package", name))
}

/// The account owning the namespace of `name`.
async fn owner_of(
    c: &impl GenericClient,
    name: &RepositoryName,
) -> Result<(AccountId, OwnerKind), Error> {
    let account = accounts::require(c, name.namespace()).await?;
    Ok((account.id, account.kind))
}

/// Checks that a grantee exists where it must: a user is a user, a team is
/// a team of the organization owning the package.
async fn check_grantee(
    c: &impl GenericClient,
    name: &RepositoryName,
    owner: (AccountId, OwnerKind),
    grantee: &Grantee,
) -> Result<(), Error> {
    match grantee {
        Grantee::User(login) => accounts::require_user(c, login).await.map(drop),
        Grantee::Team(team) => match owner.1 {
            OwnerKind::User => Err(Error::conflict(format!(
                "{name} belongs to a user, and only packages of organizations can grant roles to teams"
            ))),
            OwnerKind::Organization(_) => accounts::team_id(c, owner.0, team)
                .await?
                .map(drop)
                .ok_or_else(|| Error::not_found("team", format!("{}/{team}", name.namespace()))),
        },
        // Repositories are not modelled beyond their collaborators.
        Grantee::Repository(_) => Ok(()),
    }
}

async fn upsert_grant(
    c: &impl GenericClient,
    package_id: i64,
    grantee: &Grantee,
    role: Role,
) -> Result<(), Error> {
    execute(
        c,
        "INSERT INTO package_grants (package_id, grantee, role) VALUES ($1, $2, $3)
         ON CONFLICT (package_id, grantee) DO UPDATE SET role = excluded.role",
        &[&package_id, &grantee.to_string(), &role.as_str()],
        "granting a role",
    )
    .await?;
    Ok(())
}

/// Marks a package updated at `now`, adds `new_versions` (the change in
/// its live versions, often 0) to its version count, and tells the caches
/// of other replicas that it changed.
pub(crate) async fn touch(
    c: &impl GenericClient,
    name: &RepositoryName,
    package_id: i64,
    new_versions: i64,
    now: Timestamp,
) -> Result<(), Error> {
    let now_sql = time_to_sql(now)?;
    execute(
        c,
        "UPDATE packages SET version_count = version_count + $1, updated_at = $2 WHERE id = $3",
        &[&new_versions, &now_sql, &package_id],
        "updating a package",
    )
    .await?;
    notify(c, Change::Package(name.as_str())).await
}

/// Creates a package.
pub(crate) async fn create(
    c: &impl GenericClient,
    package: &Package,
    now: Timestamp,
) -> Result<PackageRecord, Error> {
    let now_sql = time_to_sql(now)?;
    let owner = owner_of(c, &package.name).await?;
    let taken = || Error::already_exists("package", &package.name);
    if live_id(c, &package.name).await?.is_some() {
        return Err(taken());
    }
    for grant in &package.grants {
        check_grantee(c, &package.name, owner, &grant.grantee).await?;
    }
    let metadata = to_json("package metadata", &PackageMetadata::default())?;
    let id = unique(
        insert_returning_id(
            c,
            "INSERT INTO packages (name, owner_id, visibility, linked_repository, inherit_access,
                 metadata, version_count, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6::text::jsonb, 0, $7, $7) RETURNING id",
            &[
                &package.name.as_str(),
                &owner.0.get(),
                &package.visibility.as_str(),
                &package.linked_repository.as_ref().map(|repo| repo.as_str()),
                &package.inherit_access,
                &metadata,
                &now_sql,
            ],
            "creating a package",
        )
        .await,
        taken,
    )?;
    for grant in &package.grants {
        upsert_grant(c, id, &grant.grantee, grant.role).await?;
    }
    notify(c, Change::Package(package.name.as_str())).await?;
    require_by_id(c, id).await
}

/// A page of an owner's packages in name order; the cursor is
/// `NAME ID` of the last one.
pub(crate) async fn list(
    c: &impl GenericClient,
    owner: &Login,
    query_: PackageQuery,
    page: &PageRequest,
) -> Result<Page<PackageRecord>, Error> {
    let owner_id = accounts::require(c, owner.as_str()).await?.id;
    if page.limit == 0 {
        return Ok(Page::last(Vec::new()));
    }
    let (after_name, after_id) = packages_after(page)?;
    let deleted = matches!(query_.state, RecordState::Deleted);
    let rows = query(
        c,
        &format!(
            "{SELECT_PACKAGE}
             WHERE p.owner_id = $1
               AND (p.deleted_at IS NOT NULL) = $2
               AND ($3::text IS NULL OR p.visibility = $3::text)
               AND (p.name > $4 OR (p.name = $4 AND p.id > $5))
             ORDER BY p.name, p.id LIMIT $6"
        ),
        &[
            &owner_id.get(),
            &deleted,
            &query_.visibility.map(Visibility::as_str),
            &after_name,
            &after_id,
            &limit_plus_one(page.limit),
        ],
        "listing packages",
    )
    .await?;
    page_of(
        rows,
        page.limit,
        |row| package_from_row(&row),
        package_cursor,
    )
}

/// Applies `changes` to a live package.
pub(crate) async fn update(
    c: &impl GenericClient,
    name: &RepositoryName,
    changes: &PackageChanges,
    now: Timestamp,
) -> Result<PackageRecord, Error> {
    let id = require_live_id(c, name).await?;
    let operation = "changing a package";
    if let Some(visibility) = changes.visibility {
        execute(
            c,
            "UPDATE packages SET visibility = $1 WHERE id = $2",
            &[&visibility.as_str(), &id],
            operation,
        )
        .await?;
    }
    if let Some(linked) = &changes.linked_repository {
        execute(
            c,
            "UPDATE packages SET linked_repository = $1 WHERE id = $2",
            &[&linked.as_ref().map(|repo| repo.as_str()), &id],
            operation,
        )
        .await?;
        if linked.is_none() {
            execute(
                c,
                "UPDATE packages SET unlinked_at = $1 WHERE id = $2",
                &[&time_to_sql(now)?, &id],
                operation,
            )
            .await?;
        }
    }
    if let Some(inherit) = changes.inherit_access {
        execute(
            c,
            "UPDATE packages SET inherit_access = $1 WHERE id = $2",
            &[&inherit, &id],
            operation,
        )
        .await?;
    }
    if let Some(metadata) = &changes.metadata {
        execute(
            c,
            "UPDATE packages SET metadata = $1::text::jsonb WHERE id = $2",
            &[&to_json("package metadata", metadata)?, &id],
            operation,
        )
        .await?;
    }
    touch(c, name, id, 0, now).await?;
    require_by_id(c, id).await
}

/// Gives a role on a live package.
pub(crate) async fn set_grant(
    c: &impl GenericClient,
    name: &RepositoryName,
    grantee: &Grantee,
    role: Role,
    now: Timestamp,
) -> Result<PackageRecord, Error> {
    let id = require_live_id(c, name).await?;
    check_grantee(c, name, owner_of(c, name).await?, grantee).await?;
    upsert_grant(c, id, grantee, role).await?;
    touch(c, name, id, 0, now).await?;
    require_by_id(c, id).await
}

/// Takes away a role on a live package.
pub(crate) async fn remove_grant(
    c: &impl GenericClient,
    name: &RepositoryName,
    grantee: &Grantee,
    now: Timestamp,
) -> Result<PackageRecord, Error> {
    let id = require_live_id(c, name).await?;
    execute_one(
        c,
        "DELETE FROM package_grants WHERE package_id = $1 AND grantee = $2",
        &[&id, &grantee.to_string()],
        "removing a grant",
        || Error::not_found("grant", format!("{grantee} on {name}")),
    )
    .await?;
    touch(c, name, id, 0, now).await?;
    require_by_id(c, id).await
}

/// Deletes a row restorably at `now` (`deleted` true), or makes it live
/// again (`deleted` false); either way it was updated at `now`.
pub(crate) async fn set_deleted(
    c: &impl GenericClient,
    table: SoftDeleted,
    id: i64,
    deleted: bool,
    now: Timestamp,
) -> Result<(), Error> {
    let now_sql = time_to_sql(now)?;
    let (table, operation) = table.table_and_operation(deleted);
    execute(
        c,
        &format!("UPDATE {table} SET deleted_at = $1, updated_at = $2 WHERE id = $3"),
        &[&deleted.then_some(now_sql), &now_sql, &id],
        operation,
    )
    .await?;
    Ok(())
}

/// Deletes a live package, restorably.
pub(crate) async fn delete(
    c: &impl GenericClient,
    name: &RepositoryName,
    now: Timestamp,
) -> Result<PackageRecord, Error> {
    let id = require_live_id(c, name).await?;
    set_deleted(c, SoftDeleted::Packages, id, true, now).await?;
    notify(c, Change::Package(name.as_str())).await?;
    require_by_id(c, id).await
}

/// Restores the latest deleted package named `name`.
pub(crate) async fn restore(
    c: &impl GenericClient,
    name: &RepositoryName,
    now: Timestamp,
    window: Duration,
) -> Result<PackageRecord, Error> {
    let deleted = get_latest_deleted(c, name)
        .await?
        .ok_or_else(|| Error::not_found("deleted package", name))?;
    let name_taken = live_id(c, name).await?.is_some();
    ensure_package_restorable(name, &deleted, name_taken, now, window)?;
    let id = deleted.id.get();
    set_deleted(c, SoftDeleted::Packages, id, false, now).await?;
    notify(c, Change::Package(name.as_str())).await?;
    require_by_id(c, id).await
}
