//! Running statements: each helper prepares the statement (or reuses it
//! from the connection's cache), runs it, and on failure names what the
//! store was doing.

use deadpool_postgres::GenericClient;
use tokio_postgres::types::{FromSqlOwned, ToSql};
use tokio_postgres::Row;

use crate::error::Error;
use crate::postgres::convert::Context;

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

/// The first row of a query, or `None` without one.
pub(crate) async fn query_opt(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    operation: &'static str,
) -> Result<Option<Row>, Error> {
    Ok(query(c, sql, params, operation).await?.into_iter().next())
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

/// Every value of a query's first column.
pub(crate) async fn query_column<T: FromSqlOwned>(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    operation: &'static str,
) -> Result<Vec<T>, Error> {
    query(c, sql, params, operation)
        .await?
        .iter()
        .map(|row| column(row, 0, operation))
        .collect()
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
