//! What the binary's tests share: the admin CLI, a user with a token, a
//! free port, the stores a run uses, an image manifest, requests.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};

use wharf_reference::Digest;

pub const BIN: &str = env!("CARGO_BIN_EXE_minimal-registry");

/// Runs an admin CLI command on `data`; its standard output.
pub fn admin(data: &Path, args: &[&str]) -> String {
    stdout_of(Command::new(BIN).arg("--data-dir").arg(data).args(args))
}

/// Runs `command`, which must succeed; its standard output.
pub fn stdout_of(command: &mut Command) -> String {
    let out = command.output().expect("run minimal-registry");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Where the binary keeps its stores: a data directory, with the flags and
/// the environment that name stores elsewhere.
pub struct Stores {
    pub data: tempfile::TempDir,
    /// `--database` and `--blob-store`, for the shared stores.
    pub args: Vec<String>,
    pub env: Vec<(&'static str, String)>,
}

impl Stores {
    /// The embedded default: everything in the data directory.
    pub fn embedded() -> Stores {
        Stores {
            data: tempfile::tempdir().expect("tempdir"),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// A fresh PostgreSQL database and a fresh S3 (moto) bucket, blobs
    /// under `prefix`; with the S3 endpoint and the bucket. `None` when
    /// the servers are not installed and not required.
    pub fn shared(prefix: &str) -> Option<(Stores, String, String)> {
        let pg = wharf_test_servers::postgres()?;
        let s3 = wharf_test_servers::s3()?;
        let bucket = s3.fresh_bucket();
        let stores = Stores {
            data: tempfile::tempdir().expect("tempdir"),
            args: vec![
                "--database".into(),
                pg.fresh_database(),
                "--blob-store".into(),
                format!("s3://{bucket}/{prefix}"),
            ],
            env: vec![
                ("AWS_ACCESS_KEY_ID", "test".into()),
                ("AWS_SECRET_ACCESS_KEY", "test".into()),
                ("AWS_REGION", "us-east-1".into()),
                ("AWS_ENDPOINT", s3.endpoint()),
                ("AWS_ALLOW_HTTP", "true".into()),
            ],
        };
        Some((stores, s3.endpoint(), bucket))
    }

    /// The binary on these stores (`RUST_LOG` unset), with `args`.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg("--data-dir")
            .arg(self.data.path())
            .args(&self.args)
            .args(args)
            .env_remove("RUST_LOG")
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())));
        command
    }
}

/// Creates `user` with a personal access token of `scopes`; the
/// `Authorization: Basic ...` value that logs in with it.
pub fn user_with_token(data: &Path, user: &str, scopes: &str) -> String {
    use base64::Engine as _;
    let pair = format!("{user}:{}", user_with_secret(data, user, scopes));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Creates `user` with a personal access token of `scopes`; the token.
pub fn user_with_secret(data: &Path, user: &str, scopes: &str) -> String {
    admin(data, &["user", "create", user]);
    let secret = admin(data, &["token", "create", user, "--scopes", scopes]);
    secret.trim().to_owned()
}

/// `GET url` with `authorization`, which must answer 200; its JSON body.
pub async fn get_json(url: String, authorization: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .get(&url)
        .header("authorization", authorization)
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET {url}: {err}"));
    assert_eq!(response.status(), 200, "GET {url}");
    let body = response.bytes().await.expect("body");
    serde_json::from_slice(&body).unwrap_or_else(|err| panic!("GET {url}: {err}"))
}

/// The environment variable `name` parsed, or `default` when it is unset
/// or does not parse (for the sizes of the long-running tests).
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// An OCI image manifest over a config and one layer.
pub fn manifest(config: &[u8], layer: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": Digest::sha256(config).to_string(),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": Digest::sha256(layer).to_string(),
            "size": layer.len(),
        }],
    }))
    .expect("json")
}

/// The binary serving `data` on 127.0.0.1:`port`, logging only errors,
/// its output discarded.
pub fn spawn_quiet(port: u16, data: &Path) -> Child {
    listening(port)
        .arg("--data-dir")
        .arg(data)
        .args(["--log-level", "error"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn minimal-registry")
}

/// The binary listening on 127.0.0.1:`port`, with `RUST_LOG` unset.
pub fn listening(port: u16) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG");
    command
}

/// A monolithic blob upload of `blob` into `repo` at `base`, as `auth`.
pub fn blob_upload(
    client: &reqwest::Client,
    base: &str,
    auth: &str,
    repo: &str,
    blob: Vec<u8>,
) -> reqwest::RequestBuilder {
    let digest = Digest::sha256(&blob);
    client
        .post(format!("{base}/v2/{repo}/blobs/uploads/?digest={digest}"))
        .header("authorization", auth)
        .header("content-type", "application/octet-stream")
        .body(blob)
}

/// A PUT of the OCI image `manifest` to `repo` at `base`, tagged `tag`,
/// as `auth`.
pub fn manifest_put(
    client: &reqwest::Client,
    base: &str,
    auth: &str,
    repo: &str,
    tag: &str,
    manifest: Vec<u8>,
) -> reqwest::RequestBuilder {
    let media_type = "application/vnd.oci.image.manifest.v1+json";
    manifest_put_as(client, base, auth, repo, tag, media_type, manifest)
}

/// A PUT of `manifest` of `media_type` to `repo` at `base`, under
/// `reference` (a tag or its digest), as `auth`.
pub fn manifest_put_as(
    client: &reqwest::Client,
    base: &str,
    auth: &str,
    repo: &str,
    reference: &str,
    media_type: &str,
    manifest: Vec<u8>,
) -> reqwest::RequestBuilder {
    client
        .put(format!("{base}/v2/{repo}/manifests/{reference}"))
        .header("authorization", auth)
        .header("content-type", media_type)
        .body(manifest)
}

/// Sends `request` and asserts that it answers 201 Created.
pub async fn expect_created(request: reqwest::RequestBuilder) {
    let r = request.send().await.expect("send");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
}

/// Asserts that `--help` succeeds and mentions each of `words`.
pub fn assert_help_mentions(words: &[&str]) {
    let output = Command::new(BIN).arg("--help").output().expect("--help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for word in words {
        assert!(
            help.contains(word),
            "--help does not mention {word}:\n{help}"
        );
    }
}
