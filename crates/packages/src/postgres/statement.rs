//! Running statements: each helper prepares the statement (or reuses it
//! from the connection's cache), runs it, and on failure names what the
//! store was doing.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::{FromSqlOwned, ToSql};
use tokio_postgres::Row;

use crate::error::Error;
use crate::postgres::convert::Context;
use crate::stored::FromColumns;

/// Statement parameters.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Every row of a query.
pub(crate) async fn query(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    operation: &'static str,
) -> Result<Vec<Row>, Error> {
    let statement = c.prepare_cached(sql).await.during(operation)?;
    c.query(&statement, params).await.during(operation)
}

/// Every row of a query, as `row` reads it.
pub(crate) async fn query_all<T>(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    row: impl FnMut(&Row) -> Result<T, Error>,
    operation: &'static str,
) -> Result<Vec<T>, Error> {
    query(c, sql, params, operation)
        .await?
        .iter()
        .map(row)
        .collect()
}

/// Every row of a query, as the tuple of its columns.
pub(crate) async fn query_columns<T: FromRow>(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    operation: &'static str,
) -> Result<Vec<T>, Error> {
    query_all(c, sql, params, |row| columns(row, operation), operation).await
}

/// The first row of a query as `row` reads it, or `None` without one.
pub(crate) async fn query_optional<T>(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    row: impl FnOnce(&Row) -> Result<T, Error>,
    operation: &'static str,
) -> Result<Option<T>, Error> {
    query(c, sql, params, operation)
        .await?
        .first()
        .map(row)
        .transpose()
}

/// The one row a query must return (an `INSERT ... RETURNING`, say).
pub(crate) async fn query_one(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    operation: &'static str,
) -> Result<Row, Error> {
    let statement = c.prepare_cached(sql).await.during(operation)?;
    c.query_one(&statement, params).await.during(operation)
}

/// The first column of a query's first row, or `None` without a row.
pub(crate) async fn query_value<T: FromSqlOwned>(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    operation: &'static str,
) -> Result<Option<T>, Error> {
    query_optional(c, sql, params, |row| column(row, 0, operation), operation).await
}

/// Runs an `INSERT ... RETURNING id`; the new row's id.
pub(crate) async fn insert_returning_id(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    operation: &'static str,
) -> Result<i64, Error> {
    column(&query_one(c, sql, params, operation).await?, 0, operation)
}

/// Runs a statement that changes rows; how many it changed.
pub(crate) async fn execute(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    operation: &'static str,
) -> Result<u64, Error> {
    let statement = c.prepare_cached(sql).await.during(operation)?;
    c.execute(&statement, params).await.during(operation)
}

/// Runs a statement that must change a row (a removal, say): the error
/// `missing` makes when it changed none.
pub(crate) async fn execute_one(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    operation: &'static str,
    missing: impl FnOnce() -> Error,
) -> Result<(), Error> {
    match execute(c, sql, params, operation).await? {
        0 => Err(missing()),
        _ => Ok(()),
    }
}

/// Whether a query has a row.
pub(crate) async fn exists(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    operation: &'static str,
) -> Result<bool, Error> {
    Ok(!query(c, sql, params, operation).await?.is_empty())
}

/// Column `index` of `row`.
pub(crate) fn column<T: FromSqlOwned>(
    row: &Row,
    index: usize,
    operation: &'static str,
) -> Result<T, Error> {
    row.try_get(index).during(operation)
}

/// A row's columns as a tuple of their types, in order.
pub(crate) trait FromRow: Sized {
    /// The columns of `row`.
    fn from_row(row: &Row, operation: &'static str) -> Result<Self, Error>;
}

/// [`FromRow`] for the tuple of these types, each with its column index.
macro_rules! tuple_from_row {
    ($($ty:ident $index:tt)+) => {
        impl<$($ty: FromSqlOwned),+> FromRow for ($($ty,)+) {
            fn from_row(row: &Row, operation: &'static str) -> Result<Self, Error> {
                Ok(($(column::<$ty>(row, $index, operation)?,)+))
            }
        }
    };
}

tuple_from_row!(A 0);
tuple_from_row!(A 0 B 1);
tuple_from_row!(A 0 B 1 C 2);
tuple_from_row!(A 0 B 1 C 2 D 3);
tuple_from_row!(A 0 B 1 C 2 D 3 E 4);
tuple_from_row!(A 0 B 1 C 2 D 3 E 4 F 5);
tuple_from_row!(A 0 B 1 C 2 D 3 E 4 F 5 G 6 H 7 I 8 J 9 K 10 L 11);

/// A row's columns as a tuple of their types, in order.
pub(crate) fn columns<T: FromRow>(row: &Row, operation: &'static str) -> Result<T, Error> {
    T::from_row(row, operation)
}

/// A row read into the struct of its columns.
pub(crate) fn read<T>(row: &Row, operation: &'static str) -> Result<T, Error>
where
    T: FromColumns,
    T::Columns: FromRow,
{
    columns(row, operation).map(T::from_columns)
}
