//! `minimal-registry import --from DIR`: a registry that ran on its data
//! directory, copied into PostgreSQL and a blob store, serves the same
//! images, referrers and tokens, keeps deleted versions and packages
//! restorable and revoked tokens revoked when they were; a second run
//! changes nothing, and a stopped run is finished by the next.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::Duration;

use common::{
    blob_upload, expect_created, free_port, get_json, listening, manifest, manifest_put,
    manifest_put_as, user_with_token, BIN,
};
use reqwest::Method;
use wharf_reference::Digest;

/// A registry process, killed when dropped.
struct Running {
    child: Child,
    base: String,
}

impl Running {
    async fn start(data: &Path, extra: &[String]) -> Running {
        let port = free_port();
        let child = listening(port)
            .arg("--data-dir")
            .arg(data)
            .args(["--log-level", "error"])
            .args(extra)
            .spawn()
            .expect("spawn minimal-registry");
        let running = Running {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if client
                .get(format!("{}/v2/", running.base))
                .send()
                .await
                .is_ok()
            {
                return running;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the registry did not come up");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(data: &Path, args: &[String]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .expect("run minimal-registry")
}

fn text(output: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// What was pushed, to be pulled back.
struct Pushed {
    blobs: Vec<Vec<u8>>,
    /// (reference, content type, bytes)
    manifests: Vec<(String, &'static str, Vec<u8>)>,
    subject: Digest,
    referrer: Digest,
}

const IMAGE: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";

async fn push(base: &str, auth: &str) -> Pushed {
    let client = reqwest::Client::new();
    let repo = "alice/app";
    let blobs: Vec<Vec<u8>> = vec![
        br#"{"architecture":"amd64","os":"linux"}"#.to_vec(),
        br#"{"architecture":"arm64","os":"linux"}"#.to_vec(),
        vec![7u8; 300_000],
        b"second layer".to_vec(),
        b"{}".to_vec(),
        b"signature".to_vec(),
    ];
    for blob in &blobs {
        expect_created(blob_upload(&client, base, auth, repo, blob.clone())).await;
    }
    let amd64 = manifest(&blobs[0], &blobs[2]);
    let arm64 = manifest(&blobs[1], &blobs[3]);
    let mut manifests = Vec::new();
    for (tag, bytes) in [("amd64", &amd64), ("arm64", &arm64)] {
        expect_created(manifest_put(&client, base, auth, repo, tag, bytes.clone())).await;
        manifests.push((tag.to_owned(), IMAGE, bytes.clone()));
    }
    let descriptor = |bytes: &[u8], arch: &str| {
        serde_json::json!({
            "mediaType": IMAGE,
            "digest": Digest::sha256(bytes).to_string(),
            "size": bytes.len(),
            "platform": {"architecture": arch, "os": "linux"},
        })
    };
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": INDEX,
        "manifests": [descriptor(&amd64, "amd64"), descriptor(&arm64, "arm64")],
    }))
    .expect("json");
    let put = manifest_put_as(&client, base, auth, repo, "latest", INDEX, index.clone());
    expect_created(put).await;
    manifests.push(("latest".to_owned(), INDEX, index.clone()));
    let subject = Digest::sha256(&index);
    let referrer = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": IMAGE,
        "artifactType": "application/vnd.example.signature",
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": Digest::sha256(b"{}").to_string(),
            "size": 2,
        },
        "layers": [{
            "mediaType": "application/vnd.example.signature.v1",
            "digest": Digest::sha256(b"signature").to_string(),
            "size": 9,
        }],
        "subject": {"mediaType": INDEX, "digest": subject.to_string(), "size": index.len()},
        "annotations": {"org.example.signed-by": "alice"},
    }))
    .expect("json");
    let referrer_digest = Digest::sha256(&referrer);
    let reference = referrer_digest.to_string();
    let put = manifest_put_as(
        &client,
        base,
        auth,
        repo,
        &reference,
        IMAGE,
        referrer.clone(),
    );
    expect_created(put).await;
    manifests.push((referrer_digest.to_string(), IMAGE, referrer));
    Pushed {
        blobs,
        manifests,
        subject,
        referrer: referrer_digest,
    }
}

/// Removes the first file under `dir` whose path contains `name`;
/// whether there was one.
fn remove_named(dir: &Path, name: &str) -> bool {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            if remove_named(&path, name) {
                return true;
            }
        } else if path.to_string_lossy().contains(name) {
            std::fs::remove_file(&path).expect("remove");
            return true;
        }
    }
    false
}

/// Pushes a one-layer image to `repo` as `auth`, tagged v1; its digest.
async fn push_small(base: &str, auth: &str, repo: &str) -> Digest {
    push_layer(base, auth, repo, "v1", b"acme layer").await
}

/// Pushes an image of one `layer` to `repo` as `auth`, tagged `tag`; its
/// digest.
async fn push_layer(base: &str, auth: &str, repo: &str, tag: &str, layer: &[u8]) -> Digest {
    let client = reqwest::Client::new();
    let (config, layer) = (b"{\"os\":\"linux\"}".to_vec(), layer.to_vec());
    for blob in [&config, &layer] {
        expect_created(blob_upload(&client, base, auth, repo, blob.clone())).await;
    }
    let bytes = manifest(&config, &layer);
    expect_created(manifest_put(&client, base, auth, repo, tag, bytes.clone())).await;
    Digest::sha256(&bytes)
}

async fn pull_everything(base: &str, auth: &str, pushed: &Pushed) {
    let client = reqwest::Client::new();
    // A GET of `path` in alice/app, as `auth`.
    let get = |path: String| {
        client
            .get(format!("{base}/v2/alice/app/{path}"))
            .header("authorization", auth)
    };
    for blob in &pushed.blobs {
        let digest = Digest::sha256(blob);
        let r = get(format!("blobs/{digest}"))
            .send()
            .await
            .expect("get blob");
        assert_eq!(r.status(), 200, "blob {digest}");
        assert_eq!(r.bytes().await.expect("body").as_ref(), blob.as_slice());
    }
    for (reference, content_type, bytes) in &pushed.manifests {
        for reference in [reference.clone(), Digest::sha256(bytes).to_string()] {
            let r = get(format!("manifests/{reference}"))
                .header("accept", format!("{IMAGE}, {INDEX}"))
                .send()
                .await
                .expect("get manifest");
            assert_eq!(r.status(), 200, "manifest {reference}");
            assert_eq!(r.headers()["content-type"], *content_type);
            assert_eq!(r.bytes().await.expect("body").as_ref(), bytes.as_slice());
        }
    }
    let r = get(format!("referrers/{}", pushed.subject))
        .send()
        .await
        .expect("referrers");
    assert_eq!(r.status(), 200);
    let referrers: serde_json::Value =
        serde_json::from_slice(&r.bytes().await.expect("body")).expect("json");
    let listed = referrers["manifests"].as_array().expect("manifests");
    assert_eq!(listed.len(), 1, "{referrers}");
    assert_eq!(listed[0]["digest"], pushed.referrer.to_string());
    assert_eq!(
        listed[0]["artifactType"],
        "application/vnd.example.signature"
    );
    assert_eq!(
        listed[0]["annotations"]["org.example.signed-by"], "alice",
        "{referrers}"
    );
    let r = get("tags/list".to_owned()).send().await.expect("tags");
    let tags: serde_json::Value =
        serde_json::from_slice(&r.bytes().await.expect("body")).expect("json");
    assert_eq!(
        tags["tags"],
        serde_json::json!(["amd64", "arm64", "latest"]),
        "{tags}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_embedded_registry_imported_into_postgres_serves_the_same_images_and_tokens() {
    let Some(pg) = wharf_test_servers::postgres() else {
        return;
    };
    let old = tempfile::tempdir().expect("tempdir");
    let auth = user_with_token(old.path(), "alice", "read:packages,write:packages");
    common::admin(old.path(), &["org", "create", "acme"]);
    common::admin(
        old.path(),
        &["org", "add-member", "acme", "alice", "--role", "admin"],
    );
    common::admin(
        old.path(),
        &["repo-access", "set", "acme/app", "alice", "--role", "write"],
    );
    let workflow = {
        use base64::Engine as _;
        let secret = common::admin(old.path(), &["workflow-token", "create", "acme/app"]);
        let pair = format!("x-access-token:{}", secret.trim());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let (pushed, acme_digest) = {
        let registry = Running::start(old.path(), &[]).await;
        let pushed = push(&registry.base, &auth).await;
        (
            pushed,
            push_small(&registry.base, &workflow, "acme/app").await,
        )
    };

    let destination = Destination::new(pg.fresh_database());
    let (blobs, new, shared) = (&destination.blobs, &destination.data, &destination.args);
    let import = |lines: &[&str]| destination.import(old.path(), lines);
    import(&[
        "blobs: 8 copied (",
        "repositories: 2 (8 blob links, 5 manifests of which 1 referrers, 4 tags)",
        "accounts: 2 created, 0 already present; 1 organization memberships",
        "tokens: 2 copied, 0 already present",
        "packages: 2 created, 0 already present; 5 versions",
    ]);

    // Again: everything is there already, nothing changes.
    import(&[
        "blobs: 0 copied (0 bytes, every digest verified), 8 already present",
        "repositories: 2 (8 blob links, 5 manifests of which 1 referrers, 4 tags)",
        "accounts: 0 created, 2 already present",
        "tokens: 0 copied, 2 already present",
        "packages: 0 created, 2 already present; 5 versions",
    ]);

    // As if an import had stopped before the large layer: the next run
    // copies that blob alone.
    let layer = Digest::sha256(&pushed.blobs[2]).to_string();
    let hex = layer.trim_start_matches("sha256:");
    assert!(
        remove_named(blobs.path(), hex),
        "no file of {layer} in the blob store"
    );
    import(&["blobs: 1 copied (300000 bytes, every digest verified), 7 already present"]);

    let registry = Running::start(new.path(), shared).await;
    pull_everything(&registry.base, &auth, &pushed).await;
    // The workflow token still reads what it published.
    let r = reqwest::Client::new()
        .get(format!(
            "{}/v2/acme/app/manifests/{acme_digest}",
            registry.base
        ))
        .header("authorization", &workflow)
        .header("accept", IMAGE)
        .send()
        .await
        .expect("get with the workflow token");
    assert_eq!(r.status(), 200);
    assert_eq!(Digest::sha256(&r.bytes().await.expect("body")), acme_digest);
    // The organization kept its member and the repository its collaborator.
    let members = run(
        new.path(),
        &[
            shared.clone(),
            vec!["org".into(), "members".into(), "acme".into()],
        ]
        .concat(),
    );
    assert!(
        String::from_utf8_lossy(&members.stdout).contains("alice"),
        "{}",
        text(&members)
    );
    let collaborators = run(
        new.path(),
        &[
            shared.clone(),
            vec!["repo-access".into(), "list".into(), "acme/app".into()],
        ]
        .concat(),
    );
    let listing = String::from_utf8_lossy(&collaborators.stdout);
    assert!(
        listing.contains("alice") && listing.contains("write"),
        "{}",
        text(&collaborators)
    );
    // The package stayed private: without the token, nothing.
    let r = reqwest::get(format!("{}/v2/alice/app/manifests/latest", registry.base))
        .await
        .expect("anonymous get");
    assert_eq!(r.status(), 401);
    // The blobs are in the blob store.
    assert!(
        std::fs::read_dir(blobs.path())
            .expect("blob store")
            .next()
            .is_some(),
        "the blob store is empty"
    );
}

/// The versions of alice's package `app` in `state` (active or deleted),
/// as the REST API lists them.
async fn versions(base: &str, auth: &str, state: &str) -> Vec<serde_json::Value> {
    let url = format!("{base}/user/packages/container/app/versions?state={state}");
    let listed = get_json(url, auth).await;
    listed.as_array().expect("a list of versions").clone()
}

/// The status of a GET of alice/app's manifest `reference`.
async fn manifest_status(base: &str, auth: &str, reference: &str) -> u16 {
    manifest_status_in(base, auth, "app", reference).await
}

/// The status of a GET of the manifest `reference` of alice's `package`.
async fn manifest_status_in(base: &str, auth: &str, package: &str, reference: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/v2/alice/{package}/manifests/{reference}"))
        .header("authorization", auth)
        .header("accept", IMAGE)
        .send()
        .await
        .expect("get manifest")
        .status()
        .as_u16()
}

/// An admin listing without its first column (ids, which a copy renumbers).
fn without_ids(listing: &str) -> Vec<String> {
    listing
        .lines()
        .map(|line| {
            line.split_whitespace()
                .skip(1)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_versions_revoked_tokens_and_repositories_without_packages_are_imported() {
    let Some(pg) = wharf_test_servers::postgres() else {
        return;
    };
    let old = tempfile::tempdir().expect("tempdir");
    let scopes = "read:packages,write:packages,delete:packages";
    let auth = user_with_token(old.path(), "alice", scopes);
    let spare = admin_token(old.path(), "spare");
    common::admin(old.path(), &["org", "create", "acme"]);
    // Source repositories no package is linked to or named after.
    common::admin(old.path(), &["workflow-token", "create", "acme/tool"]);
    common::admin(
        old.path(),
        &["repo-access", "set", "acme/lib", "alice", "--role", "read"],
    );
    let (old_digest, deleted_at) = {
        let registry = Running::start(old.path(), &[]).await;
        let old_digest = push_layer(&registry.base, &auth, "alice/app", "old", b"one").await;
        push_layer(&registry.base, &auth, "alice/app", "new", b"two").await;
        let live = versions(&registry.base, &auth, "active").await;
        let id = live
            .iter()
            .find(|v| v["name"] == old_digest.to_string())
            .expect("the old version")["id"]
            .clone();
        let version = format!("app/versions/{id}");
        let status = package_api(&registry.base, &auth, Method::DELETE, &version, None).await;
        assert_eq!(status, 204);
        // A retention policy of its own (applied hourly: nothing to do).
        let policy = Some(r#"{"keep_latest": 5, "protected_tags": ["v*"]}"#);
        let status = package_api(&registry.base, &auth, Method::PUT, "app/retention", policy);
        assert_eq!(status.await, 200);
        // An admin unlinks the package: a push must not link it again.
        let unlink = Some(r#"{"repository": null}"#);
        let status = package_api(&registry.base, &auth, Method::PATCH, "app", unlink).await;
        assert_eq!(status, 200);
        // The spare token is used once, then revoked a second later.
        assert_eq!(manifest_status(&registry.base, &spare, "new").await, 200);
        let deleted = versions(&registry.base, &auth, "deleted").await;
        assert_eq!(deleted.len(), 1);
        // A deleted package, and one whose name was taken again since.
        push_layer(&registry.base, &auth, "alice/gone", "g1", b"gone").await;
        delete_package(&registry.base, &auth, "gone").await;
        push_layer(&registry.base, &auth, "alice/reused", "r1", b"r-old").await;
        delete_package(&registry.base, &auth, "reused").await;
        push_layer(&registry.base, &auth, "alice/reused", "r2", b"r-new").await;
        (old_digest, deleted[0]["deleted_at"].clone())
    };
    std::thread::sleep(Duration::from_millis(1100));
    let tokens = common::admin(old.path(), &["token", "list", "alice"]);
    let spare_id = tokens
        .lines()
        .find(|line| line.contains("spare"))
        .and_then(|line| line.split_whitespace().next())
        .expect("the spare token's id")
        .to_owned();
    common::admin(old.path(), &["token", "revoke", &spare_id]);

    let destination = Destination::new(pg.fresh_database());
    let (new, shared) = (&destination.data, &destination.args);
    let import = |lines: &[&str]| destination.import(old.path(), lines);
    // A run that stops in the middle of a deleted package (its archived
    // manifest unreadable for a moment), after creating it live on the
    // destination: the next run finishes it.
    let manifest = archived_manifest(old.path(), "alice/gone");
    let intact = std::fs::read(&manifest).expect("read the archived manifest");
    std::fs::write(&manifest, b"not a manifest").expect("spoil it");
    let stopped = destination.run_import(old.path());
    assert!(!stopped.status.success(), "{}", text(&stopped));
    assert!(
        String::from_utf8_lossy(&stopped.stderr).contains("deleted package alice/gone"),
        "{}",
        text(&stopped)
    );
    std::fs::write(&manifest, intact).expect("mend it");
    import(&[
        // Personal tokens went with the accounts, before the stop.
        "tokens: 1 copied, 2 already present",
        "source repositories: 2 (1 collaborators)",
        "2 versions; 1 deleted versions copied, 0 already present",
        "archives of deleted packages: 2 copied, 0 already present, 0 others not imported",
        "deleted packages: 2 copied (2 versions), 0 already present",
    ]);
    import(&[
        "tokens: 0 copied, 3 already present",
        "2 versions; 0 deleted versions copied, 1 already present",
        "archives of deleted packages: 0 copied, 2 already present, 0 others not imported",
        "deleted packages: 0 copied (0 versions), 2 already present",
    ]);
    // The same tokens, revoked and used when they were, and the same
    // repositories.
    let on = |data: &Path, extra: &[String], args: &[&str]| {
        let mut all = extra.to_vec();
        all.extend(args.iter().map(|arg| (*arg).to_owned()));
        let output = run(data, &all);
        assert!(output.status.success(), "{}", text(&output));
        without_ids(&String::from_utf8_lossy(&output.stdout))
    };
    for args in [
        &["token", "list", "alice"][..],
        &["workflow-token", "list", "acme/tool"],
        &["repo-access", "list", "acme/lib"],
    ] {
        assert_eq!(
            on(old.path(), &[], args),
            on(new.path(), shared, args),
            "{args:?}"
        );
    }

    // Source labels on github.com link packages (unless unlinked).
    let serve = [
        shared.clone(),
        vec!["--code-host".into(), "github.com".into()],
    ]
    .concat();
    let registry = Running::start(new.path(), &serve).await;
    assert_eq!(manifest_status(&registry.base, &spare, "new").await, 401);
    // The deleted version arrived deleted, at its time, and restores with
    // its tag.
    assert_eq!(manifest_status(&registry.base, &auth, "old").await, 404);
    let deleted = versions(&registry.base, &auth, "deleted").await;
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0]["name"], old_digest.to_string());
    assert_eq!(deleted[0]["deleted_at"], deleted_at);
    let restore = format!("app/versions/{}/restore", deleted[0]["id"]);
    let status = package_api(&registry.base, &auth, Method::POST, &restore, None).await;
    assert_eq!(status, 204);
    assert_eq!(manifest_status(&registry.base, &auth, "old").await, 200);
    // The deleted packages: the reused name serves the new package only,
    // the free one restores with its content.
    let status = |package, reference| manifest_status_in(&registry.base, &auth, package, reference);
    assert_eq!(status("reused", "r2").await, 200);
    assert_ne!(status("reused", "r1").await, 200);
    assert_ne!(status("gone", "g1").await, 200);
    let restored = package_api(&registry.base, &auth, Method::POST, "gone/restore", None);
    assert_eq!(restored.await, 204);
    assert_eq!(status("gone", "g1").await, 200);
    // The retention policy came along.
    let app = format!("{}/user/packages/container/app", registry.base);
    let retention = get_json(format!("{app}/retention"), &auth).await;
    assert_eq!(
        retention,
        serde_json::json!({
            "policy": {"keep_latest": 5, "protected_tags": ["v*"]},
            "source": "package",
        })
    );
    // The unlink was kept: a source label pushed now links nothing.
    let client = reqwest::Client::new();
    let labelled = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": IMAGE,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": Digest::sha256(b"{\"os\":\"linux\"}").to_string(),
            "size": 15,
        },
        "layers": [],
        "annotations": {"org.opencontainers.image.source": "https://github.com/alice/app"},
    }))
    .expect("json");
    let put = manifest_put(
        &client,
        &registry.base,
        &auth,
        "alice/app",
        "labelled",
        labelled,
    );
    expect_created(put).await;
    let package = get_json(app, &auth).await;
    assert!(
        package
            .get("repository")
            .is_none_or(serde_json::Value::is_null),
        "{package}"
    );
}

/// Deletes alice's package `name` through the REST API.
async fn delete_package(base: &str, auth: &str, name: &str) {
    assert_eq!(
        package_api(base, auth, Method::DELETE, name, None).await,
        204
    );
}

/// The status of `method` on `path` under alice's packages
/// (`/user/packages/container/`) of the REST API as `auth`, sending the
/// JSON `body` if any.
async fn package_api(
    base: &str,
    auth: &str,
    method: Method,
    path: &str,
    body: Option<&'static str>,
) -> u16 {
    let mut request = reqwest::Client::new()
        .request(method, format!("{base}/user/packages/container/{path}"))
        .header("authorization", auth);
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    request.send().await.expect("package API").status().as_u16()
}

/// A second personal access token of alice, read only, noted `note`; the
/// `Authorization: Basic ...` value that logs in with it.
fn admin_token(data: &Path, note: &str) -> String {
    use base64::Engine as _;
    let args = [
        "token",
        "create",
        "alice",
        "--scopes",
        "read:packages",
        "--note",
        note,
    ];
    let secret = common::admin(data, &args);
    let pair = format!("alice:{}", secret.trim());
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// PostgreSQL and a blob store on the filesystem to import into.
struct Destination {
    blobs: tempfile::TempDir,
    /// The data directory (which holds neither blobs nor metadata).
    data: tempfile::TempDir,
    /// The options that name the two stores.
    args: Vec<String>,
}

impl Destination {
    fn new(database: String) -> Destination {
        let blobs = tempfile::tempdir().expect("tempdir");
        let data = tempfile::tempdir().expect("tempdir");
        let args = vec![
            "--database".to_owned(),
            database,
            "--blob-store".to_owned(),
            format!("file://{}", blobs.path().display()),
        ];
        Destination { blobs, data, args }
    }

    /// Imports `from`, and checks that the report says each of `lines`.
    fn import(&self, from: &Path, lines: &[&str]) {
        let output = self.run_import(from);
        assert!(output.status.success(), "{}", text(&output));
        let report = String::from_utf8_lossy(&output.stdout).into_owned();
        for line in lines {
            assert!(report.contains(line), "{line:?} not in\n{report}");
        }
    }
}

impl Destination {
    /// Runs an import of `from`.
    fn run_import(&self, from: &Path) -> Output {
        let mut args = self.args.clone();
        args.extend(["import".to_owned(), "--from".to_owned()]);
        args.push(from.display().to_string());
        run(self.data.path(), &args)
    }
}

/// The file of the one manifest archived from `repository` in the data
/// directory `data` (the filesystem layout: `archives/KEY/origin`,
/// `archives/KEY/_manifests/ALGORITHM/HEX`).
fn archived_manifest(data: &Path, repository: &str) -> std::path::PathBuf {
    for entry in std::fs::read_dir(data.join("archives")).expect("archives") {
        let archive = entry.expect("entry").path();
        let origin = std::fs::read_to_string(archive.join("origin")).unwrap_or_default();
        if origin.contains(&format!("\"{repository}\"")) {
            let sha256 = archive.join("_manifests").join("sha256");
            let mut files = std::fs::read_dir(sha256).expect("manifests");
            return files.next().expect("a manifest").expect("entry").path();
        }
    }
    panic!("no archive of {repository}");
}

/// Imports `from` into `data`, which must fail saying `message`.
fn assert_import_refused(data: &Path, from: &Path, message: &str) {
    let from = from.display().to_string();
    let out = run(data, &["import".into(), "--from".into(), from]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(message), "{}", text(&out));
}

#[test]
fn a_directory_that_is_not_a_registry_is_refused() {
    let empty = tempfile::tempdir().expect("tempdir");
    let target = tempfile::tempdir().expect("tempdir");
    assert_import_refused(target.path(), empty.path(), "not a registry data directory");
}

#[test]
fn importing_into_the_data_directory_it_reads_is_refused() {
    let data = tempfile::tempdir().expect("tempdir");
    common::admin(data.path(), &["user", "create", "alice"]);
    assert_import_refused(
        data.path(),
        data.path(),
        "it is the data directory these settings store into",
    );
}
