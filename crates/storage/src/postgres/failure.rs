//! How database failures become this crate's [`Error`]s, and which are
//! retried.

use std::time::Duration;

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::error::Error;

/// What a unit of database work can end with, short of success: a
/// database error, classified once the retries are spent, or an answer
/// about the data (`ManifestNotFound`, say) that is final.
#[derive(Debug)]
pub(super) enum Failure {
    Database(tokio_postgres::Error),
    Storage(Error),
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Failure::Database(e)
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Storage(e)
    }
}

/// The unique constraint on live repository names. A violation means
/// another transaction created or restored the name at the same moment:
/// running the work again sees it.
pub(super) const LIVE_NAME: &str = "storage_repositories_name";

/// The unique constraint on archive keys.
pub(super) const ARCHIVE_KEY: &str = "storage_repositories_archive_key";

/// Whether `e` is a violation of the constraint `name`.
pub(super) fn violates(e: &tokio_postgres::Error, name: &str) -> bool {
    e.as_db_error().is_some_and(|db| {
        (db.code() == &SqlState::UNIQUE_VIOLATION || db.code() == &SqlState::FOREIGN_KEY_VIOLATION)
            && db.constraint() == Some(name)
    })
}

/// Whether running the same work again may succeed at once: a
/// serialization failure or deadlock (PostgreSQL chose this transaction
/// to abort), a concurrent creation of the same repository name, or of
/// the same table by a program that migrates without the shared advisory
/// lock (`CREATE TABLE IF NOT EXISTS` is not safe against itself).
pub(super) fn is_retryable(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(&SqlState::T_R_SERIALIZATION_FAILURE)
            | Some(&SqlState::T_R_DEADLOCK_DETECTED)
            | Some(&SqlState::DUPLICATE_TABLE)
    ) || violates(e, LIVE_NAME)
        || violates(e, "pg_type_typname_nsp_index")
}

/// A database error as this crate reports it: [`Error::Unavailable`] when
/// waiting and retrying may help (no connection, lost connection,
/// resources exhausted, shutdown, cancelled, conflicts that outlasted the
/// retries), [`Error::Database`] when it will not.
pub(super) fn database_error(context: &str, e: tokio_postgres::Error) -> Error {
    let transient = match e.code() {
        // No SQLSTATE: the connection failed, closed or timed out.
        None => true,
        Some(code) => {
            let class = &code.code()[..2];
            // 08 connection exception, 40 transaction rollback, 53
            // insufficient resources, 57 operator intervention (shutdown,
            // statement timeout), 58 system error; a read-only
            // transaction is a standby that has not been promoted yet.
            matches!(class, "08" | "40" | "53" | "57" | "58")
                || code == &SqlState::READ_ONLY_SQL_TRANSACTION
                || code == &SqlState::LOCK_NOT_AVAILABLE
        }
    };
    if transient {
        unavailable(context, e)
    } else {
        Error::Database {
            context: context.to_owned(),
            source: Box::new(e),
        }
    }
}

/// An [`Error::Unavailable`] of the database.
pub(super) fn unavailable(
    context: &str,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> Error {
    Error::Unavailable {
        service: "database",
        context: context.to_owned(),
        source: source.into(),
    }
}

/// A failure to get a connection from the pool.
pub(super) fn pool_error(context: &str, e: PoolError) -> Error {
    match e {
        PoolError::Backend(e) => database_error(context, e),
        PoolError::NoRuntimeSpecified => Error::Database {
            context: context.to_owned(),
            source: Box::new(PoolError::NoRuntimeSpecified),
        },
        // Timeouts, a closed pool, a failing hook: try again later.
        other => unavailable(context, other.to_string()),
    }
}

/// The [`Error::Unavailable`] of an operation that outlasted `limit`.
pub(super) fn timed_out(context: &str, limit: Duration) -> Error {
    unavailable(
        context,
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {limit:?}"),
        ),
    )
}
