//! [`RepositoryLocks`]: what keeps a tag from being moved onto a manifest
//! that is being deleted.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Mutex, MutexGuard};

use wharf_reference::RepositoryName;

/// How many locks the repositories share. Two repositories that hash to
/// the same lock merely wait for each other's writes.
const STRIPES: usize = 64;

/// Per-repository locks (striped, so their number stays fixed) held by
/// every operation that writes a repository's manifests or tags or removes
/// them: `put_manifest`, `delete_manifest`, `set_tag`, `delete_tag`,
/// archive and restore.
///
/// Without them `set_tag` could check that the manifest exists, then
/// `delete_manifest` remove it and every tag pointing at it, and only then
/// `set_tag` write its tag: a tag pointing at a deleted manifest. Likewise a
/// manifest stored again while it is deleted could leave its referrers
/// entry behind, and a tag or manifest written while an archive moves the
/// repository's directories could end up split between the two. A check
/// and the writes that depend on it must not interleave with a delete or
/// a move, and files alone give no compare-and-swap to order them, so
/// these operations are serialized per repository within the process.
/// Blob links need no lock: each is one file, written or removed whole.
#[derive(Debug)]
pub(super) struct RepositoryLocks {
    stripes: [Mutex<()>; STRIPES],
}

impl Default for RepositoryLocks {
    fn default() -> Self {
        RepositoryLocks {
            stripes: std::array::from_fn(|_| Mutex::new(())),
        }
    }
}

impl RepositoryLocks {
    /// Waits for, then holds, `repository`'s lock until the guard drops.
    /// Called on the blocking pool, never across an `.await`.
    pub(super) fn lock(&self, repository: &RepositoryName) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        repository.hash(&mut hasher);
        let stripe = (hasher.finish() % STRIPES as u64) as usize;
        // Guards no data: poisoning is moot.
        self.stripes[stripe]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
