//! Behaviour particular to the PostgreSQL store: replicas over one
//! database, migrations, change notifications, races between replicas,
//! and a database out of reach. Against a real server (wharf-test-servers);
//! skipped, loudly, where PostgreSQL is not installed.

#![cfg(feature = "postgres")]

use std::time::{Duration, Instant};

use tokio_postgres::{AsyncMessage, NoTls};
use wharf_auth::{Timestamp, Visibility};
use wharf_packages::prelude::*;
use wharf_packages::{
    Error, NewVersion, PackageChanges, PageRequest, PgOptions, PgPackageStore, VersionQuery,
    VersionRecord, NOTIFY_CHANNEL,
};
use wharf_reference::{Digest, MediaType, RepositoryName, Tag};

mod common;
use common::{anonymous_context, octocat_with_a_token, octocat_with_app, pushed_and_deleted, NOW};
use wharf_packages::testkit::expect_revoked;

/// A fresh database, or `None` when PostgreSQL cannot be had (reported by
/// wharf-test-servers).
fn fresh_database() -> Option<String> {
    wharf_test_servers::postgres().map(|pg| pg.fresh_database())
}

/// Two stores, each with its own pool, over one fresh database: two
/// replicas of a registry.
async fn two_replicas() -> Option<(PgPackageStore, PgPackageStore)> {
    let url = fresh_database()?;
    let a = PgPackageStore::connect(&url).await.expect("replica a");
    let b = PgPackageStore::connect(&url).await.expect("replica b");
    Some((a, b))
}

/// Two replicas over one fresh database, with octocat's package `app`
/// created on the first.
async fn two_replicas_with_app() -> Option<(PgPackageStore, PgPackageStore, RepositoryName)> {
    let (a, b) = two_replicas().await?;
    let name = octocat_with_app(&a).await.name().clone();
    Some((a, b, name))
}

/// A session of the database at `url`, outside any store.
async fn session(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

/// A store over a database on `port` of this machine that is out of
/// reach (nothing listens, or nothing answers).
fn unreachable_store(port: u16, options: PgOptions) -> PgPackageStore {
    let url = format!("postgres://postgres@127.0.0.1:{port}/registry");
    PgPackageStore::from_pool_with(options.pool(&url).expect("pool"), options)
}

fn latest() -> Tag {
    "latest".parse().expect("tag")
}

/// The live versions of the package `name` (at most 100).
async fn live_versions(store: &PgPackageStore, name: &RepositoryName) -> Vec<VersionRecord> {
    store
        .list_versions(name, VersionQuery::active(), &PageRequest::first(100))
        .await
        .expect("list")
        .items
}

/// The version count of the package `name`.
async fn version_count(store: &PgPackageStore, name: &RepositoryName) -> Option<u64> {
    store
        .package(name)
        .await
        .expect("get")
        .map(|p| p.version_count)
}

fn manifest(n: u32) -> NewVersion {
    NewVersion::new(
        Digest::sha256(format!("manifest {n}").as_bytes()),
        MediaType::OCI_IMAGE_MANIFEST,
        100,
    )
}

/// The rows of `wharf_schema_migrations` for `component`, in version order.
async fn applied(url: &str, component: &str) -> Vec<i64> {
    session(url)
        .await
        .query(
            "SELECT version FROM wharf_schema_migrations WHERE component = $1 ORDER BY version",
            &[&component],
        )
        .await
        .expect("read migrations")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_on_one_replica_is_refused_by_the_other_at_once() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let (secret, record) = octocat_with_a_token(&a).await;
    let found = b
        .find_token(&secret.hash())
        .await
        .expect("find")
        .expect("seen by b");
    assert!(found.authenticate(secret.expose_secret(), NOW).is_ok());

    b.revoke_token(record.id, NOW).await.expect("revoke on b");
    expect_revoked(&a, &secret, NOW).await;
    let by_id = a.token(record.id).await.expect("token").expect("by id");
    assert!(
        by_id.principal_at(NOW).is_err(),
        "a bearer token minted from it stops working"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_see_each_others_package_changes_at_once() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let app = octocat_with_app(&a).await;
    let name = app.name().clone();
    assert_eq!(b.package(&name).await.expect("get"), Some(app));

    b.update_package(
        &name,
        &PackageChanges::new().visibility(Visibility::Public),
        NOW,
    )
    .await
    .expect("make public on b");
    assert_eq!(
        anonymous_context(&a, &name)
            .await
            .package
            .map(|p| p.visibility()),
        Some(Visibility::Public)
    );

    let pushed = a
        .record_version(&name, &manifest(1).with_tag(latest()), NOW)
        .await
        .expect("push on a");
    b.delete_version(&name, pushed.id, NOW)
        .await
        .expect("delete on b");
    assert_eq!(version_count(&a, &name).await, Some(0));
    assert!(a
        .version_by_tag(&name, &latest())
        .await
        .expect("tag")
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_twice_or_concurrently_apply_once() {
    let Some(url) = fresh_database() else {
        return;
    };
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PgPackageStore::connect(&url).await })
        })
        .collect();
    for start in starts {
        start.await.expect("task").expect("a replica starts");
    }
    let store = PgPackageStore::connect(&url).await.expect("connect again");
    store.migrate().await.expect("migrate again");
    let expected: Vec<i64> = (1..=PgPackageStore::schema_version()).collect();
    assert_eq!(applied(&url, "packages").await, expected);
    octocat_with_app(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_components_migrations_are_left_alone_and_a_newer_schema_is_refused() {
    let Some(url) = fresh_database() else {
        return;
    };
    let client = session(&url).await;
    // The storage crate's rows in the shared table, made first.
    client
        .batch_execute(
            "CREATE TABLE wharf_schema_migrations (
                 component text NOT NULL, version bigint NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now(),
                 PRIMARY KEY (component, version));
             INSERT INTO wharf_schema_migrations (component, version) VALUES ('storage', 1), ('storage', 7);",
        )
        .await
        .expect("another component's migrations");
    let store = PgPackageStore::connect(&url).await.expect("connect");
    assert_eq!(applied(&url, "storage").await, vec![1, 7]);
    assert_eq!(
        applied(&url, "packages").await.len() as i64,
        PgPackageStore::schema_version()
    );

    let newer = PgPackageStore::schema_version() + 1;
    client
        .execute(
            "INSERT INTO wharf_schema_migrations (component, version) VALUES ('packages', $1)",
            &[&newer],
        )
        .await
        .expect("a newer build's migration");
    match store.migrate().await {
        Err(Error::SchemaTooNew { found, supported }) => {
            assert_eq!(
                (found, supported),
                (newer, PgPackageStore::schema_version())
            );
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_announce_themselves_on_the_notify_channel_when_they_commit() {
    let Some(url) = fresh_database() else {
        return;
    };
    let store = PgPackageStore::connect(&url).await.expect("connect");
    let (client, mut connection) = tokio_postgres::connect(&url, NoTls).await.expect("listen");
    let (sender, mut payloads) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            if let Ok(AsyncMessage::Notification(n)) = message {
                let _ = sender.send((n.channel().to_owned(), n.payload().to_owned()));
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
        .await
        .expect("LISTEN");

    let (_, token) = octocat_with_a_token(&store).await;
    store.revoke_token(token.id, NOW).await.expect("revoke");
    let name = "octocat/app".parse().expect("name");
    store
        .create_package(
            &wharf_auth::Package::first_publish(
                "octocat/app".parse().expect("name"),
                &wharf_auth::Identity::User("octocat".parse().expect("login")),
            ),
            NOW,
        )
        .await
        .expect("create");
    // A refused change announces nothing: its transaction rolled back.
    assert!(store
        .delete_version(&name, wharf_packages::VersionId::new(999), NOW)
        .await
        .is_err());
    pushed_and_deleted(&store, &name, &manifest(1)).await;

    let mut seen = Vec::new();
    while seen.len() < 5 {
        let (channel, payload) = tokio::time::timeout(Duration::from_secs(5), payloads.recv())
            .await
            .expect("a notification within 5 s")
            .expect("listening");
        assert_eq!(channel, NOTIFY_CHANNEL);
        seen.push(payload);
    }
    assert_eq!(
        seen,
        [
            "account:octocat".to_owned(),
            format!("token:{}", token.id),
            "package:octocat/app".to_owned(),
            "package:octocat/app".to_owned(),
            "package:octocat/app".to_owned(),
        ]
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(200), payloads.recv())
            .await
            .is_err(),
        "nothing else was announced"
    );
}

/// Versions deleted on one replica while the other moves their tag to a new
/// push: whatever the interleaving, the count matches the live versions and
/// the tag ends on the new push.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_deleted_while_its_tag_moves_leaves_consistent_records() {
    let Some((a, b, name)) = two_replicas_with_app().await else {
        return;
    };
    let latest = latest();
    for round in 0..10 {
        let old = a
            .record_version(&name, &manifest(2 * round).with_tag(latest.clone()), NOW)
            .await
            .expect("push the old version");
        let new = manifest(2 * round + 1).with_tag(latest.clone());
        let (deleted, pushed) = tokio::join!(
            b.delete_version(&name, old.id, NOW),
            a.record_version(&name, &new, NOW),
        );
        deleted.expect("delete the old version");
        let pushed = pushed.expect("push the new version");
        assert_eq!(
            version_count(&a, &name).await,
            Some(live_versions(&a, &name).await.len() as u64),
            "round {round}: the count is exact"
        );
        assert_eq!(
            b.version_by_tag(&name, &latest)
                .await
                .expect("tag")
                .map(|v| v.id),
            Some(pushed.id),
            "round {round}: the tag is on the new push"
        );
    }
}

/// Concurrent pushes of one tag from two replicas: serialization failures
/// are retried, every push lands, the tag is on exactly one version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_pushes_from_two_replicas_all_land() {
    let Some((a, b, name)) = two_replicas_with_app().await else {
        return;
    };
    let latest = latest();
    let pushes: Vec<_> = (0..16)
        .map(|n| {
            let store = if n % 2 == 0 { a.clone() } else { b.clone() };
            let (name, latest) = (name.clone(), latest.clone());
            tokio::spawn(async move {
                store
                    .record_version(&name, &manifest(n).with_tag(latest), NOW)
                    .await
            })
        })
        .collect();
    for push in pushes {
        push.await.expect("task").expect("every push lands");
    }
    let live = live_versions(&b, &name).await;
    assert_eq!(live.len(), 16);
    assert_eq!(version_count(&a, &name).await, Some(16));
    assert_eq!(live.iter().filter(|v| v.tags.contains(&latest)).count(), 1);
}

/// A token revoked on one replica while the other records its use: both
/// land, neither undoes the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_while_used_stays_revoked() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let (_, record) = octocat_with_a_token(&a).await;
    let later = Timestamp::from_unix_seconds(NOW.unix_seconds() + 3600);
    let (used, revoked) = tokio::join!(
        a.record_token_use(record.id, later),
        b.revoke_token(record.id, later)
    );
    used.expect("use");
    revoked.expect("revoke");
    let token = b.token(record.id).await.expect("token").expect("stored");
    assert_eq!(token.revoked_at, Some(later));
    assert_eq!(token.last_used_at, Some(later));
}

/// A store whose database refuses connections, or accepts them and never
/// answers: every call fails with `Error::Unavailable` within the connect
/// timeout, never hangs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_database_is_unavailable_quickly() {
    // Nobody listens on a port just released; a listener that never
    // accepts holds connections open without a word.
    let refused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let refused_port = refused.local_addr().expect("port").port();
    drop(refused);
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_port = silent.local_addr().expect("port").port();

    let mut options = PgOptions::default();
    options.connect_timeout = Duration::from_millis(500);
    for port in [refused_port, silent_port] {
        let url = format!("postgres://postgres@127.0.0.1:{port}/registry");
        let started = Instant::now();
        match PgPackageStore::connect_with(&url, options.clone()).await {
            Err(e @ Error::Unavailable { .. }) => assert!(e.is_unavailable()),
            other => panic!("port {port}: expected Unavailable, got {other:?}"),
        }
        let store = unreachable_store(port, options.clone());
        let found = store.find_token(&wharf_auth::TokenHash::of("secret")).await;
        assert!(
            matches!(found, Err(Error::Unavailable { .. })),
            "port {port}: a lookup is Unavailable, got {found:?}"
        );
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(3),
            "port {port}: took {elapsed:?}"
        );
    }
    drop(silent);
}

/// A call that outlasts the operation timeout (here: waiting on a row lock
/// another session holds) is Unavailable, and rolled back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_past_the_operation_timeout_is_unavailable() {
    let Some(url) = fresh_database() else {
        return;
    };
    let mut options = PgOptions::default();
    options.operation_timeout = Duration::from_millis(300);
    let store = PgPackageStore::connect_with(&url, options)
        .await
        .expect("connect");
    let (_, record) = octocat_with_a_token(&store).await;
    let mut client = session(&url).await;
    let blocker = client.transaction().await.expect("begin");
    blocker
        .execute(
            "SELECT 1 FROM tokens WHERE id = $1 FOR UPDATE",
            &[&record.id.get()],
        )
        .await
        .expect("lock the token");
    let started = Instant::now();
    let revoked = store.revoke_token(record.id, NOW).await;
    assert!(
        matches!(revoked, Err(Error::Unavailable { .. })),
        "got {revoked:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    blocker.rollback().await.expect("release");
    let token = store
        .token(record.id)
        .await
        .expect("token")
        .expect("stored");
    assert_eq!(
        token.revoked_at, None,
        "the timed-out revocation was rolled back"
    );
}

/// Returns once a session of the database at `url` waits for a lock.
async fn wait_for_a_lock_wait(url: &str) {
    let client = session(url).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .expect("read pg_stat_activity")
            .get(0);
        if waiting > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no session came to wait for the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A push whose transaction meets a concurrent change of its package row
/// (another session updates it while the push waits for its lock) is tried
/// again and lands; with a single attempt allowed, it is Unavailable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serialization_failure_is_retried_and_unavailable_when_attempts_run_out() {
    let Some(url) = fresh_database() else {
        return;
    };
    octocat_with_app(&PgPackageStore::connect(&url).await.expect("connect")).await;
    let name: RepositoryName = "octocat/app".parse().expect("name");
    for (attempts, lands) in [(2, true), (1, false), (0, false)] {
        let mut options = PgOptions::default();
        options.attempts = attempts;
        let store = PgPackageStore::connect_with(&url, options)
            .await
            .expect("connect");
        let mut client = session(&url).await;
        let other = client.transaction().await.expect("begin");
        other
            .execute(
                "SELECT 1 FROM packages WHERE name = $1 FOR UPDATE",
                &[&name.as_str()],
            )
            .await
            .expect("lock the package row");
        let push = {
            let (store, name) = (store.clone(), name.clone());
            tokio::spawn(async move { store.record_version(&name, &manifest(attempts), NOW).await })
        };
        // The push has taken its snapshot once it waits for the row.
        wait_for_a_lock_wait(&url).await;
        other
            .execute(
                "UPDATE packages SET updated_at = updated_at + 1 WHERE name = $1",
                &[&name.as_str()],
            )
            .await
            .expect("change the package row");
        other.commit().await.expect("commit");
        let pushed = push.await.expect("task");
        if lands {
            pushed.expect("the second attempt lands");
        } else {
            assert!(
                matches!(pushed, Err(Error::Unavailable { .. })),
                "got {pushed:?}"
            );
        }
    }
}

/// Concurrent lookups through a cache share one load of the database; when
/// the database is out of reach, every one of them is Unavailable (503),
/// not only the one that made the load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_over_a_dead_database_is_unavailable_for_every_sharer() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = silent.local_addr().expect("port").port();
    let mut options = PgOptions::default();
    options.connect_timeout = Duration::from_millis(300);
    let store = unreachable_store(port, options);
    let cached = wharf_packages::CachedStore::new(store, wharf_packages::CacheOptions::default());
    let hash = wharf_auth::TokenHash::of("secret");
    let lookups: Vec<_> = (0..8)
        .map(|_| {
            let cached = cached.clone();
            tokio::spawn(async move { cached.find_token(&hash).await })
        })
        .collect();
    for lookup in lookups {
        let found = lookup.await.expect("task");
        assert!(
            matches!(found, Err(Error::Unavailable { .. })),
            "got {found:?}"
        );
    }
    drop(silent);
}

/// A replica starting while another holds the migration lock (migrating a
/// large table, say) waits for it, whatever its operation timeout, and
/// then finds the schema in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_waits_for_another_replicas_migration() {
    let Some(url) = fresh_database() else {
        return;
    };
    let mut client = session(&url).await;
    let other = client.transaction().await.expect("begin");
    other
        .execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[&wharf_packages::MIGRATION_LOCK],
        )
        .await
        .expect("take the migration lock");
    let mut options = PgOptions::default();
    options.operation_timeout = Duration::from_millis(200);
    let starting = tokio::spawn(async move { PgPackageStore::connect_with(&url, options).await });
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!starting.is_finished(), "the replica waits for the lock");
    other.commit().await.expect("release the lock");
    let store = starting.await.expect("task").expect("the replica starts");
    octocat_with_app(&store).await;
}
