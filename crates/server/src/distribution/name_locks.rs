//! Per-repository locks that order content writes against package deletes
//! and restores.
//!
//! Every request that may write under a repository name (a manifest push
//! or delete, a blob delete, an upload start, chunk, finish or cancel, a
//! mount) holds its name's lock shared from before it is authorized until
//! it has answered; a package delete or restore holds it exclusively. So a
//! push authorized against a package either lands before the package's
//! content is archived (and is archived with it) or is authorized again
//! afterwards against what then has the name; and no new package of the
//! name is created while a delete is between its record and its content.
//! A delete therefore waits for the pushes under way to the package to end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};
use wharf_reference::RepositoryName;

/// Below this many entries, locks no request holds are not swept.
const SWEEP_AT: usize = 1024;

/// The locks, created on first use and dropped when no request holds them.
#[derive(Debug)]
pub(crate) struct NameLocks {
    locks: Mutex<Locks>,
}

#[derive(Debug)]
struct Locks {
    by_name: HashMap<RepositoryName, Weak<RwLock<()>>>,
    /// The size at which unused entries are swept next.
    sweep_at: usize,
}

impl Default for NameLocks {
    fn default() -> Self {
        NameLocks {
            locks: Mutex::new(Locks {
                by_name: HashMap::new(),
                sweep_at: SWEEP_AT,
            }),
        }
    }
}

impl NameLocks {
    fn lock_of(&self, name: &RepositoryName) -> Arc<RwLock<()>> {
        // Every critical section is a map operation: poisoning is moot.
        let mut locks = self
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(lock) = locks.by_name.get(name).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.by_name.len() >= locks.sweep_at {
            locks.by_name.retain(|_, lock| lock.strong_count() > 0);
            locks.sweep_at = SWEEP_AT.max(2 * locks.by_name.len());
        }
        let lock = Arc::new(RwLock::new(()));
        locks.by_name.insert(name.clone(), Arc::downgrade(&lock));
        lock
    }

    /// Held by a request that may write content under `name`.
    pub(crate) async fn content_write(&self, name: &RepositoryName) -> OwnedRwLockReadGuard<()> {
        self.lock_of(name).read_owned().await
    }

    /// Held by a package delete or restore of `name`.
    #[cfg_attr(not(feature = "ghcr"), allow(dead_code))]
    pub(crate) async fn package_change(&self, name: &RepositoryName) -> OwnedRwLockWriteGuard<()> {
        self.lock_of(name).write_owned().await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn name(s: &str) -> RepositoryName {
        s.parse().expect("name")
    }

    #[tokio::test]
    async fn a_package_change_waits_for_content_writes_and_holds_off_new_ones() {
        let locks = Arc::new(NameLocks::default());
        let write = locks.content_write(&name("acme/vault")).await;
        let other = locks.content_write(&name("acme/other")).await;
        let change = {
            let locks = Arc::clone(&locks);
            tokio::spawn(async move { locks.package_change(&name("acme/vault")).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!change.is_finished(), "the change waits for the write");
        drop(write);
        let change = change.await.expect("change");
        let late = tokio::time::timeout(
            Duration::from_millis(20),
            locks.content_write(&name("acme/vault")),
        )
        .await;
        assert!(late.is_err(), "a new write waits for the change");
        drop(change);
        locks.content_write(&name("acme/vault")).await;
        drop(other);
    }

    #[tokio::test]
    async fn unused_locks_are_swept() {
        let locks = NameLocks::default();
        for i in 0..3 * SWEEP_AT {
            let _held = locks.content_write(&name(&format!("acme/p{i}"))).await;
        }
        let held = locks
            .locks
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .by_name
            .len();
        assert!(held <= SWEEP_AT, "{held} entries kept");
    }
}
