//! A bounded load test of the built binary with authentication on: hundreds
//! of concurrent clients (`LOAD_CLIENTS`, default 200) for `LOAD_SECONDS`
//! (default 20) mixing manifest and blob pulls, monolithic and chunked
//! pushes, manifest pushes, tag listings, token requests and package REST
//! calls. It asserts zero errors other than the 429s the limits intend, a
//! bounded peak RSS, and no file-descriptor or thread leak once the load
//! ends; it prints the p50/p99 of manifest GETs and the peak RSS.

use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use wharf_reference::Digest;

mod common;
use common::{blob_upload, free_port, manifest, manifest_put, spawn_quiet, user_with_token};
const USER: &str = "loaded";
/// The peak resident set the (debug) server may reach under this load.
const RSS_BOUND_KIB: u64 = 256 * 1024;

fn proc_status(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    throttled: AtomicU64,
    errors: Mutex<Vec<String>>,
    manifest_latencies: Mutex<Vec<Duration>>,
}

impl Tally {
    fn record(&self, what: &str, status: Result<StatusCode, reqwest::Error>) -> bool {
        self.requests.fetch_add(1, Ordering::Relaxed);
        match status {
            Ok(s) if s.is_success() => true,
            Ok(StatusCode::TOO_MANY_REQUESTS) => {
                self.throttled.fetch_add(1, Ordering::Relaxed);
                false
            }
            Ok(s) => {
                self.errors
                    .lock()
                    .expect("errors")
                    .push(format!("{what}: {s}"));
                false
            }
            Err(e) => {
                self.errors
                    .lock()
                    .expect("errors")
                    .push(format!("{what}: {e}"));
                false
            }
        }
    }
}

struct Load {
    client: Client,
    base: String,
    auth: String,
    tally: Arc<Tally>,
    counter: Arc<AtomicU64>,
}

impl Load {
    async fn push_blob(&self, repo: &str, blob: Vec<u8>) -> bool {
        let status = blob_upload(&self.client, &self.base, &self.auth, repo, blob)
            .send()
            .await
            .map(|r| r.status());
        self.tally.record("monolithic push", status)
    }

    async fn push_chunked(&self, repo: &str, blob: Vec<u8>) {
        let digest = Digest::sha256(&blob);
        let started = self
            .client
            .post(format!("{}/v2/{repo}/blobs/uploads/", self.base))
            .header("authorization", &self.auth)
            .send()
            .await;
        let location = match started {
            Ok(r) if r.status() == StatusCode::ACCEPTED => r.headers()["location"]
                .to_str()
                .expect("location")
                .to_owned(),
            other => {
                self.tally.record("upload start", other.map(|r| r.status()));
                return;
            }
        };
        self.tally.requests.fetch_add(1, Ordering::Relaxed);
        let half = blob.len() / 2;
        let patched = self
            .client
            .patch(format!("{}{location}", self.base))
            .header("authorization", &self.auth)
            .header("content-type", "application/octet-stream")
            .header("content-range", format!("0-{}", half - 1))
            .body(blob[..half].to_vec())
            .send()
            .await
            .map(|r| r.status());
        if !self.tally.record("chunk", patched) {
            return;
        }
        let sep = if location.contains('?') { '&' } else { '?' };
        let finished = self
            .client
            .put(format!("{}{location}{sep}digest={digest}", self.base))
            .header("authorization", &self.auth)
            .header("content-type", "application/octet-stream")
            .body(blob[half..].to_vec())
            .send()
            .await
            .map(|r| r.status());
        self.tally.record("chunked finish", finished);
    }

    async fn get(&self, what: &str, path: &str, auth: &str) -> Option<Duration> {
        let started = Instant::now();
        let reply = self
            .client
            .get(format!("{}{path}", self.base))
            .header("authorization", auth)
            .header("accept", "application/vnd.oci.image.manifest.v1+json")
            .send()
            .await;
        let status = match reply {
            Ok(r) => {
                let status = r.status();
                let _ = r.bytes().await;
                Ok(status)
            }
            Err(e) => Err(e),
        };
        self.tally.record(what, status).then(|| started.elapsed())
    }

    /// One client's loop: its share of the mix, chosen by `role`.
    async fn run(&self, role: u64, stop: &AtomicBool, layer: &Digest) {
        let repo = format!("{USER}/app");
        let basic = self.auth.clone();
        while !stop.load(Ordering::Acquire) {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            match role % 20 {
                0..=9 => {
                    if let Some(t) = self
                        .get("manifest GET", &format!("/v2/{repo}/manifests/v1"), &basic)
                        .await
                    {
                        self.tally
                            .manifest_latencies
                            .lock()
                            .expect("latencies")
                            .push(t);
                    }
                }
                10..=11 => {
                    self.get("blob GET", &format!("/v2/{repo}/blobs/{layer}"), &basic)
                        .await;
                }
                12 => {
                    self.push_blob(
                        &repo,
                        format!("blob {n} {}", "x".repeat((n % 4096) as usize)).into_bytes(),
                    )
                    .await;
                }
                13 => {
                    self.push_chunked(
                        &repo,
                        format!("chunked {n} {}", "y".repeat(8192)).into_bytes(),
                    )
                    .await
                }
                14 => self.push_manifest(&repo, n).await,
                15..=16 => {
                    self.get("tags list", &format!("/v2/{repo}/tags/list?n=50"), &basic)
                        .await;
                }
                17..=18 => {
                    let port = self.base.rsplit(':').next().unwrap_or_default();
                    let path = format!(
                        "/token?service=localhost:{port}&scope=repository:{repo}:pull,push"
                    );
                    self.get("token", &path, &basic).await;
                }
                _ => {
                    let path = format!("/users/{USER}/packages/container/app/versions");
                    self.get("REST versions", &path, &format!("token {}", self.secret()))
                        .await;
                }
            }
        }
    }

    fn secret(&self) -> String {
        use base64::Engine as _;
        let pair = self.auth.strip_prefix("Basic ").unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(pair)
            .expect("base64");
        let pair = String::from_utf8(decoded).expect("utf-8");
        pair.split_once(':')
            .map(|(_, s)| s.to_owned())
            .unwrap_or_default()
    }

    async fn push_manifest(&self, repo: &str, n: u64) {
        let config = format!("{{\"n\":{n}}}").into_bytes();
        let layer = format!("layer {n}").into_bytes();
        if !self.push_blob(repo, config.clone()).await || !self.push_blob(repo, layer.clone()).await
        {
            return;
        }
        let manifest = manifest(&config, &layer);
        let tag = format!("t{}", n % 16);
        let status = manifest_put(&self.client, &self.base, &self.auth, repo, &tag, manifest)
            .send()
            .await
            .map(|r| r.status());
        self.tally.record("manifest PUT", status);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_clients_get_no_errors_and_leave_nothing_behind() {
    let (clients, seconds): (u64, u64) = (
        common::env_or("LOAD_CLIENTS", 200),
        common::env_or("LOAD_SECONDS", 20),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let auth = user_with_token(&data, USER, "read:packages,write:packages");
    let port = free_port();
    let mut child: Child = spawn_quiet(port, &data);
    let pid = child.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = Client::builder()
        .pool_max_idle_per_host(usize::try_from(clients).unwrap_or(200))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    for _ in 0..400 {
        if client.get(format!("{base}/v2/")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let tally = Arc::new(Tally::default());
    let load = Arc::new(Load {
        client: client.clone(),
        base: base.clone(),
        auth: auth.clone(),
        tally: tally.clone(),
        counter: Arc::new(AtomicU64::new(0)),
    });
    // The image every puller reads.
    let (config, layer) = (b"{}".to_vec(), vec![7u8; 256 * 1024]);
    assert!(load.push_blob(&format!("{USER}/app"), config.clone()).await);
    assert!(load.push_blob(&format!("{USER}/app"), layer.clone()).await);
    let put = client
        .put(format!("{base}/v2/{USER}/app/manifests/v1"))
        .header("authorization", &auth)
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(manifest(&config, &layer))
        .send()
        .await
        .expect("seed manifest");
    assert_eq!(put.status(), StatusCode::CREATED);
    let layer = Digest::sha256(&layer);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (fds_before, threads_before) = (open_fds(pid), proc_status(pid, "Threads:"));

    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|role| {
            let (load, stop, layer) = (load.clone(), stop.clone(), layer.clone());
            tokio::spawn(async move { load.run(role, &stop, &layer).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Release);
    for task in tasks {
        task.await.expect("client");
    }
    let elapsed = started.elapsed();
    let peak_rss_kib = proc_status(pid, "VmHWM:");
    // The client's pool closes its connections; the server's blocking-pool
    // threads retire after 10 s idle.
    drop(load);
    drop(client);
    tokio::time::sleep(Duration::from_secs(11)).await;
    let (fds_after, threads_after) = (open_fds(pid), proc_status(pid, "Threads:"));
    let _ = child.kill();
    let _ = child.wait();

    let mut latencies = tally.manifest_latencies.lock().expect("latencies").clone();
    latencies.sort();
    let requests = tally.requests.load(Ordering::Relaxed);
    eprintln!(
        "load: {clients} clients for {:.1} s: {requests} requests ({:.0}/s), {} throttled (429); \
         manifest GET p50 {:?} p99 {:?} over {}; peak RSS {} MiB; fds {fds_before} -> {fds_after}; \
         threads {threads_before} -> {threads_after}",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        tally.throttled.load(Ordering::Relaxed),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.len(),
        peak_rss_kib / 1024,
    );
    let errors = tally.errors.lock().expect("errors");
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        &errors[..errors.len().min(10)]
    );
    assert!(peak_rss_kib < RSS_BOUND_KIB, "peak RSS {peak_rss_kib} KiB");
    assert!(
        fds_after <= fds_before + 2,
        "file descriptors leaked: {fds_before} before, {fds_after} after"
    );
    assert!(
        threads_after <= threads_before + 2,
        "threads left running: {threads_before} before, {threads_after} after"
    );
    assert!(!latencies.is_empty(), "manifest GETs were measured");
}
