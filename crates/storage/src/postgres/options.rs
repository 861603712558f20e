//! [`PostgresOptions`]: pool size and timeouts.

use std::time::Duration;

/// How [`PostgresMetadata::connect_with`](super::PostgresMetadata::connect_with)
/// sizes its pool and how long it waits before reporting the database
/// [unavailable](crate::Error::Unavailable).
///
/// Non-exhaustive: start from `PostgresOptions::default()` and set the
/// fields to change.
///
/// ```
/// use std::time::Duration;
/// use wharf_storage::PostgresOptions;
///
/// let mut options = PostgresOptions::default();
/// options.max_connections = 32;
/// options.connect_timeout = Duration::from_secs(2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PostgresOptions {
    /// At most this many connections open at once (0 counts as 1); 16 by
    /// default.
    pub max_connections: usize,
    /// How long opening a connection may take, handshake and
    /// authentication included; 5 s by default.
    pub connect_timeout: Duration,
    /// How long an operation waits for a free connection when all are in
    /// use; 10 s by default.
    pub wait_timeout: Duration,
    /// How long one operation may take in all (connection, retries,
    /// queries), so that a database that stops answering is reported
    /// rather than waited on; 30 s by default.
    pub operation_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            wait_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30),
        }
    }
}
