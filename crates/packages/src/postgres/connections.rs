//! Running work on the pool: a single statement on a pooled connection,
//! a consistent snapshot (a read-only `REPEATABLE READ` transaction), or a
//! change (a `SERIALIZABLE` transaction, run again after a serialization
//! failure or a deadlock); each bounded by the store's operation timeout.

use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use deadpool_postgres::Object;

use crate::error::Error;
use crate::postgres::convert::{is_retryable, Context};
use crate::postgres::PgPackageStore;

/// The longest pause between two attempts of a change.
const MAX_BACKOFF: Duration = Duration::from_millis(100);

impl PgPackageStore {
    /// A pooled connection; [`Error::Unavailable`] when none can be had
    /// within the pool's wait and create timeouts.
    pub(super) async fn client(&self) -> Result<Object, Error> {
        self.pool
            .get()
            .await
            .during("getting a database connection")
    }

    /// Runs `work` within the operation timeout: past it, the work is
    /// dropped (an open transaction is rolled back with its connection) and
    /// the answer is [`Error::Unavailable`].
    pub(super) async fn bounded<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let limit = self.options.operation_timeout;
        match tokio::time::timeout(limit, work).await {
            Ok(result) => result,
            Err(_) => Err(Error::unavailable(
                operation,
                format!("the database did not answer within {limit:?}"),
            )),
        }
    }

    /// What follows attempt `attempt` (1-based) of a change that failed
    /// with `error`: `Ok(())` after a short random pause when it is to be
    /// tried again; the error to answer otherwise. A change that met
    /// serialization failures or deadlocks on every attempt is
    /// [`Error::Unavailable`]: the database is too busy with conflicting
    /// changes right now, and the caller may retry later.
    pub(super) async fn retry_after(&self, error: Error, attempt: u32) -> Result<(), Error> {
        if !is_retryable(&error) {
            return Err(error);
        }
        if attempt >= self.options.attempts {
            return Err(match error {
                Error::Database { operation, source } => Error::Unavailable { operation, source },
                other => other,
            });
        }
        // Full jitter over an exponential ceiling: contenders that failed
        // together do not all come back together.
        let ceiling = Duration::from_millis(2)
            .saturating_mul(1 << attempt.min(10))
            .min(MAX_BACKOFF);
        let random = RandomState::new().hash_one(attempt);
        let pause = ceiling.mul_f64((random % 1000) as f64 / 1000.0);
        tokio::time::sleep(pause).await;
        Ok(())
    }
}

/// Runs `$body` (an expression using the transaction `$tx`, evaluating to
/// a future of `Result<T, Error>`) in a transaction of `$kind`
/// ([`serializable`](tokio_postgres::IsolationLevel::Serializable) changes,
/// retried; or read-only `REPEATABLE READ` snapshots), within the store's
/// operation timeout.
macro_rules! in_transaction {
    ($store:expr, write, $operation:expr, |$tx:ident| $body:expr) => {
        $crate::postgres::connections::in_transaction!(
            @run $store, $operation, true,
            ::tokio_postgres::IsolationLevel::Serializable, false, |$tx| $body
        )
    };
    ($store:expr, snapshot, $operation:expr, |$tx:ident| $body:expr) => {
        $crate::postgres::connections::in_transaction!(
            @run $store, $operation, false,
            ::tokio_postgres::IsolationLevel::RepeatableRead, true, |$tx| $body
        )
    };
    (@run $store:expr, $operation:expr, $retried:expr, $level:expr, $read_only:expr, |$tx:ident| $body:expr) => {{
        let store = $store;
        store
            .bounded($operation, async {
                let mut attempt = 1;
                loop {
                    let mut client = store.client().await?;
                    let result = async {
                        let $tx = client
                            .build_transaction()
                            .isolation_level($level)
                            .read_only($read_only)
                            .start()
                            .await
                            .during("starting a transaction")?;
                        let value = $body.await?;
                        $tx.commit().await.during("committing")?;
                        Ok(value)
                    }
                    .await;
                    match result {
                        Err(e) if $retried => match store.retry_after(e, attempt).await {
                            Ok(()) => attempt += 1,
                            Err(e) => break Err(e),
                        },
                        other => break other,
                    }
                }
            })
            .await
    }};
}
pub(crate) use in_transaction;
