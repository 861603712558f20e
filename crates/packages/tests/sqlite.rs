//! Behaviour particular to the SQLite store: the file, its schema version,
//! several store values (or processes) on one file, and what the cache in
//! front of it sees of changes made elsewhere.

use std::time::Duration;

use rusqlite::Connection;
use wharf_auth::OrganizationPolicy;
use wharf_packages::prelude::*;
use wharf_packages::{
    CacheOptions, CachedStore, Error, PackageLookup, PackageRecord, SqliteOptions,
    SqlitePackageStore,
};

mod common;
use common::{anonymous_context, octocat_with_a_token, octocat_with_app, pushed_and_deleted, NOW};
use wharf_packages::testkit::token_revoked;

fn pragma(conn: &Connection, name: &str) -> String {
    conn.query_row(&format!("PRAGMA {name}"), [], |row| {
        row.get::<_, rusqlite::types::Value>(0)
    })
    .map(|value| match value {
        rusqlite::types::Value::Integer(n) => n.to_string(),
        rusqlite::types::Value::Text(s) => s,
        other => format!("{other:?}"),
    })
    .expect("read pragma")
}

#[tokio::test]
async fn a_new_file_gets_the_current_schema_in_wal_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("registry.db");
    let store = SqlitePackageStore::open(&path).expect("open");
    assert_eq!(store.path(), Some(path.as_path()));
    let conn = Connection::open(&path).expect("inspect");
    assert_eq!(
        pragma(&conn, "user_version"),
        SqlitePackageStore::schema_version().to_string()
    );
    assert_eq!(pragma(&conn, "journal_mode"), "wal");
    let integrity = pragma(&conn, "integrity_check");
    assert_eq!(integrity, "ok");
}

#[tokio::test]
async fn reopening_keeps_the_data_and_does_not_migrate_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("registry.db");
    {
        let store = SqlitePackageStore::open(&path).expect("open");
        store
            .create_user(&"octocat".parse().expect("login"), NOW)
            .await
            .expect("create user");
    }
    for _ in 0..3 {
        let store = SqlitePackageStore::open(&path).expect("reopen");
        let account = store
            .account(&"octocat".parse().expect("login"))
            .await
            .expect("get");
        assert_eq!(account.map(|a| a.created_at), Some(NOW));
    }
}

#[tokio::test]
async fn a_file_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("registry.db");
    drop(SqlitePackageStore::open(&path).expect("open"));
    let newer = SqlitePackageStore::schema_version() + 1;
    Connection::open(&path)
        .and_then(|conn| conn.pragma_update(None, "user_version", newer))
        .expect("bump the schema version");
    match SqlitePackageStore::open(&path) {
        Err(Error::SchemaTooNew { found, supported }) => {
            assert_eq!(found, newer);
            assert_eq!(supported, SqlitePackageStore::schema_version());
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_directory_is_a_database_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let result = SqlitePackageStore::open(dir.path().join("no/such/dir/registry.db"));
    assert!(matches!(result, Err(Error::Database { .. })), "{result:?}");
}

#[tokio::test]
async fn stored_data_that_does_not_parse_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("registry.db");
    let store = SqlitePackageStore::open(&path).expect("open");
    let name = octocat_with_app(&store).await.package.name;
    Connection::open(&path)
        .and_then(|conn| conn.execute("UPDATE packages SET metadata = 'not json'", []))
        .expect("corrupt the metadata");
    let error = store.package(&name).await.expect_err("corrupt metadata");
    assert!(
        matches!(
            error,
            Error::Corrupt {
                what: "package metadata",
                ..
            }
        ),
        "{error}"
    );
    assert!(error.is_internal());
}

#[tokio::test]
async fn two_stores_on_one_file_see_each_others_writes() {
    // What the registry server and the admin CLI do: two processes, one file.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("registry.db");
    let server = SqlitePackageStore::open(&path).expect("server opens");
    let cli = SqlitePackageStore::open_with(
        &path,
        &SqliteOptions {
            readers: 1,
            ..SqliteOptions::default()
        },
    )
    .expect("cli opens");
    let (secret, record) = octocat_with_a_token(&cli).await;

    let found = server
        .find_token(&secret.hash())
        .await
        .expect("server looks up");
    assert_eq!(found, Some(record.clone()));
    cli.revoke_token(record.id, NOW).await.expect("cli revokes");
    assert_eq!(token_revoked(&server, &secret).await, Some(true));
}

/// A cache keeping answers for `ttl` over a fresh database file, and
/// another store on the same file (the admin CLI, another replica); the
/// file lasts as long as the directory returned first.
fn a_cache_and_another_store(
    ttl: Duration,
) -> (tempfile::TempDir, CachedStore, SqlitePackageStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("registry.db");
    let mut options = CacheOptions::default();
    options.ttl = ttl;
    options.capacity = 100;
    let cache = CachedStore::new(
        SqlitePackageStore::open(&path).expect("server opens"),
        options,
    );
    let other = SqlitePackageStore::open(&path).expect("another store opens");
    (dir, cache, other)
}

#[tokio::test]
async fn a_cache_sees_changes_made_elsewhere_within_its_ttl() {
    let ttl = Duration::from_millis(200);
    let (_dir, server, cli) = a_cache_and_another_store(ttl);
    let (secret, record) = octocat_with_a_token(&cli).await;
    assert_eq!(token_revoked(&server, &secret).await, Some(false));

    cli.revoke_token(record.id, NOW)
        .await
        .expect("revoke elsewhere");
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    assert_eq!(
        token_revoked(&server, &secret).await,
        Some(true),
        "after the TTL the revocation is seen"
    );
}

#[tokio::test]
async fn a_cache_with_zero_ttl_caches_nothing() {
    let (_dir, server, cli) = a_cache_and_another_store(Duration::ZERO);
    let acme = "acme".parse().expect("login");
    assert_eq!(server.owner_kind(&acme).await.expect("kind"), None);
    let name = "acme/app".parse().expect("name");
    assert_eq!(anonymous_context(&server, &name).await.owner, None);
    cli.create_organization(&acme, OrganizationPolicy::default(), NOW)
        .await
        .expect("create elsewhere");
    assert!(anonymous_context(&server, &name).await.owner.is_some());
}

/// What `cache` answers of the package `name`: its record, and the one in
/// octocat's access context.
async fn package_seen(
    cache: &CachedStore,
    name: &wharf_reference::RepositoryName,
) -> (Option<PackageRecord>, Option<PackageRecord>) {
    let octocat = "octocat".parse().expect("login");
    let record = cache.package(name).await.expect("lookup");
    let context = cache
        .access_context(name, Some(&octocat), PackageLookup::Active)
        .await
        .expect("context");
    (record, context.package)
}

/// A package first published elsewhere (another replica, whose
/// announcement is still on its way) is found at once, whatever the TTL:
/// not being there is not cached.
#[tokio::test]
async fn a_cache_finds_a_package_first_published_elsewhere_at_once() {
    let (_dir, server, elsewhere) = a_cache_and_another_store(Duration::from_secs(3600));
    let name = "octocat/app".parse().expect("name");
    assert_eq!(package_seen(&server, &name).await, (None, None));
    let published = octocat_with_app(&elsewhere).await;
    assert_eq!(
        package_seen(&server, &name).await,
        (Some(published.clone()), Some(published))
    );
}

#[tokio::test]
async fn a_deleted_packages_versions_are_read_by_its_id() {
    let store = SqlitePackageStore::in_memory().expect("store");
    let record = octocat_with_app(&store).await;
    let name = record.name().clone();
    let version = |content: &[u8]| {
        wharf_packages::NewVersion::new(
            wharf_reference::Digest::sha256(content),
            wharf_reference::MediaType::OCI_IMAGE_MANIFEST,
            10,
        )
    };
    let kept = version(b"kept").with_tag("v1".parse().expect("tag"));
    store
        .record_version(&name, &kept, NOW)
        .await
        .expect("record");
    let dropped = pushed_and_deleted(&store, &name, &version(b"dropped")).await;
    store.delete_package(&name, NOW).await.expect("delete");
    let versions = store.package_versions(record.id).await.expect("versions");
    let summary: Vec<_> = versions
        .iter()
        .map(|v| (v.digest.clone(), v.tags.len(), v.is_deleted()))
        .collect();
    assert_eq!(
        summary,
        [(kept.digest, 1, false), (dropped.digest, 0, true)],
        "oldest first, deleted ones included"
    );
}

#[tokio::test]
async fn source_repositories_with_collaborators_or_workflow_tokens_are_listed() {
    let store = SqlitePackageStore::in_memory().expect("store");
    octocat_with_app(&store).await;
    let repository = |name: &str| -> wharf_auth::CodeRepository { name.parse().expect("repo") };
    store
        .set_collaborator(
            &repository("octocat/lib"),
            &wharf_packages::Collaborator::User("octocat".parse().expect("login")),
            wharf_auth::RepositoryRole::Read,
        )
        .await
        .expect("collaborator");
    let token = wharf_packages::WorkflowToken::new(
        wharf_auth::PersonalAccessToken::generate()
            .expect("token")
            .hash(),
        repository("octocat/tool"),
        wharf_auth::WorkflowPermission::Read,
        None,
    );
    store
        .insert_workflow_token(&token, NOW)
        .await
        .expect("workflow token");
    assert_eq!(
        store.code_repositories().await.expect("list"),
        [repository("octocat/lib"), repository("octocat/tool")]
    );
}
