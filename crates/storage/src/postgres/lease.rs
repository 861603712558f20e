//! [`try_lease`]: one process at a time, across replicas, for a named job.

use tokio_postgres::NoTls;

use super::failure;
use crate::error::Result;

/// A job's lease, held by this process until dropped (or until the
/// process dies: the lease is a PostgreSQL session advisory lock on a
/// connection of its own, which the server releases when that connection
/// ends).
pub struct Lease {
    _client: tokio_postgres::Client,
    connection: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").finish_non_exhaustive()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Closing the connection releases the lock.
        self.connection.abort();
    }
}

/// Takes the lease on `job` in the database at `url`, or `None` when
/// another process (a replica) holds it. Scheduled work (purges, garbage
/// collection) runs under it, so that one replica at a time does it, and
/// another takes over when that one dies.
///
/// ```no_run
/// # async fn run() -> wharf_storage::Result<()> {
/// if let Some(_lease) = wharf_storage::postgres::try_lease("postgres://db/registry", "gc").await? {
///     // ... only one replica is here at a time ...
/// }
/// # Ok(()) }
/// ```
pub async fn try_lease(url: &str, job: &str) -> Result<Option<Lease>> {
    let context = "take a job's lease";
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| failure::database_error(context, e))?;
    let connection = tokio::spawn(async move {
        let _ = connection.await;
    });
    let lease = Lease {
        _client: client,
        connection,
    };
    let row = lease
        ._client
        .query_one(
            "SELECT pg_try_advisory_lock(hashtextextended('wharf-job:' || $1, 0))",
            &[&job],
        )
        .await
        .map_err(|e| failure::database_error(context, e))?;
    let taken: bool = row
        .try_get(0)
        .map_err(|e| failure::database_error(context, e))?;
    Ok(taken.then_some(lease))
}
