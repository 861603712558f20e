//! The filesystem backend: [`FsStorage`].

mod archive;
mod atomic;
mod blobs;
mod layout;
mod links;
mod listing;
mod locks;
mod pipeline;
mod pool;
mod read;
mod repositories;
mod uploads;

pub use archive::ArchivedContent;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::OwnedMutexGuard;
use wharf_reference::{Digester, MediaType, RepositoryName};

use crate::error::{Error, Result};
use crate::manifest::Subject;
use crate::page::{Page, PageRequest};
use crate::upload::UploadId;

use atomic::{create_dirs, make_private};
use layout::Layout;
use locks::RepositoryLocks;
use pool::Pool;

/// Storage in a directory tree, crash-safe by construction.
///
/// ```text
/// <root>/blobs/<algorithm>/<first two hex digits>/<encoded>
/// <root>/blobs/.condemned/<algorithm>/<encoded>   blobs condemned by garbage collection
/// <root>/uploads/<id>/data            the bytes received so far
/// <root>/uploads/<id>/meta            {"repository": ..., "started_ms": ...}
/// <root>/repositories/<name>/_links/<algorithm>/<encoded>
/// <root>/repositories/<name>/_manifests/<algorithm>/<encoded>   (JSON header line, then the bytes)
/// <root>/repositories/<name>/_tags/<tag>                        (the digest)
/// <root>/repositories/<name>/_referrers/<subject algorithm>/<subject encoded>/<algorithm>/<encoded>
/// <root>/tmp/<random>                 files being written, renamed into place
/// <root>/archives/<key>/              an archived repository's content directories
/// ```
///
/// Every path is built from validated values only (`Digest`,
/// `RepositoryName`, `Tag`, [`UploadId`]), whose grammars exclude `/`
/// inside a component, `.` and `..`; repository path components never start
/// with `_`, so the `_links`-style directories cannot collide with a nested
/// repository.
///
/// # Guarantees
///
/// - Content becomes visible only complete and verified: it is written to a
///   temporary file on the same filesystem, fsynced, renamed into place, and
///   the directory is fsynced. A crash (or a full disk) at any point leaves
///   either the old state or the new one, never a partial blob, manifest,
///   tag or link.
/// - Concurrent commits of the same digest all succeed and leave one copy;
///   concurrent moves of a tag leave it at one of the written values.
/// - Uploaded bytes are dropped from the page cache once they are on disk
///   (on Linux), so a large push does not evict what the registry serves;
///   the first read of a new blob comes from the disk.
/// - Upload chunks are written in 1 MiB buffers by one thread while another
///   hashes them, so the disk is the limit, and memory stays flat.
/// - After a restart, a session is resumed from its data file's length; its
///   hash state is rebuilt by rehashing the file when it finishes.
/// - Archiving or restoring a repository is journaled: opening the storage
///   after a crash finishes the move, so a repository is never left split
///   between its name and its archive.
///
/// # Garbage collection
///
/// The [protocol](crate::collect) holds across processes sharing the root
/// (a `minimal-registry gc` beside the server):
///
/// - A link's time is its file's mtime: set when the link is made (a file
///   renamed into place), refreshed by
///   [`confirm_link`](crate::RepositoryStore::confirm_link) and by linking
///   again.
///   [`unlink_blob_unused_since`](crate::RepositoryStore::unlink_blob_unused_since)
///   locks the link file exclusively (`flock`), checks that the path still
///   names it and that its mtime is before the cutoff, and unlinks it;
///   `confirm_link` locks it shared, checks the same, and sets its mtime.
///   One of the two goes first and the other sees its outcome; a crash
///   leaves the link either there or gone. (Without `flock`, as on
///   Windows, the lock holds within the process only.)
/// - [`condemn_blob`](crate::BlobStore::condemn_blob) renames
///   `blobs/<algorithm>/<shard>/<encoded>` to
///   `blobs/.condemned/<algorithm>/<encoded>` (listed by
///   [`condemned_blobs`](crate::BlobStore::condemned_blobs), by no listing
///   of live blobs), [`pardon_blob`](crate::BlobStore::pardon_blob)
///   renames it back and [`execute_blob`](crate::BlobStore::execute_blob)
///   removes it; both directories are fsynced after each rename.
/// - [`link_blob`](crate::RepositoryStore::link_blob) writes (or confirms)
///   the link first, then looks at the blob: a condemned blob is renamed
///   back, and since only one of that rename and the collector's removal
///   can succeed, either the blob is back or the link just made is removed
///   again and the blob reported unknown.
///   [`finish_upload`](crate::UploadStore::finish_upload) links first too,
///   then puts the upload's bytes in place whenever the blob's path is
///   empty, condemned or not; [`claim_blob`](crate::BlobStore::claim_blob)
///   takes a condemned blob back as `link_blob` does.
/// - [`link_counts`](crate::RepositoryStore::link_counts) walks the live
///   repositories, the archives, then the live repositories again for
///   what it has not found, so that a link an archive or a restore moves
///   meanwhile is counted.
///
/// Appends to one session are serialized within a process, and so are, per
/// repository, manifest and tag writes and deletions, archives and restores
/// (so a tag is never moved onto a manifest being deleted). Sharing one root
/// between several processes is safe for blobs, links and manifests (every
/// update is an atomic rename) but not for concurrent appends to the same
/// upload session, nor for a tag moved in one process while another deletes
/// its manifest. Paths are case-sensitive, as tags are: use a
/// case-sensitive filesystem.
///
/// ```
/// use wharf_storage::{FsStorage, UploadStore};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let dir = tempfile::tempdir()?;
/// let storage = FsStorage::open(dir.path())?;
/// let upload = storage.start_upload(&"octocat/app".parse()?).await?;
/// assert!(dir.path().join("uploads").join(upload.id.as_str()).join("data").exists());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "fs")))]
pub struct FsStorage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    layout: Layout,
    max_blob_size: Option<u64>,
    /// Per-session locks of this process, created on first use.
    sessions: Mutex<HashMap<UploadId, Arc<tokio::sync::Mutex<SessionState>>>>,
    /// Upload buffers, recycled across requests.
    buffers: Arc<Pool>,
    /// Blob streams open now, which share a read-ahead budget.
    streams: Arc<read::OpenStreams>,
    /// Serializes this process's archive operations.
    archives: Mutex<()>,
    /// Serializes, per repository, the writes of manifests and tags with
    /// their removal and with archive moves.
    repository_locks: RepositoryLocks,
}

/// What this process knows about a session beyond its files.
#[derive(Debug, Default)]
struct SessionState {
    /// Finished, cancelled or purged: a waiter must not touch it.
    ended: bool,
    /// The SHA-256 state of the data file, valid only when its
    /// `bytes_hashed()` equals the file's length. Absent after a restart or
    /// an interrupted append; the file is then rehashed when it finishes.
    digester: Option<Digester>,
}

/// The `meta` file of an upload session.
#[derive(Debug, Serialize, Deserialize)]
struct SessionMeta {
    repository: RepositoryName,
    /// Milliseconds since the Unix epoch.
    started_ms: u64,
    /// Whom the session was started for (absent in sessions started
    /// without an owner, and in those of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
}

impl SessionMeta {
    fn started(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.started_ms)
    }
}

/// The header line of a stored manifest file, followed by `\n` and the
/// manifest's exact bytes.
#[derive(Debug, Serialize, Deserialize)]
struct ManifestHeader {
    media_type: MediaType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<Subject>,
}

type SessionGuard = OwnedMutexGuard<SessionState>;

impl FsStorage {
    /// Opens (creating if needed) storage rooted at `root`.
    ///
    /// Everything is private to the process's user whatever the umask:
    /// directories are created `0700` and files `0600`, and an existing
    /// `root` that group or others may enter is made `0700` (so files an
    /// older version left readable are out of reach too).
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let storage = Self::open_beside(root)?;
        storage.inner.recover_archives()?;
        Ok(storage)
    }

    /// Opens storage at `root` that a process opened with
    /// [`open`](Self::open) may be using at the same time, such as a
    /// garbage collection run beside a serving registry: the same, except
    /// that an archive or restore interrupted by a crash is not finished
    /// here (it may be one the other process is doing right now; that
    /// process finished any left over when it opened the root). Archive and
    /// restore nothing through it while another process does.
    pub fn open_beside(root: impl AsRef<Path>) -> Result<Self> {
        // Made absolute once, so that a relative root keeps naming the same
        // directory whatever the process's working directory becomes.
        let root = root.as_ref();
        let root = std::path::absolute(root)
            .map_err(|e| Error::io(format!("resolve {}", root.display()), e))?;
        let layout = Layout::new(root);
        create_dirs(layout.root())
            .and_then(|()| make_private(layout.root()))
            .map_err(|e| {
                Error::io(
                    format!(
                        "make {} private (mode 0700): run as its owner or chmod it",
                        layout.root().display()
                    ),
                    e,
                )
            })?;
        for dir in [
            layout.blobs(),
            layout.uploads(),
            layout.repositories(),
            layout.tmp(),
            layout.archives(),
        ] {
            create_dirs(&dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        }
        let inner = Inner {
            layout,
            max_blob_size: None,
            sessions: Mutex::new(HashMap::new()),
            buffers: Pool::new(pipeline::POOL_KEEP),
            streams: Arc::default(),
            archives: Mutex::new(()),
            repository_locks: RepositoryLocks::default(),
        };
        Ok(FsStorage {
            inner: Arc::new(inner),
        })
    }

    /// Rejects blobs (and uploads) larger than `limit` bytes with
    /// [`Error::TooLarge`].
    pub fn with_max_blob_size(self, limit: u64) -> Self {
        let inner = Inner {
            layout: self.inner.layout.clone(),
            max_blob_size: Some(limit),
            sessions: Mutex::new(HashMap::new()),
            buffers: Pool::new(pipeline::POOL_KEEP),
            streams: Arc::default(),
            archives: Mutex::new(()),
            repository_locks: RepositoryLocks::default(),
        };
        FsStorage {
            inner: Arc::new(inner),
        }
    }

    /// The storage root.
    pub fn root(&self) -> &Path {
        self.inner.layout.root()
    }

    /// Runs blocking filesystem work on tokio's blocking pool.
    async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&inner))
            .await
            .map_err(|e| Error::io("run a storage task", io::Error::other(e)))?
    }

    /// Runs `list` on tokio's blocking pool for the page `request` asks
    /// for.
    async fn run_page<T, F>(&self, request: &PageRequest, list: F) -> Result<Page<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, &PageRequest) -> Result<Page<T>> + Send + 'static,
    {
        let request = request.clone();
        self.run(move |inner| list(inner, &request)).await
    }
}

impl Inner {
    fn sessions(&self) -> MutexGuard<'_, HashMap<UploadId, Arc<tokio::sync::Mutex<SessionState>>>> {
        // Every critical section is one map operation: poisoning is moot.
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drops this process's lock entry for a session that has ended or whose
    /// files are gone. Never for a live session: a waiter holding a clone of
    /// the old lock and a newcomer creating a fresh one would not exclude
    /// each other.
    fn forget_session(&self, id: &UploadId, _held: &SessionGuard) {
        self.sessions().remove(id);
    }
}

fn corrupt(path: &Path, detail: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        path: PathBuf::from(path),
        detail: detail.to_string(),
    }
}
