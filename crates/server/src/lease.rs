//! [`WorkLease`]: which process runs the scheduled work when several serve
//! one registry.

use std::any::Any;

use async_trait::async_trait;

/// Decides whether this process runs a piece of scheduled work (a purge of
/// expired upload sessions, of deleted packages) now. With several
/// replicas over shared storage, each run asks for the lease on its job
/// first and skips its turn when another process holds it, so that one
/// replica at a time does the work, and another takes over when it dies
/// (the lease must end with the process that holds it: a PostgreSQL
/// session advisory lock does).
#[async_trait]
pub trait WorkLease: Send + Sync {
    /// Takes the lease on `job` (a short stable name, such as
    /// `purge-uploads`), held until the returned value is dropped, or
    /// `None` when another process holds it (or the lease cannot be had:
    /// the run is skipped, and the next tick asks again).
    async fn try_acquire(&self, job: &'static str) -> Option<Box<dyn Any + Send>>;
}

/// The lease of a registry served by one process: always granted.
#[derive(Debug, Clone, Copy, Default)]
pub struct SingleProcess;

#[async_trait]
impl WorkLease for SingleProcess {
    async fn try_acquire(&self, _job: &'static str) -> Option<Box<dyn Any + Send>> {
        Some(Box::new(()))
    }
}
