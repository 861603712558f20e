//! The mapping of PostgreSQL driver and pool errors to the crate's
//! [`Error`], and the conversions of stored values every backend shares
//! ([`crate::stored`]).

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::error::Error;

pub(crate) use crate::stored::{
    opt_time_from_sql, parse, time_from_sql, time_to_sql, to_json, u64_from_sql, u64_to_sql,
};

/// Attaches what the store was doing to a driver error.
pub(crate) trait Context<T> {
    /// The result, with a driver error turned into [`Error::Unavailable`]
    /// when the database could not be reached or did not answer in time,
    /// and [`Error::Database`] otherwise.
    fn during(self, operation: &'static str) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, tokio_postgres::Error> {
    fn during(self, operation: &'static str) -> Result<T, Error> {
        self.map_err(|e| driver_error(operation, e))
    }
}

impl<T> Context<T> for Result<T, PoolError> {
    fn during(self, operation: &'static str) -> Result<T, Error> {
        self.map_err(|e| match e {
            PoolError::Backend(e) => driver_error(operation, e),
            // No connection was free in time, or none could be made in
            // time, or the pool was closed: the database is out of reach.
            e @ (PoolError::Timeout(_) | PoolError::Closed) => Error::unavailable(operation, e),
            other => Error::database(operation, other),
        })
    }
}

/// `e`, while doing `operation`, as the crate's error.
pub(crate) fn driver_error(operation: &'static str, e: tokio_postgres::Error) -> Error {
    if is_unavailable(&e) {
        Error::unavailable(operation, e)
    } else {
        Error::database(operation, e)
    }
}

/// Whether `e` says the database is out of reach (rather than that a
/// statement failed): a lost or refused connection, a timeout, a server
/// shutting down, starting up or out of connections or resources, a
/// statement cancelled by `statement_timeout`.
fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(code) => {
            let code = code.code();
            // 08: connection exception; 53: insufficient resources (too
            // many connections, out of memory or disk); 57P0x: shutdown,
            // crash recovery, cannot connect now; 57014: query cancelled
            // (statement_timeout).
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code == "57014"
        }
        None => {
            // Connecting or talking to the server failed at the socket, or
            // the connect timeout passed. The driver keeps the kind
            // private; an I/O cause or its timeout message tells.
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                if cause.is::<std::io::Error>() {
                    return true;
                }
                source = cause.source();
            }
            e.to_string().starts_with("timeout")
        }
    }
}

/// The SQLSTATE of the driver error behind `error`, if that is what it is.
pub(crate) fn sql_state(error: &Error) -> Option<&SqlState> {
    match error {
        Error::Database { source, .. } => source
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(tokio_postgres::Error::code),
        _ => None,
    }
}

/// Whether `error` is a serialization failure or a deadlock: the
/// transaction was rolled back and may simply be run again.
pub(crate) fn is_retryable(error: &Error) -> bool {
    sql_state(error).is_some_and(|state| {
        *state == SqlState::T_R_SERIALIZATION_FAILURE || *state == SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// `result`, with a unique violation (another transaction stored the same
/// key first) turned into the error `taken` makes.
pub(crate) fn unique<T>(
    result: Result<T, Error>,
    taken: impl FnOnce() -> Error,
) -> Result<T, Error> {
    match result {
        Err(e) if sql_state(&e) == Some(&SqlState::UNIQUE_VIOLATION) => Err(taken()),
        other => other,
    }
}
