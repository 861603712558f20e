//! The registry killed with SIGKILL at random moments while clients push
//! blobs (monolithically and in chunks) and manifests concurrently, and
//! restarted on the same data directory, again and again (`CRASH_KILLS`,
//! default 50). After every restart:
//! - every blob and manifest whose push got its 201 is present and complete
//!   (its bytes hash to its digest), and a manifest's tag still names it;
//! - a digest whose push was cut off is either unknown or complete: never a
//!   partial object;
//! - an upload session that was interrupted resumes at the offset the server
//!   reports, and finishes with the right digest;
//! - while the process is down, the database passes SQLite's integrity check.

use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Client, StatusCode};
use wharf_reference::Digest;

mod common;
use common::{blob_upload, free_port, manifest, manifest_put, spawn_quiet, user_with_token};
const USER: &str = "crash";

/// A small, fast, deterministic byte source (xorshift64*).
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn fill(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the clients were told, and what they tried.
#[derive(Default)]
struct Ledger {
    /// (repository, digest) of blobs acknowledged with 201.
    blobs: Vec<(String, Digest)>,
    /// (repository, tag, digest) of manifests acknowledged with 201.
    manifests: Vec<(String, String, Digest)>,
    /// (repository, digest) of blob pushes that did not get their 201.
    cut: Vec<(String, Digest)>,
    /// Chunked uploads cut off after at least one acknowledged chunk:
    /// (repository, location, whole blob, bytes acknowledged).
    sessions: Vec<(String, String, Vec<u8>, usize)>,
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &std::path::Path) -> Server {
        let port = free_port();
        let child = spawn_quiet(port, data);
        Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    async fn ready(&mut self, client: &Client) {
        for _ in 0..400 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                panic!("the registry exited on restart: {status}");
            }
            if client
                .get(format!("{}/v2/", self.base))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the registry did not come up");
    }

    fn kill(mut self) {
        // SIGKILL: no shutdown code runs.
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

struct Pusher {
    client: Client,
    base: String,
    auth: String,
    ledger: Arc<Mutex<Ledger>>,
}

impl Pusher {
    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn monolithic(&self, repo: &str, blob: Vec<u8>) {
        let digest = Digest::sha256(&blob);
        let reply = blob_upload(&self.client, &self.base, &self.auth, repo, blob)
            .send()
            .await;
        self.settle(repo, digest, reply.map(|r| r.status()).ok());
    }

    async fn chunked(&self, repo: &str, blob: Vec<u8>) {
        let digest = Digest::sha256(&blob);
        let started = self
            .client
            .post(self.url(&format!("/v2/{repo}/blobs/uploads/")))
            .header("authorization", &self.auth)
            .send()
            .await;
        let Ok(started) = started else {
            return self.settle(repo, digest, None);
        };
        let Some(mut location) = location(&started) else {
            return self.settle(repo, digest, None);
        };
        let half = blob.len() / 2;
        let mut sent = 0;
        for chunk in [&blob[..half], &blob[half..blob.len() - 1]] {
            let reply = self
                .client
                .patch(self.url(&location))
                .header("authorization", &self.auth)
                .header("content-type", "application/octet-stream")
                .header(
                    "content-range",
                    format!("{sent}-{}", sent + chunk.len() - 1),
                )
                .body(chunk.to_vec())
                .send()
                .await;
            match reply {
                Ok(r) if r.status() == StatusCode::ACCEPTED => {
                    sent += chunk.len();
                    location = self::location(&r).unwrap_or(location);
                }
                _ => {
                    self.interrupted(repo, &location, &blob, sent);
                    return self.settle(repo, digest, None);
                }
            }
        }
        let sep = if location.contains('?') { '&' } else { '?' };
        let reply = self
            .client
            .put(self.url(&format!("{location}{sep}digest={digest}")))
            .header("authorization", &self.auth)
            .header("content-type", "application/octet-stream")
            .body(blob[blob.len() - 1..].to_vec())
            .send()
            .await;
        let status = reply.map(|r| r.status()).ok();
        if status != Some(StatusCode::CREATED) {
            self.interrupted(repo, &location, &blob, sent);
        }
        self.settle(repo, digest, status);
    }

    fn interrupted(&self, repo: &str, location: &str, blob: &[u8], sent: usize) {
        if sent > 0 {
            let mut ledger = self.ledger.lock().expect("ledger");
            ledger
                .sessions
                .push((repo.to_owned(), location.to_owned(), blob.to_vec(), sent));
        }
    }

    fn settle(&self, repo: &str, digest: Digest, status: Option<StatusCode>) {
        let mut ledger = self.ledger.lock().expect("ledger");
        if status == Some(StatusCode::CREATED) {
            ledger.blobs.push((repo.to_owned(), digest));
        } else {
            ledger.cut.push((repo.to_owned(), digest));
        }
    }

    /// Pushes a manifest over two blobs acknowledged in `repo`, by tag.
    async fn manifest(&self, repo: &str, tag: &str, config: &[u8], layer: &[u8]) {
        let manifest = manifest(config, layer);
        let digest = Digest::sha256(&manifest);
        let reply = manifest_put(&self.client, &self.base, &self.auth, repo, tag, manifest)
            .send()
            .await;
        if reply.is_ok_and(|r| r.status() == StatusCode::CREATED) {
            let mut ledger = self.ledger.lock().expect("ledger");
            ledger
                .manifests
                .push((repo.to_owned(), tag.to_owned(), digest));
        }
    }
}

fn location(reply: &reqwest::Response) -> Option<String> {
    reply
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// GETs `path` and returns the body when the answer is 200.
async fn fetch(client: &Client, base: &str, auth: &str, path: &str) -> Option<Vec<u8>> {
    let reply = client
        .get(format!("{base}{path}"))
        .header("authorization", auth)
        .header("accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .await
        .expect("GET after restart");
    match reply.status() {
        StatusCode::OK => Some(reply.bytes().await.expect("body").to_vec()),
        StatusCode::NOT_FOUND => None,
        other => panic!("GET {path} after restart: {other}"),
    }
}

/// Whether `path` serves anything after the restart; what it serves must
/// be complete: hash to `digest`.
async fn served_whole(
    client: &Client,
    base: &str,
    auth: &str,
    path: &str,
    digest: &Digest,
) -> bool {
    let Some(body) = fetch(client, base, auth, path).await else {
        return false;
    };
    assert_eq!(&Digest::sha256(&body), digest, "{path} is not complete");
    true
}

fn integrity_check(data: &std::path::Path) {
    let db = rusqlite::Connection::open_with_flags(
        data.join("registry.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the database");
    let result: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity check");
    assert_eq!(result, "ok", "the database after SIGKILL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_pushes_loses_nothing_acknowledged() {
    let kills: usize = common::env_or("CRASH_KILLS", 50);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let auth = user_with_token(&data, USER, "read:packages,write:packages,delete:packages");
    let client = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let counter = Arc::new(AtomicU64::new(1));
    let mut rng = Bytes(0x9e37_79b9_7f4a_7c15);
    let mut resumed = 0;

    // Each repository starts with an image, so that its package exists
    // (blobs of a name no package has are not readable with accounts on).
    let mut server = Server::start(&data);
    server.ready(&client).await;
    let setup = Pusher {
        client: client.clone(),
        base: server.base.clone(),
        auth: auth.clone(),
        ledger: ledger.clone(),
    };
    for kind in 0..3 {
        let repo = format!("{USER}/crash-{kind}");
        let (config, layer) = (b"{}".to_vec(), format!("layer {kind}").into_bytes());
        setup.monolithic(&repo, config.clone()).await;
        setup.monolithic(&repo, layer.clone()).await;
        setup.manifest(&repo, "base", &config, &layer).await;
    }
    assert_eq!(ledger.lock().expect("ledger").manifests.len(), 3, "setup");
    server.kill();

    for round in 0..kills {
        let mut server = Server::start(&data);
        server.ready(&client).await;
        verify(&client, &server.base, &auth, &ledger).await;
        resumed += resume_one(&client, &server.base, &auth, &ledger).await;

        // Three clients push until the kill.
        let stop = Arc::new(AtomicBool::new(false));
        let mut clients = Vec::new();
        for kind in 0..3u64 {
            let pusher = Pusher {
                client: client.clone(),
                base: server.base.clone(),
                auth: auth.clone(),
                ledger: ledger.clone(),
            };
            let (stop, counter) = (stop.clone(), counter.clone());
            let seed = rng.next() | 1;
            clients.push(tokio::spawn(async move {
                let mut rng = Bytes(seed);
                let repo = format!("{USER}/crash-{kind}");
                while !stop.load(Ordering::Acquire) {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let len = 1024 + usize::try_from(rng.below(64 * 1024)).unwrap_or(0);
                    let mut blob = rng.fill(len);
                    blob.extend_from_slice(&n.to_le_bytes());
                    match kind {
                        0 => pusher.monolithic(&repo, blob).await,
                        1 => pusher.chunked(&repo, blob).await,
                        _ => {
                            let config = format!("{{\"n\":{n}}}").into_bytes();
                            pusher.monolithic(&repo, config.clone()).await;
                            pusher.monolithic(&repo, blob.clone()).await;
                            pusher
                                .manifest(&repo, &format!("t{}", n % 8), &config, &blob)
                                .await;
                        }
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(30 + rng.below(400))).await;
        server.kill();
        stop.store(true, Ordering::Release);
        for c in clients {
            c.await.expect("client task");
        }
        integrity_check(&data);
        let ledger = ledger.lock().expect("ledger");
        eprintln!(
            "round {round}: {} blobs and {} manifests acknowledged so far, {} cut, {} sessions resumed",
            ledger.blobs.len(),
            ledger.manifests.len(),
            ledger.cut.len(),
            resumed
        );
    }
    let mut server = Server::start(&data);
    server.ready(&client).await;
    verify(&client, &server.base, &auth, &ledger).await;
    server.kill();
    let ledger = ledger.lock().expect("ledger");
    assert!(
        ledger.blobs.len() > kills && !ledger.manifests.is_empty(),
        "the pushes made progress between kills"
    );
}

/// Everything acknowledged is there and complete; nothing cut off is
/// partial; every tag names the last manifest acknowledged under it (or a
/// later one whose 201 was lost in the kill).
async fn verify(client: &Client, base: &str, auth: &str, ledger: &Mutex<Ledger>) {
    let (blobs, cut, manifests) = {
        let l = ledger.lock().expect("ledger");
        (l.blobs.clone(), l.cut.clone(), l.manifests.clone())
    };
    for (repo, digest) in &blobs {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let served = served_whole(client, base, auth, &path, digest).await;
        assert!(served, "acknowledged blob {digest} in {repo} is gone");
    }
    for (repo, digest) in &cut {
        // Gone or whole, never partial.
        let path = format!("/v2/{repo}/blobs/{digest}");
        served_whole(client, base, auth, &path, digest).await;
    }
    for (repo, _tag, digest) in &manifests {
        let path = format!("/v2/{repo}/manifests/{digest}");
        let served = served_whole(client, base, auth, &path, digest).await;
        assert!(served, "acknowledged manifest {digest} in {repo} is gone");
    }
    let mut last_by_tag = std::collections::BTreeMap::new();
    for (repo, tag, digest) in &manifests {
        last_by_tag.insert((repo.clone(), tag.clone()), digest.clone());
    }
    for ((repo, tag), _digest) in last_by_tag {
        let body = fetch(client, base, auth, &format!("/v2/{repo}/manifests/{tag}"))
            .await
            .unwrap_or_else(|| panic!("tag {tag} of {repo} is gone"));
        // The tag may have moved to a later push whose 201 the kill cut off;
        // whatever it names is a complete manifest.
        let named = Digest::sha256(&body);
        let complete = serde_json::from_slice::<serde_json::Value>(&body).is_ok();
        assert!(complete, "tag {tag} names a broken manifest {named}");
    }
}

/// Resumes the oldest interrupted chunked upload at the offset the server
/// reports, and finishes it. Returns 1 when one was resumed.
async fn resume_one(client: &Client, base: &str, auth: &str, ledger: &Mutex<Ledger>) -> usize {
    let Some((repo, location, blob, acknowledged)) = ledger.lock().expect("ledger").sessions.pop()
    else {
        return 0;
    };
    let url = |l: &str| {
        if l.starts_with("http") {
            l.to_owned()
        } else {
            format!("{base}{l}")
        }
    };
    let status = client
        .get(url(&location))
        .header("authorization", auth)
        .send()
        .await
        .expect("upload status");
    let digest = Digest::sha256(&blob);
    if status.status() == StatusCode::NOT_FOUND {
        // The upload finished before the kill, and only its 201 was lost:
        // then the blob is there, complete.
        let body = fetch(client, base, auth, &format!("/v2/{repo}/blobs/{digest}"))
            .await
            .unwrap_or_else(|| panic!("the interrupted session of {digest} is lost"));
        assert_eq!(Digest::sha256(&body), digest);
        return 0;
    }
    assert_eq!(
        status.status(),
        StatusCode::NO_CONTENT,
        "an interrupted session survives the restart"
    );
    let range = status.headers()["range"]
        .to_str()
        .expect("range")
        .to_owned();
    let end: usize = range
        .strip_prefix("0-")
        .and_then(|e| e.parse().ok())
        .expect("Range 0-<end>");
    let offset = end + 1;
    assert!(
        offset >= acknowledged && offset <= blob.len(),
        "the server reports {offset} bytes, {acknowledged} were acknowledged of {}",
        blob.len()
    );
    let sep = if location.contains('?') { '&' } else { '?' };
    let done = client
        .put(url(&format!("{location}{sep}digest={digest}")))
        .header("authorization", auth)
        .header("content-type", "application/octet-stream")
        .body(blob[offset..].to_vec())
        .send()
        .await
        .expect("finish the upload");
    assert_eq!(done.status(), StatusCode::CREATED, "resumed at {offset}");
    ledger.lock().expect("ledger").blobs.push((repo, digest));
    1
}
