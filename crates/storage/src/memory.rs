//! The in-memory backend.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures::{stream, StreamExt};
use wharf_reference::{Digest, Digester, RepositoryName, Tag};

use crate::archive::{Archive, ArchiveKey};
use crate::error::{Error, Result};
use crate::manifest::{ManifestInfo, ManifestPut, Referrer, StoredManifest, Subject};
use crate::page::{Page, PageRequest};
use crate::range::{self, BlobContent, ByteRange};
use crate::upload::{UploadId, UploadStatus};
use crate::{BlobStore, ChunkStream, RepositoryStore, UploadStore};

/// Storage held entirely in memory: for tests, and for embedding a registry
/// whose content need not outlive the process.
///
/// Blobs are kept as the chunks they arrived in (no copying, no
/// concatenation) and read back as a stream of those chunks. Uploads
/// accumulate in memory, which is the point of this backend; set
/// [`with_max_blob_size`](MemoryStorage::with_max_blob_size) to bound it.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    state: Mutex<State>,
    max_blob_size: Option<u64>,
}

#[derive(Debug, Default)]
struct State {
    blobs: BTreeMap<Digest, Arc<Blob>>,
    repositories: BTreeMap<RepositoryName, Repository>,
    uploads: HashMap<UploadId, Arc<futures::lock::Mutex<Session>>>,
    /// Archived repositories: where their content came from, and it.
    archives: BTreeMap<ArchiveKey, (RepositoryName, Repository)>,
}

#[derive(Debug)]
struct Blob {
    chunks: Vec<Bytes>,
    size: u64,
}

#[derive(Debug, Default)]
struct Repository {
    links: BTreeSet<Digest>,
    manifests: BTreeMap<Digest, Manifest>,
    tags: BTreeMap<Tag, Digest>,
    /// subject -> referring manifest -> its descriptor
    referrers: BTreeMap<Digest, BTreeMap<Digest, Referrer>>,
}

#[derive(Debug)]
struct Manifest {
    media_type: String,
    bytes: Bytes,
    subject: Option<Subject>,
}

#[derive(Debug)]
struct Session {
    repository: RepositoryName,
    started: SystemTime,
    touched: SystemTime,
    chunks: Vec<Bytes>,
    /// SHA-256 of `chunks` so far; other algorithms rehash at finish.
    digester: Digester,
    /// Set once the session is finished or cancelled, for appends that were
    /// waiting on its lock.
    ended: bool,
}

impl Session {
    fn size(&self) -> u64 {
        self.digester.bytes_hashed()
    }
}

impl MemoryStorage {
    /// Empty storage without a size limit.
    pub fn new() -> Self {
        MemoryStorage::default()
    }

    /// Rejects blobs (and uploads) larger than `limit` bytes with
    /// [`Error::TooLarge`].
    pub fn with_max_blob_size(mut self, limit: u64) -> Self {
        self.max_blob_size = Some(limit);
        self
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave State half-updated
        // (every update is a single insert or remove), so poisoning is moot.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn session(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<Arc<futures::lock::Mutex<Session>>> {
        self.state()
            .uploads
            .get(id)
            .cloned()
            .ok_or_else(|| upload_not_found(repository, id))
    }

    /// Locks a session, checking it still exists and belongs to `repository`.
    async fn lock_session(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<futures::lock::OwnedMutexGuard<Session>> {
        let session = self.session(repository, id)?.lock_owned().await;
        if session.ended || &session.repository != repository {
            return Err(upload_not_found(repository, id));
        }
        Ok(session)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        match self.max_blob_size {
            Some(limit) if size > limit => Err(Error::TooLarge { limit }),
            _ => Ok(()),
        }
    }
}

fn upload_not_found(repository: &RepositoryName, id: &UploadId) -> Error {
    Error::UploadNotFound {
        repository: repository.clone(),
        id: *id,
    }
}

/// The range of digest keys after `page.last`.
fn after_bound(page: &PageRequest) -> (Bound<&str>, Bound<&str>) {
    match page.last.as_deref() {
        Some(last) => (Bound::Excluded(last), Bound::Unbounded),
        None => (Bound::Unbounded, Bound::Unbounded),
    }
}

/// A page of a digest-keyed map's keys, read from `page.last` on.
fn page_of_keys<V>(map: &BTreeMap<Digest, V>, page: &PageRequest) -> Page<Digest> {
    let after = map.range::<str, _>(after_bound(page)).map(|(k, _)| k);
    Page::from_sorted(after.cloned(), page)
}

fn status(id: &UploadId, session: &Session) -> UploadStatus {
    UploadStatus {
        id: *id,
        repository: session.repository.clone(),
        offset: session.size(),
        started: session.started,
    }
}

/// The digest of `chunks` under `expected`'s algorithm, reusing the running
/// SHA-256 when that is the algorithm.
fn digest_of(chunks: &[Bytes], sha256: &Digester, expected: &Digest) -> Result<Digest> {
    if *expected.algorithm() == sha256.algorithm() {
        return Ok(sha256.current());
    }
    let mut d = Digester::new(expected.algorithm().clone()).map_err(Error::from_verify)?;
    for chunk in chunks {
        d.update(chunk);
    }
    Ok(d.finish())
}

#[async_trait]
impl BlobStore for MemoryStorage {
    async fn blob_size(&self, digest: &Digest) -> Result<u64> {
        self.state()
            .blobs
            .get(digest)
            .map(|b| b.size)
            .ok_or_else(|| Error::BlobNotFound(digest.clone()))
    }

    async fn read_blob(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobContent> {
        let blob = self
            .state()
            .blobs
            .get(digest)
            .cloned()
            .ok_or_else(|| Error::BlobNotFound(digest.clone()))?;
        let wanted = range::resolve(range.as_ref(), blob.size)?;
        let mut pieces = Vec::new();
        let mut at = 0u64;
        for chunk in &blob.chunks {
            let (start, end) = (at, at + chunk.len() as u64);
            at = end;
            if end <= wanted.start || start >= wanted.end {
                continue;
            }
            let from = wanted.start.saturating_sub(start) as usize;
            let to = (wanted.end.min(end) - start) as usize;
            pieces.push(Ok(chunk.slice(from..to)));
        }
        Ok(BlobContent {
            size: blob.size,
            range: wanted,
            stream: stream::iter(pieces).boxed(),
        })
    }

    async fn put_blob(&self, digest: &Digest, mut body: ChunkStream) -> Result<u64> {
        let mut digester = Digester::new(digest.algorithm().clone()).map_err(Error::from_verify)?;
        let mut chunks = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|source| Error::BodyInterrupted { offset: 0, source })?;
            self.check_size(digester.bytes_hashed() + chunk.len() as u64)?;
            digester.update(&chunk);
            chunks.push(chunk);
        }
        let size = digester.bytes_hashed();
        let actual = digester.finish();
        if actual != *digest {
            return Err(Error::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        self.state()
            .blobs
            .entry(digest.clone())
            .or_insert_with(|| Arc::new(Blob { chunks, size }));
        Ok(size)
    }

    async fn delete_blob(&self, digest: &Digest) -> Result<()> {
        self.state()
            .blobs
            .remove(digest)
            .map(drop)
            .ok_or_else(|| Error::BlobNotFound(digest.clone()))
    }

    async fn list_blobs(&self, page: &PageRequest) -> Result<Page<Digest>> {
        Ok(page_of_keys(&self.state().blobs, page))
    }
}

#[async_trait]
impl UploadStore for MemoryStorage {
    async fn start_upload(&self, repository: &RepositoryName) -> Result<UploadStatus> {
        let id = UploadId::random();
        let now = SystemTime::now();
        let session = Session {
            repository: repository.clone(),
            started: now,
            touched: now,
            chunks: Vec::new(),
            digester: Digester::sha256(),
            ended: false,
        };
        let status = status(&id, &session);
        self.state()
            .uploads
            .insert(id, Arc::new(futures::lock::Mutex::new(session)));
        Ok(status)
    }

    async fn append_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        offset: u64,
        mut body: ChunkStream,
    ) -> Result<UploadStatus> {
        let mut session = self.lock_session(repository, id).await?;
        if offset != session.size() {
            return Err(Error::WrongOffset {
                requested: offset,
                current: session.size(),
            });
        }
        let (kept_chunks, kept_digester) = (session.chunks.len(), session.digester.clone());
        session.touched = SystemTime::now();
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => {
                    if let Err(e) = self.check_size(session.size() + chunk.len() as u64) {
                        session.chunks.truncate(kept_chunks);
                        session.digester = kept_digester;
                        return Err(e);
                    }
                    // Both updated before the next await: a dropped append
                    // leaves a consistent session.
                    session.digester.update(&chunk);
                    session.chunks.push(chunk);
                }
                Err(source) => {
                    return Err(Error::BodyInterrupted {
                        offset: session.size(),
                        source,
                    })
                }
            }
        }
        session.touched = SystemTime::now();
        Ok(status(id, &session))
    }

    async fn upload_status(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<UploadStatus> {
        let session = self.lock_session(repository, id).await?;
        Ok(status(id, &session))
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
        let mut session = self.lock_session(repository, id).await?;
        session.ended = true;
        let chunks = std::mem::take(&mut session.chunks);
        let actual = digest_of(&chunks, &session.digester, expected);
        let size = session.size();
        let mut state = self.state();
        state.uploads.remove(id);
        let actual = actual?;
        if actual != *expected {
            return Err(Error::DigestMismatch {
                expected: expected.clone(),
                actual,
            });
        }
        state
            .blobs
            .entry(expected.clone())
            .or_insert_with(|| Arc::new(Blob { chunks, size }));
        state.link(repository, expected);
        Ok(size)
    }

    async fn cancel_upload(&self, repository: &RepositoryName, id: &UploadId) -> Result<()> {
        let mut session = self.lock_session(repository, id).await?;
        session.ended = true;
        self.state().uploads.remove(id);
        Ok(())
    }

    async fn purge_expired_uploads(&self, max_age: Duration) -> Result<usize> {
        let now = SystemTime::now();
        let sessions: Vec<_> = self
            .state()
            .uploads
            .iter()
            .map(|(id, s)| (*id, Arc::clone(s)))
            .collect();
        let mut purged = 0;
        for (id, session) in sessions {
            // A session being appended to is busy, not abandoned.
            let Some(mut session) = session.try_lock() else {
                continue;
            };
            let idle = now.duration_since(session.touched).unwrap_or_default();
            if !session.ended && idle > max_age {
                session.ended = true;
                self.state().uploads.remove(&id);
                purged += 1;
            }
        }
        Ok(purged)
    }
}

impl State {
    /// Links a blob into a repository (creating the repository).
    fn link(&mut self, repository: &RepositoryName, digest: &Digest) {
        self.repositories
            .entry(repository.clone())
            .or_default()
            .links
            .insert(digest.clone());
    }

    fn repository(&self, name: &RepositoryName) -> Result<&Repository> {
        self.repositories
            .get(name)
            .ok_or_else(|| Error::RepositoryNotFound(name.clone()))
    }

    fn manifest(&self, name: &RepositoryName, digest: &Digest) -> Result<&Manifest> {
        self.repositories
            .get(name)
            .and_then(|r| r.manifests.get(digest))
            .ok_or_else(|| Error::ManifestNotFound {
                repository: name.clone(),
                digest: digest.clone(),
            })
    }
}

impl Repository {
    /// Whether it holds any blob link, manifest or tag.
    fn holds_content(&self) -> bool {
        !self.links.is_empty() || !self.manifests.is_empty() || !self.tags.is_empty()
    }

    fn remove_referrer(&mut self, referrer: &Digest, subject: &Subject) {
        if let Some(entries) = self.referrers.get_mut(&subject.digest) {
            entries.remove(referrer);
            if entries.is_empty() {
                self.referrers.remove(&subject.digest);
            }
        }
    }
}

#[async_trait]
impl RepositoryStore for MemoryStorage {
    async fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        let mut state = self.state();
        if !state.blobs.contains_key(digest) {
            return Err(Error::BlobNotFound(digest.clone()));
        }
        state.link(repository, digest);
        Ok(())
    }

    async fn is_blob_linked(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        Ok(self
            .state()
            .repositories
            .get(repository)
            .is_some_and(|r| r.links.contains(digest)))
    }

    async fn unlink_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        let removed = self
            .state()
            .repositories
            .get_mut(repository)
            .is_some_and(|r| r.links.remove(digest));
        if removed {
            Ok(())
        } else {
            Err(Error::BlobNotLinked {
                repository: repository.clone(),
                digest: digest.clone(),
            })
        }
    }

    async fn linked_blobs(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        let state = self.state();
        let Some(r) = state.repositories.get(repository) else {
            return Ok(Page::empty());
        };
        let after = r.links.range::<str, _>(after_bound(page));
        Ok(Page::from_sorted(after.cloned(), page))
    }

    async fn put_manifest(&self, repository: &RepositoryName, manifest: ManifestPut) -> Result<()> {
        manifest.validate()?;
        let referrer = manifest.referrer();
        let mut state = self.state();
        let repo = state.repositories.entry(repository.clone()).or_default();
        let previous = repo.manifests.insert(
            manifest.digest.clone(),
            Manifest {
                media_type: manifest.media_type,
                bytes: manifest.bytes,
                subject: manifest.subject,
            },
        );
        if let Some(old_subject) = previous.and_then(|p| p.subject) {
            repo.remove_referrer(&manifest.digest, &old_subject);
        }
        if let Some((subject, referrer)) = referrer {
            repo.referrers
                .entry(subject)
                .or_default()
                .insert(manifest.digest, referrer);
        }
        Ok(())
    }

    async fn get_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<StoredManifest> {
        let state = self.state();
        let m = state.manifest(repository, digest)?;
        Ok(StoredManifest {
            digest: digest.clone(),
            media_type: m.media_type.clone(),
            bytes: m.bytes.clone(),
        })
    }

    async fn stat_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<ManifestInfo> {
        let state = self.state();
        let m = state.manifest(repository, digest)?;
        Ok(ManifestInfo {
            digest: digest.clone(),
            media_type: m.media_type.clone(),
            size: m.bytes.len() as u64,
        })
    }

    async fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<Tag>> {
        let mut state = self.state();
        let not_found = || Error::ManifestNotFound {
            repository: repository.clone(),
            digest: digest.clone(),
        };
        let repo = state
            .repositories
            .get_mut(repository)
            .ok_or_else(not_found)?;
        let manifest = repo.manifests.remove(digest).ok_or_else(not_found)?;
        if let Some(subject) = &manifest.subject {
            repo.remove_referrer(digest, subject);
        }
        let tags: Vec<Tag> = repo
            .tags
            .iter()
            .filter(|(_, d)| *d == digest)
            .map(|(t, _)| t.clone())
            .collect();
        for tag in &tags {
            repo.tags.remove(tag);
        }
        Ok(tags)
    }

    async fn list_manifests(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        let state = self.state();
        Ok(state
            .repositories
            .get(repository)
            .map_or_else(Page::empty, |r| page_of_keys(&r.manifests, page)))
    }

    async fn set_tag(&self, repository: &RepositoryName, tag: &Tag, digest: &Digest) -> Result<()> {
        let mut state = self.state();
        state.manifest(repository, digest)?;
        if let Some(repo) = state.repositories.get_mut(repository) {
            repo.tags.insert(tag.clone(), digest.clone());
        }
        Ok(())
    }

    async fn resolve_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        self.state()
            .repositories
            .get(repository)
            .and_then(|r| r.tags.get(tag).cloned())
            .ok_or_else(|| Error::TagNotFound {
                repository: repository.clone(),
                tag: tag.clone(),
            })
    }

    async fn delete_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        self.state()
            .repositories
            .get_mut(repository)
            .and_then(|r| r.tags.remove(tag))
            .ok_or_else(|| Error::TagNotFound {
                repository: repository.clone(),
                tag: tag.clone(),
            })
    }

    async fn list_tags(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Tag>> {
        let state = self.state();
        let repo = state.repository(repository)?;
        Ok(Page::from_sorted(repo.tags.keys().cloned(), page))
    }

    async fn tags_of(&self, repository: &RepositoryName, digest: &Digest) -> Result<Vec<Tag>> {
        Ok(self
            .state()
            .repositories
            .get(repository)
            .map(|r| {
                r.tags
                    .iter()
                    .filter(|(_, d)| *d == digest)
                    .map(|(t, _)| t.clone())
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn list_referrers(
        &self,
        repository: &RepositoryName,
        subject: &Digest,
        artifact_type: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Referrer>> {
        let state = self.state();
        let Some(entries) = state
            .repositories
            .get(repository)
            .and_then(|r| r.referrers.get(subject))
        else {
            return Ok(Page::empty());
        };
        let matching = entries
            .range::<str, _>(after_bound(page))
            .map(|(_, r)| r)
            .filter(|r| artifact_type.is_none_or(|t| r.artifact_type.as_deref() == Some(t)))
            .cloned();
        Ok(Page::from_sorted_by(matching, page, |r| r.digest.as_str()))
    }

    async fn list_repositories(&self, page: &PageRequest) -> Result<Page<RepositoryName>> {
        Ok(Page::from_sorted(
            self.state().repositories.keys().cloned(),
            page,
        ))
    }

    async fn archive_repository(
        &self,
        repository: &RepositoryName,
        key: &ArchiveKey,
    ) -> Result<()> {
        let mut state = self.state();
        if state.archives.contains_key(key) {
            return Err(Error::ArchiveExists(key.clone()));
        }
        // Its idle upload sessions go too; one being appended to is busy.
        state.uploads.retain(|_, session| match session.try_lock() {
            Some(mut session) if &session.repository == repository => {
                session.ended = true;
                false
            }
            _ => true,
        });
        let content = state.repositories.remove(repository).unwrap_or_default();
        state
            .archives
            .insert(key.clone(), (repository.clone(), content));
        Ok(())
    }

    async fn restore_repository(
        &self,
        key: &ArchiveKey,
        repository: &RepositoryName,
    ) -> Result<()> {
        let mut state = self.state();
        if !state.archives.contains_key(key) {
            return Err(Error::ArchiveNotFound(key.clone()));
        }
        if state
            .repositories
            .get(repository)
            .is_some_and(Repository::holds_content)
        {
            return Err(Error::RepositoryNotEmpty(repository.clone()));
        }
        // An empty archive leaves the name unknown, as on disk.
        if let Some((_, content)) = state.archives.remove(key) {
            if content.holds_content() {
                state.repositories.insert(repository.clone(), content);
            }
        }
        Ok(())
    }

    async fn delete_archive(&self, key: &ArchiveKey) -> Result<()> {
        match self.state().archives.remove(key) {
            Some(_) => Ok(()),
            None => Err(Error::ArchiveNotFound(key.clone())),
        }
    }

    async fn list_archives(&self) -> Result<Vec<Archive>> {
        Ok(self
            .state()
            .archives
            .iter()
            .map(|(key, (repository, _))| Archive {
                key: key.clone(),
                repository: repository.clone(),
            })
            .collect())
    }
}
