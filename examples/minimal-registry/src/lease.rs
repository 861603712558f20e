//! The lease on scheduled work for the embedded default: an `flock` on a
//! file per job in the data directory, so that `minimal-registry gc` and
//! the serving registry's own collections (and the judging of blobs a
//! killed collection left condemned) take turns, as replicas do under
//! PostgreSQL's advisory locks. The lock ends with the process holding it.

use std::any::Any;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;

use async_trait::async_trait;
use wharf_server::WorkLease;

/// Leases held as locks on `<dir>/<job>.lock`.
pub struct FileLease {
    dir: PathBuf,
}

impl FileLease {
    /// Leases on files in `dir` (created when first needed).
    pub fn new(dir: PathBuf) -> Self {
        FileLease { dir }
    }

    fn try_lock(&self, job: &str) -> std::io::Result<Option<File>> {
        std::fs::create_dir_all(&self.dir)?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.dir.join(format!("{job}.lock")))?;
        lock_now(&file).map(|held| held.then_some(file))
    }
}

#[async_trait]
impl WorkLease for FileLease {
    async fn try_acquire(&self, job: &'static str) -> Option<Box<dyn Any + Send>> {
        match self.try_lock(job) {
            Ok(held) => held.map(|file| Box::new(file) as Box<dyn Any + Send>),
            Err(err) => {
                tracing::warn!(error = %err, job, dir = %self.dir.display(), "cannot take the lease on scheduled work; skipped");
                None
            }
        }
    }
}

/// Takes an exclusive lock on `file` if no one holds one: true if taken
/// (held until the file is closed).
#[cfg(unix)]
fn lock_now(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{flock, FlockOperation};
    loop {
        match flock(file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(true),
            Err(rustix::io::Errno::WOULDBLOCK) => return Ok(false),
            Err(rustix::io::Errno::INTR) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

/// Without `flock`: this process's own turns only (the registry's jobs
/// never overlap within it); another process is not seen.
#[cfg(not(unix))]
fn lock_now(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_at_a_time_per_job_until_it_lets_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (
            FileLease::new(dir.path().join("leases")),
            FileLease::new(dir.path().join("leases")),
        );
        let held = a.try_acquire("gc").await.expect("free");
        assert!(b.try_acquire("gc").await.is_none(), "held by a");
        assert!(
            b.try_acquire("purge-uploads").await.is_some(),
            "another job"
        );
        drop(held);
        assert!(b.try_acquire("gc").await.is_some(), "let go");
    }
}
