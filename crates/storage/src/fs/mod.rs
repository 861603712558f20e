//! The filesystem backend: [`FsStorage`].

mod archive;
mod atomic;
mod layout;
mod listing;
mod pipeline;
mod pool;
mod read;

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::OwnedMutexGuard;
use wharf_reference::{Digest, Digester, RepositoryName, Tag};

use crate::archive::{Archive, ArchiveKey};
use crate::error::{Error, Result};
use crate::manifest::{ManifestInfo, ManifestPut, Referrer, StoredManifest, Subject};
use crate::page::{Page, PageRequest};
use crate::range::{BlobContent, ByteRange};
use crate::upload::{UploadId, UploadSession, UploadStatus};
use crate::{BlobStore, ChunkStream, RepositoryStore, UploadStore};

use atomic::{
    create_dirs, create_file, fsync_dir, make_private, read_dir_names, read_optional, remove_file,
    write_file,
};
use layout::Layout;
use pipeline::{End, Target};
use pool::Pool;

/// Storage in a directory tree, crash-safe by construction.
///
/// ```text
/// <root>/blobs/<algorithm>/<first two hex digits>/<encoded>
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
/// Appends to one session are serialized within a process. Sharing one root
/// between several processes is safe for blobs, links, manifests and tags
/// (every update is an atomic rename) but not for concurrent appends to the
/// same upload session. Paths are case-sensitive, as tags are: use a
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
    media_type: String,
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
        };
        inner.recover_archives()?;
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

    /// Starts a session, recording `owner` in its meta file.
    async fn start_session(
        &self,
        repository: &RepositoryName,
        owner: Option<String>,
    ) -> Result<UploadStatus> {
        let id = UploadId::random();
        let repository = repository.clone();
        let meta = self
            .run(move |inner| inner.start_upload(&id, &repository, owner))
            .await?;

        // A new session is hashed from its first byte; only a session found
        // on disk (after a restart) has to be rehashed.
        let state = SessionState {
            ended: false,
            digester: Some(Digester::sha256()),
        };
        self.inner
            .sessions()
            .insert(id, Arc::new(tokio::sync::Mutex::new(state)));
        Ok(upload_status(id, &meta, 0))
    }

    /// Locks a session of `repository`, checking that it exists.
    async fn lock_session(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<(SessionGuard, SessionMeta)> {
        let lock = Arc::clone(self.inner.sessions().entry(*id).or_default());
        let guard = lock.lock_owned().await;
        let not_found = || Error::UploadNotFound {
            repository: repository.clone(),
            id: *id,
        };
        if guard.ended {
            return Err(not_found());
        }
        let id = *id;
        let meta = self.run(move |inner| inner.read_session_meta(&id)).await?;
        match meta {
            Some(meta) if &meta.repository == repository => Ok((guard, meta)),
            Some(_) => Err(not_found()),
            None => {
                self.inner.forget_session(&id, &guard);
                Err(not_found())
            }
        }
    }

    fn too_large(&self) -> Error {
        Error::TooLarge {
            limit: self.inner.max_blob_size.unwrap_or(u64::MAX),
        }
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

    fn read_session_meta(&self, id: &UploadId) -> Result<Option<SessionMeta>> {
        let path = self.layout.upload_meta(id);
        let Some(bytes) = read_optional(&path)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| corrupt(&path, e))
    }

    fn upload_len(&self, id: &UploadId) -> Result<Option<u64>> {
        let path = self.layout.upload_data(id);
        match fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("stat {}", path.display()), e)),
        }
    }

    fn remove_upload(&self, id: &UploadId) -> Result<()> {
        let dir = self.layout.upload(id);
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(format!("remove {}", dir.display()), e)),
        }
        fsync_dir(&self.layout.uploads()).map_err(|e| Error::io("sync the uploads directory", e))
    }

    /// The digest of a file under `algorithm`, read in large chunks.
    fn hash_file(&self, path: &Path, algorithm: &wharf_reference::Algorithm) -> Result<Digest> {
        let mut digester = Digester::new(algorithm.clone()).map_err(Error::from_verify)?;
        let mut file =
            File::open(path).map_err(|e| Error::io(format!("open {}", path.display()), e))?;
        let mut buffer = vec![0u8; pipeline::BUFFER];
        loop {
            let n = file
                .read(&mut buffer)
                .map_err(|e| Error::io(format!("read {}", path.display()), e))?;
            if n == 0 {
                return Ok(digester.finish());
            }
            digester.update(&buffer[..n]);
        }
    }

    /// Makes a complete, verified file the blob `digest`: fsync, then rename
    /// into place unless the blob is already there (a concurrent or earlier
    /// commit of the same content), in which case the file is dropped.
    fn commit_blob(&self, file: &Path, digest: &Digest) -> Result<()> {
        let target = self.layout.blob(digest);
        let context = || format!("commit blob {digest}");
        if target.exists() {
            return fs::remove_file(file).map_err(|e| Error::io(context(), e));
        }
        let opened = File::open(file).map_err(|e| Error::io(context(), e))?;
        opened.sync_all().map_err(|e| Error::io(context(), e))?;
        let len = opened.metadata().map_or(0, |m| m.len());
        pipeline::drop_cached(&opened, len);
        atomic::rename_into_place(file, &target).map_err(|e| Error::io(context(), e))
    }

    fn finish_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        expected: &Digest,
        digester: Option<Digester>,
    ) -> Result<u64> {
        let data = self.layout.upload_data(id);
        let len = self.upload_len(id)?.ok_or_else(|| Error::UploadNotFound {
            repository: repository.clone(),
            id: *id,
        })?;
        let actual = match digester {
            Some(d) if d.bytes_hashed() == len && d.algorithm() == *expected.algorithm() => {
                d.finish()
            }
            _ => self.hash_file(&data, expected.algorithm())?,
        };
        if actual != *expected {
            self.remove_upload(id)?;
            return Err(Error::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
        // The repository link first, then the blob: a crash between the two
        // leaves the session whole (its client finishes it again) and a
        // link to a blob not there yet, which reads as unknown. In the other
        // order a crash lost the session, its data moved into place but
        // unlinked, and the client could not resume.
        let link = self.layout.link(repository, expected);
        let linked_now = !link.is_file();
        if linked_now {
            write_file(&self.layout, &link, expected.as_str().as_bytes())?;
        }
        if let Err(err) = self.commit_blob(&data, expected) {
            if linked_now {
                let _ = remove_file(&link);
            }
            return Err(err);
        }
        self.remove_upload(id)?;
        Ok(len)
    }

    fn start_upload(
        &self,
        id: &UploadId,
        repository: &RepositoryName,
        owner: Option<String>,
    ) -> Result<SessionMeta> {
        let dir = self.layout.upload(id);
        create_dirs(&dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        let data = self.layout.upload_data(id);
        create_file(&data).map_err(|e| Error::io(format!("create {}", data.display()), e))?;
        let started_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let meta = SessionMeta {
            repository: repository.clone(),
            started_ms,
            owner,
        };
        let json = serde_json::to_vec(&meta)
            .map_err(|e| Error::io("encode upload meta", io::Error::other(e)))?;
        // The meta file appears last, atomically: a session exists once it
        // does, and its data file is already there.
        write_file(&self.layout, &self.layout.upload_meta(id), &json)?;
        Ok(meta)
    }

    fn open_for_append(&self, id: &UploadId) -> Result<Option<(File, u64)>> {
        let path = self.layout.upload_data(id);
        let mut file = match OpenOptions::new().write(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("open {}", path.display()), e)),
        };
        let len = file
            .seek(SeekFrom::End(0))
            .map_err(|e| Error::io(format!("seek {}", path.display()), e))?;
        Ok(Some((file, len)))
    }

    /// The sessions whose meta file exists, with their owners.
    fn sessions_on_disk(&self) -> Result<Vec<UploadSession>> {
        let mut sessions = Vec::new();
        for name in read_dir_names(&self.layout.uploads())? {
            let Ok(id) = name.parse::<UploadId>() else {
                continue;
            };
            if let Some(meta) = self.read_session_meta(&id)? {
                sessions.push(UploadSession {
                    id,
                    repository: meta.repository,
                    owner: meta.owner,
                });
            }
        }
        Ok(sessions)
    }

    /// Removes stale sessions and temporary files; returns how many sessions.
    fn purge(&self, max_age: Duration) -> Result<usize> {
        let now = SystemTime::now();
        let stale = |path: &Path| -> bool {
            fs::metadata(path)
                .and_then(|m| m.modified())
                .map(|modified| now.duration_since(modified).unwrap_or_default() > max_age)
                .unwrap_or(false)
        };
        let mut purged = 0;
        for name in read_dir_names(&self.layout.uploads())? {
            let Ok(id) = name.parse::<UploadId>() else {
                continue;
            };
            let lock = Arc::clone(self.sessions().entry(id).or_default());
            // A session being appended to or finished is busy, not abandoned.
            let Ok(mut guard) = lock.try_lock_owned() else {
                continue;
            };
            let data = self.layout.upload_data(&id);
            let activity = if data.exists() {
                data
            } else {
                self.layout.upload(&id)
            };
            if !guard.ended && stale(&activity) {
                self.remove_upload(&id)?;
                guard.ended = true;
                self.forget_session(&id, &guard);
                purged += 1;
            }
        }
        for name in read_dir_names(&self.layout.tmp())? {
            let path = self.layout.tmp().join(name);
            if stale(&path) {
                let _ = fs::remove_file(&path);
            }
        }
        Ok(purged)
    }

    /// Cancels the sessions of `repository` that are not being appended
    /// to or finished right now.
    fn cancel_idle_sessions(&self, repository: &RepositoryName) -> Result<()> {
        for name in read_dir_names(&self.layout.uploads())? {
            let Ok(id) = name.parse::<UploadId>() else {
                continue;
            };
            let lock = Arc::clone(self.sessions().entry(id).or_default());
            let Ok(mut guard) = lock.try_lock_owned() else {
                continue;
            };
            let ours = self
                .read_session_meta(&id)?
                .is_some_and(|meta| &meta.repository == repository);
            if ours && !guard.ended {
                self.remove_upload(&id)?;
                guard.ended = true;
                self.forget_session(&id, &guard);
            }
        }
        Ok(())
    }

    fn repository_exists(&self, repository: &RepositoryName) -> bool {
        self.layout.links(repository).is_dir() || self.layout.manifests(repository).is_dir()
    }

    fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        if !self.layout.blob(digest).is_file() {
            return Err(Error::BlobNotFound(digest.clone()));
        }
        let link = self.layout.link(repository, digest);
        if link.is_file() {
            return Ok(());
        }
        write_file(&self.layout, &link, digest.as_str().as_bytes())
    }

    fn read_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<(ManifestHeader, bytes::Bytes)> {
        let path = self.layout.manifest(repository, digest);
        let content = read_optional(&path)?.ok_or_else(|| Error::ManifestNotFound {
            repository: repository.clone(),
            digest: digest.clone(),
        })?;
        let newline = content
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| corrupt(&path, "no header line"))?;
        let header: ManifestHeader =
            serde_json::from_slice(&content[..newline]).map_err(|e| corrupt(&path, e))?;
        let bytes = bytes::Bytes::from(content).slice(newline + 1..);
        Ok((header, bytes))
    }

    fn put_manifest(&self, repository: &RepositoryName, manifest: ManifestPut) -> Result<()> {
        let path = self.layout.manifest(repository, &manifest.digest);
        let previous = match self.read_manifest(repository, &manifest.digest) {
            Ok((header, _)) => header.subject,
            Err(Error::ManifestNotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let referrer = manifest.referrer();
        let header = ManifestHeader {
            media_type: manifest.media_type,
            subject: manifest.subject,
        };
        let mut content = serde_json::to_vec(&header).map_err(|e| corrupt(&path, e))?;
        content.push(b'\n');
        content.extend_from_slice(&manifest.bytes);
        // The manifest first: a crash after it leaves a manifest whose
        // referrer entry is missing until the client retries, never a
        // referrer to a manifest that does not exist.
        write_file(&self.layout, &path, &content)?;
        if let Some(old) = previous {
            if referrer.as_ref().map(|(s, _)| s) != Some(&old.digest) {
                remove_file(
                    &self
                        .layout
                        .referrer(repository, &old.digest, &manifest.digest),
                )?;
            }
        }
        if let Some((subject, referrer)) = referrer {
            let entry = self.layout.referrer(repository, &subject, &manifest.digest);
            let json = serde_json::to_vec(&referrer).map_err(|e| corrupt(&entry, e))?;
            write_file(&self.layout, &entry, &json)?;
        }
        Ok(())
    }

    fn delete_manifest(&self, repository: &RepositoryName, digest: &Digest) -> Result<Vec<Tag>> {
        let (header, _) = self.read_manifest(repository, digest)?;
        // Tags and referrer entry first: a crash midway leaves the manifest
        // in place (the delete can be retried), never a dangling tag.
        let mut removed = Vec::new();
        for (tag, target) in self.tags(repository)? {
            if &target == digest && remove_file(&self.layout.tag(repository, &tag))? {
                removed.push(tag);
            }
        }
        if let Some(subject) = header.subject {
            remove_file(&self.layout.referrer(repository, &subject.digest, digest))?;
        }
        remove_file(&self.layout.manifest(repository, digest))?;
        Ok(removed)
    }

    fn read_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Option<Digest>> {
        let path = self.layout.tag(repository, tag);
        let Some(content) = read_optional(&path)? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&content).map_err(|e| corrupt(&path, e))?;
        text.parse().map(Some).map_err(|e| corrupt(&path, e))
    }

    /// Every tag of the repository and its target, in tag order.
    fn tags(&self, repository: &RepositoryName) -> Result<Vec<(Tag, Digest)>> {
        let mut tags: Vec<Tag> = read_dir_names(&self.layout.tags(repository))?
            .into_iter()
            .filter_map(|name| name.parse().ok())
            .collect();
        tags.sort();
        let mut out = Vec::with_capacity(tags.len());
        for tag in tags {
            // A tag deleted since the listing is simply skipped.
            if let Some(digest) = self.read_tag(repository, &tag)? {
                out.push((tag, digest));
            }
        }
        Ok(out)
    }
}

fn corrupt(path: &Path, detail: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        path: PathBuf::from(path),
        detail: detail.to_string(),
    }
}

fn upload_status(id: UploadId, meta: &SessionMeta, offset: u64) -> UploadStatus {
    UploadStatus {
        id,
        repository: meta.repository.clone(),
        offset,
        started: meta.started(),
    }
}

#[async_trait]
impl BlobStore for FsStorage {
    async fn blob_size(&self, digest: &Digest) -> Result<u64> {
        let digest = digest.clone();
        self.run(move |inner| {
            let path = inner.layout.blob(&digest);
            match fs::metadata(&path) {
                Ok(m) => Ok(m.len()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::BlobNotFound(digest)),
                Err(e) => Err(Error::io(format!("stat {}", path.display()), e)),
            }
        })
        .await
    }

    async fn read_blob(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobContent> {
        let digest = digest.clone();
        let path = self.inner.layout.blob(&digest);
        let opened = self.run(move |_| read::open(path, range.as_ref())).await?;
        let (file, size, range) = opened.ok_or(Error::BlobNotFound(digest))?;
        Ok(read::stream(file, size, range, &self.inner.streams))
    }

    async fn put_blob(&self, digest: &Digest, body: ChunkStream) -> Result<u64> {
        let digester = Digester::new(digest.algorithm().clone()).map_err(Error::from_verify)?;
        let temp = self.inner.layout.temp_file();
        let file = {
            let temp = temp.clone();
            self.run(move |_| {
                create_file(&temp).map_err(|e| Error::io(format!("create {}", temp.display()), e))
            })
            .await?
        };
        let target = Target {
            file,
            start: 0,
            guard: (),
        };
        let (_, pumped) = pipeline::pump(
            target,
            body,
            Some(digester),
            self.inner.max_blob_size,
            &self.inner.buffers,
        )
        .await;
        let digest = digest.clone();
        let too_large = self.too_large();
        self.run(move |inner| {
            let outcome = (|| {
                let pumped = pumped?;
                match pumped.end {
                    End::Complete => {}
                    End::BodyFailed(source) => {
                        return Err(Error::BodyInterrupted { offset: 0, source })
                    }
                    End::TooLarge => return Err(too_large),
                }
                let actual = pumped
                    .digester
                    .ok_or_else(|| Error::io("hash blob", io::Error::other("no digest computed")))?
                    .finish();
                if actual != digest {
                    return Err(Error::DigestMismatch {
                        expected: digest.clone(),
                        actual,
                    });
                }
                inner.commit_blob(&temp, &digest)?;
                Ok(pumped.len)
            })();
            if outcome.is_err() {
                let _ = fs::remove_file(&temp);
            }
            outcome
        })
        .await
    }

    async fn delete_blob(&self, digest: &Digest) -> Result<()> {
        let digest = digest.clone();
        self.run(move |inner| {
            if remove_file(&inner.layout.blob(&digest))? {
                Ok(())
            } else {
                Err(Error::BlobNotFound(digest))
            }
        })
        .await
    }

    async fn list_blobs(&self, page: &PageRequest) -> Result<Page<Digest>> {
        let page = page.clone();
        self.run(move |inner| inner.blobs_page(&page)).await
    }
}

#[async_trait]
impl UploadStore for FsStorage {
    async fn start_upload(&self, repository: &RepositoryName) -> Result<UploadStatus> {
        self.start_session(repository, None).await
    }

    async fn start_upload_for(
        &self,
        repository: &RepositoryName,
        owner: &str,
    ) -> Result<UploadStatus> {
        self.start_session(repository, Some(owner.to_owned())).await
    }

    async fn upload_sessions(&self) -> Result<Vec<UploadSession>> {
        self.run(|inner| inner.sessions_on_disk()).await
    }

    async fn append_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        offset: u64,
        body: ChunkStream,
    ) -> Result<UploadStatus> {
        let (mut guard, meta) = self.lock_session(repository, id).await?;
        let upload = *id;
        let opened = self
            .run(move |inner| inner.open_for_append(&upload))
            .await?;
        let Some((file, len)) = opened else {
            self.inner.forget_session(id, &guard);
            return Err(Error::UploadNotFound {
                repository: repository.clone(),
                id: *id,
            });
        };
        if offset != len {
            return Err(Error::WrongOffset {
                requested: offset,
                current: len,
            });
        }
        let digester = guard.digester.take().filter(|d| d.bytes_hashed() == len);
        let backup = digester.clone();
        let room = self
            .inner
            .max_blob_size
            .map(|limit| limit.saturating_sub(len));
        let target = Target {
            file,
            start: len,
            guard,
        };
        // The guard travels with the file into the writer thread and comes
        // back when it is done, so a dropped request cannot race the next.
        let (guard, pumped) =
            pipeline::pump(target, body, digester, room, &self.inner.buffers).await;
        let mut guard = guard
            .ok_or_else(|| Error::io("write upload", io::Error::other("writer thread failed")))?;
        let pumped = match pumped {
            Ok(pumped) => pumped,
            Err(e) => {
                guard.digester = backup;
                return Err(e);
            }
        };
        guard.digester = pumped.digester;
        match pumped.end {
            End::Complete => Ok(upload_status(*id, &meta, pumped.len)),
            End::BodyFailed(source) => Err(Error::BodyInterrupted {
                offset: pumped.len,
                source,
            }),
            End::TooLarge => {
                guard.digester = backup;
                Err(self.too_large())
            }
        }
    }

    async fn upload_status(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<UploadStatus> {
        let (guard, meta) = self.lock_session(repository, id).await?;
        let upload = *id;
        match self.run(move |inner| inner.upload_len(&upload)).await? {
            Some(len) => Ok(upload_status(*id, &meta, len)),
            None => {
                self.inner.forget_session(id, &guard);
                Err(Error::UploadNotFound {
                    repository: repository.clone(),
                    id: *id,
                })
            }
        }
    }

    async fn finish_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        expected: &Digest,
    ) -> Result<u64> {
        if !expected.algorithm().is_supported() {
            return Err(Error::UnsupportedAlgorithm(
                expected.algorithm().to_string(),
            ));
        }
        let (mut guard, _) = self.lock_session(repository, id).await?;
        let digester = guard.digester.take();
        let (repo, upload, digest) = (repository.clone(), *id, expected.clone());
        let result = self
            .run(move |inner| inner.finish_upload(&repo, &upload, &digest, digester))
            .await;
        if matches!(result, Ok(_) | Err(Error::DigestMismatch { .. })) {
            guard.ended = true;
            self.inner.forget_session(id, &guard);
        }
        result
    }

    async fn cancel_upload(&self, repository: &RepositoryName, id: &UploadId) -> Result<()> {
        let (mut guard, _) = self.lock_session(repository, id).await?;
        let upload = *id;
        self.run(move |inner| inner.remove_upload(&upload)).await?;
        guard.ended = true;
        self.inner.forget_session(id, &guard);
        Ok(())
    }

    async fn purge_expired_uploads(&self, max_age: Duration) -> Result<usize> {
        self.run(move |inner| inner.purge(max_age)).await
    }
}

#[async_trait]
impl RepositoryStore for FsStorage {
    async fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        let (repository, digest) = (repository.clone(), digest.clone());
        self.run(move |inner| inner.link_blob(&repository, &digest))
            .await
    }

    async fn is_blob_linked(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        let link = self.inner.layout.link(repository, digest);
        self.run(move |_| Ok(link.is_file())).await
    }

    async fn unlink_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        let (repository, digest) = (repository.clone(), digest.clone());
        self.run(move |inner| {
            if remove_file(&inner.layout.link(&repository, &digest))? {
                Ok(())
            } else {
                Err(Error::BlobNotLinked { repository, digest })
            }
        })
        .await
    }

    async fn linked_blobs(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        let (dir, page) = (self.inner.layout.links(repository), page.clone());
        self.run(move |inner| inner.digests_page(&dir, &page)).await
    }

    async fn put_manifest(&self, repository: &RepositoryName, manifest: ManifestPut) -> Result<()> {
        manifest.validate()?;
        let repository = repository.clone();
        self.run(move |inner| inner.put_manifest(&repository, manifest))
            .await
    }

    async fn get_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<StoredManifest> {
        let (repository, digest) = (repository.clone(), digest.clone());
        self.run(move |inner| {
            let (header, bytes) = inner.read_manifest(&repository, &digest)?;
            Ok(StoredManifest {
                digest,
                media_type: header.media_type,
                bytes,
            })
        })
        .await
    }

    async fn stat_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<ManifestInfo> {
        let (repository, digest) = (repository.clone(), digest.clone());
        self.run(move |inner| {
            let (header, bytes) = inner.read_manifest(&repository, &digest)?;
            Ok(ManifestInfo {
                digest,
                media_type: header.media_type,
                size: bytes.len() as u64,
            })
        })
        .await
    }

    async fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<Tag>> {
        let (repository, digest) = (repository.clone(), digest.clone());
        self.run(move |inner| inner.delete_manifest(&repository, &digest))
            .await
    }

    async fn list_manifests(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        let (dir, page) = (self.inner.layout.manifests(repository), page.clone());
        self.run(move |inner| inner.digests_page(&dir, &page)).await
    }

    async fn set_tag(&self, repository: &RepositoryName, tag: &Tag, digest: &Digest) -> Result<()> {
        let (repository, tag, digest) = (repository.clone(), tag.clone(), digest.clone());
        self.run(move |inner| {
            if !inner.layout.manifest(&repository, &digest).is_file() {
                return Err(Error::ManifestNotFound { repository, digest });
            }
            write_file(
                &inner.layout,
                &inner.layout.tag(&repository, &tag),
                digest.as_str().as_bytes(),
            )
        })
        .await
    }

    async fn resolve_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        let (repository, tag) = (repository.clone(), tag.clone());
        self.run(move |inner| {
            inner
                .read_tag(&repository, &tag)?
                .ok_or(Error::TagNotFound { repository, tag })
        })
        .await
    }

    async fn delete_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        let (repository, tag) = (repository.clone(), tag.clone());
        self.run(move |inner| {
            let digest = inner.read_tag(&repository, &tag)?;
            match digest {
                Some(digest) if remove_file(&inner.layout.tag(&repository, &tag))? => Ok(digest),
                _ => Err(Error::TagNotFound { repository, tag }),
            }
        })
        .await
    }

    async fn list_tags(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Tag>> {
        let (repository, page) = (repository.clone(), page.clone());
        self.run(move |inner| {
            if !inner.repository_exists(&repository) {
                return Err(Error::RepositoryNotFound(repository));
            }
            let mut tags: Vec<Tag> = read_dir_names(&inner.layout.tags(&repository))?
                .into_iter()
                .filter_map(|name| name.parse().ok())
                .collect();
            tags.sort();
            Ok(Page::from_sorted(tags, &page))
        })
        .await
    }

    async fn tags_of(&self, repository: &RepositoryName, digest: &Digest) -> Result<Vec<Tag>> {
        let (repository, digest) = (repository.clone(), digest.clone());
        self.run(move |inner| {
            Ok(inner
                .tags(&repository)?
                .into_iter()
                .filter(|(_, target)| *target == digest)
                .map(|(tag, _)| tag)
                .collect())
        })
        .await
    }

    async fn list_referrers(
        &self,
        repository: &RepositoryName,
        subject: &Digest,
        artifact_type: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Referrer>> {
        let (repository, subject) = (repository.clone(), subject.clone());
        let (artifact_type, page) = (artifact_type.map(str::to_owned), page.clone());
        self.run(move |inner| {
            inner.referrers_page(&repository, &subject, artifact_type.as_deref(), &page)
        })
        .await
    }

    async fn list_repositories(&self, page: &PageRequest) -> Result<Page<RepositoryName>> {
        let page = page.clone();
        self.run(move |inner| inner.repositories_page(&page)).await
    }

    async fn archive_repository(
        &self,
        repository: &RepositoryName,
        key: &ArchiveKey,
    ) -> Result<()> {
        let (repository, key) = (repository.clone(), key.clone());
        self.run(move |inner| inner.archive_repository(&repository, &key))
            .await
    }

    async fn restore_repository(
        &self,
        key: &ArchiveKey,
        repository: &RepositoryName,
    ) -> Result<()> {
        let (key, repository) = (key.clone(), repository.clone());
        self.run(move |inner| inner.restore_repository(&key, &repository))
            .await
    }

    async fn delete_archive(&self, key: &ArchiveKey) -> Result<()> {
        let key = key.clone();
        self.run(move |inner| inner.delete_archive(&key)).await
    }

    async fn list_archives(&self) -> Result<Vec<Archive>> {
        self.run(|inner| inner.list_archives()).await
    }
}
