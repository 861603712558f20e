//! What the binary's tests share: the admin CLI, a user with a token, a
//! free port, an image manifest.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};

use wharf_reference::Digest;

pub const BIN: &str = env!("CARGO_BIN_EXE_minimal-registry");

/// Runs an admin CLI command on `data`; its standard output.
pub fn admin(data: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run the admin CLI");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
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
    Command::new(BIN)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data)
        .args(["--log-level", "error"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn minimal-registry")
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
