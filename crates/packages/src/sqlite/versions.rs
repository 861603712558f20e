//! Package versions and their tags in SQLite, and the purge of expired
//! deletions.

use std::collections::BTreeSet;

use rusqlite::{params, Connection, OptionalExtension};
use wharf_auth::Timestamp;
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::error::Error;
use crate::id::{PackageId, VersionId};
use crate::package::{is_restorable, RecordState, RESTORE_WINDOW};
use crate::page::{Cursor, Page, PageRequest};
use crate::sqlite::convert::{
    from_json, limit_plus_one, opt_time_from_sql, parse, time_from_sql, time_to_sql, to_json,
    u64_from_sql, u64_to_sql, Context,
};
use crate::sqlite::packages;
use crate::store::{PurgeReport, PurgedPackage, PurgedVersion};
use crate::version::{NewVersion, VersionQuery, VersionRecord};

const SELECT_VERSION: &str =
    "SELECT id, digest, media_type, size, platforms, created_at, updated_at, deleted_at
    FROM versions";

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

fn version_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<VersionRow> {
    Ok(VersionRow {
        id: row.get(0)?,
        digest: row.get(1)?,
        media_type: row.get(2)?,
        size: row.get(3)?,
        platforms: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        deleted_at: row.get(7)?,
    })
}

fn tags_of(conn: &Connection, version_id: i64) -> Result<Vec<Tag>, Error> {
    conn.prepare_cached("SELECT tag FROM version_tags WHERE version_id = ?1 ORDER BY tag")
        .and_then(|mut stmt| {
            stmt.query_map([version_id], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .during("reading a version's tags")?
        .iter()
        .map(|tag| parse("tag", tag))
        .collect()
}

fn version_from_row(conn: &Connection, row: VersionRow) -> Result<VersionRecord, Error> {
    Ok(VersionRecord {
        id: VersionId::new(row.id),
        digest: parse("digest", &row.digest)?,
        media_type: row.media_type,
        size: u64_from_sql("manifest size", row.size)?,
        tags: tags_of(conn, row.id)?,
        platforms: from_json("platforms", &row.platforms)?,
        created_at: time_from_sql(row.created_at)?,
        updated_at: time_from_sql(row.updated_at)?,
        deleted_at: opt_time_from_sql(row.deleted_at)?,
    })
}

/// The version `id` of package `package_id`.
fn get(conn: &Connection, package_id: i64, id: i64) -> Result<Option<VersionRecord>, Error> {
    conn.prepare_cached(&format!(
        "{SELECT_VERSION} WHERE id = ?1 AND package_id = ?2"
    ))
    .and_then(|mut stmt| {
        stmt.query_row(params![id, package_id], version_row)
            .optional()
    })
    .during("looking up a version")?
    .map(|row| version_from_row(conn, row))
    .transpose()
}

fn require(conn: &Connection, package_id: i64, id: i64) -> Result<VersionRecord, Error> {
    get(conn, package_id, id)?.ok_or_else(|| Error::not_found("version", id))
}

fn adjust_count(
    conn: &Connection,
    package_id: i64,
    delta: i64,
    now: Timestamp,
) -> Result<(), Error> {
    let now_sql = time_to_sql(now)?;
    conn.prepare_cached(
        "UPDATE packages SET version_count = version_count + ?1, updated_at = ?2 WHERE id = ?3",
    )
    .and_then(|mut stmt| stmt.execute(params![delta, now_sql, package_id]))
    .during("counting versions")?;
    Ok(())
}

fn touch_version(conn: &Connection, id: i64, now_sql: i64) -> Result<(), Error> {
    conn.prepare_cached("UPDATE versions SET updated_at = ?1 WHERE id = ?2")
        .and_then(|mut stmt| stmt.execute(params![now_sql, id]))
        .during("updating a version")?;
    Ok(())
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
    let existing: Option<(i64, Option<i64>)> = conn
        .prepare_cached("SELECT id, deleted_at FROM versions WHERE package_id = ?1 AND digest = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![package_id, version.digest.as_str()], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
        })
        .during("looking up a version")?;
    let (id, newly_live) = match existing {
        None => {
            let id: i64 = conn
                .prepare_cached(
                    "INSERT INTO versions (package_id, digest, media_type, size, platforms, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
                )
                .and_then(|mut stmt| {
                    stmt.query_row(
                        params![package_id, version.digest.as_str(), version.media_type, size, platforms, now_sql],
                        |row| row.get(0),
                    )
                })
                .during("recording a version")?;
            (id, true)
        }
        Some((id, deleted_at)) => {
            conn.prepare_cached(
                "UPDATE versions SET media_type = ?1, size = ?2, platforms = ?3, updated_at = ?4,
                     deleted_at = NULL
                 WHERE id = ?5",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![version.media_type, size, platforms, now_sql, id])
            })
            .during("recording a version")?;
            (id, deleted_at.is_some())
        }
    };
    let tags: BTreeSet<&Tag> = version.tags.iter().collect();
    for tag in tags {
        let previous: Option<i64> = conn
            .prepare_cached(
                "SELECT version_id FROM version_tags WHERE package_id = ?1 AND tag = ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![package_id, tag.as_str()], |row| row.get(0))
                    .optional()
            })
            .during("looking up a tag")?;
        if previous == Some(id) {
            continue;
        }
        conn.prepare_cached(
            "INSERT INTO version_tags (package_id, tag, version_id) VALUES (?1, ?2, ?3)
             ON CONFLICT (package_id, tag) DO UPDATE SET version_id = excluded.version_id",
        )
        .and_then(|mut stmt| stmt.execute(params![package_id, tag.as_str(), id]))
        .during("moving a tag")?;
        if let Some(previous) = previous {
            touch_version(conn, previous, now_sql)?;
        }
    }
    adjust_count(conn, package_id, i64::from(newly_live), now)?;
    require(conn, package_id, id)
}

/// A version of the live package by id.
pub(crate) fn by_id(
    conn: &Connection,
    name: &RepositoryName,
    id: VersionId,
) -> Result<Option<VersionRecord>, Error> {
    match packages::live_id(conn, name)? {
        None => Ok(None),
        Some(package_id) => get(conn, package_id, id.get()),
    }
}

/// A version of the live package by digest.
pub(crate) fn by_digest(
    conn: &Connection,
    name: &RepositoryName,
    digest: &Digest,
) -> Result<Option<VersionRecord>, Error> {
    let Some(package_id) = packages::live_id(conn, name)? else {
        return Ok(None);
    };
    conn.prepare_cached(&format!(
        "{SELECT_VERSION} WHERE package_id = ?1 AND digest = ?2"
    ))
    .and_then(|mut stmt| {
        stmt.query_row(params![package_id, digest.as_str()], version_row)
            .optional()
    })
    .during("looking up a version")?
    .map(|row| version_from_row(conn, row))
    .transpose()
}

/// The live version a tag of the live package points at.
pub(crate) fn by_tag(
    conn: &Connection,
    name: &RepositoryName,
    tag: &Tag,
) -> Result<Option<VersionRecord>, Error> {
    let Some(package_id) = packages::live_id(conn, name)? else {
        return Ok(None);
    };
    conn.prepare_cached(
        "SELECT v.id, v.digest, v.media_type, v.size, v.platforms, v.created_at, v.updated_at, v.deleted_at
         FROM version_tags t JOIN versions v ON v.id = t.version_id
         WHERE t.package_id = ?1 AND t.tag = ?2 AND v.deleted_at IS NULL",
    )
    .and_then(|mut stmt| stmt.query_row(params![package_id, tag.as_str()], version_row).optional())
    .during("looking up a tag")?
    .map(|row| version_from_row(conn, row))
    .transpose()
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
    let before = match &page.after {
        None => i64::MAX,
        Some(cursor) => cursor
            .as_str()
            .parse::<i64>()
            .map_err(|_| Error::InvalidCursor {
                cursor: cursor.as_str().chars().take(100).collect(),
            })?,
    };
    let deleted = matches!(query.state, RecordState::Deleted);
    let rows = conn
        .prepare_cached(&format!(
            "{SELECT_VERSION} WHERE package_id = ?1 AND (deleted_at IS NOT NULL) = ?2 AND id < ?3
             ORDER BY id DESC LIMIT ?4"
        ))
        .and_then(|mut stmt| {
            stmt.query_map(
                params![package_id, deleted, before, limit_plus_one(page.limit)],
                version_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .during("listing versions")?;
    let more = rows.len() > page.limit;
    let items = rows
        .into_iter()
        .take(page.limit)
        .map(|row| version_from_row(conn, row))
        .collect::<Result<Vec<_>, _>>()?;
    let next = more
        .then(|| items.last())
        .flatten()
        .map(|last| Cursor::new(last.id.to_string()));
    Ok(Page { items, next })
}

/// Removes a tag.
pub(crate) fn remove_tag(
    conn: &Connection,
    name: &RepositoryName,
    tag: &Tag,
    now: Timestamp,
) -> Result<VersionRecord, Error> {
    let package_id = packages::require_live_id(conn, name)?;
    let version_id: i64 = conn
        .prepare_cached("SELECT version_id FROM version_tags WHERE package_id = ?1 AND tag = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![package_id, tag.as_str()], |row| row.get(0))
                .optional()
        })
        .during("looking up a tag")?
        .ok_or_else(|| Error::not_found("tag", format!("{name}:{tag}")))?;
    conn.prepare_cached("DELETE FROM version_tags WHERE package_id = ?1 AND tag = ?2")
        .and_then(|mut stmt| stmt.execute(params![package_id, tag.as_str()]))
        .during("removing a tag")?;
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
    let now_sql = time_to_sql(now)?;
    conn.prepare_cached("UPDATE versions SET deleted_at = ?1, updated_at = ?1 WHERE id = ?2")
        .and_then(|mut stmt| stmt.execute(params![now_sql, version.id.get()]))
        .during("deleting a version")?;
    adjust_count(conn, package_id, -1, now)?;
    require(conn, package_id, id.get())
}

/// Restores a deleted version.
pub(crate) fn restore(
    conn: &Connection,
    name: &RepositoryName,
    id: VersionId,
    now: Timestamp,
) -> Result<VersionRecord, Error> {
    let package_id = packages::require_live_id(conn, name)?;
    let version =
        get(conn, package_id, id.get())?.ok_or_else(|| Error::not_found("version", id))?;
    let Some(deleted_at) = version.deleted_at else {
        return Err(Error::conflict(format!(
            "version {id} of {name} is not deleted"
        )));
    };
    if !is_restorable(deleted_at, now) {
        return Err(Error::RestoreWindowPassed {
            what: "version",
            name: format!("{name}@{}", version.digest),
            deleted_at,
        });
    }
    let now_sql = time_to_sql(now)?;
    conn.prepare_cached("UPDATE versions SET deleted_at = NULL, updated_at = ?1 WHERE id = ?2")
        .and_then(|mut stmt| stmt.execute(params![now_sql, id.get()]))
        .during("restoring a version")?;
    adjust_count(conn, package_id, 1, now)?;
    require(conn, package_id, id.get())
}

/// Removes every package and version whose restore window has passed.
pub(crate) fn purge_expired(conn: &Connection, now: Timestamp) -> Result<PurgeReport, Error> {
    // Records deleted at or before the cutoff are past their window
    // (exactly the complement of `is_restorable`).
    let Some(cutoff) = now.unix_seconds().checked_sub(RESTORE_WINDOW.as_secs()) else {
        return Ok(PurgeReport::default());
    };
    let cutoff = time_to_sql(Timestamp::from_unix_seconds(cutoff))?;
    let packages = conn
        .prepare_cached(
            "SELECT id, name FROM packages WHERE deleted_at IS NOT NULL AND deleted_at <= ?1 ORDER BY id",
        )
        .and_then(|mut stmt| {
            stmt.query_map([cutoff], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .during("finding expired packages")?
        .into_iter()
        .map(|(id, name)| {
            Ok(PurgedPackage {
                id: PackageId::new(id),
                name: parse("package name", &name)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let versions = conn
        .prepare_cached(
            "SELECT v.id, v.package_id, p.name, v.digest FROM versions v JOIN packages p ON p.id = v.package_id
             WHERE (v.deleted_at IS NOT NULL AND v.deleted_at <= ?1)
                OR (p.deleted_at IS NOT NULL AND p.deleted_at <= ?1)
             ORDER BY v.id",
        )
        .and_then(|mut stmt| {
            stmt.query_map([cutoff], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .during("finding expired versions")?
        .into_iter()
        .map(|(id, package_id, name, digest)| {
            Ok(PurgedVersion {
                package_id: PackageId::new(package_id),
                name: parse("package name", &name)?,
                id: VersionId::new(id),
                digest: parse("digest", &digest)?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    conn.prepare_cached("DELETE FROM versions WHERE deleted_at IS NOT NULL AND deleted_at <= ?1")
        .and_then(|mut stmt| stmt.execute([cutoff]))
        .during("purging expired versions")?;
    // Cascades to the packages' versions, tags and grants.
    conn.prepare_cached("DELETE FROM packages WHERE deleted_at IS NOT NULL AND deleted_at <= ?1")
        .and_then(|mut stmt| stmt.execute([cutoff]))
        .during("purging expired packages")?;
    let mut unreferenced = Vec::new();
    let candidates: BTreeSet<(&RepositoryName, &Digest)> = versions
        .iter()
        .map(|version| (&version.name, &version.digest))
        .collect();
    for (name, digest) in candidates {
        let still_referenced = conn
            .prepare_cached(
                "SELECT 1 FROM versions v JOIN packages p ON p.id = v.package_id
                 WHERE p.name = ?1 AND v.digest = ?2",
            )
            .and_then(|mut stmt| stmt.exists(params![name.as_str(), digest.as_str()]))
            .during("checking purged manifests")?;
        if !still_referenced {
            unreferenced.push((name.clone(), digest.clone()));
        }
    }
    Ok(PurgeReport {
        packages,
        versions,
        unreferenced,
    })
}
