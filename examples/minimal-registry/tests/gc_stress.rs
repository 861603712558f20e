//! Garbage collection racing real traffic, on the embedded default and on
//! S3 (moto) + PostgreSQL: pushers that share base layers, a deleter and a
//! retagger keep the registry busy while `minimal-registry gc` runs in a
//! loop (and, in the `_killed` variants, is killed with SIGKILL at random
//! points). Afterwards every manifest that a tag points at, and every one
//! pushed and not deleted (an untagged version), pulls in full with every
//! digest verified; and once a last collection has run past the grace
//! period, the store holds exactly the blobs those manifests reference.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use std::time::{Duration, Instant};
use tokio::sync::Mutex;

use rand::{Rng, SeedableRng};
use wharf_reference::Digest;

/// How long after its upload a blob no manifest references may go. The
/// pushers reference each blob within milliseconds of uploading it.
const GRACE: &str = "2s";
const GRACE_PLUS: Duration = Duration::from_millis(2_500);
/// Collections in a run.
const COLLECTIONS: usize = 12;
/// Pushers, each into its own repository.
const PUSHERS: usize = 3;
/// The base layers the pushers share.
const BASES: usize = 3;
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gc_races_pushes_deletes_and_retags_embedded() {
    stress(Backend::embedded(), false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gc_killed_at_random_points_embedded() {
    stress(Backend::embedded(), true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gc_races_pushes_deletes_and_retags_s3_postgres() {
    let Some(backend) = Backend::shared() else {
        return;
    };
    stress(backend, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn gc_killed_at_random_points_s3_postgres() {
    let Some(backend) = Backend::shared() else {
        return;
    };
    stress(backend, true).await;
}

/// Where the registry keeps its blobs and metadata.
struct Backend {
    stores: common::Stores,
    /// The S3 endpoint, bucket and prefix, to count the blobs stored.
    s3: Option<(String, String, String)>,
}

impl Backend {
    fn embedded() -> Backend {
        Backend {
            stores: common::Stores::embedded(),
            s3: None,
        }
    }

    /// S3 (moto) and PostgreSQL, or `None` when they are not installed
    /// and not required.
    fn shared() -> Option<Backend> {
        let prefix = "stress";
        let (stores, endpoint, bucket) = common::Stores::shared(prefix)?;
        Some(Backend {
            stores,
            s3: Some((endpoint, bucket, prefix.to_owned())),
        })
    }

    /// The registry, authentication off, serving on `port`.
    fn serve(&self, port: u16) -> Child {
        self.stores
            .command(&[
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--no-auth",
                "--log-level",
                "error",
                "--gc-interval",
                "off",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn minimal-registry")
    }

    /// A collection with `grace`, as a child process.
    fn gc(&self, grace: &str, dry_run: bool) -> Child {
        let mut args = vec!["gc", "--grace", grace];
        if dry_run {
            args.push("--dry-run");
        }
        self.stores
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn minimal-registry gc")
    }

    /// The digests of the blobs in the store (condemned ones included:
    /// they still take space).
    async fn stored_blobs(&self, client: &reqwest::Client) -> BTreeSet<String> {
        match &self.s3 {
            None => files_under(&self.stores.data.path().join("blobs").join("sha256")),
            Some((endpoint, bucket, prefix)) => {
                let url = format!(
                    "{endpoint}/{bucket}?list-type=2&max-keys=1000&prefix={prefix}/blobs/sha256/"
                );
                let body = client
                    .get(url)
                    .send()
                    .await
                    .expect("list")
                    .text()
                    .await
                    .expect("body");
                assert!(
                    !body.contains("<IsTruncated>true"),
                    "more than a page of blobs"
                );
                body.split("<Key>")
                    .skip(1)
                    .filter_map(|rest| rest.split("</Key>").next())
                    .filter_map(|key| key.rsplit('/').next())
                    .map(|hex| format!("sha256:{hex}"))
                    .collect()
            }
        }
    }
}

/// The `sha256:HEX` of every blob file under `dir` (`dir/AB/ABCD...`),
/// hidden entries left out.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let Ok(shards) = std::fs::read_dir(dir) else {
        return found;
    };
    for shard in shards.flatten() {
        if shard.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        for file in std::fs::read_dir(shard.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = file.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && file.path().is_file() {
                found.insert(format!("sha256:{name}"));
            }
        }
    }
    found
}

/// What the clients know they stored: the manifests pushed and not
/// deleted, and where each tag points.
#[derive(Default)]
struct Book {
    /// (repository, manifest digest) -> (bytes, blob digests).
    alive: HashMap<(String, String), (Vec<u8>, Vec<String>)>,
    /// (repository, tag) -> manifest digest.
    tags: HashMap<(String, String), String>,
}

struct Traffic {
    base: String,
    client: reqwest::Client,
    book: Mutex<Book>,
    stop: AtomicBool,
    pushes: AtomicU64,
    retried: AtomicU64,
    deletes: AtomicU64,
    retags: AtomicU64,
}

impl Traffic {
    /// `method` on the manifest `repo`:`reference`, accepting OCI manifests.
    async fn manifest(
        &self,
        method: reqwest::Method,
        repo: &str,
        reference: &str,
    ) -> reqwest::Response {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let request = self.client.request(method.clone(), url);
        let sent = request.header("accept", OCI_MANIFEST).send().await;
        sent.unwrap_or_else(|err| panic!("{method} {repo}:{reference}: {err}"))
    }
}

async fn stress(backend: Backend, kill: bool) {
    let seed: u64 = rand::rng().random();
    eprintln!("seed {seed}");
    let port = common::free_port();
    let mut server = backend.serve(port);
    let traffic = Arc::new(Traffic {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        book: Mutex::default(),
        stop: AtomicBool::new(false),
        pushes: AtomicU64::new(0),
        retried: AtomicU64::new(0),
        deletes: AtomicU64::new(0),
        retags: AtomicU64::new(0),
    });
    wait_ready(&traffic).await;

    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let bases: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..BASES)
            .map(|_| (0..128 * 1024).map(|_| rng.random()).collect())
            .collect(),
    );
    let mut workers = Vec::new();
    for pusher in 0..PUSHERS {
        let (traffic, bases) = (traffic.clone(), bases.clone());
        let seed = rng.random();
        workers.push(tokio::spawn(push_loop(traffic, bases, pusher, seed)));
    }
    workers.push(tokio::spawn(delete_loop(traffic.clone(), rng.random())));
    workers.push(tokio::spawn(retag_loop(traffic.clone(), rng.random())));

    // The collector, in a loop, against the live registry.
    let backend = Arc::new(backend);
    let collector = {
        let backend = backend.clone();
        let seed = rng.random();
        tokio::task::spawn_blocking(move || collect_loop(&backend, kill, seed))
    };
    let (completed, killed) = collector.await.expect("collector");
    traffic.stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.expect("worker");
    }
    eprintln!(
        "{} pushes ({} retried), {} deletes, {} retags; {completed} collections completed, {killed} killed",
        traffic.pushes.load(Ordering::SeqCst),
        traffic.retried.load(Ordering::SeqCst),
        traffic.deletes.load(Ordering::SeqCst),
        traffic.retags.load(Ordering::SeqCst),
    );
    assert!(traffic.pushes.load(Ordering::SeqCst) > 0);
    assert!(completed > 0, "no collection completed");

    // Everything the clients stored pulls in full.
    let referenced = verify_pullable(&traffic).await;

    // A last collection past the grace period leaves exactly what is
    // referenced (an interrupted one's condemned blobs resolved too).
    tokio::time::sleep(GRACE_PLUS).await;
    let output = backend.gc(GRACE, false).wait_with_output().expect("gc");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stored = backend.stored_blobs(&traffic.client).await;
    let missing: Vec<_> = referenced.difference(&stored).collect();
    let extra: Vec<_> = stored.difference(&referenced).collect();
    assert!(
        missing.is_empty(),
        "referenced blobs not stored: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "unreferenced blobs left after a last collection: {extra:?}"
    );
    // And the registry still serves it all.
    verify_pullable(&traffic).await;

    let _ = server.kill();
    let _ = server.wait();
}

async fn wait_ready(traffic: &Traffic) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ok = traffic
            .client
            .get(format!("{}/v2/", traffic.base))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if ok {
            return;
        }
        assert!(Instant::now() < deadline, "the registry did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs [`COLLECTIONS`] collections one after the other, each killed with
/// SIGKILL after a random delay if `kill`; how many completed and how many
/// were killed.
fn collect_loop(backend: &Backend, kill: bool, seed: u64) -> (usize, usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut completed, mut killed) = (0, 0);
    // How long the last complete collection took: kills land at a random
    // point inside that span, so they hit every step.
    let mut last = Duration::from_millis(200);
    for round in 0..COLLECTIONS {
        let started = Instant::now();
        let mut child = backend.gc(GRACE, false);
        // Every other round of the killed variant runs to the end.
        if kill && round % 2 == 0 {
            let span = u64::try_from(last.as_millis()).unwrap_or(u64::MAX).max(10);
            std::thread::sleep(Duration::from_millis(rng.random_range(0..span)));
            if child.try_wait().expect("try_wait").is_none() {
                child.kill().expect("SIGKILL");
                let _ = child.wait();
                killed += 1;
                continue;
            }
        }
        let output = child.wait_with_output().expect("gc");
        assert!(
            output.status.success(),
            "gc failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        completed += 1;
        last = started.elapsed();
        std::thread::sleep(Duration::from_millis(rng.random_range(50..300)));
    }
    (completed, killed)
}

/// Pushes images (a shared base layer, a layer and a config of its own)
/// into `stress/p{pusher}`, each tagged `t0`..`t3` in turn (so tags move
/// and older images become untagged versions), until told to stop.
async fn push_loop(traffic: Arc<Traffic>, bases: Arc<Vec<Vec<u8>>>, pusher: usize, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let repo = format!("stress/p{pusher}");
    let mut i = 0usize;
    while !traffic.stop.load(Ordering::SeqCst) {
        let base = bases[rng.random_range(0..bases.len())].clone();
        let layer: Vec<u8> = (0..16 * 1024).map(|_| rng.random()).collect();
        let config = format!(
            r#"{{"pusher":{pusher},"image":{i},"nonce":{}}}"#,
            rng.random::<u64>()
        );
        let manifest = image_manifest(config.as_bytes(), &[&base, &layer]);
        let digest = Digest::sha256(&manifest).to_string();
        let tag = format!("t{}", i % 4);
        // A push whose blob went between its upload and the manifest is
        // refused (MANIFEST_BLOB_UNKNOWN) and retried whole, as clients do.
        let mut attempts = 0;
        loop {
            attempts += 1;
            assert!(attempts <= 5, "{repo}: a push kept failing");
            for blob in [&base, &layer, &config.as_bytes().to_vec()] {
                upload(&traffic, &repo, blob).await;
            }
            let response = put_manifest(&traffic, &repo, &tag, &manifest).await;
            if response.status() == 201 {
                break;
            }
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            assert!(
                status == 400 && body.contains("MANIFEST_BLOB_UNKNOWN"),
                "{repo}: manifest PUT answered {status}: {body}"
            );
            traffic.retried.fetch_add(1, Ordering::SeqCst);
        }
        let blobs = vec![
            Digest::sha256(config.as_bytes()).to_string(),
            Digest::sha256(&base).to_string(),
            Digest::sha256(&layer).to_string(),
        ];
        let mut book = traffic.book.lock().await;
        book.alive
            .insert((repo.clone(), digest.clone()), (manifest, blobs));
        book.tags.insert((repo.clone(), tag), digest);
        drop(book);
        traffic.pushes.fetch_add(1, Ordering::SeqCst);
        i += 1;
    }
}

/// Deletes a random stored manifest (and with it the tags on it) every
/// few tens of milliseconds, until told to stop.
async fn delete_loop(traffic: Arc<Traffic>, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    while !traffic.stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(rng.random_range(20..80))).await;
        // The book is held across the request: the deleter and the
        // retagger take turns, so the book says what the registry holds.
        let mut book = traffic.book.lock().await;
        let Some((repo, digest)) = pick(&book, &mut rng) else {
            continue;
        };
        let url = format!("{}/v2/{repo}/manifests/{digest}", traffic.base);
        let status = traffic
            .client
            .delete(url)
            .send()
            .await
            .expect("DELETE")
            .status();
        assert_eq!(status, 202, "DELETE {repo}@{digest}");
        book.alive.remove(&(repo.clone(), digest.clone()));
        book.tags.retain(|(r, _), d| !(r == &repo && d == &digest));
        drop(book);
        traffic.deletes.fetch_add(1, Ordering::SeqCst);
    }
}

/// Tags a random stored manifest `r0`..`r2` of its repository (moving the
/// tag), every few tens of milliseconds, until told to stop.
async fn retag_loop(traffic: Arc<Traffic>, seed: u64) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut n = 0usize;
    while !traffic.stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(rng.random_range(20..80))).await;
        let mut book = traffic.book.lock().await;
        let Some((repo, digest)) = pick(&book, &mut rng) else {
            continue;
        };
        let bytes = book.alive[&(repo.clone(), digest.clone())].0.clone();
        let tag = format!("r{}", n % 3);
        let response = put_manifest(&traffic, &repo, &tag, &bytes).await;
        assert_eq!(response.status(), 201, "retag {repo}@{digest} as {tag}");
        book.tags.insert((repo, tag), digest);
        drop(book);
        traffic.retags.fetch_add(1, Ordering::SeqCst);
        n += 1;
    }
}

fn pick(book: &Book, rng: &mut impl Rng) -> Option<(String, String)> {
    if book.alive.is_empty() {
        return None;
    }
    let mut keys: Vec<_> = book.alive.keys().collect();
    keys.sort();
    let (repo, digest) = keys[rng.random_range(0..keys.len())];
    Some((repo.clone(), digest.clone()))
}

fn image_manifest(config: &[u8], layers: &[&[u8]]) -> Vec<u8> {
    let layers: Vec<_> = layers
        .iter()
        .map(|layer| {
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": Digest::sha256(layer).to_string(),
                "size": layer.len(),
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": Digest::sha256(config).to_string(),
            "size": config.len(),
        },
        "layers": layers,
    }))
    .expect("json")
}

async fn upload(traffic: &Traffic, repo: &str, blob: &[u8]) {
    let digest = Digest::sha256(blob);
    let response = traffic
        .client
        .post(format!(
            "{}/v2/{repo}/blobs/uploads/?digest={digest}",
            traffic.base
        ))
        .header("content-type", "application/octet-stream")
        .body(blob.to_vec())
        .send()
        .await
        .expect("upload");
    let status = response.status();
    assert_eq!(
        status,
        201,
        "upload {digest} to {repo}: {}",
        response.text().await.unwrap_or_default()
    );
}

async fn put_manifest(
    traffic: &Traffic,
    repo: &str,
    tag: &str,
    manifest: &[u8],
) -> reqwest::Response {
    traffic
        .client
        .put(format!("{}/v2/{repo}/manifests/{tag}", traffic.base))
        .header("content-type", OCI_MANIFEST)
        .body(manifest.to_vec())
        .send()
        .await
        .expect("manifest PUT")
}

/// Pulls every manifest the book says is stored (by digest), every tag,
/// and every blob they reference, verifying each digest; returns the blob
/// digests referenced.
async fn verify_pullable(traffic: &Traffic) -> BTreeSet<String> {
    let (alive, tags) = {
        let book = traffic.book.lock().await;
        (book.alive.clone(), book.tags.clone())
    };
    let mut referenced = BTreeSet::new();
    for ((repo, digest), (bytes, blobs)) in &alive {
        let response = traffic.manifest(reqwest::Method::GET, repo, digest).await;
        assert_eq!(response.status(), 200, "{repo}@{digest} is gone");
        assert_eq!(&response.bytes().await.expect("body")[..], &bytes[..]);
        for blob in blobs {
            referenced.insert(blob.clone());
            let response = traffic
                .client
                .get(format!("{}/v2/{repo}/blobs/{blob}", traffic.base))
                .send()
                .await
                .expect("GET blob");
            assert_eq!(
                response.status(),
                200,
                "{repo}: blob {blob} of {digest} is gone"
            );
            let body = response.bytes().await.expect("blob body");
            assert_eq!(
                &Digest::sha256(&body).to_string(),
                blob,
                "{repo}: blob {blob} corrupt"
            );
        }
    }
    for ((repo, tag), digest) in &tags {
        let response = traffic.manifest(reqwest::Method::HEAD, repo, tag).await;
        assert_eq!(response.status(), 200, "{repo}:{tag}");
        let at = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok());
        assert_eq!(at, Some(digest.as_str()), "{repo}:{tag} moved");
    }
    referenced
}
