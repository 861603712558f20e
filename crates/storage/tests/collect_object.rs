//! The whole conformance suite (garbage collection's cases included) on
//! the pairing that registries run as replicas, `Composite<ObjectStorage,
//! PostgresMetadata>` over moto and PostgreSQL; then garbage collection's
//! backend methods on the scale-out backends:
//! `ObjectStorage` (condemned blobs as marker objects, and references
//! that wait for the verdict) over moto's S3 and object_store's local
//! and in-memory stores; `PostgresMetadata` (link times, confirmation,
//! conditional removal, link counts) over a real PostgreSQL; and the
//! `Composite` of the two, which takes references link first.
//!
//! Without moto the S3 cases run over an in-memory bucket; without
//! PostgreSQL its cases are skipped (loudly; see `wharf-test-servers`).

#![cfg(all(feature = "object-store", feature = "postgres"))]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::{ObjectStore, ObjectStoreExt};
use wharf_reference::{Digest, RepositoryName};
use wharf_storage::prelude::*;
use wharf_storage::testkit::{body, everything, put_unlinked, read_all};
use wharf_storage::{
    ArchiveKey, Composite, Error, ListingOrder, MemoryStorage, ObjectStorage, Page, PageRequest,
    PostgresMetadata, MIN_PART_SIZE,
};

mod servers;

use servers::{moto_bucket, repo, PostgresFixture};

/// The pairing a registry runs with several replicas: blobs in S3 (moto,
/// or an in-memory bucket without it), metadata in PostgreSQL (a fresh
/// database per case); reopened as a new `ObjectStorage` and a new pool
/// over the same bucket and database, as another replica sees them.
fn object_postgres_fixture() -> PostgresFixture {
    let bucket = s3_bucket();
    PostgresFixture::new(move |metadata| {
        let blobs = ObjectStorage::builder(bucket.clone())
            .prefix("suite")
            .part_size(MIN_PART_SIZE)
            .build();
        Arc::new(Composite::new(blobs, metadata))
    })
}

wharf_storage::storage_tests!(object_postgres, object_postgres_fixture);

/// The S3 bucket (moto's, or an in-memory one without moto).
fn s3_bucket() -> Arc<dyn ObjectStore> {
    moto_bucket().unwrap_or_else(|| Arc::new(InMemory::new()))
}

/// Object storage over each kind of bucket: S3 (or in memory), a local
/// directory (listed unordered), in memory. The directory goes when the
/// guard is dropped.
fn storages() -> (Vec<(&'static str, ObjectStorage)>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let local = LocalFileSystem::new_with_prefix(dir.path()).expect("local object store");
    let storages = vec![
        (
            "s3",
            ObjectStorage::builder(s3_bucket())
                .prefix("gc")
                .part_size(MIN_PART_SIZE)
                .build(),
        ),
        (
            "local",
            ObjectStorage::builder(Arc::new(local))
                .prefix("gc")
                .listing_order(ListingOrder::Unordered)
                .build(),
        ),
        ("memory", ObjectStorage::new(Arc::new(InMemory::new()), "")),
    ];
    (storages, dir)
}

/// Every item of a listing, page by page of `n`.
async fn walk<T: Clone, F, Fut>(n: usize, key: impl Fn(&T) -> String, list: F) -> Vec<T>
where
    F: Fn(PageRequest) -> Fut,
    Fut: std::future::Future<Output = wharf_storage::Result<Page<T>>>,
{
    let mut all = Vec::new();
    let mut request = PageRequest::first(n);
    loop {
        let page = list(request.clone()).await.expect("list");
        assert!(page.items.len() <= n);
        all.extend(page.items.iter().cloned());
        match page.next_last {
            Some(last) => request = PageRequest::after(key(&last), Some(n)),
            None => return all,
        }
    }
}

async fn stored(storage: &ObjectStorage) -> Vec<Digest> {
    walk(
        1,
        |d: &Digest| d.to_string(),
        |r| async move { storage.list_blobs(&r).await },
    )
    .await
}

async fn condemned(storage: &ObjectStorage) -> Vec<Digest> {
    walk(
        1,
        |d: &Digest| d.to_string(),
        |r| async move { storage.condemned_blobs(&r).await },
    )
    .await
}

fn sorted(mut digests: Vec<Digest>) -> Vec<Digest> {
    digests.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    digests
}

/// Condemned blobs leave the listings (and stay readable), are listed as
/// condemned, come back when pardoned and go for good when executed; a
/// blob not condemned is never executed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condemned_blobs_are_pardoned_or_executed() {
    let (storages, _dir) = storages();
    for (name, s) in storages {
        let a = put_unlinked(&s, b"layer a").await;
        let b = put_unlinked(&s, b"layer b!").await;
        let c = put_unlinked(&s, b"layer c!!").await;
        let sha512 =
            Digest::compute(wharf_reference::Algorithm::Sha512, b"a sha512 layer").expect("sha512");
        s.put_blob(&sha512, body([&b"a sha512 layer"[..]]))
            .await
            .expect("put sha512");
        let all = sorted(vec![a.clone(), b.clone(), c.clone(), sha512.clone()]);
        assert_eq!(stored(&s).await, all, "{name}");

        let entries = walk(
            1,
            |e: &wharf_storage::BlobEntry| e.digest.to_string(),
            |r| {
                let s = &s;
                async move { s.list_blob_entries(&r).await }
            },
        )
        .await;
        assert_eq!(
            entries.iter().map(|e| e.digest.clone()).collect::<Vec<_>>(),
            all,
            "{name}"
        );
        let now = SystemTime::now();
        for entry in &entries {
            let size = s.blob_size(&entry.digest).await.expect("size");
            assert_eq!(entry.size, size, "{name}");
            let age = now.duration_since(entry.modified).unwrap_or(Duration::ZERO);
            assert!(age < Duration::from_secs(120), "{name}: {age:?}");
        }

        assert!(s.condemn_blob(&b).await.expect("condemn"), "{name}");
        assert!(s.condemn_blob(&b).await.expect("again"), "{name}");
        assert!(s.condemn_blob(&sha512).await.expect("condemn"), "{name}");
        assert!(
            !s.condemn_blob(&Digest::sha256(b"never stored"))
                .await
                .expect("condemn"),
            "{name}: a blob not stored is not condemned"
        );
        assert_eq!(
            stored(&s).await,
            sorted(vec![a.clone(), c.clone()]),
            "{name}"
        );
        let entries = everything(s.list_blob_entries(&PageRequest::all()).await);
        assert_eq!(entries.len(), 2, "{name}");
        assert_eq!(
            condemned(&s).await,
            sorted(vec![b.clone(), sha512.clone()]),
            "{name}"
        );
        // Nothing links a condemned blob, but it is still readable.
        assert_eq!(
            read_all(&Composite::new(s.clone(), MemoryStorage::new()), &b, None)
                .await
                .expect("read"),
            b"layer b!",
            "{name}"
        );

        s.pardon_blob(&b).await.expect("pardon");
        s.pardon_blob(&b).await.expect("pardon again");
        assert!(!s.execute_blob(&b).await.expect("execute"), "{name}");
        assert_eq!(s.blob_size(&b).await.expect("kept"), 8, "{name}");
        assert!(s.execute_blob(&sha512).await.expect("execute"), "{name}");
        assert!(
            !s.execute_blob(&sha512).await.expect("execute again"),
            "{name}"
        );
        assert!(matches!(
            s.blob_size(&sha512).await,
            Err(Error::BlobNotFound(_))
        ));
        assert!(!s.execute_blob(&a).await.expect("not condemned"), "{name}");
        assert_eq!(stored(&s).await, sorted(vec![a, b, c.clone()]), "{name}");
        assert!(condemned(&s).await.is_empty(), "{name}");

        // An execution interrupted between the blob's delete and its
        // marker's leaves the marker, which the next verdict removes.
        assert!(s.condemn_blob(&c).await.expect("condemn"), "{name}");
        s.store().delete(&s.blob_key(&c)).await.expect("delete");
        assert_eq!(condemned(&s).await, vec![c.clone()], "{name}");
        assert!(!s.condemn_blob(&c).await.expect("gone"), "{name}");
        assert!(s.execute_blob(&c).await.expect("execute"), "{name}");
        assert!(condemned(&s).await.is_empty(), "{name}");
    }
}

/// A claim (a mount's look at the blob) of a condemned blob waits for the
/// verdict; one that comes too late is `Unavailable`, not a missing blob.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_wait_for_the_verdict() {
    let (storages, _dir) = storages();
    for (name, s) in storages {
        let digest = put_unlinked(&s, b"claimed").await;
        assert_eq!(s.claim_blob(&digest).await.expect("claim"), 7, "{name}");
        s.condemn_blob(&digest).await.expect("condemn");

        let claim = tokio::spawn({
            let (s, digest) = (s.clone(), digest.clone());
            async move { s.claim_blob(&digest).await }
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(!claim.is_finished(), "{name}: waits while condemned");
        s.pardon_blob(&digest).await.expect("pardon");
        assert_eq!(claim.await.expect("task").expect("claim"), 7, "{name}");

        s.condemn_blob(&digest).await.expect("condemn");
        let claim = tokio::spawn({
            let (s, digest) = (s.clone(), digest.clone());
            async move { s.claim_blob(&digest).await }
        });
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(s.execute_blob(&digest).await.expect("execute"), "{name}");
        let claimed = claim.await.expect("task");
        assert!(
            matches!(claimed, Err(Error::BlobNotFound(_))),
            "{name}: {claimed:?}"
        );
    }
    let s = ObjectStorage::builder(Arc::new(InMemory::new()))
        .verdict_timeout(Duration::from_millis(300))
        .build();
    let digest = put_unlinked(&s, b"left condemned").await;
    s.condemn_blob(&digest).await.expect("condemn");
    let claimed = s.claim_blob(&digest).await;
    match claimed {
        Err(Error::Unavailable { source, .. }) => {
            assert!(source.to_string().contains("condemned"), "{source}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

/// A composite of object storage (S3) and PostgreSQL metadata, or `None`
/// without PostgreSQL.
async fn composite() -> Option<Composite<ObjectStorage, PostgresMetadata>> {
    let metadata = metadata().await?;
    let blobs = ObjectStorage::builder(s3_bucket())
        .prefix("composite")
        .part_size(MIN_PART_SIZE)
        .build();
    Some(Composite::new(blobs, metadata))
}

/// Starts a session in `repository` holding `content` in `appends`
/// appends.
async fn session_of(
    s: &Composite<ObjectStorage, PostgresMetadata>,
    repository: &RepositoryName,
    content: &[u8],
    appends: usize,
) -> wharf_storage::UploadId {
    let session = s.start_upload(repository).await.expect("start");
    let mut offset = 0;
    for piece in content.chunks(content.len().div_ceil(appends)) {
        offset = s
            .append_upload(repository, &session.id, offset, body([piece.to_vec()]))
            .await
            .expect("append")
            .offset;
    }
    session.id
}

/// Finishes session `id` of `repository` as `digest` in a task of its own.
fn spawn_finish(
    s: &Arc<Composite<ObjectStorage, PostgresMetadata>>,
    repository: &RepositoryName,
    id: wharf_storage::UploadId,
    digest: &Digest,
) -> tokio::task::JoinHandle<wharf_storage::Result<u64>> {
    let (s, repository, digest) = (s.clone(), repository.clone(), digest.clone());
    tokio::spawn(async move { s.finish_upload(&repository, &id, &digest).await })
}

/// The race that lost layers elsewhere: an upload of a condemned blob's
/// content finishes while the collector executes it (having recounted
/// before the upload's link). The finish waits for the verdict and
/// writes the blob again from its own parts: it reads back whole and is
/// linked. Both a one-part session (copied into place) and a session of
/// several parts (streamed). And when the recount sees the link, the
/// blob is pardoned and the finish keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_racing_the_execution_of_its_blob_is_not_lost() {
    let Some(s) = composite().await else { return };
    let s = Arc::new(s);
    let (old, new) = (repo("octo/old"), repo("octo/new"));
    for (round, appends) in [1usize, 3].into_iter().enumerate() {
        let content: Vec<u8> = format!("a layer pushed again, round {round}")
            .into_bytes()
            .repeat(1000);
        let digest = Digest::sha256(&content);
        let first = session_of(&s, &old, &content, 1).await;
        s.finish_upload(&old, &first, &digest).await.expect("first");
        s.unlink_blob(&old, &digest).await.expect("unlink");
        // The collector: no links, condemned.
        assert!(s
            .link_counts(std::slice::from_ref(&digest))
            .await
            .expect("count")
            .is_empty());
        assert!(s.condemn_blob(&digest).await.expect("condemn"));

        let again = session_of(&s, &new, &content, appends).await;
        let finish = spawn_finish(&s, &new, again, &digest);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            !finish.is_finished(),
            "round {round}: waits for the verdict"
        );
        // The link came first.
        assert!(s.is_blob_linked(&new, &digest).await.expect("linked"));
        assert!(s.execute_blob(&digest).await.expect("execute"));
        let size = finish.await.expect("task").expect("finish");
        assert_eq!(size, content.len() as u64);
        assert!(s.is_blob_linked(&new, &digest).await.expect("linked"));
        assert_eq!(
            read_all(&*s, &digest, None).await.expect("read"),
            content,
            "round {round}: the blob was written again whole"
        );
        assert!(everything(s.condemned_blobs(&PageRequest::all()).await).is_empty());

        // A collection that recounts after the link pardons the blob.
        s.unlink_blob(&new, &digest).await.expect("unlink");
        assert!(s.condemn_blob(&digest).await.expect("condemn"));
        let third = session_of(&s, &old, &content, appends).await;
        let finish = spawn_finish(&s, &old, third, &digest);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let counts = s
            .link_counts(std::slice::from_ref(&digest))
            .await
            .expect("count");
        assert_eq!(counts.get(&digest), Some(&1), "round {round}");
        s.pardon_blob(&digest).await.expect("pardon");
        finish.await.expect("task").expect("finish");
        assert_eq!(read_all(&*s, &digest, None).await.expect("read"), content);
        s.unlink_blob(&old, &digest).await.expect("unlink");
    }
}

/// A mount links first and then claims the blob: of a condemned blob
/// that is executed, it fails as an unknown blob and leaves no link; of
/// one pardoned, it succeeds. A failed upload removes the link it made,
/// and never one the repository had before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_are_taken_link_first_and_undone_on_failure() {
    let Some(s) = composite().await else { return };
    let s = Arc::new(s);
    let (a, b) = (repo("octo/a"), repo("octo/b"));
    let content = b"mounted layer".to_vec();
    let digest = Digest::sha256(&content);
    let session = session_of(&s, &a, &content, 1).await;
    s.finish_upload(&a, &session, &digest)
        .await
        .expect("finish");

    s.condemn_blob(&digest).await.expect("condemn");
    let mount = tokio::spawn({
        let (s, b, digest) = (s.clone(), b.clone(), digest.clone());
        async move { s.link_blob(&b, &digest).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(s.is_blob_linked(&b, &digest).await.expect("linked first"));
    s.pardon_blob(&digest).await.expect("pardon");
    mount.await.expect("task").expect("mount");
    assert!(s.is_blob_linked(&b, &digest).await.expect("linked"));

    s.unlink_blob(&a, &digest).await.expect("unlink");
    s.unlink_blob(&b, &digest).await.expect("unlink");
    s.condemn_blob(&digest).await.expect("condemn");
    let mount = tokio::spawn({
        let (s, b, digest) = (s.clone(), b.clone(), digest.clone());
        async move { s.link_blob(&b, &digest).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(s.execute_blob(&digest).await.expect("execute"));
    let mounted = mount.await.expect("task");
    assert!(
        matches!(mounted, Err(Error::BlobNotFound(_))),
        "{mounted:?}"
    );
    assert!(!s.is_blob_linked(&b, &digest).await.expect("link removed"));

    // A mount of a blob never stored.
    let never = Digest::sha256(b"never stored");
    let mounted = s.link_blob(&b, &never).await;
    assert!(
        matches!(mounted, Err(Error::BlobNotFound(_))),
        "{mounted:?}"
    );
    assert!(!s.is_blob_linked(&b, &never).await.expect("linked?"));

    // A failed upload removes its own link, not an earlier one.
    let claimed = Digest::sha256(b"what the client claimed");
    let session = session_of(&s, &a, b"what was sent", 1).await;
    let finished = s.finish_upload(&a, &session, &claimed).await;
    assert!(
        matches!(finished, Err(Error::DigestMismatch { .. })),
        "{finished:?}"
    );
    assert!(!s.is_blob_linked(&a, &claimed).await.expect("linked?"));
    s.metadata()
        .link_blob(&a, &claimed)
        .await
        .expect("an old link");
    let session = session_of(&s, &a, b"what was sent", 1).await;
    let finished = s.finish_upload(&a, &session, &claimed).await;
    assert!(
        matches!(finished, Err(Error::DigestMismatch { .. })),
        "{finished:?}"
    );
    assert!(s.is_blob_linked(&a, &claimed).await.expect("kept"));
}

/// Metadata in a fresh database, or `None` without PostgreSQL.
async fn metadata() -> Option<PostgresMetadata> {
    Some(servers::metadata(&servers::fresh_database()?).await)
}

/// Link times: a link made or confirmed at or after the cutoff stays, an
/// older one goes, in one conditional step; confirming an absent link
/// says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_go_only_when_unused_since_the_cutoff() {
    let Some(m) = metadata().await else { return };
    let r = repo("octo/app");
    let (d1, d2, d3) = (
        Digest::sha256(b"one"),
        Digest::sha256(b"two"),
        Digest::sha256(b"three"),
    );
    for d in [&d1, &d2, &d3] {
        m.link_blob(&r, d).await.expect("link");
    }
    let before = SystemTime::now() - Duration::from_secs(3600);
    assert!(!m
        .unlink_blob_unused_since(&r, &d1, before)
        .await
        .expect("recent"));
    assert!(m.is_blob_linked(&r, &d1).await.expect("linked"));

    tokio::time::sleep(Duration::from_millis(50)).await;
    let cutoff = SystemTime::now();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(m.confirm_link(&r, &d2).await.expect("confirm"));
    m.link_blob(&r, &d3).await.expect("linked again");
    assert!(m
        .unlink_blob_unused_since(&r, &d1, cutoff)
        .await
        .expect("old"));
    assert!(!m.is_blob_linked(&r, &d1).await.expect("gone"));
    assert!(!m
        .unlink_blob_unused_since(&r, &d1, cutoff)
        .await
        .expect("gone"));
    assert!(!m
        .unlink_blob_unused_since(&r, &d2, cutoff)
        .await
        .expect("confirmed"));
    assert!(!m
        .unlink_blob_unused_since(&r, &d3, cutoff)
        .await
        .expect("relinked"));
    assert!(!m.confirm_link(&r, &d1).await.expect("no link"));
    assert!(!m
        .confirm_link(&repo("octo/unknown"), &d2)
        .await
        .expect("no repository"));
    assert!(!m
        .unlink_blob_unused_since(&repo("octo/unknown"), &d2, SystemTime::now())
        .await
        .expect("no repository"));

    let later = SystemTime::now() + Duration::from_secs(1);
    assert!(m
        .unlink_blob_unused_since(&r, &d2, later)
        .await
        .expect("old now"));
    assert!(!m.is_blob_linked(&r, &d2).await.expect("gone"));

    // Confirmations racing removals, with a cutoff between the links and
    // the confirmations: each link is either confirmed first (and kept)
    // or removed first (and its confirmation finds nothing), never both.
    let digests: Vec<Digest> = (0..40)
        .map(|i| Digest::sha256(format!("race {i}").as_bytes()))
        .collect();
    for d in &digests {
        m.link_blob(&r, d).await.expect("link");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let cutoff = SystemTime::now();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let confirms = tokio::spawn({
        let (m, r, digests) = (m.clone(), r.clone(), digests.clone());
        async move {
            let mut confirmed = Vec::new();
            for d in &digests {
                confirmed.push(m.confirm_link(&r, d).await.expect("confirm"));
            }
            confirmed
        }
    });
    let mut removed = Vec::new();
    for d in digests.iter().rev() {
        removed.push(
            m.unlink_blob_unused_since(&r, d, cutoff)
                .await
                .expect("unlink"),
        );
    }
    removed.reverse();
    let confirmed = confirms.await.expect("task");
    for (i, d) in digests.iter().enumerate() {
        assert_ne!(
            confirmed[i], removed[i],
            "{i}: confirmed or removed, not both"
        );
        let linked = m.is_blob_linked(&r, d).await.expect("linked?");
        assert_eq!(linked, confirmed[i], "{i}");
    }
}

/// Link counts cover live and archived repositories, and leave out
/// digests nobody links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_counts_cover_live_and_archived_repositories() {
    let Some(m) = metadata().await else { return };
    let (a, b, c) = (repo("octo/a"), repo("octo/b"), repo("octo/c"));
    let (shared, only_a, nobody) = (
        Digest::sha256(b"shared"),
        Digest::sha256(b"only a"),
        Digest::sha256(b"nobody"),
    );
    for r in [&a, &b, &c] {
        m.link_blob(r, &shared).await.expect("link");
    }
    m.link_blob(&a, &only_a).await.expect("link");
    let wanted = [shared.clone(), only_a.clone(), nobody.clone()];
    let counts = m.link_counts(&wanted).await.expect("count");
    assert_eq!(counts.len(), 2);
    assert_eq!(counts[&shared], 3);
    assert_eq!(counts[&only_a], 1);
    assert!(m.link_counts(&[]).await.expect("none").is_empty());

    let key: ArchiveKey = "deleted-b".parse().expect("key");
    m.archive_repository(&b, &key).await.expect("archive");
    let counts = m.link_counts(&wanted).await.expect("count");
    assert_eq!(counts[&shared], 3, "an archived repository's links count");
    m.delete_archive(&key).await.expect("delete the archive");
    m.unlink_blob(&c, &shared).await.expect("unlink");
    let counts = m.link_counts(&wanted).await.expect("count");
    assert_eq!(counts[&shared], 1);

    let many: Vec<Digest> = (0..500)
        .map(|i| Digest::sha256(format!("many {i}").as_bytes()))
        .collect();
    for d in many.iter().step_by(7) {
        m.link_blob(&c, d).await.expect("link");
    }
    let counts = m.link_counts(&many).await.expect("count");
    assert_eq!(counts.len(), many.iter().step_by(7).count());
    assert!(counts.values().all(|n| *n == 1));
}

/// A database at the schema before link times (version 2), holding a
/// link, migrates: the link stays, counted as made at the migration, and
/// the digest index is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_from_before_link_times_count_as_made_at_the_migration() {
    let Some(pg) = wharf_test_servers::postgres() else {
        return;
    };
    let url = pg.fresh_database();
    let m = PostgresMetadata::connect(&url).await.expect("migrate");
    let r = repo("octo/app");
    let d = Digest::sha256(b"linked before link times");
    m.link_blob(&r, &d).await.expect("link");
    let client = m.pool().get().await.expect("connection");
    // Back to version 2, with the link.
    client
        .batch_execute(
            "DROP INDEX storage_links_by_digest; \
             ALTER TABLE storage_links DROP COLUMN linked_at; \
             DELETE FROM wharf_schema_migrations WHERE component = 'storage' AND version = 3",
        )
        .await
        .expect("back to version 2");
    drop(client);
    // The pool's prepared statements name the dropped column: a fresh
    // store over the same database.
    let migrated_at = SystemTime::now();
    let m = PostgresMetadata::connect(&url).await.expect("migrate to 3");
    assert!(m.is_blob_linked(&r, &d).await.expect("linked"));
    let just_before = migrated_at - Duration::from_secs(5);
    assert!(
        !m.unlink_blob_unused_since(&r, &d, just_before)
            .await
            .expect("unlink if unused"),
        "made at the migration, after the cutoff"
    );
    assert_eq!(
        m.link_counts(std::slice::from_ref(&d))
            .await
            .expect("count")[&d],
        1
    );
    let client = m.pool().get().await.expect("connection");
    let index = client
        .query_opt(
            "SELECT 1 FROM pg_indexes WHERE indexname = 'storage_links_by_digest'",
            &[],
        )
        .await
        .expect("query");
    assert!(index.is_some(), "the digest index exists");
}
