//! Running cached statements: each helper prepares the statement (or
//! reuses it from the connection's cache), runs it, and on failure names
//! what the store was doing.

use std::fmt::Display;
use std::str::FromStr;

use rusqlite::{Connection, OptionalExtension, Params, Row};

use crate::error::Error;
use crate::sqlite::convert::{parse, Context};
use crate::stored::{FromColumns, SoftDeleted};

/// A row's columns as a tuple of their types, in order: the row reader of
/// a query whose columns need no names.
pub(crate) fn columns<T>(row: &Row<'_>) -> rusqlite::Result<T>
where
    T: for<'a> TryFrom<&'a Row<'a>, Error = rusqlite::Error>,
{
    T::try_from(row)
}

/// A row read into the struct of its columns.
pub(crate) fn read<T>(row: &Row<'_>) -> rusqlite::Result<T>
where
    T: FromColumns,
    T::Columns: for<'a> TryFrom<&'a Row<'a>, Error = rusqlite::Error>,
{
    columns(row).map(T::from_columns)
}

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

/// Every value of a query's one text column, parsed as `T` (`what` names
/// the value should one not parse).
pub(crate) fn query_parsed<T, C>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    what: &'static str,
    operation: &'static str,
) -> Result<C, Error>
where
    T: FromStr,
    T::Err: Display,
    C: FromIterator<T>,
{
    query_all(conn, sql, params, |row| row.get::<_, String>(0), operation)?
        .iter()
        .map(|value| parse(what, value))
        .collect()
}

/// Every row of a query's two text columns, each parsed (`what` names
/// them should one not parse).
pub(crate) fn query_parsed_pairs<A, B>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    what: (&'static str, &'static str),
    operation: &'static str,
) -> Result<Vec<(A, B)>, Error>
where
    A: FromStr,
    A::Err: Display,
    B: FromStr,
    B::Err: Display,
{
    query_all(conn, sql, params, columns::<(String, String)>, operation)?
        .iter()
        .map(|(a, b)| Ok((parse(what.0, a)?, parse(what.1, b)?)))
        .collect()
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

/// Runs a statement that must change a row (a removal, say): the error
/// `missing` makes when it changed none.
pub(crate) fn execute_one(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    operation: &'static str,
    missing: impl FnOnce() -> Error,
) -> Result<(), Error> {
    match execute(conn, sql, params, operation)? {
        0 => Err(missing()),
        _ => Ok(()),
    }
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

/// Deletes a row restorably at `now_sql` (`deleted` true), or makes it
/// live again (`deleted` false); either way it was updated at `now_sql`.
pub(crate) fn set_deleted(
    conn: &Connection,
    table: SoftDeleted,
    id: i64,
    deleted: bool,
    now_sql: i64,
) -> Result<(), Error> {
    let (table, operation) = table.table_and_operation(deleted);
    execute(
        conn,
        &format!("UPDATE {table} SET deleted_at = ?1, updated_at = ?2 WHERE id = ?3"),
        rusqlite::params![deleted.then_some(now_sql), now_sql, id],
        operation,
    )?;
    Ok(())
}
