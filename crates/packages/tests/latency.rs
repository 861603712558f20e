//! How long the per-request lookups take, printed in nanoseconds per
//! lookup, against a baseline measured in the same run: an empty round
//! trip through tokio's blocking pool (what every uncached SQLite call
//! pays).
//!
//! The same lookups run on PostgreSQL too, where a throwaway server can be
//! started (wharf-test-servers). Run with `cargo test --release -p
//! wharf-packages --test latency -- --nocapture` for meaningful figures; `WHARF_PACKAGES_LATENCY_SCALE`
//! multiplies the data set (default 1: 200 tokens and 100 packages of
//! 5 versions each).

use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_auth::{
    Identity, Login, OrgRole, OrganizationPolicy, Package, PersonalAccessToken, StoredToken,
    Timestamp, TokenHash,
};
use wharf_packages::prelude::*;
use wharf_packages::{
    CacheOptions, CachedStore, NewVersion, PackageLookup, PgPackageStore, SqlitePackageStore,
};
use wharf_reference::{Digest, RepositoryName};

const NOW: Timestamp = Timestamp::from_unix_seconds(1_700_000_000);

struct Data {
    hashes: Vec<TokenHash>,
    names: Vec<RepositoryName>,
    callers: Vec<Login>,
}

async fn populate(store: &dyn PackageStore, scale: usize) -> Data {
    let acme: Login = "acme".parse().expect("login");
    store
        .create_organization(&acme, OrganizationPolicy::default(), NOW)
        .await
        .expect("org");
    let mut callers = Vec::new();
    for u in 0..20 * scale {
        let login: Login = format!("user{u}").parse().expect("login");
        store.create_user(&login, NOW).await.expect("user");
        store
            .add_member(&acme, &login, OrgRole::Member, NOW)
            .await
            .expect("member");
        callers.push(login);
    }
    let mut hashes = Vec::new();
    for t in 0..200 * scale {
        let secret = PersonalAccessToken::generate().expect("token");
        let owner = callers[t % callers.len()].clone();
        let stored = StoredToken::new(
            &secret,
            owner,
            "write:packages".parse().expect("scopes"),
            None,
        );
        store
            .insert_personal_token(&stored, NOW)
            .await
            .expect("token");
        hashes.push(secret.hash());
    }
    let mut names = Vec::new();
    for p in 0..100 * scale {
        let name: RepositoryName = format!("acme/app{p}").parse().expect("name");
        let creator = Identity::User(callers[p % callers.len()].clone());
        store
            .create_package(&Package::first_publish(name.clone(), &creator), NOW)
            .await
            .expect("package");
        for v in 0..5u32 {
            let digest = Digest::sha256(format!("{p}/{v}").as_bytes());
            let version =
                NewVersion::new(digest, wharf_reference::MediaType::OCI_IMAGE_MANIFEST, 500)
                    .with_tag(format!("v{v}").parse().expect("tag"));
            store
                .record_version(&name, &version, NOW)
                .await
                .expect("version");
        }
        names.push(name);
    }
    Data {
        hashes,
        names,
        callers,
    }
}

/// Runs `lookup` `n` times (over varying keys) and gives the mean time.
async fn measure<F, Fut>(n: usize, mut lookup: F) -> Duration
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Warm up over the same keys: statement caches, page cache, the
    // cache under test.
    for i in 0..n {
        lookup(i).await;
    }
    let start = Instant::now();
    for i in 0..n {
        lookup(i).await;
    }
    start.elapsed() / u32::try_from(n).expect("small count")
}

/// [`measure`]s `lookup(store, data, i)`, each call with its own handles
/// on the store and the data.
async fn measure_lookups<F, Fut>(
    n: usize,
    store: &Arc<dyn PackageStore>,
    data: &Arc<Data>,
    lookup: F,
) -> Duration
where
    F: Fn(Arc<dyn PackageStore>, Arc<Data>, usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    measure(n, |i| lookup(store.clone(), data.clone(), i)).await
}

/// The mean time of the three per-request lookups on `store`, labelled.
async fn measure_store(
    label: &str,
    store: &Arc<dyn PackageStore>,
    data: &Arc<Data>,
    n: usize,
) -> Vec<(String, Duration)> {
    let token = measure_lookups(n, store, data, |s, d, i| async move {
        let hash = d.hashes[i % d.hashes.len()];
        assert!(s.find_token(&hash).await.expect("lookup").is_some());
    })
    .await;
    let package = measure_lookups(n, store, data, |s, d, i| async move {
        let name = &d.names[i % d.names.len()];
        assert!(s.package(name).await.expect("lookup").is_some());
    })
    .await;
    let context = measure_lookups(n, store, data, |s, d, i| async move {
        let name = &d.names[i % d.names.len()];
        let caller = &d.callers[i % d.callers.len()];
        let context = s
            .access_context(name, Some(caller), PackageLookup::Active)
            .await
            .expect("lookup");
        assert!(context.package.is_some());
    })
    .await;
    vec![
        (format!("{label} find_token"), token),
        (format!("{label} package"), package),
        (format!("{label} access_context"), context),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_request_lookups_are_fast() {
    let scale: usize = std::env::var("WHARF_PACKAGES_LATENCY_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = SqlitePackageStore::open(dir.path().join("registry.db")).expect("open");
    let data = Arc::new(populate(&sqlite, scale).await);
    let cached = CachedStore::new(sqlite.clone(), CacheOptions::default());
    let n = 2000;

    let baseline = measure(n, |_| async {
        tokio::task::spawn_blocking(|| ())
            .await
            .expect("blocking task");
    })
    .await;

    let mut rows = vec![("spawn_blocking round trip (baseline)".to_owned(), baseline)];
    for (label, store) in [
        ("sqlite", Arc::new(sqlite.clone()) as Arc<dyn PackageStore>),
        ("cached", Arc::new(cached.clone()) as Arc<dyn PackageStore>),
    ] {
        rows.extend(measure_store(label, &store, &data, n).await);
    }
    // The same lookups on PostgreSQL (a local server, over TCP), where one
    // can be started: a network round trip per statement, not a thread hop.
    if let Some(pg) = wharf_test_servers::postgres() {
        let postgres = PgPackageStore::connect(&pg.fresh_database())
            .await
            .expect("connect");
        let pg_data = Arc::new(populate(&postgres, scale).await);
        let cached_pg = CachedStore::new(postgres.clone(), CacheOptions::default());
        for (label, store) in [
            ("postgres", Arc::new(postgres) as Arc<dyn PackageStore>),
            (
                "cached postgres",
                Arc::new(cached_pg) as Arc<dyn PackageStore>,
            ),
        ] {
            rows.extend(measure_store(label, &store, &pg_data, n).await);
        }
    }
    println!(
        "per-request lookups ({} tokens, {} packages x 5 versions, {n} lookups each):",
        data.hashes.len(),
        data.names.len()
    );
    for (label, mean) in &rows {
        println!(
            "  {label:<40} {:>8} ns/lookup  ({:.1}x baseline)",
            mean.as_nanos(),
            mean.as_secs_f64() / baseline.as_secs_f64()
        );
    }
    // Not a performance gate (debug builds and shared machines vary), only
    // a guard against a lookup that scans: even unoptimised, a lookup by
    // index stays far below a millisecond.
    for (label, mean) in &rows {
        assert!(
            *mean < Duration::from_millis(5),
            "{label} took {mean:?} per lookup"
        );
    }
}
