//! `minimal-registry gc`: one collection over an embedded-default data
//! directory, while the registry serves it, with its figures printed.

mod common;

use std::process::{Child, Stdio};
use std::time::Duration;

use common::*;
use wharf_reference::Digest;

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `gc` with `args` on `stores`; its standard output.
fn gc(stores: &Stores, args: &[&str]) -> String {
    stdout_of(stores.command(&["gc"]).args(args))
}

/// The number after `label: ` on the line that starts with it.
fn figure(report: &str, label: &str) -> u64 {
    report
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{label}: ")))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} in\n{report}"))
}

#[tokio::test]
async fn gc_reports_and_removes_what_nothing_references_on_the_embedded_default() {
    collects(&Stores::embedded()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn gc_reports_and_removes_what_nothing_references_on_s3_and_postgres() {
    let Some((stores, _, _)) = Stores::shared("registry") else {
        return;
    };
    collects(&stores).await;
}

/// Pushes two images sharing a layer and a blob nothing references,
/// deletes one image, and checks what `gc` reports and removes, while the
/// registry serves the stores.
async fn collects(stores: &Stores) {
    let port = free_port();
    let serving = Serving(
        stores
            .command(&["--listen", &format!("127.0.0.1:{port}")])
            .args(["--no-auth", "--gc-interval", "off", "--log-level", "error"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/v2/")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // acme/a and acme/b share a layer; acme/a's manifest is deleted; a
    // blob pushed to acme/app is never referenced.
    let auth = "";
    let shared = b"a layer both images have".to_vec();
    let (config_a, config_b) = (b"{\"image\":\"a\"}".to_vec(), b"{\"image\":\"b\"}".to_vec());
    let stray = b"uploaded, never referenced".to_vec();
    for (repo, blob) in [
        ("acme/a", &config_a),
        ("acme/a", &shared),
        ("acme/b", &config_b),
        ("acme/b", &shared),
        ("acme/app", &stray),
    ] {
        expect_created(blob_upload(&client, &base, auth, repo, blob.clone())).await;
    }
    let manifest_a = manifest(&config_a, &shared);
    let digest_a = Digest::sha256(&manifest_a);
    expect_created(manifest_put(
        &client, &base, auth, "acme/a", "1", manifest_a,
    ))
    .await;
    expect_created(manifest_put(
        &client,
        &base,
        auth,
        "acme/b",
        "1",
        manifest(&config_b, &shared),
    ))
    .await;
    let deleted = client
        .delete(format!("{base}/v2/acme/a/manifests/{digest_a}"))
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 202);

    // Within the default grace period (1h) nothing would go.
    let fresh = gc(stores, &["--dry-run"]);
    assert_eq!(figure(&fresh, "links that would be removed"), 0, "{fresh}");
    assert_eq!(figure(&fresh, "blobs that would be removed"), 0, "{fresh}");

    // acme/a's two links and acme/app's; config a and the stray blob.
    let freed = (config_a.len() + stray.len()) as u64;
    let dry = gc(stores, &["--dry-run", "--grace", "0s"]);
    assert!(dry.starts_with("dry run: nothing was changed"), "{dry}");
    assert_eq!(figure(&dry, "repositories scanned"), 3, "{dry}");
    assert_eq!(figure(&dry, "links that would be removed"), 3, "{dry}");
    assert_eq!(figure(&dry, "blobs that would be removed"), 2, "{dry}");
    assert_eq!(figure(&dry, "bytes that would be freed"), freed, "{dry}");
    let stray_url = format!("{base}/v2/acme/app/blobs/{}", Digest::sha256(&stray));
    let still = client.get(&stray_url).send().await.expect("get");
    assert_eq!(still.status(), 200, "a dry run changes nothing");

    let real = gc(stores, &["--grace", "0s"]);
    assert_eq!(figure(&real, "links removed"), 3, "{real}");
    assert_eq!(figure(&real, "blobs removed"), 2, "{real}");
    assert_eq!(figure(&real, "bytes freed"), freed, "{real}");
    assert!(real.contains("time taken: "), "{real}");

    let again = gc(stores, &["--grace", "0s"]);
    assert_eq!(figure(&again, "links removed"), 0, "{again}");
    assert_eq!(figure(&again, "blobs removed"), 0, "{again}");

    let gone = client.get(&stray_url).send().await.expect("get");
    assert_eq!(gone.status(), 404);
    let kept = client
        .get(format!(
            "{base}/v2/acme/b/blobs/{}",
            Digest::sha256(&shared)
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(kept.status(), 200);
    assert_eq!(
        kept.bytes().await.expect("body").as_ref(),
        shared.as_slice()
    );
    drop(serving);
}
