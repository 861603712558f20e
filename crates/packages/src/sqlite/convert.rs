//! The mapping of SQLite driver errors, and the conversions of stored
//! values that every backend shares ([`crate::stored`]).

use crate::error::Error;

pub(crate) use crate::stored::{
    from_json, opt_time_from_sql, parse, time_from_sql, time_to_sql, to_json, u64_from_sql,
    u64_to_sql,
};

/// Attaches what the store was doing to a driver error.
pub(crate) trait Context<T> {
    /// The result, with a driver error turned into [`Error::Database`].
    fn during(self, operation: &'static str) -> Result<T, Error>;
}

impl<T> Context<T> for Result<T, rusqlite::Error> {
    fn during(self, operation: &'static str) -> Result<T, Error> {
        self.map_err(|e| Error::database(operation, e))
    }
}
