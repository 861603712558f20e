//! Running cached statements: each helper prepares the statement (or
//! reuses it from the connection's cache), runs it, and on failure names
//! what the store was doing.

use rusqlite::{Connection, OptionalExtension, Params, Row};

use crate::error::Error;
use crate::sqlite::convert::Context;

/// Runs a statement that changes rows; how many it changed.
pub(crate) fn execute(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    operation: &'static str,
) -> Result<usize, Error> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
        .during(operation)
}

/// The first row of a query as `row` reads it, or `None` without one.
pub(crate) fn query_optional<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    row: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    operation: &'static str,
) -> Result<Option<T>, Error> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row(params, row).optional())
        .during(operation)
}

/// Every row of a query, as `row` reads it.
pub(crate) fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    row: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    operation: &'static str,
) -> Result<Vec<T>, Error> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_map(params, row)?.collect())
        .during(operation)
}

/// Whether a query has a row.
pub(crate) fn exists(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    operation: &'static str,
) -> Result<bool, Error> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.exists(params))
        .during(operation)
}

/// Runs an `INSERT ... RETURNING id`; the new row's id.
pub(crate) fn insert_returning_id(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    operation: &'static str,
) -> Result<i64, Error> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row(params, |row| row.get(0)))
        .during(operation)
}

/// A table whose rows are deleted restorably: `deleted_at` is set, and
/// cleared again on restore.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SoftDeleted {
    /// `packages`.
    Packages,
    /// `versions`.
    Versions,
}

/// Deletes a row restorably at `now_sql` (`deleted` true), or makes it
/// live again (`deleted` false); either way it was updated at `now_sql`.
pub(crate) fn set_deleted(
    conn: &Connection,
    table: SoftDeleted,
    id: i64,
    deleted: bool,
    now_sql: i64,
) -> Result<(), Error> {
    let (table, operation) = match (table, deleted) {
        (SoftDeleted::Packages, true) => ("packages", "deleting a package"),
        (SoftDeleted::Packages, false) => ("packages", "restoring a package"),
        (SoftDeleted::Versions, true) => ("versions", "deleting a version"),
        (SoftDeleted::Versions, false) => ("versions", "restoring a version"),
    };
    execute(
        conn,
        &format!("UPDATE {table} SET deleted_at = ?1, updated_at = ?2 WHERE id = ?3"),
        rusqlite::params![deleted.then_some(now_sql), now_sql, id],
        operation,
    )?;
    Ok(())
}
