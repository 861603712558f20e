//! The connections of a [`SqlitePackageStore`]: one writer and a pool of
//! readers, and running work on them on tokio's blocking pool.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::{Connection, TransactionBehavior};

use crate::error::Error;
use crate::sqlite::convert::Context;
use crate::sqlite::{SqliteOptions, SqlitePackageStore};
use crate::stored::RecentTokenUses;

pub(super) struct Inner {
    pub(super) path: Option<PathBuf>,
    pub(super) writer: Mutex<Connection>,
    pub(super) readers: Vec<Mutex<Connection>>,
    pub(super) next_reader: AtomicUsize,
    /// The last `last_used_at` each token was given by this process.
    pub(super) token_uses: RecentTokenUses,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a connection leaves no transaction open
    // (rusqlite rolls back on drop), so the connection is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Sets up a new connection (writer or reader) as `options` say.
pub(super) fn configure(conn: &Connection, options: &SqliteOptions) -> Result<(), Error> {
    conn.busy_timeout(options.busy_timeout)
        .during("setting the busy timeout")?;
    conn.set_prepared_statement_cache_capacity(options.statement_cache);
    conn.pragma_update(None, "foreign_keys", true)
        .during("enabling foreign keys")?;
    Ok(())
}

/// Work on a connection, sent to the blocking pool.
pub(super) trait Work<T>: FnOnce(&Connection) -> Result<T, Error> + Send + 'static {}

impl<T, F: FnOnce(&Connection) -> Result<T, Error> + Send + 'static> Work<T> for F {}

impl SqlitePackageStore {
    /// Runs `f` on a reader connection on the blocking pool.
    pub(super) async fn read<T: Send + 'static>(&self, f: impl Work<T>) -> Result<T, Error> {
        self.on_blocking_pool("running a read", move |inner| inner.read(f))
            .await
    }

    /// Runs `f` in one read transaction (a consistent snapshot) on the
    /// blocking pool.
    pub(super) async fn snapshot<T: Send + 'static>(&self, f: impl Work<T>) -> Result<T, Error> {
        self.read(|conn| {
            if !conn.is_autocommit() {
                // Left open by a read that panicked: end it, or the
                // connection could never start another.
                conn.execute_batch("ROLLBACK")
                    .during("ending an abandoned read transaction")?;
            }
            conn.execute_batch("BEGIN")
                .during("starting a read transaction")?;
            let result = f(conn);
            // Ending a read transaction cannot lose anything; report the
            // read's own error first.
            let end = conn
                .execute_batch("COMMIT")
                .during("ending a read transaction");
            let value = result?;
            end?;
            Ok(value)
        })
        .await
    }

    /// Runs `f` in one write transaction on the blocking pool.
    pub(super) async fn write<T: Send + 'static>(&self, f: impl Work<T>) -> Result<T, Error> {
        self.on_blocking_pool("running a write", move |inner| inner.write(f))
            .await
    }

    /// Runs `f` on tokio's blocking pool; `operation` names it should the
    /// task fail to finish.
    async fn on_blocking_pool<T: Send + 'static>(
        &self,
        operation: &'static str,
        f: impl FnOnce(&Inner) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| Error::database(operation, e))?
    }
}

impl Inner {
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        if self.readers.is_empty() {
            return f(&lock(&self.writer));
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            if let Ok(conn) = self.readers[(start + i) % n].try_lock() {
                return f(&conn);
            }
        }
        f(&lock(&self.readers[start % n]))
    }

    fn write<T>(&self, f: impl FnOnce(&Connection) -> Result<T, Error>) -> Result<T, Error> {
        let mut conn = lock(&self.writer);
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .during("starting a write transaction")?;
        // On error the transaction is dropped, which rolls it back.
        let value = f(&tx)?;
        tx.commit().during("committing")?;
        Ok(value)
    }
}
