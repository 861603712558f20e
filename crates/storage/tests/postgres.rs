//! `PostgresMetadata` against a real PostgreSQL: the whole conformance
//! suite on a `Composite` of filesystem blobs and PostgreSQL metadata, a
//! fresh database per case; then what only a shared database has:
//! replicas, concurrent migrations, a database that is down.
//!
//! PostgreSQL comes from `wharf-test-servers` (a throwaway cluster made with
//! the installed `initdb`); without it these tests say loudly that they
//! are skipped, or fail under `WHARF_REQUIRE_TEST_SERVERS=1`. The tests of
//! a dead database need no server and always run.
#![cfg(feature = "postgres")]

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_reference::{Digest, MediaType, RepositoryName, Tag};
use wharf_storage::{
    ArchiveKey, Composite, Error, FsStorage, ManifestPut, PageRequest, PostgresMetadata,
    PostgresOptions, RepositoryStore,
};

mod servers;

use servers::{fresh_database, metadata, repo, PostgresFixture};

/// Filesystem blobs in a temporary directory, metadata in a fresh
/// database; reopened as a new pool over the same database and the same
/// directory.
fn fs_postgres_fixture() -> PostgresFixture {
    let blobs = tempfile::tempdir().expect("temporary directory");
    PostgresFixture::new(move |metadata| {
        let blobs = FsStorage::open(blobs.path()).expect("open the blob directory");
        Arc::new(Composite::new(blobs, metadata))
    })
}

wharf_storage::storage_tests!(postgres, fs_postgres_fixture);

// ------------------------------------------------------------ own tests

fn tag(name: &str) -> Tag {
    name.parse().expect("tag")
}

fn manifest(n: usize) -> ManifestPut {
    let bytes = format!(r#"{{"schemaVersion":2,"n":{n}}}"#).into_bytes();
    ManifestPut::new(Digest::sha256(&bytes), MediaType::OCI_IMAGE_MANIFEST, bytes)
}

/// Stores `manifest(n)` in `repository` and returns its digest.
async fn put_manifest(store: &PostgresMetadata, repository: &RepositoryName, n: usize) -> Digest {
    let image = manifest(n);
    let digest = image.digest.clone();
    store.put_manifest(repository, image).await.expect("put");
    digest
}

/// A fresh database's URL and a store over it holding `manifest(1)` in
/// `octo/app`, with that name and digest; `None` without PostgreSQL.
async fn one_manifest() -> Option<(String, PostgresMetadata, RepositoryName, Digest)> {
    let url = fresh_database()?;
    let store = metadata(&url).await;
    let r = repo("octo/app");
    let digest = put_manifest(&store, &r, 1).await;
    Some((url, store, r, digest))
}

/// Two stores over one fresh database, as two replicas have; `None`
/// without PostgreSQL.
async fn replicas() -> Option<(PostgresMetadata, PostgresMetadata)> {
    let url = fresh_database()?;
    Some((metadata(&url).await, metadata(&url).await))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_see_each_others_writes_at_once() {
    let Some((a, b)) = replicas().await else {
        return;
    };
    let r = repo("octo/app");
    let layer = Digest::sha256(b"layer");
    let image = manifest(1);
    let digest = image.digest.clone();

    a.link_blob(&r, &layer).await.expect("link on a");
    assert!(b.is_blob_linked(&r, &layer).await.expect("linked on b"));
    a.put_manifest(&r, image).await.expect("put on a");
    let got = b.get_manifest(&r, &digest).await.expect("get on b");
    assert_eq!(got.digest, digest);
    a.set_tag(&r, &tag("v1"), &digest).await.expect("tag on a");
    assert_eq!(b.resolve_tag(&r, &tag("v1")).await.expect("b"), digest);

    // B deletes; A no longer finds it, and cannot tag it.
    assert_eq!(
        b.delete_manifest(&r, &digest).await.expect("delete on b"),
        vec![tag("v1")]
    );
    assert!(matches!(
        a.get_manifest(&r, &digest).await,
        Err(Error::ManifestNotFound { .. })
    ));
    assert!(matches!(
        a.set_tag(&r, &tag("v2"), &digest).await,
        Err(Error::ManifestNotFound { .. })
    ));

    // An archive made on A is listed, restored and gone on B.
    let key: ArchiveKey = "package-1".parse().expect("key");
    a.archive_repository(&r, &key).await.expect("archive on a");
    assert!(!b.is_blob_linked(&r, &layer).await.expect("b"));
    let archives = b.list_archives(&PageRequest::all()).await.expect("b");
    assert_eq!(archives.items.len(), 1);
    b.restore_repository(&key, &r).await.expect("restore on b");
    assert!(a.is_blob_linked(&r, &layer).await.expect("a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_twice_or_concurrently_are_harmless() {
    let Some(url) = fresh_database() else {
        return;
    };
    // Another component (the package store) migrated first.
    let (raw, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    raw.batch_execute(
        "CREATE TABLE wharf_schema_migrations (
             component text NOT NULL, version bigint NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now(),
             PRIMARY KEY (component, version));
         INSERT INTO wharf_schema_migrations (component, version) VALUES ('packages', 1);",
    )
    .await
    .expect("another component's migrations");
    // Replicas starting together.
    let starting: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { metadata(&url).await })
        })
        .collect();
    let mut replicas = Vec::new();
    for replica in starting {
        replicas.push(replica.await.expect("task"));
    }
    // Another component's later migrations are left alone too.
    let client = replicas[0].pool().get().await.expect("connection");
    client
        .execute(
            "INSERT INTO wharf_schema_migrations (component, version) VALUES ('packages', 2)",
            &[],
        )
        .await
        .expect("another component's migration");
    for replica in &replicas {
        replica.migrate().await.expect("migrate again");
    }
    let rows = client
        .query(
            "SELECT component, version FROM wharf_schema_migrations ORDER BY component, version",
            &[],
        )
        .await
        .expect("read migrations");
    let applied: Vec<(String, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let mut expected = vec![("packages".to_owned(), 1), ("packages".to_owned(), 2)];
    expected.extend((1..=PostgresMetadata::schema_version()).map(|v| ("storage".to_owned(), v)));
    assert_eq!(applied, expected);

    // And the schema works.
    let r = repo("octo/app");
    replicas[1]
        .put_manifest(&r, manifest(1))
        .await
        .expect("put after migrating");
    assert_eq!(
        replicas[3]
            .list_manifests(&r, &PageRequest::all())
            .await
            .expect("list")
            .items
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_newer_than_this_build_is_refused() {
    let Some(url) = fresh_database() else {
        return;
    };
    let store = metadata(&url).await;
    let client = store.pool().get().await.expect("connection");
    client
        .execute(
            "INSERT INTO wharf_schema_migrations (component, version) VALUES ('storage', $1)",
            &[&(PostgresMetadata::schema_version() + 1)],
        )
        .await
        .expect("a newer program's migration");
    let refused = store.migrate().await;
    assert!(
        matches!(&refused, Err(Error::Database { .. })),
        "{refused:?}"
    );
    assert!(
        refused.is_err_and(|e| e.to_string().contains("upgrade the program")),
        "the message says what to do"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmigrated_database_is_a_database_error_not_a_missing_manifest() {
    let Some(url) = fresh_database() else {
        return;
    };
    let config: tokio_postgres::Config = url.parse().expect("url");
    let manager = deadpool_postgres::Manager::new(config, tokio_postgres::NoTls);
    let pool = deadpool_postgres::Pool::builder(manager)
        .max_size(2)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .expect("pool");
    let store = PostgresMetadata::from_pool(pool);
    let got = store
        .get_manifest(&repo("octo/app"), &Digest::sha256(b"x"))
        .await;
    assert!(matches!(got, Err(Error::Database { .. })), "{got:?}");
    store.migrate().await.expect("migrate");
    let got = store
        .get_manifest(&repo("octo/app"), &Digest::sha256(b"x"))
        .await;
    assert!(
        matches!(got, Err(Error::ManifestNotFound { .. })),
        "{got:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_this_crate_could_not_have_written_is_corrupt() {
    let Some((_, store, r, digest)) = one_manifest().await else {
        return;
    };
    store.set_tag(&r, &tag("v1"), &digest).await.expect("tag");
    let client = store.pool().get().await.expect("connection");
    client
        .execute(
            "UPDATE storage_manifests SET media_type = 'not a media type'",
            &[],
        )
        .await
        .expect("damage");
    let got = store.get_manifest(&r, &digest).await;
    assert!(
        matches!(&got, Err(Error::CorruptRecord { record, .. }) if record == "storage_manifests.media_type"),
        "{got:?}"
    );
    client
        .execute("UPDATE storage_tags SET digest = 'sha256:short'", &[])
        .await
        .expect_err("a tag cannot point outside the manifests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_connections_killed_by_the_server_are_replaced() {
    let Some((url, store, r, digest)) = one_manifest().await else {
        return;
    };
    // Several connections in the pool, all idle.
    let reads: Vec<_> = (0..4).map(|_| store.get_manifest(&r, &digest)).collect();
    for read in futures::future::join_all(reads).await {
        read.expect("read");
    }
    // As a database restart or a failover does to every session.
    let killer = metadata(&url).await;
    let client = killer.pool().get().await.expect("connection");
    let killed = client
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .expect("terminate the other sessions");
    assert!(killed.len() >= 4, "killed {} sessions", killed.len());
    // The pool notices the closed connections and opens new ones; at
    // worst an operation that raced the kill reports the database
    // unavailable, never anything else.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..8 {
        match store.get_manifest(&r, &digest).await {
            Ok(got) => assert_eq!(got.digest, digest),
            Err(Error::Unavailable { .. }) => continue,
            Err(e) => panic!("after the kill: {e}"),
        }
    }
    store
        .get_manifest(&r, &digest)
        .await
        .expect("served by a new connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_pushed_while_their_repository_is_archived_are_never_lost() {
    let Some((pushing, archiving)) = replicas().await else {
        return;
    };
    let r = repo("acme/busy");
    let mut pushed = vec![put_manifest(&pushing, &r, 0).await];
    let stored = Arc::new(AtomicUsize::new(0));
    let pusher = {
        let (store, r, stored) = (pushing.clone(), r.clone(), stored.clone());
        tokio::spawn(async move {
            let mut digests = Vec::new();
            for n in 1..=40 {
                digests.push(put_manifest(&store, &r, n).await);
                stored.fetch_add(1, Ordering::SeqCst);
            }
            digests
        })
    };
    let key: ArchiveKey = "package-1".parse().expect("key");
    // In the middle of the pushes.
    while stored.load(Ordering::SeqCst) < 10 {
        tokio::task::yield_now().await;
    }
    archiving
        .archive_repository(&r, &key)
        .await
        .expect("archive");
    pushed.extend(pusher.await.expect("pusher"));

    // Each manifest is in the archive (stored before) or in the new
    // repository under the name (stored after), exactly once.
    let all = PageRequest::all();
    let live = archiving
        .list_manifests(&r, &all)
        .await
        .expect("list")
        .items;
    let elsewhere = repo("acme/archived");
    archiving
        .restore_repository(&key, &elsewhere)
        .await
        .expect("restore elsewhere");
    let archived = archiving
        .list_manifests(&elsewhere, &all)
        .await
        .expect("list")
        .items;
    assert!(archived.contains(&pushed[0]), "the first push is archived");
    assert!(
        archived.len() > 10,
        "the pushes before the archive are in it"
    );
    for digest in &pushed {
        let places = usize::from(live.contains(digest)) + usize::from(archived.contains(digest));
        assert_eq!(places, 1, "{digest} is in exactly one place");
    }
    assert_eq!(live.len() + archived.len(), pushed.len());
}

/// A port on which nothing listens.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    port
}

fn quick() -> PostgresOptions {
    let mut options = PostgresOptions::default();
    options.connect_timeout = Duration::from_millis(500);
    options.wait_timeout = Duration::from_millis(500);
    options.operation_timeout = Duration::from_secs(2);
    options
}

fn assert_unavailable_within<T: std::fmt::Debug>(
    result: Result<T, Error>,
    started: Instant,
    limit: Duration,
) {
    assert!(
        matches!(
            &result,
            Err(Error::Unavailable {
                service: "database",
                ..
            })
        ),
        "{result:?}"
    );
    assert!(
        started.elapsed() < limit,
        "reported after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_at_once() {
    let url = format!("postgres://postgres@127.0.0.1:{}/wharf", closed_port());
    let started = Instant::now();
    let result = PostgresMetadata::connect_with(&url, quick()).await;
    assert_unavailable_within(result, started, Duration::from_secs(2));
}

#[tokio::test]
async fn a_database_that_never_answers_is_unavailable_after_the_timeout() {
    // Accepts connections and then says nothing, as a hung server does.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let url = format!("postgres://postgres@127.0.0.1:{port}/wharf");
    let started = Instant::now();
    let result = PostgresMetadata::connect_with(&url, quick()).await;
    assert_unavailable_within(result, started, Duration::from_secs(3));

    // A store made from a pool without timeouts of its own is still
    // bounded by the operation timeout.
    let config: tokio_postgres::Config = url.parse().expect("url");
    let manager = deadpool_postgres::Manager::new(config, tokio_postgres::NoTls);
    let pool = deadpool_postgres::Pool::builder(manager)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .expect("pool");
    let store = PostgresMetadata::from_pool(pool).with_operation_timeout(Duration::from_secs(1));
    let started = Instant::now();
    let result = store.resolve_tag(&repo("octo/app"), &tag("v1")).await;
    assert_unavailable_within(result, started, Duration::from_secs(3));
}

#[tokio::test]
async fn an_invalid_url_is_a_database_error() {
    let result = PostgresMetadata::connect("postgres://[::1").await;
    assert!(matches!(result, Err(Error::Database { .. })), "{result:?}");
}

/// Every change a replica's cache must hear about is announced on
/// `wharf_storage` with the repository's name, when it commits: a moved
/// tag, a deleted tag, a deleted manifest, an archive and a restore.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_are_announced_by_repository_name() {
    use futures::StreamExt;
    use wharf_storage::postgres::{listen, NOTIFY_CHANNEL};

    let Some((url, store, r, digest)) = one_manifest().await else {
        return;
    };
    let mut changes = listen(&url, &[NOTIFY_CHANNEL]).await.expect("listen");
    let other = repo("octo/other");
    store.put_manifest(&other, manifest(2)).await.expect("put");
    store.set_tag(&r, &tag("v1"), &digest).await.expect("tag");
    let change = next(&mut changes).await;
    assert_eq!(
        (change.channel.as_str(), change.payload.as_str()),
        (NOTIFY_CHANNEL, "octo/app")
    );
    store.delete_tag(&r, &tag("v1")).await.expect("untag");
    assert_eq!(next(&mut changes).await.payload, "octo/app");
    store.set_tag(&r, &tag("v2"), &digest).await.expect("tag");
    assert_eq!(next(&mut changes).await.payload, "octo/app");
    // One transaction deleting the manifest and its tags: one notification.
    store.delete_manifest(&r, &digest).await.expect("delete");
    assert_eq!(next(&mut changes).await.payload, "octo/app");
    let key: ArchiveKey = "package-9".parse().expect("key");
    store
        .archive_repository(&other, &key)
        .await
        .expect("archive");
    assert_eq!(next(&mut changes).await.payload, "octo/other");
    store
        .restore_repository(&key, &other)
        .await
        .expect("restore");
    assert_eq!(next(&mut changes).await.payload, "octo/other");
    // Nothing else was announced.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), changes.next())
            .await
            .is_err()
    );
}

async fn next(
    changes: &mut wharf_storage::postgres::Notifications,
) -> wharf_storage::postgres::Notification {
    use futures::StreamExt;
    tokio::time::timeout(Duration::from_secs(5), changes.next())
        .await
        .expect("a notification within 5 s")
        .expect("the stream goes on")
        .expect("no error")
}

/// A job's lease is held by one process at a time, and freed when its
/// holder lets go (or dies: its connection ends).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_lease_has_one_holder_at_a_time() {
    use wharf_storage::postgres::try_lease;

    let Some(url) = fresh_database() else {
        return;
    };
    let first = try_lease(&url, "purge").await.expect("ask").expect("free");
    assert!(
        try_lease(&url, "purge").await.expect("ask").is_none(),
        "held"
    );
    let other = try_lease(&url, "gc").await.expect("ask");
    assert!(other.is_some(), "another job has its own lease");
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if try_lease(&url, "purge").await.expect("ask").is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the lease was not freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
