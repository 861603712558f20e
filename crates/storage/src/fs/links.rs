//! Link files and their times, as garbage collection needs them: made or
//! confirmed (the file's mtime is when), removed only if unused since a
//! cutoff, and counted across repositories and archives.
//!
//! Removing a link "if unused since" is a check and a removal, and a
//! confirm is a check and a time change; the two must not interleave, also
//! between processes (a `minimal-registry gc` beside the server). Both
//! therefore open the link file and lock it with `flock`, exclusively to
//! remove it and shared to confirm it, and each checks under the lock that
//! the path still names the file it opened (the other may have removed it,
//! or a new link replaced it). A lock dies with its process, so a crash
//! leaves nothing to clean up, and the removal itself is one `unlink`: a
//! link is either there or gone, never in between. Where `flock` is not
//! available the lock is this process's only.
//!
//! Nothing else needs the lock: a new link is written (a temporary file
//! renamed into place) only by someone who found none, and a plain
//! [`unlink_blob`](crate::RepositoryStore::unlink_blob) removes the link
//! whatever its time.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, FileTimes, Metadata, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use wharf_reference::{Digest, RepositoryName};

use crate::archive::ArchiveKey;
use crate::error::{Error, Result};

use super::atomic::{
    if_exists, present, read_dir_keys, read_dir_names, remove_file_lazily, write_file,
};
use super::layout::{digest_path, LINKS};
use super::Inner;

/// Above this many digests of one algorithm, a links directory is listed
/// once instead of looking each digest up.
const LIST_ABOVE: usize = 16;

impl Inner {
    /// Marks the link used now if it exists: true; false if there is none.
    pub(super) fn confirm_link(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<bool> {
        let path = self.layout.link(repository, digest);
        let context = || format!("confirm link {}", path.display());
        let locked = lock_link(&path, Mode::Shared).map_err(|e| Error::io(context(), e))?;
        let Some((file, _held, _)) = locked else {
            return Ok(false);
        };
        // The time is not fsynced: after a crash no push is in flight, and
        // a link a stored manifest references is kept whatever its time.
        file.set_times(FileTimes::new().set_modified(SystemTime::now()))
            .map_err(|e| Error::io(context(), e))?;
        Ok(true)
    }

    /// Makes the link of `repository` to the blob, or confirms it if it
    /// exists; true if it was made now.
    pub(super) fn make_link(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        if self.confirm_link(repository, digest)? {
            return Ok(false);
        }
        let link = self.layout.link(repository, digest);
        write_file(&self.layout, &link, digest.as_str().as_bytes())?;
        Ok(true)
    }

    /// Removes the link if it was neither made nor confirmed at or after
    /// `cutoff`; true if it went.
    pub(super) fn unlink_unused_since(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        cutoff: SystemTime,
    ) -> Result<bool> {
        let path = self.layout.link(repository, digest);
        let context = || format!("unlink {}", path.display());
        let locked = lock_link(&path, Mode::Exclusive).map_err(|e| Error::io(context(), e))?;
        // None, or gone, or a new link took its place: that one is recent.
        let Some((_file, _held, opened)) = locked else {
            return Ok(false);
        };
        let used = opened.modified().map_err(|e| Error::io(context(), e))?;
        if used >= cutoff {
            return Ok(false);
        }
        // Still locked: no confirm lands between the check and the removal.
        // False if an archive moved the link away meanwhile: it is kept.
        // Not made durable: a crash that undoes it leaves a link the next
        // collection removes (one fsync per link made collections of many
        // links several times slower).
        remove_file_lazily(&path)
    }

    /// How many repositories, live or archived, link each of `digests`.
    ///
    /// The live repositories are walked, then the archives, then the live
    /// repositories again for the digests not found yet: a link moved by
    /// an archive (live to archived) during the count is found by the
    /// first two walks, one moved by a restore (archived to live) by the
    /// last two, whichever process moves it.
    pub(super) fn link_counts(&self, digests: &[Digest]) -> Result<HashMap<Digest, u64>> {
        let wanted = Wanted::new(digests);
        let mut counts = HashMap::new();
        for links in self.live_link_dirs()? {
            wanted.count_in(&links, &mut counts)?;
        }
        for key in read_dir_keys::<ArchiveKey>(&self.layout.archives())? {
            wanted.count_in(&self.layout.archive(&key).join(LINKS), &mut counts)?;
        }
        if counts.len() < wanted.len() {
            let mut again = HashMap::new();
            for links in self.live_link_dirs()? {
                wanted.count_in(&links, &mut again)?;
            }
            for (digest, n) in again {
                counts.entry(digest).or_insert(n);
            }
        }
        Ok(counts)
    }

    /// The `_links` directories of every live repository, nested ones
    /// included.
    fn live_link_dirs(&self) -> Result<Vec<PathBuf>> {
        let mut found = Vec::new();
        let mut pending = vec![self.layout.repositories()];
        while let Some(dir) = pending.pop() {
            // None if removed or moved by an archive since its parent was
            // read.
            let Some(entries) = present(fs::read_dir(&dir), "list", &dir)? else {
                continue;
            };
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(format!("list {}", dir.display()), e))?;
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                let name = entry.file_name();
                if !is_dir {
                    continue;
                }
                if name == LINKS {
                    found.push(entry.path());
                } else if !name.to_string_lossy().starts_with('_') {
                    pending.push(entry.path());
                }
            }
        }
        Ok(found)
    }
}

/// The digests [`Inner::link_counts`] looks for, by algorithm.
struct Wanted<'d> {
    by_algorithm: HashMap<&'d str, Vec<&'d Digest>>,
    len: usize,
}

impl<'d> Wanted<'d> {
    fn new(digests: &'d [Digest]) -> Self {
        let mut by_algorithm: HashMap<&str, Vec<&Digest>> = HashMap::new();
        let mut seen = HashSet::new();
        for digest in digests {
            if seen.insert(digest) {
                by_algorithm
                    .entry(digest.algorithm().as_str())
                    .or_default()
                    .push(digest);
            }
        }
        Wanted {
            by_algorithm,
            len: seen.len(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Counts one link in `counts` for each wanted digest that the links
    /// directory `links` holds.
    fn count_in(&self, links: &Path, counts: &mut HashMap<Digest, u64>) -> Result<()> {
        for digest in self.linked_in(links)? {
            *counts.entry(digest.clone()).or_insert(0) += 1;
        }
        Ok(())
    }

    /// The wanted digests that the links directory `links` holds.
    fn linked_in(&self, links: &Path) -> Result<Vec<&'d Digest>> {
        let mut linked = Vec::new();
        for (algorithm, digests) in &self.by_algorithm {
            if digests.len() > LIST_ABOVE {
                let names: HashSet<String> = read_dir_names(&links.join(algorithm))?
                    .into_iter()
                    .collect();
                linked.extend(digests.iter().filter(|d| names.contains(d.encoded())));
            } else {
                for digest in digests {
                    let path = digest_path(links.to_path_buf(), digest);
                    if present(fs::symlink_metadata(&path), "stat", &path)?.is_some() {
                        linked.push(*digest);
                    }
                }
            }
        }
        Ok(linked)
    }
}

/// Opens the link at `path` and holds its lock in `mode`: the file, the
/// lock and the file's metadata; `None` if there is no link, or it was
/// removed (or replaced by a newer link) before the lock was ours.
fn lock_link(path: &Path, mode: Mode) -> io::Result<Option<(File, lock::Held, Metadata)>> {
    let Some(file) = open_link(path)? else {
        return Ok(None);
    };
    let held = lock::hold(&file, mode, path)?;
    let opened = file.metadata()?;
    if !still_at(path, &opened)? {
        return Ok(None);
    }
    Ok(Some((file, held, opened)))
}

/// Opens a link file to lock it and change its time; `None` if there is
/// none. Opened for writing as well, which setting a file's times needs on
/// some systems.
fn open_link(path: &Path) -> io::Result<Option<File>> {
    if_exists(OpenOptions::new().read(true).write(true).open(path))
}

/// Whether `path` still names the file whose metadata `opened` is.
fn still_at(path: &Path, opened: &Metadata) -> io::Result<bool> {
    let now = if_exists(fs::symlink_metadata(path))?;
    Ok(now.is_some_and(|now| same_file(&now, opened)))
}

#[cfg(unix)]
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Without inode numbers, a file found at the path is taken for the one
/// opened (the lock is then this process's only, which serializes the
/// removals and confirms of one link).
#[cfg(not(unix))]
fn same_file(_a: &Metadata, _b: &Metadata) -> bool {
    true
}

/// How a link's lock is held: shared by confirms, exclusive for a
/// removal.
enum Mode {
    Shared,
    Exclusive,
}

/// `$with` where `$predicate` holds and `$without` elsewhere, the
/// predicate written once.
macro_rules! cfg_either {
    (#[cfg($predicate:meta)] $with:item else $without:item) => {
        #[cfg($predicate)]
        $with
        #[cfg(not($predicate))]
        $without
    };
}

cfg_either! {
    // Where rustix has `flock`.
    #[cfg(all(
        unix,
        not(any(
            target_os = "espidf",
            target_os = "horizon",
            target_os = "solaris",
            target_os = "vita"
        ))
    ))]
    /// `flock`, which other processes respect too.
    mod lock {
        use std::fs::File;
        use std::io;
        use std::path::Path;

        use rustix::fs::{flock, FlockOperation};

        use super::Mode;

        /// The lock, held until the file is closed (it drops after this).
        pub(super) struct Held;

        pub(super) fn hold(file: &File, mode: Mode, _path: &Path) -> io::Result<Held> {
            let operation = match mode {
                Mode::Shared => FlockOperation::LockShared,
                Mode::Exclusive => FlockOperation::LockExclusive,
            };
            loop {
                match flock(file, operation) {
                    Ok(()) => return Ok(Held),
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    else
    /// Elsewhere, a lock per link path within this process.
    mod lock {
        use std::fs::File;
        use std::hash::{DefaultHasher, Hash, Hasher};
        use std::io;
        use std::path::Path;
        use std::sync::{Mutex, MutexGuard};

        use super::Mode;

        const STRIPES: usize = 64;
        static LOCKS: [Mutex<()>; STRIPES] = [const { Mutex::new(()) }; STRIPES];

        pub(super) struct Held(#[allow(dead_code)] MutexGuard<'static, ()>);

        pub(super) fn hold(_file: &File, _mode: Mode, path: &Path) -> io::Result<Held> {
            let mut hasher = DefaultHasher::new();
            path.hash(&mut hasher);
            let stripe = (hasher.finish() % STRIPES as u64) as usize;
            // Guards no data: poisoning is moot.
            Ok(Held(
                LOCKS[stripe]
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner()),
            ))
        }
    }
}
