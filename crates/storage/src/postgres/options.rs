//! [`PostgresOptions`]: pool size and timeouts.

use std::time::Duration;

/// How [`PostgresMetadata::connect_with`](super::PostgresMetadata::connect_with)
/// sizes its pool and how long it waits before reporting the database
/// [unavailable](crate::Error::Unavailable).
///
/// ```
/// use std::time::Duration;
/// use wharf_storage::PostgresOptions;
///
/// let options = PostgresOptions::default()
///     .with_max_connections(32)
///     .with_connect_timeout(Duration::from_secs(2));
/// assert_eq!(options.max_connections(), 32);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    max_connections: usize,
    connect_timeout: Duration,
    wait_timeout: Duration,
    operation_timeout: Duration,
}

impl Default for PostgresOptions {
    /// 16 connections; 5 s to connect, 10 s to wait for a free connection,
    /// 30 s for a whole operation.
    fn default() -> Self {
        PostgresOptions {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            wait_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30),
        }
    }
}

impl PostgresOptions {
    /// At most `n` connections open at once (at least one).
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long opening a connection may take, handshake and
    /// authentication included.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long an operation waits for a free connection when all are in
    /// use.
    pub fn with_wait_timeout(mut self, timeout: Duration) -> Self {
        self.wait_timeout = timeout;
        self
    }

    /// How long one operation may take in all (connection, retries,
    /// queries), so that a database that stops answering is reported
    /// rather than waited on.
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// The most connections open at once.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// How long opening a connection may take.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// How long an operation waits for a free connection.
    pub fn wait_timeout(&self) -> Duration {
        self.wait_timeout
    }

    /// How long one operation may take in all.
    pub fn operation_timeout(&self) -> Duration {
        self.operation_timeout
    }
}
