//! Every backend passes the conformance suite: one test per backend and
//! case, named `backend::trait::case`.

use wharf_storage::testkit::{CompositeFixture, FsFixture, MemoryFixture};

wharf_storage::storage_tests!(memory, MemoryFixture::default);
wharf_storage::storage_tests!(fs, FsFixture::new);
wharf_storage::storage_tests!(composite, CompositeFixture::default);

/// [`CachedStorage`] over the filesystem backend: the cache must not change
/// what any case observes (every change made through it is seen at once).
mod cached_fs {
    use std::sync::Arc;

    use async_trait::async_trait;
    use wharf_storage::testkit::{Fixture, FsFixture};
    use wharf_storage::{CacheOptions, CachedStorage, FsStorage, Storage};

    pub struct CachedFsFixture {
        fs: FsFixture,
        storage: Arc<CachedStorage<FsStorage>>,
    }

    impl CachedFsFixture {
        pub fn new() -> Self {
            let fs = FsFixture::new();
            let inner = FsStorage::open(fs.root()).expect("open");
            // A long TTL: only invalidation keeps the answers right.
            let mut options = CacheOptions::default();
            options.ttl = std::time::Duration::from_secs(3600);
            let storage = Arc::new(CachedStorage::new(inner, options));
            CachedFsFixture { fs, storage }
        }
    }

    #[async_trait]
    impl Fixture for CachedFsFixture {
        async fn storage(&self) -> Arc<dyn Storage> {
            self.storage.clone()
        }

        async fn reopen(&self) -> Option<Arc<dyn Storage>> {
            let inner = FsStorage::open(self.fs.root()).expect("reopen");
            Some(Arc::new(CachedStorage::new(inner, CacheOptions::default())))
        }
    }

    wharf_storage::storage_tests!(cached, CachedFsFixture::new);
}

/// What the cache adds: answers from memory until a change is made through
/// it or reported to it.
mod cache_behaviour {
    use std::time::Duration;

    use bytes::Bytes;
    use wharf_reference::{Digest, MediaType, RepositoryName, Tag};
    use wharf_storage::testkit::FsFixture;
    use wharf_storage::{CacheOptions, CachedStorage, FsStorage, ManifestPut, RepositoryStore};

    /// A cache over the storage in `fs` that reuses answers for `ttl`.
    fn cache_over(fs: &FsFixture, ttl: Duration) -> CachedStorage<FsStorage> {
        let mut options = CacheOptions::default();
        options.ttl = ttl;
        CachedStorage::new(FsStorage::open(fs.root()).expect("open"), options)
    }

    /// A storage, and a cache over the same directory that reuses answers
    /// for an hour: it sees changes made through the storage once they are
    /// reported.
    fn behind_a_long_cache() -> (FsFixture, FsStorage, CachedStorage<FsStorage>) {
        let fs = FsFixture::new();
        let behind = FsStorage::open(fs.root()).expect("open");
        let cached = cache_over(&fs, Duration::from_secs(3600));
        (fs, behind, cached)
    }

    async fn push(storage: &dyn RepositoryStore, repo: &RepositoryName, n: u8) -> Digest {
        let bytes = Bytes::from(format!("{{\"schemaVersion\":2,\"n\":{n}}}"));
        let digest = Digest::sha256(&bytes);
        let media_type: MediaType = "application/vnd.oci.image.manifest.v1+json"
            .parse()
            .expect("media type");
        storage
            .put_manifest(repo, ManifestPut::new(digest.clone(), media_type, bytes))
            .await
            .expect("put");
        digest
    }

    #[tokio::test]
    async fn changes_behind_its_back_show_once_reported_or_expired() {
        let (fs, behind, cached) = behind_a_long_cache();
        let (repo, tag): (RepositoryName, Tag) =
            ("a/b".parse().expect("name"), "v1".parse().expect("tag"));
        let one = push(&cached, &repo, 1).await;
        let two = push(&cached, &repo, 2).await;
        cached.set_tag(&repo, &tag, &one).await.expect("tag");
        assert_eq!(cached.resolve_tag(&repo, &tag).await.expect("resolve"), one);
        cached.get_manifest(&repo, &one).await.expect("cached now");

        // Another process moves the tag and deletes the manifest: the
        // cache still answers from memory...
        behind.set_tag(&repo, &tag, &two).await.expect("move");
        behind.delete_manifest(&repo, &one).await.expect("delete");
        assert_eq!(cached.resolve_tag(&repo, &tag).await.expect("resolve"), one);
        assert!(cached.get_manifest(&repo, &one).await.is_ok());

        // ...until the change is reported.
        cached.invalidate_repository(&repo);
        assert_eq!(cached.resolve_tag(&repo, &tag).await.expect("resolve"), two);
        assert!(cached.get_manifest(&repo, &one).await.is_err());

        // With a short TTL, it expires by itself.
        let cached = cache_over(&fs, Duration::from_millis(200));
        assert_eq!(cached.resolve_tag(&repo, &tag).await.expect("resolve"), two);
        behind
            .set_tag(&repo, &tag, &one_again(&behind, &repo).await)
            .await
            .expect("move");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_ne!(cached.resolve_tag(&repo, &tag).await.expect("resolve"), two);
    }

    /// Links are never cached: one removed by a collection, through the
    /// cache or behind its back, is at once not linked.
    #[tokio::test]
    async fn links_removed_by_a_collection_are_gone_at_once() {
        use std::time::SystemTime;
        use wharf_storage::BlobStore;

        let (_fs, behind, cached) = behind_a_long_cache();
        let (a, b): (RepositoryName, RepositoryName) =
            ("o/a".parse().expect("name"), "o/b".parse().expect("name"));
        let content = Bytes::from_static(b"layer");
        let digest = Digest::sha256(&content);
        cached
            .put_blob(&digest, wharf_storage::testkit::body([content]))
            .await
            .expect("put");
        for r in [&a, &b] {
            cached.link_blob(r, &digest).await.expect("link");
            assert!(cached.is_blob_linked(r, &digest).await.expect("linked"));
        }
        let later = SystemTime::now() + Duration::from_secs(60);
        assert!(behind
            .unlink_blob_unused_since(&a, &digest, later)
            .await
            .expect("unlink behind its back"));
        assert!(cached
            .unlink_blob_unused_since(&b, &digest, later)
            .await
            .expect("unlink through it"));
        for r in [&a, &b] {
            assert!(!cached.is_blob_linked(r, &digest).await.expect("linked"));
            assert!(!cached.confirm_link(r, &digest).await.expect("confirm"));
        }
        assert!(cached.condemn_blob(&digest).await.expect("condemn"));
        assert!(behind.execute_blob(&digest).await.expect("execute"));
        assert!(cached.blob_size(&digest).await.is_err());
    }

    async fn one_again(storage: &FsStorage, repo: &RepositoryName) -> Digest {
        push(storage, repo, 3).await
    }
}
