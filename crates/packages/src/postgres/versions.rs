//! Package versions and their tags in PostgreSQL.

use std::time::Duration;

use std::collections::BTreeSet;

use deadpool_postgres::GenericClient;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;
use wharf_auth::Timestamp;
use wharf_reference::{RepositoryName, Tag};

use crate::error::Error;
use crate::id::VersionId;
use crate::package::RecordState;
use crate::page::{Page, PageRequest};
use crate::postgres::convert::{
    opt_time_from_sql, parse, time_from_sql, time_to_sql, u64_from_sql, u64_to_sql,
};
use crate::postgres::packages::{self, set_deleted, SoftDeleted};
use crate::postgres::statement::{
    column, columns, execute, insert_returning_id, query, query_optional, query_value,
};
use crate::stored::{
    ensure_version_restorable, limit_plus_one, page_of, version_cursor, versions_before,
};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

/// A version's columns with its tags (in lexical order), from `versions v`.
const VERSION_COLUMNS: &str = "v.id, v.digest, v.media_type, v.size, v.platforms,
        v.created_at, v.updated_at, v.deleted_at,
        ARRAY(SELECT t.tag FROM version_tags t WHERE t.version_id = v.id ORDER BY t.tag)";

fn version_from_row(row: &Row) -> Result<VersionRecord, Error> {
    let operation = "reading a version";
    let tags: Vec<String> = column(row, 8, operation)?;
    Ok(VersionRecord {
        id: VersionId::new(column(row, 0, operation)?),
        digest: parse("digest", &column::<String>(row, 1, operation)?)?,
        media_type: parse("media type", &column::<String>(row, 2, operation)?)?,
        size: u64_from_sql("manifest size", column(row, 3, operation)?)?,
        tags: tags
            .iter()
            .map(|tag| parse("tag", tag))
            .collect::<Result<_, _>>()?,
        platforms: column(row, 4, operation)?,
        created_at: time_from_sql(column(row, 5, operation)?)?,
        updated_at: time_from_sql(column(row, 6, operation)?)?,
        deleted_at: opt_time_from_sql(column(row, 7, operation)?)?,
    })
}

/// The version of package `package_id` whose `column` (of `versions`) is
/// `value`.
async fn find(
    c: &impl GenericClient,
    package_id: i64,
    column: &str,
    value: &(dyn ToSql + Sync),
    operation: &'static str,
) -> Result<Option<VersionRecord>, Error> {
    query_optional(
        c,
        &format!(
            "SELECT {VERSION_COLUMNS} FROM versions v WHERE v.package_id = $1 AND v.{column} = $2"
        ),
        &[&package_id, value],
        version_from_row,
        operation,
    )
    .await
}

/// The version `id` of package `package_id`.
async fn get(
    c: &impl GenericClient,
    package_id: i64,
    id: i64,
) -> Result<Option<VersionRecord>, Error> {
    find(c, package_id, "id", &id, "looking up a version").await
}

async fn require(c: &impl GenericClient, package_id: i64, id: i64) -> Result<VersionRecord, Error> {
    get(c, package_id, id)
        .await?
        .ok_or_else(|| Error::not_found("version", id))
}

async fn touch_version(c: &impl GenericClient, id: i64, now_sql: i64) -> Result<(), Error> {
    execute(
        c,
        "UPDATE versions SET updated_at = $1 WHERE id = $2",
        &[&now_sql, &id],
        "updating a version",
    )
    .await?;
    Ok(())
}

/// The version a tag of package `package_id` points at, live or deleted.
async fn tagged_version_id(
    c: &impl GenericClient,
    package_id: i64,
    tag: &Tag,
) -> Result<Option<i64>, Error> {
    query_value(
        c,
        "SELECT version_id FROM version_tags WHERE package_id = $1 AND tag = $2",
        &[&package_id, &tag.as_str()],
        "looking up a tag",
    )
    .await
}

/// Records a push of a version, moving its tags to it.
pub(crate) async fn record(
    c: &impl GenericClient,
    name: &RepositoryName,
    version: &NewVersion,
    now: Timestamp,
) -> Result<VersionRecord, Error> {
    let package_id = packages::require_live_id(c, name).await?;
    let now_sql = time_to_sql(now)?;
    let size = u64_to_sql("manifest size", version.size)?;
    let platforms: Vec<&str> = version
        .platforms
        .iter()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let operation = "recording a version";
    let existing = query_optional(
        c,
        "SELECT id, deleted_at FROM versions WHERE package_id = $1 AND digest = $2",
        &[&package_id, &version.digest.as_str()],
        |row| columns::<(i64, Option<i64>)>(row, "looking up a version"),
        "looking up a version",
    )
    .await?;
    let (id, newly_live) = match existing {
        None => {
            let id = insert_returning_id(
                c,
                "INSERT INTO versions (package_id, digest, media_type, size, platforms, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
                &[
                    &package_id,
                    &version.digest.as_str(),
                    &version.media_type.as_str(),
                    &size,
                    &platforms,
                    &now_sql,
                ],
                operation,
            )
            .await?;
            (id, true)
        }
        Some((id, deleted_at)) => {
            execute(
                c,
                "UPDATE versions SET media_type = $1, size = $2, platforms = $3, updated_at = $4,
                     deleted_at = NULL
                 WHERE id = $5",
                &[
                    &version.media_type.as_str(),
                    &size,
                    &platforms,
                    &now_sql,
                    &id,
                ],
                operation,
            )
            .await?;
            (id, deleted_at.is_some())
        }
    };
    let tags: BTreeSet<&Tag> = version.tags.iter().collect();
    for tag in tags {
        let previous = tagged_version_id(c, package_id, tag).await?;
        if previous == Some(id) {
            continue;
        }
        execute(
            c,
            "INSERT INTO version_tags (package_id, tag, version_id) VALUES ($1, $2, $3)
             ON CONFLICT (package_id, tag) DO UPDATE SET version_id = excluded.version_id",
            &[&package_id, &tag.as_str(), &id],
            "moving a tag",
        )
        .await?;
        if let Some(previous) = previous {
            touch_version(c, previous, now_sql).await?;
        }
    }
    packages::touch(c, name, package_id, i64::from(newly_live), now).await?;
    require(c, package_id, id).await
}

/// The version of the live package `name` whose `column` (of `versions`:
/// `id`, `digest`) is `value`; `None` when no live package has that name.
pub(crate) async fn by_column(
    c: &impl GenericClient,
    name: &RepositoryName,
    column: &str,
    value: &(dyn ToSql + Sync),
) -> Result<Option<VersionRecord>, Error> {
    match packages::live_id(c, name).await? {
        None => Ok(None),
        Some(package_id) => find(c, package_id, column, value, "looking up a version").await,
    }
}

/// The live version a tag of the live package points at.
pub(crate) async fn by_tag(
    c: &impl GenericClient,
    name: &RepositoryName,
    tag: &Tag,
) -> Result<Option<VersionRecord>, Error> {
    query_optional(
        c,
        &format!(
            "SELECT {VERSION_COLUMNS}
             FROM packages p
             JOIN version_tags vt ON vt.package_id = p.id
             JOIN versions v ON v.id = vt.version_id
             WHERE p.name = $1 AND p.deleted_at IS NULL AND vt.tag = $2 AND v.deleted_at IS NULL"
        ),
        &[&name.as_str(), &tag.as_str()],
        version_from_row,
        "looking up a tag",
    )
    .await
}

/// A page of the live package's versions, newest first; the cursor is the
/// last version's id.
pub(crate) async fn list(
    c: &impl GenericClient,
    name: &RepositoryName,
    query_: VersionQuery,
    page: &PageRequest,
) -> Result<Page<VersionRecord>, Error> {
    let package_id = packages::require_live_id(c, name).await?;
    if page.limit == 0 {
        return Ok(Page::last(Vec::new()));
    }
    let before = versions_before(page)?;
    let deleted = matches!(query_.state, RecordState::Deleted);
    let rows = query(
        c,
        &format!(
            "SELECT {VERSION_COLUMNS} FROM versions v
             WHERE v.package_id = $1 AND (v.deleted_at IS NOT NULL) = $2 AND v.id < $3
             ORDER BY v.id DESC LIMIT $4"
        ),
        &[&package_id, &deleted, &before, &limit_plus_one(page.limit)],
        "listing versions",
    )
    .await?;
    page_of(
        rows,
        page.limit,
        |row| version_from_row(&row),
        version_cursor,
    )
}

/// Removes a tag.
pub(crate) async fn remove_tag(
    c: &impl GenericClient,
    name: &RepositoryName,
    tag: &Tag,
    now: Timestamp,
) -> Result<VersionRecord, Error> {
    let package_id = packages::require_live_id(c, name).await?;
    let version_id = tagged_version_id(c, package_id, tag)
        .await?
        .ok_or_else(|| Error::not_found("tag", format!("{name}:{tag}")))?;
    execute(
        c,
        "DELETE FROM version_tags WHERE package_id = $1 AND tag = $2",
        &[&package_id, &tag.as_str()],
        "removing a tag",
    )
    .await?;
    touch_version(c, version_id, time_to_sql(now)?).await?;
    require(c, package_id, version_id).await
}

/// Deletes a live version, restorably.
pub(crate) async fn delete(
    c: &impl GenericClient,
    name: &RepositoryName,
    id: VersionId,
    now: Timestamp,
) -> Result<VersionRecord, Error> {
    let package_id = packages::require_live_id(c, name).await?;
    let version = get(c, package_id, id.get())
        .await?
        .filter(|version| !version.is_deleted())
        .ok_or_else(|| Error::not_found("version", id))?;
    set_deleted(c, SoftDeleted::Versions, version.id.get(), true, now).await?;
    packages::touch(c, name, package_id, -1, now).await?;
    require(c, package_id, id.get()).await
}

/// Restores a deleted version.
pub(crate) async fn restore(
    c: &impl GenericClient,
    name: &RepositoryName,
    id: VersionId,
    now: Timestamp,
    window: Duration,
) -> Result<VersionRecord, Error> {
    let package_id = packages::require_live_id(c, name).await?;
    let version = get(c, package_id, id.get())
        .await?
        .ok_or_else(|| Error::not_found("version", id))?;
    ensure_version_restorable(name, &version, now, window)?;
    set_deleted(c, SoftDeleted::Versions, id.get(), false, now).await?;
    packages::touch(c, name, package_id, 1, now).await?;
    require(c, package_id, id.get()).await
}
