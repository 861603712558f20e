//! The built binary: it serves, logs one JSON line per request, keeps its
//! data across restarts, and on SIGTERM lets an in-flight upload finish.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::{stream, StreamExt};
use wharf_reference::Digest;

mod common;
use common::{assert_help_mentions, free_port, listening, BIN};

struct Running {
    child: Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    fn start(data_dir: &std::path::Path, extra: &[&str]) -> Running {
        let port = free_port();
        let mut child = listening(port)
            .args([
                "--data-dir",
                data_dir.to_str().expect("utf-8 path"),
                "--log-format",
                "json",
                "--log-level",
                "info",
                "--no-auth",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn minimal-registry");
        let stdout = child.stdout.take().expect("stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().expect("lock").push(line);
            }
        });
        Running {
            child,
            base: format!("http://127.0.0.1:{port}"),
            lines,
            reader: Some(reader),
        }
    }

    async fn wait_ready(&self, client: &reqwest::Client) {
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{}/v2/", self.base)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the registry did not come up");
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    fn wait(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let status = self.child.wait().expect("wait");
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let lines = self.lines.lock().expect("lock").clone();
        (status, lines)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn access_lines(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "wharf_server::access")
        .collect()
}

#[tokio::test]
async fn the_binary_serves_logs_each_request_persists_and_shuts_down_gracefully() {
    let data = tempfile::tempdir().expect("tempdir");
    let client = reqwest::Client::new();
    let registry = Running::start(data.path(), &[]);
    registry.wait_ready(&client).await;
    let base = registry.base.clone();

    // Push a blob and a manifest.
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let config_digest = Digest::sha256(config);
    let reply = client
        .post(format!(
            "{base}/v2/acme/tool/blobs/uploads/?digest={config_digest}"
        ))
        .body(config.to_vec())
        .send()
        .await
        .expect("push blob");
    assert_eq!(reply.status(), 201);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config.len()},
        "layers": []
    }))
    .expect("json");
    let reply = client
        .put(format!("{base}/v2/acme/tool/manifests/1.0"))
        .header("content-type", "application/vnd.oci.image.manifest.v1+json")
        .body(manifest.clone())
        .send()
        .await
        .expect("push manifest");
    assert_eq!(reply.status(), 201);
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains(
        "wharf_http_requests_total{route=\"/v2/{name}/manifests/{reference}\",method=\"PUT\",status=\"201\"} 1"
    ), "{metrics}");

    // An upload is in flight when SIGTERM arrives: it completes.
    let reply = client
        .post(format!("{base}/v2/acme/tool/blobs/uploads/"))
        .send()
        .await
        .expect("start upload");
    let location = reply.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let body = stream::once(async move {
        let _ = started_tx.send(());
        Ok::<_, std::io::Error>(Bytes::from_static(b"first half, "))
    })
    .chain(stream::once(async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        Ok(Bytes::from_static(b"second half"))
    }));
    let upload = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}{location}");
        async move {
            client
                .patch(url)
                .body(reqwest::Body::wrap_stream(body))
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    });
    let _ = started_rx.await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    registry.terminate();
    assert_eq!(upload.await.expect("join").expect("in-flight upload"), 202);
    let (status, lines) = registry.wait();
    assert!(status.success(), "exit status {status}");

    // One access line per request, with the fields operators need.
    let access = access_lines(&lines);
    assert_eq!(access.len(), 6, "{lines:#?}");
    for line in &access {
        for field in [
            "method",
            "path",
            "route",
            "status",
            "bytes_in",
            "bytes_out",
            "duration_ms",
        ] {
            assert!(!line[field].is_null(), "{field} missing in {line}");
        }
    }
    let put = access
        .iter()
        .find(|l| l["method"] == "PUT")
        .expect("PUT line");
    assert_eq!(put["path"], "/v2/acme/tool/manifests/1.0");
    assert_eq!(put["route"], "/v2/{name}/manifests/{reference}");
    assert_eq!(put["status"], 201);
    assert_eq!(put["bytes_in"], manifest.len());
    let patch = access
        .iter()
        .find(|l| l["method"] == "PATCH")
        .expect("PATCH line");
    assert_eq!(patch["bytes_in"], 23);
    assert!(lines.iter().any(|l| l.contains("shutting down")));

    // A restart serves what was pushed.
    let registry = Running::start(data.path(), &[]);
    registry.wait_ready(&client).await;
    let reply = client
        .get(format!("{}/v2/acme/tool/manifests/1.0", registry.base))
        .send()
        .await
        .expect("pull");
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.bytes().await.expect("body"), manifest);
    let reply = client
        .get(format!("{}{location}", registry.base))
        .send()
        .await
        .expect("upload status");
    assert_eq!(reply.status(), 204, "upload sessions survive restarts");
    assert_eq!(reply.headers()["range"], "0-22");
    registry.terminate();
    let (status, _) = registry.wait();
    assert!(status.success());
}

#[test]
fn help_documents_every_setting() {
    assert_help_mentions(&[
        "--config",
        "--listen",
        "--data-dir",
        "--log-level",
        "--log-format",
        "--max-manifest-size",
        "--upload-expiry",
        "--purge-interval",
        "--request-timeout",
        "--body-idle-timeout",
        "--header-read-timeout",
        "--max-concurrent-uploads",
        "--upload-share-percent",
        "--min-upload-rate",
        "--body-deadline",
        "--max-upload-sessions",
        "--max-upload-sessions-per-client",
        "--shutdown-grace",
        "--gc-interval",
        "--gc-grace",
        "--metrics",
        "--tls-cert",
        "--tls-key",
        "127.0.0.1:5000",
        "registry-data",
    ]);
}

#[test]
fn a_bad_config_file_is_refused_with_a_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("registry.toml");
    std::fs::write(&path, "[limits]\nbody_idle_timeout = \"forever\"\n").expect("write");
    let output = Command::new(BIN)
        .args(["--config", path.to_str().expect("utf-8")])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("limits.body_idle_timeout"), "{stderr}");
}

#[cfg(feature = "tls")]
#[test]
fn unusable_tls_files_are_refused_before_serving_with_their_setting_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (cert, key) = (dir.path().join("tls.pem"), dir.path().join("tls.key"));
    std::fs::write(&key, "not a key").expect("write");
    let data = data.to_str().expect("utf-8");
    let (cert, key) = (cert.to_str().expect("utf-8"), key.to_str().expect("utf-8"));
    // (flags, what standard error says)
    let table: [(&[&str], &str); 2] = [
        (&["--tls-cert", cert], "tls_key (--tls-key): missing"),
        (
            &["--tls-cert", cert, "--tls-key", key],
            "tls_cert (--tls-cert): cannot read",
        ),
    ];
    for (flags, expected) in table {
        let output = Command::new(BIN)
            .args(["--data-dir", data, "--listen", "127.0.0.1:0"])
            .args(flags)
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{flags:?}: {stderr}");
    }
}

/// Runs the binary in `dir` with only `args` (authentication on, as by
/// default) and waits until `http://127.0.0.1:{port}/v2/` answers; returns
/// the child and that answer's status.
async fn start_bare(dir: &std::path::Path, port: u16, args: &[&str]) -> (Child, Option<u16>) {
    let mut child = listening(port)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn minimal-registry");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("the registry exited before serving: {status}");
        }
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/v2/"))
            .send()
            .await
        {
            return (child, Some(r.status().as_u16()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, None)
}

/// The README's first command, `cargo run --release -p minimal-registry`,
/// from a fresh clone: no data directory flag, so the relative default
/// `registry-data` is created in the working directory. Creating a
/// relative directory once recursed into the empty path and the binary
/// exited before serving.
#[tokio::test]
async fn the_default_relative_data_directory_is_created_in_a_fresh_folder() {
    let fresh = tempfile::tempdir().expect("tempdir");
    let (mut child, answered) = start_bare(fresh.path(), free_port(), &[]).await;
    let _ = child.kill();
    let _ = child.wait();
    // Authentication is on by default: /v2/ asks for credentials.
    assert_eq!(answered, Some(401));
    let data = fresh.path().join("registry-data");
    assert!(data.join("blobs").is_dir(), "no {}", data.display());
}

/// With authentication on, `/metrics` is not on the registry's address
/// (anyone who can push or pull would see its traffic); it is served on
/// `--metrics-listen` when given.
#[tokio::test]
async fn with_authentication_metrics_are_served_only_on_their_own_address() {
    let client = reqwest::Client::new();
    for separate in [false, true] {
        let dir = tempfile::tempdir().expect("tempdir");
        let (port, metrics_port) = (free_port(), free_port());
        let metrics_flag = format!("127.0.0.1:{metrics_port}");
        let args: Vec<&str> = if separate {
            vec!["--metrics-listen", &metrics_flag]
        } else {
            vec![]
        };
        let (mut child, answered) = start_bare(dir.path(), port, &args).await;
        assert_eq!(answered, Some(401));
        let main = client
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
            .expect("main /metrics");
        assert_eq!(main.status(), 404, "separate: {separate}");
        let own = client
            .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .send()
            .await;
        let _ = child.kill();
        let _ = child.wait();
        if separate {
            let own = own.expect("metrics address");
            assert_eq!(own.status(), 200);
            let text = own.text().await.expect("text");
            assert!(text.contains("# TYPE"), "Prometheus text: {text}");
        } else {
            assert!(own.is_err(), "nothing listens without --metrics-listen");
        }
    }
}
