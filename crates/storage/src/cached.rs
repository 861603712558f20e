//! [`CachedStorage`]: manifests and tags answered from memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wharf_reference::{Digest, RepositoryName, Tag};

use crate::archive::ArchiveKey;
use crate::error::Result;
use crate::forward::forward;
use crate::manifest::{ManifestPut, StoredManifest};
use crate::{BlobStore, RepositoryStore, UploadStore};

/// How long [`CachedStorage`] keeps answers, and how much.
///
/// Non-exhaustive: start from `CacheOptions::default()` and set the fields
/// to change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheOptions {
    /// The longest an answer is reused: the bound on how stale a manifest
    /// or tag can be after a change made *outside* this value (another
    /// replica writing the same database) that nobody reported with
    /// [`CachedStorage::invalidate_repository`]. Changes made through it
    /// are seen at once. One second by default; zero turns the cache off.
    pub ttl: Duration,
    /// The most manifest bytes kept (tags count a few dozen bytes each).
    /// 64 MiB by default; zero turns the cache off.
    pub capacity_bytes: u64,
}

impl Default for CacheOptions {
    fn default() -> Self {
        CacheOptions {
            ttl: Duration::from_secs(1),
            capacity_bytes: 64 << 20,
        }
    }
}

/// A manifest or tag answer cached under its repository.
type ManifestKey = (RepositoryName, Digest);
type TagKey = (RepositoryName, Tag);

struct Caches {
    options: CacheOptions,
    /// Bumped by every change made through the storage, before and after
    /// it: an answer loaded while a change ran is not kept, so a lookup
    /// racing a change never caches what the change replaced.
    changes: AtomicU64,
    manifests: moka::sync::Cache<ManifestKey, StoredManifest>,
    tags: moka::sync::Cache<TagKey, Digest>,
}

/// The answers a change through [`CachedStorage`] affects.
enum Affects<'a> {
    Manifest(&'a RepositoryName, &'a Digest),
    Tag(&'a RepositoryName, &'a Tag),
    Repository(&'a RepositoryName),
}

impl Caches {
    fn forget(&self, affects: &Affects<'_>) {
        match *affects {
            Affects::Manifest(repository, digest) => self
                .manifests
                .invalidate(&(repository.clone(), digest.clone())),
            Affects::Tag(repository, tag) => {
                self.tags.invalidate(&(repository.clone(), tag.clone()))
            }
            Affects::Repository(repository) => self.forget_repository(repository),
        }
    }

    fn forget_repository(&self, repository: &RepositoryName) {
        let name = repository.clone();
        // Both fail only when invalidation closures are not enabled, and
        // they are (see `CachedStorage::new`).
        let _ = self
            .manifests
            .invalidate_entries_if(move |(r, _), _| *r == name);
        let name = repository.clone();
        let _ = self.tags.invalidate_entries_if(move |(r, _), _| *r == name);
    }
}

/// A [`Storage`](crate::Storage) that answers manifest and tag lookups
/// ([`get_manifest`](RepositoryStore::get_manifest),
/// [`stat_manifest`](RepositoryStore::stat_manifest),
/// [`resolve_tag`](RepositoryStore::resolve_tag)) from memory when it
/// answered them recently, and passes everything else to the storage it
/// wraps. A hot manifest then costs neither a file read nor a database
/// round trip.
///
/// Changes made through it invalidate exactly the answers they affect (a
/// deleted manifest and its tags, a moved tag, a whole repository when it
/// is archived or restored), and a lookup that raced a change is not
/// cached, so its callers always read their own writes. Changes made
/// elsewhere (another replica over the same database) are seen once
/// reported with [`invalidate_repository`](CachedStorage::invalidate_repository)
/// or [`invalidate_all`](CachedStorage::invalidate_all), and at the latest
/// after [`CacheOptions::ttl`]. Misses are not cached: a manifest pushed
/// elsewhere is found at once.
///
/// Links and blobs are not cached at all: [`is_blob_linked`](RepositoryStore::is_blob_linked),
/// [`blob_size`](BlobStore::blob_size) and every method of [garbage
/// collection](crate::collect) (confirming and removing links, condemning,
/// pardoning and executing blobs) go straight to the storage it wraps, so
/// a link removed by a collection, in this process or another, is never
/// answered as linked, nor a blob executed as stored.
///
/// ```
/// use wharf_storage::{CacheOptions, CachedStorage, MemoryStorage, Storage};
///
/// let storage = CachedStorage::new(MemoryStorage::new(), CacheOptions::default());
/// let _: &dyn Storage = &storage;
/// ```
pub struct CachedStorage<S> {
    inner: S,
    caches: Arc<Caches>,
}

impl<S: Clone> Clone for CachedStorage<S> {
    fn clone(&self) -> Self {
        CachedStorage {
            inner: self.inner.clone(),
            caches: self.caches.clone(),
        }
    }
}

impl<S> std::fmt::Debug for CachedStorage<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStorage")
            .field("options", &self.caches.options)
            .finish_non_exhaustive()
    }
}

impl<S> CachedStorage<S> {
    /// Caches the manifest and tag lookups of `inner`.
    pub fn new(inner: S, options: CacheOptions) -> Self {
        let manifests = moka::sync::Cache::builder()
            .max_capacity(options.capacity_bytes)
            .weigher(|(repository, _): &ManifestKey, manifest: &StoredManifest| {
                let weight = manifest.bytes.len() + repository.as_str().len() + 128;
                u32::try_from(weight).unwrap_or(u32::MAX)
            })
            .time_to_live(options.ttl.max(Duration::from_nanos(1)))
            .support_invalidation_closures()
            .build();
        let tags = moka::sync::Cache::builder()
            .max_capacity(options.capacity_bytes / 64)
            .time_to_live(options.ttl.max(Duration::from_nanos(1)))
            .support_invalidation_closures()
            .build();
        CachedStorage {
            inner,
            caches: Arc::new(Caches {
                options,
                changes: AtomicU64::new(0),
                manifests,
                tags,
            }),
        }
    }

    /// The storage behind the cache.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Forgets every answer about `repository` (for instance when another
    /// replica reports a change to it).
    pub fn invalidate_repository(&self, repository: &RepositoryName) {
        self.caches.changes.fetch_add(1, Ordering::AcqRel);
        self.caches.forget_repository(repository);
    }

    /// Forgets every answer.
    pub fn invalidate_all(&self) {
        self.caches.changes.fetch_add(1, Ordering::AcqRel);
        self.caches.manifests.invalidate_all();
        self.caches.tags.invalidate_all();
    }

    fn enabled(&self) -> bool {
        let CacheOptions {
            ttl,
            capacity_bytes,
        } = self.caches.options;
        !ttl.is_zero() && capacity_bytes > 0
    }

    /// Runs a change, forgetting the answers it `affects` before and after
    /// it and marking it so that lookups running meanwhile do not cache.
    async fn change<T>(
        &self,
        affects: Affects<'_>,
        change: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        self.caches.changes.fetch_add(1, Ordering::AcqRel);
        self.caches.forget(&affects);
        let result = change.await;
        self.caches.forget(&affects);
        self.caches.changes.fetch_add(1, Ordering::AcqRel);
        result
    }

    /// The answer cached under `key` in `cache`, or `load`'s, kept unless a
    /// change ran while it loaded.
    async fn cached<K, V, F>(
        &self,
        cache: &moka::sync::Cache<K, V>,
        key: K,
        load: impl FnOnce() -> F,
    ) -> Result<V>
    where
        K: std::hash::Hash + Eq + Send + Sync + 'static,
        V: Clone + Send + Sync + 'static,
        F: std::future::Future<Output = Result<V>>,
    {
        if !self.enabled() {
            return load().await;
        }
        if let Some(value) = cache.get(&key) {
            return Ok(value);
        }
        let before = self.caches.changes.load(Ordering::Acquire);
        let value = load().await?;
        if self.caches.changes.load(Ordering::Acquire) == before {
            cache.insert(key, value.clone());
        }
        Ok(value)
    }
}

forward! {
    impl[S: BlobStore] BlobStore for CachedStorage<S> {}
    to inner
}

forward! {
    impl[S: UploadStore] UploadStore for CachedStorage<S> {}
    to inner
}

forward! {
    impl[S: RepositoryStore] RepositoryStore for CachedStorage<S> {
        async fn put_manifest(&self, repository: &RepositoryName, manifest: ManifestPut) -> Result<()> {
            let digest = manifest.digest.clone();
            let put = self.inner.put_manifest(repository, manifest);
            self.change(Affects::Manifest(repository, &digest), put).await
        }

        async fn get_manifest(
            &self,
            repository: &RepositoryName,
            digest: &Digest,
        ) -> Result<StoredManifest> {
            let key = (repository.clone(), digest.clone());
            self.cached(&self.caches.manifests, key, || {
                self.inner.get_manifest(repository, digest)
            })
            .await
        }

        async fn delete_manifest(
            &self,
            repository: &RepositoryName,
            digest: &Digest,
        ) -> Result<Vec<Tag>> {
            let delete = self.inner.delete_manifest(repository, digest);
            let removed = self.change(Affects::Manifest(repository, digest), delete).await?;
            for tag in &removed {
                self.caches.tags.invalidate(&(repository.clone(), tag.clone()));
            }
            Ok(removed)
        }

        async fn set_tag(&self, repository: &RepositoryName, tag: &Tag, digest: &Digest) -> Result<()> {
            let set = self.inner.set_tag(repository, tag, digest);
            self.change(Affects::Tag(repository, tag), set).await
        }

        async fn resolve_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
            let key = (repository.clone(), tag.clone());
            self.cached(&self.caches.tags, key, || self.inner.resolve_tag(repository, tag))
                .await
        }

        async fn delete_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
            let delete = self.inner.delete_tag(repository, tag);
            self.change(Affects::Tag(repository, tag), delete).await
        }

        async fn archive_repository(
            &self,
            repository: &RepositoryName,
            key: &ArchiveKey,
        ) -> Result<()> {
            let archive = self.inner.archive_repository(repository, key);
            self.change(Affects::Repository(repository), archive).await
        }

        async fn restore_repository(
            &self,
            key: &ArchiveKey,
            repository: &RepositoryName,
        ) -> Result<()> {
            let restore = self.inner.restore_repository(key, repository);
            self.change(Affects::Repository(repository), restore).await
        }
    }
    to inner
}
