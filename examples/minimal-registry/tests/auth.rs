//! The built binary with authentication on (the default): the first start
//! prints the `admin` token once, and a client logs in the way `docker
//! login` does (401 challenge, token endpoint, bearer token).

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

mod common;
use common::{assert_help_mentions, free_port, get_json, listening, manifest_put};

struct Running {
    child: Child,
    base: String,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path, extra: &[&str]) -> Running {
    let port = free_port();
    let mut child = listening(port)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--log-level", "warn"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    Running {
        child,
        base: format!("http://127.0.0.1:{port}"),
        stderr: receive,
    }
}

impl Running {
    /// Waits until `/v2/` answers (401 with authentication on).
    async fn wait_ready(&self, client: &reqwest::Client) -> reqwest::Response {
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{}/v2/", self.base)).send().await {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the registry did not come up");
    }

    /// The standard error lines so far.
    fn stderr_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(200)) {
            lines.push(line);
        }
        lines
    }
}

fn basic(user: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    )
}

#[tokio::test]
async fn the_first_start_prints_an_admin_token_that_logs_in_and_pushes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let registry = start(&data, &[]);
    let client = reqwest::Client::new();
    let base_reply = registry.wait_ready(&client).await;
    assert_eq!(base_reply.status(), 401);
    let challenge = base_reply.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let port = registry.base.rsplit(':').next().unwrap().to_owned();
    assert_eq!(
        challenge,
        format!("Bearer realm=\"http://localhost:{port}/token\",service=\"localhost:{port}\"")
    );

    let lines = registry.stderr_lines();
    let token = lines
        .iter()
        .map(|l| l.trim())
        .find(|l| l.starts_with("wharf_pat_"))
        .unwrap_or_else(|| panic!("no token on standard error: {lines:#?}"))
        .to_owned();
    assert!(data.join("registry.db").exists());
    assert!(data.join("signing-key").exists());

    // docker login: the token endpoint, with the token as password.
    let reply = client
        .get(format!(
            "{}/token?service=localhost:{port}&scope=repository:admin/app:pull,push",
            registry.base
        ))
        .header("authorization", basic("admin", &token))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
    let bearer = format!("Bearer {}", body["token"].as_str().unwrap());

    // Push a blob and a manifest with the bearer token.
    let config = br#"{"architecture":"amd64","os":"linux","config":{"Labels":{"org.opencontainers.image.description":"bootstrapped"}}}"#;
    let digest = wharf_reference::Digest::sha256(config);
    let pushed = client
        .post(format!(
            "{}/v2/admin/app/blobs/uploads/?digest={digest}",
            registry.base
        ))
        .header("authorization", &bearer)
        .body(config.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 201);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest.to_string(), "size": config.len() },
        "layers": [],
    });
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let put = manifest_put(
        &client,
        &registry.base,
        &bearer,
        "admin/app",
        "1.0",
        manifest,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(put.status(), 201);

    // First publish is private: anonymous pulls are challenged.
    let anonymous = client
        .get(format!("{}/v2/admin/app/manifests/1.0", registry.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // The package API knows it, with its description.
    let package = format!("{}/user/packages/container/app", registry.base);
    let package = get_json(package, &format!("token {token}")).await;
    assert_eq!(package["visibility"], "private");
    assert_eq!(package["description"], "bootstrapped");
    drop(registry);

    // A second start creates no other user and prints no token.
    let again = start(&data, &[]);
    again.wait_ready(&client).await;
    let lines = again.stderr_lines();
    assert!(
        !lines.iter().any(|l| l.contains("wharf_pat_")),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn no_auth_is_announced_loudly_and_lets_anyone_push() {
    let dir = tempfile::tempdir().unwrap();
    let registry = start(dir.path(), &["--no-auth"]);
    let client = reqwest::Client::new();
    assert_eq!(registry.wait_ready(&client).await.status(), 200);
    let lines = registry.stderr_lines();
    assert!(
        lines.iter().any(|l| l.contains("WARNING: --no-auth")),
        "{lines:#?}"
    );
    let digest = wharf_reference::Digest::sha256(b"x");
    let pushed = client
        .post(format!(
            "{}/v2/anyone/app/blobs/uploads/?digest={digest}",
            registry.base
        ))
        .body(b"x".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 201);
    assert!(
        !dir.path().join("registry.db").exists(),
        "no store without accounts"
    );
}

#[test]
fn help_documents_the_authentication_settings() {
    assert_help_mentions(&[
        "--no-auth",
        "--public-url",
        "--service",
        "--code-host",
        "--signing-key-file",
        "--token-ttl",
        "--strict-annotations",
        "admin",
    ]);
}
