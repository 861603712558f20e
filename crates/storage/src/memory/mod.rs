//! The in-memory backend: [`MemoryStorage`].

mod blobs;
mod repositories;
mod uploads;

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use bytes::Bytes;
use wharf_reference::{Digest, Digester, RepositoryName, Tag};

use crate::archive::ArchiveKey;
use crate::error::{Error, Result};
use crate::manifest::{Referrer, Subject};
use crate::page::{Page, PageRequest};
use crate::upload::UploadId;

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
    /// Links are recorded without checking this storage's own blobs: the
    /// metadata half of a [`Composite`](crate::Composite), whose blobs live
    /// in another store.
    external_blobs: bool,
}

#[derive(Debug, Default)]
struct State {
    blobs: BTreeMap<Digest, Arc<Blob>>,
    /// Blobs condemned by garbage collection: out of `blobs` until
    /// pardoned (or taken back by a new link) or executed.
    condemned: BTreeMap<Digest, Arc<Blob>>,
    repositories: BTreeMap<RepositoryName, Repository>,
    uploads: HashMap<UploadId, Arc<futures::lock::Mutex<Session>>>,
    /// Archived repositories: where their content came from, and it.
    archives: BTreeMap<ArchiveKey, (RepositoryName, Repository)>,
}

#[derive(Debug)]
struct Blob {
    chunks: Vec<Bytes>,
    size: u64,
    stored: SystemTime,
}

impl Blob {
    fn new(chunks: Vec<Bytes>, size: u64) -> Arc<Blob> {
        Arc::new(Blob {
            chunks,
            size,
            stored: SystemTime::now(),
        })
    }
}

#[derive(Debug, Default)]
struct Repository {
    /// Linked blobs, with when each link was last made or confirmed.
    links: BTreeMap<Digest, SystemTime>,
    manifests: BTreeMap<Digest, Manifest>,
    tags: BTreeMap<Tag, Digest>,
    /// subject -> referring manifest -> its descriptor
    referrers: BTreeMap<Digest, BTreeMap<Digest, Referrer>>,
}

#[derive(Debug)]
struct Manifest {
    media_type: wharf_reference::MediaType,
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

impl State {
    /// Ends the idle sessions of `repository` (one being appended to is
    /// busy and stays), returning how many went.
    fn cancel_idle_uploads_in(&mut self, repository: &RepositoryName) -> usize {
        let before = self.uploads.len();
        self.uploads.retain(|_, session| match session.try_lock() {
            Some(mut session) if &session.repository == repository => {
                session.ended = true;
                false
            }
            _ => true,
        });
        before - self.uploads.len()
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

    /// Storage whose [`RepositoryStore`](crate::RepositoryStore) half
    /// records links to blobs kept elsewhere: `link_blob` does not look for
    /// the blob in this storage's own blobs. For the metadata half of a
    /// [`Composite`](crate::Composite), which links first and then looks at
    /// the blob in its blob store (tests and single-process embeddings of a
    /// remote blob store).
    pub fn with_external_blobs(mut self) -> Self {
        self.external_blobs = true;
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
            .ok_or_else(|| Error::upload_not_found(repository, id))
    }

    /// Locks a session, checking it still exists and belongs to `repository`.
    async fn lock_session(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<futures::lock::OwnedMutexGuard<Session>> {
        let session = self.session(repository, id)?.lock_owned().await;
        if session.ended || &session.repository != repository {
            return Err(Error::upload_not_found(repository, id));
        }
        Ok(session)
    }

    /// The page `list` cuts from `repository` under the lock; an empty
    /// page for an unknown repository.
    fn page_in<T>(
        &self,
        repository: &RepositoryName,
        list: impl FnOnce(&Repository) -> Page<T>,
    ) -> Page<T> {
        self.state()
            .repositories
            .get(repository)
            .map_or_else(Page::empty, list)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        match self.max_blob_size {
            Some(limit) if size > limit => Err(Error::TooLarge { limit }),
            _ => Ok(()),
        }
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

impl State {
    /// Links a blob into a repository (creating the repository).
    fn link(&mut self, repository: &RepositoryName, digest: &Digest) {
        self.repositories
            .entry(repository.clone())
            .or_default()
            .links
            .insert(digest.clone(), SystemTime::now());
    }

    /// Takes a condemned blob back into `blobs`, for a new reference to it
    /// (the garbage-collection protocol: whoever links it first wins).
    fn take_back(&mut self, digest: &Digest) {
        if let Some(blob) = self.condemned.remove(digest) {
            self.blobs.entry(digest.clone()).or_insert(blob);
        }
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
            .ok_or_else(|| Error::manifest_not_found(name, digest))
    }
}

impl Repository {
    /// Whether it holds any blob link, manifest or tag.
    fn holds_content(&self) -> bool {
        !self.links.is_empty() || !self.manifests.is_empty() || !self.tags.is_empty()
    }

    /// The tags pointing at `digest`, in tag order.
    fn tags_pointing_at<'a>(&'a self, digest: &'a Digest) -> impl Iterator<Item = Tag> + 'a {
        self.tags
            .iter()
            .filter(move |(_, d)| *d == digest)
            .map(|(t, _)| t.clone())
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
