//! Conversions between the crate's types and SQLite values, and the
//! mapping of driver errors.

use std::fmt::Display;
use std::str::FromStr;

use wharf_auth::Timestamp;

use crate::error::Error;

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

/// A timestamp as an SQLite integer.
pub(crate) fn time_to_sql(time: Timestamp) -> Result<i64, Error> {
    i64::try_from(time.unix_seconds()).map_err(|_| Error::OutOfRange {
        what: "timestamp",
        value: time.to_string(),
    })
}

/// An optional timestamp as an SQLite integer or NULL.
pub(crate) fn opt_time_to_sql(time: Option<Timestamp>) -> Result<Option<i64>, Error> {
    time.map(time_to_sql).transpose()
}

/// A stored timestamp.
pub(crate) fn time_from_sql(value: i64) -> Result<Timestamp, Error> {
    u64::try_from(value)
        .map(Timestamp::from_unix_seconds)
        .map_err(|_| Error::corrupt("timestamp", format!("negative value {value}")))
}

/// An optional stored timestamp.
pub(crate) fn opt_time_from_sql(value: Option<i64>) -> Result<Option<Timestamp>, Error> {
    value.map(time_from_sql).transpose()
}

/// A size or count as an SQLite integer.
pub(crate) fn u64_to_sql(what: &'static str, value: u64) -> Result<i64, Error> {
    i64::try_from(value).map_err(|_| Error::OutOfRange {
        what,
        value: value.to_string(),
    })
}

/// A stored size or count.
pub(crate) fn u64_from_sql(what: &'static str, value: i64) -> Result<u64, Error> {
    u64::try_from(value).map_err(|_| Error::corrupt(what, format!("negative value {value}")))
}

/// Parses a stored string as `T`.
pub(crate) fn parse<T>(what: &'static str, stored: &str) -> Result<T, Error>
where
    T: FromStr,
    T::Err: Display,
{
    stored
        .parse()
        .map_err(|e| Error::corrupt(what, format!("`{stored}`: {e}")))
}

/// Parses stored JSON as `T`.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    stored: &str,
) -> Result<T, Error> {
    serde_json::from_str(stored).map_err(|e| Error::corrupt(what, e))
}

/// Serializes `value` as JSON for storage.
pub(crate) fn to_json<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::OutOfRange {
        what,
        value: e.to_string(),
    })
}
