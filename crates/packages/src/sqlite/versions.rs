//! Package versions and their tags in SQLite.

use std::time::Duration;

use std::collections::BTreeSet;

use rusqlite::{params, Connection};
use wharf_auth::Timestamp;
use wharf_reference::{RepositoryName, Tag};

use crate::error::Error;
use crate::id::{PackageId, VersionId};
use crate::package::RecordState;
use crate::page::{Page, PageRequest};
use crate::sqlite::convert::{
    from_json, opt_time_from_sql, parse, time_from_sql, time_to_sql, to_json, u64_from_sql,
    u64_to_sql,
};
use crate::sqlite::packages;
use crate::sqlite::statement::{
    execute, insert_returning_id, query_all, query_optional, query_parsed, read, set_deleted,
};
use crate::stored::{
    ensure_version_restorable, limit_plus_one, page_of, row_struct, version_cursor,
    versions_before, SoftDeleted,
};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

const SELECT_VERSION: &str =
    "SELECT id, digest, media_type, size, platforms, created_at, updated_at, deleted_at
    FROM versions";

row_struct! {
    /// A version, as `SELECT_VERSION` reads it (its tags are read apart).
    struct VersionRow {
        id: i64,
        digest: String,
        media_type: String,
        size: i64,
        platforms: String,
        created_at: i64,
        updated_at: i64,
        deleted_at: Option<i64>,
    }
}

fn tags_of(conn: &Connection, version_id: i64) -> Result<Vec<Tag>, Error> {
    query_parsed(
        conn,
        "SELECT tag FROM version_tags WHERE version_id = ?1 ORDER BY tag",
        [version_id],
        "tag",
        "reading a version's tags",
    )
}

fn version_from_row(conn: &Connection, row: VersionRow) -> Result<VersionRecord, Error> {
    Ok(VersionRecord {
        id: VersionId::new(row.id),
        digest: parse("digest", &row.digest)?,
        media_type: parse("media type", &row.media_type)?,
        size: u64_from_sql("manifest size", row.size)?,
        tags: tags_of(conn, row.id)?,
        platforms: from_json("platforms", &row.platforms)?,
        created_at: time_from_sql(row.created_at)?,
        updated_at: time_from_sql(row.updated_at)?,
        deleted_at: opt_time_from_sql(row.deleted_at)?,
    })
}

/// The version `sql` (selecting the columns of [`VersionRow`]) finds, if
/// any.
fn find(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    operation: &'static str,
) -> Result<Option<VersionRecord>, Error> {
    query_optional(conn, sql, params, read::<VersionRow>, operation)?
        .map(|row| version_from_row(conn, row))
        .transpose()
}

/// The query for the version of package `?1` whose `column` is `?2`.
fn select_by_package_and(column: &str) -> String {
    format!("{SELECT_VERSION} WHERE package_id = ?1 AND {column} = ?2")
}

/// The version `id` of package `package_id`.
fn get(conn: &Connection, package_id: i64, id: i64) -> Result<Option<VersionRecord>, Error> {
    find(
        conn,
        &select_by_package_and("id"),
        params![package_id, id],
        "looking up a version",
    )
}

/// The version of the live package `name` that `sql` finds with the
/// package's id as `?1` and `key` as `?2`; `None` when no live package
/// has that name.
fn find_in_live(
    conn: &Connection,
    name: &RepositoryName,
    sql: &str,
    key: impl rusqlite::ToSql,
    operation: &'static str,
) -> Result<Option<VersionRecord>, Error> {
    match packages::live_id(conn, name)? {
        None => Ok(None),
        Some(package_id) => find(conn, sql, params![package_id, key], operation),
    }
}

fn require(conn: &Connection, package_id: i64, id: i64) -> Result<VersionRecord, Error> {
    get(conn, package_id, id)?.ok_or_else(|| Error::not_found("version", id))
}

fn touch_version(conn: &Connection, id: i64, now_sql: i64) -> Result<(), Error> {
    execute(
        conn,
        "UPDATE versions SET updated_at = ?1 WHERE id = ?2",
        params![now_sql, id],
        "updating a version",
    )?;
    Ok(())
}

/// The version a tag of package `package_id` points at, live or deleted.
fn tagged_version_id(conn: &Connection, package_id: i64, tag: &Tag) -> Result<Option<i64>, Error> {
    query_optional(
        conn,
        "SELECT version_id FROM version_tags WHERE package_id = ?1 AND tag = ?2",
        params![package_id, tag.as_str()],
        |row| row.get(0),
        "looking up a tag",
    )
}

/// Records a push of a version, moving its tags to it.
pub(crate) fn record(
    conn: &Connection,
    name: &RepositoryName,
    version: &NewVersion,
    now: Timestamp,
) -> Result<VersionRecord, Error> {
    let package_id = packages::require_live_id(conn, name)?;
    let now_sql = time_to_sql(now)?;
    let size = u64_to_sql("manifest size", version.size)?;
    let platforms: BTreeSet<&str> = version.platforms.iter().map(String::as_str).collect();
    let platforms = to_json("platforms", &platforms)?;
    let existing: Option<(i64, Option<i64>)> = query_optional(
        conn,
        "SELECT id, deleted_at FROM versions WHERE package_id = ?1 AND digest = ?2",
        params![package_id, version.digest.as_str()],
        |row| Ok((row.get(0)?, row.get(1)?)),
        "looking up a version",
    )?;
    let (id, newly_live) = match existing {
        None => {
            let id = insert_returning_id(
                conn,
                "INSERT INTO versions (package_id, digest, media_type, size, platforms, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
                params![package_id, version.digest.as_str(), version.media_type.as_str(), size, platforms, now_sql],
                "recording a version",
            )?;
            (id, true)
        }
        Some((id, deleted_at)) => {
            execute(
                conn,
                "UPDATE versions SET media_type = ?1, size = ?2, platforms = ?3, updated_at = ?4,
                     deleted_at = NULL
                 WHERE id = ?5",
                params![version.media_type.as_str(), size, platforms, now_sql, id],
                "recording a version",
            )?;
            (id, deleted_at.is_some())
        }
    };
    let tags: BTreeSet<&Tag> = version.tags.iter().collect();
    for tag in tags {
        let previous = tagged_version_id(conn, package_id, tag)?;
        if previous == Some(id) {
            continue;
        }
        execute(
            conn,
            "INSERT INTO version_tags (package_id, tag, version_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (package_id, tag) DO UPDATE SET version_id = excluded.version_id",
            params![package_id, tag.as_str(), id],
            "moving a tag",
        )?;
        if let Some(previous) = previous {
            touch_version(conn, previous, now_sql)?;
        }
    }
    packages::touch(conn, package_id, i64::from(newly_live), now)?;
    require(conn, package_id, id)
}

/// The version of the live package `name` whose `column` (of `versions`:
/// `id`, `digest`) is `value`; `None` when no live package has that name.
pub(crate) fn by_column(
    conn: &Connection,
    name: &RepositoryName,
    column: &str,
    value: impl rusqlite::ToSql,
) -> Result<Option<VersionRecord>, Error> {
    let sql = select_by_package_and(column);
    find_in_live(conn, name, &sql, value, "looking up a version")
}

/// The live version a tag of the live package points at.
pub(crate) fn by_tag(
    conn: &Connection,
    name: &RepositoryName,
    tag: &Tag,
) -> Result<Option<VersionRecord>, Error> {
    find_in_live(
        conn,
        name,
        "SELECT v.id, v.digest, v.media_type, v.size, v.platforms, v.created_at, v.updated_at, v.deleted_at
         FROM version_tags t JOIN versions v ON v.id = t.version_id
         WHERE t.package_id = ?1 AND t.tag = ?2 AND v.deleted_at IS NULL",
        tag.as_str(),
        "looking up a tag",
    )
}

/// A page of the live package's versions, newest first; the cursor is the
/// last version's id.
pub(crate) fn list(
    conn: &Connection,
    name: &RepositoryName,
    query: VersionQuery,
    page: &PageRequest,
) -> Result<Page<VersionRecord>, Error> {
    let package_id = packages::require_live_id(conn, name)?;
    if page.limit == 0 {
        return Ok(Page::last(Vec::new()));
    }
    let before = versions_before(page)?;
    let deleted = matches!(query.state, RecordState::Deleted);
    let rows = query_all(
        conn,
        &format!(
            "{SELECT_VERSION} WHERE package_id = ?1 AND (deleted_at IS NOT NULL) = ?2 AND id < ?3
             ORDER BY id DESC LIMIT ?4"
        ),
        params![package_id, deleted, before, limit_plus_one(page.limit)],
        read::<VersionRow>,
        "listing versions",
    )?;
    page_of(
        rows,
        page.limit,
        |row| version_from_row(conn, row),
        version_cursor,
    )
}

/// Every version of the package with id `package_id`, live or deleted,
/// whether the package is live or deleted, oldest first.
pub(crate) fn of_package(
    conn: &Connection,
    package_id: PackageId,
) -> Result<Vec<VersionRecord>, Error> {
    query_all(
        conn,
        &format!("{SELECT_VERSION} WHERE package_id = ?1 ORDER BY id"),
        [package_id.get()],
        read::<VersionRow>,
        "listing a package's versions",
    )?
    .into_iter()
    .map(|row| version_from_row(conn, row))
    .collect()
}

/// Removes a tag.
pub(crate) fn remove_tag(
    conn: &Connection,
    name: &RepositoryName,
    tag: &Tag,
    now: Timestamp,
) -> Result<VersionRecord, Error> {
    let package_id = packages::require_live_id(conn, name)?;
    let version_id = tagged_version_id(conn, package_id, tag)?
        .ok_or_else(|| Error::not_found("tag", format!("{name}:{tag}")))?;
    execute(
        conn,
        "DELETE FROM version_tags WHERE package_id = ?1 AND tag = ?2",
        params![package_id, tag.as_str()],
        "removing a tag",
    )?;
    touch_version(conn, version_id, time_to_sql(now)?)?;
    require(conn, package_id, version_id)
}

/// Deletes a live version, restorably.
pub(crate) fn delete(
    conn: &Connection,
    name: &RepositoryName,
    id: VersionId,
    now: Timestamp,
) -> Result<VersionRecord, Error> {
    let package_id = packages::require_live_id(conn, name)?;
    let version = get(conn, package_id, id.get())?
        .filter(|version| !version.is_deleted())
        .ok_or_else(|| Error::not_found("version", id))?;
    set_deleted(
        conn,
        SoftDeleted::Versions,
        version.id.get(),
        true,
        time_to_sql(now)?,
    )?;
    packages::touch(conn, package_id, -1, now)?;
    require(conn, package_id, id.get())
}

/// Restores a deleted version.
pub(crate) fn restore(
    conn: &Connection,
    name: &RepositoryName,
    id: VersionId,
    now: Timestamp,
    window: Duration,
) -> Result<VersionRecord, Error> {
    let package_id = packages::require_live_id(conn, name)?;
    let version =
        get(conn, package_id, id.get())?.ok_or_else(|| Error::not_found("version", id))?;
    ensure_version_restorable(name, &version, now, window)?;
    set_deleted(
        conn,
        SoftDeleted::Versions,
        id.get(),
        false,
        time_to_sql(now)?,
    )?;
    packages::touch(conn, package_id, 1, now)?;
    require(conn, package_id, id.get())
}
