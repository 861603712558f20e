//! Pushes, deletes and a collector running in a loop with a grace period
//! of a few milliseconds (shorter than some pushes take between their
//! layers and their manifest, so the collector wins some races):
//! afterwards every stored manifest has every blob it references,
//! pullable and intact, and nothing else is left. A push that loses its
//! race against the collector is refused with `MANIFEST_BLOB_UNKNOWN` and
//! pushed again, as a client would.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use wharf_manifest::Manifest;
use wharf_reference::Digest;
use wharf_server::gc::GcOptions;
use wharf_storage::PageRequest;

const PUSHERS: usize = 4;
const IMAGES: usize = 8;
/// The collector's grace period while the pushes run.
const GRACE: Duration = Duration::from_millis(20);

/// Pushes an image (a base layer every pusher shares, one of its own, a
/// config) tagged `latest` to `repo` until the push is accepted; returns
/// the manifest's digest and how many attempts it took.
async fn push_until_accepted(server: &TestServer, repo: &str, seed: &str) -> (Digest, usize) {
    let base = b"the base layer every image shares".to_vec();
    let own = format!("layer {seed}").into_bytes();
    let config = format!("{{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"{seed}\"}}");
    for attempt in 1..=100 {
        let mut digests = Vec::new();
        for blob in [&base, &own, &config.as_bytes().to_vec()] {
            digests.push(server.push_blob(repo, blob).await);
        }
        let manifest = image_manifest(
            (&digests[2], config.len()),
            &[(&digests[0], base.len()), (&digests[1], own.len())],
            None,
        );
        let reply = server
            .push_manifest(repo, "latest", OCI_MANIFEST, &manifest)
            .await;
        match reply.status.as_u16() {
            201 => return (Digest::sha256(&manifest), attempt),
            400 if reply.error_code().as_deref() == Some("MANIFEST_BLOB_UNKNOWN") => continue,
            _ => panic!("push {repo}: {reply:?}"),
        }
    }
    panic!("{repo}: the collector won 100 races in a row");
}

async fn pushes_and_deletes_racing_a_collector_lose_nothing(backend: Backend) {
    let server = Arc::new(start(backend).await);
    let done = Arc::new(AtomicBool::new(false));
    let collector = {
        let (server, done) = (server.clone(), done.clone());
        tokio::spawn(async move {
            let mut runs = 0;
            while !done.load(Ordering::SeqCst) {
                let mut options = GcOptions::default();
                options.grace = GRACE;
                options.batch_size = 2;
                server
                    .registry
                    .collect_garbage(options)
                    .await
                    .expect("collection");
                runs += 1;
                tokio::task::yield_now().await;
            }
            runs
        })
    };
    let mut pushers = Vec::new();
    for p in 0..PUSHERS {
        let server = server.clone();
        pushers.push(tokio::spawn(async move {
            let repo = format!("acme/app{p}");
            let mut previous: Option<Digest> = None;
            let mut retried = 0;
            for i in 0..IMAGES {
                let (digest, attempts) =
                    push_until_accepted(&server, &repo, &format!("{p}-{i}")).await;
                retried += attempts - 1;
                // The image it replaced becomes garbage.
                if let Some(old) = previous.replace(digest) {
                    let path = format!("/v2/{repo}/manifests/{old}");
                    let reply = server.request(reqwest::Method::DELETE, &path).await;
                    assert_eq!(reply.status, 202, "{reply:?}");
                }
            }
            retried
        }));
    }
    let mut retried = 0;
    for pusher in pushers {
        retried += pusher.await.expect("pusher");
    }
    done.store(true, Ordering::SeqCst);
    let runs = collector.await.expect("collector");
    assert!(runs > 0);
    eprintln!("{runs} collections; {retried} pushes lost a race and were pushed again");

    // A last collection, then: every manifest has all its blobs, and
    // nothing else is left.
    let mut options = GcOptions::default();
    options.grace = Duration::ZERO;
    let report = server
        .registry
        .collect_garbage(options)
        .await
        .expect("collection");
    let storage = server.registry.storage();
    let all = PageRequest::all();
    let mut referenced = std::collections::BTreeSet::new();
    for name in storage.list_repositories(&all).await.expect("repos").items {
        for digest in storage
            .list_manifests(&name, &all)
            .await
            .expect("manifests")
            .items
        {
            let stored = storage
                .get_manifest(&name, &digest)
                .await
                .expect("manifest");
            let manifest =
                Manifest::parse(stored.bytes, Some(stored.media_type.as_str())).expect("parse");
            for blob in manifest.required_blobs() {
                let reply = server
                    .get(&format!("/v2/{name}/blobs/{}", blob.digest))
                    .await;
                assert_eq!(reply.status, 200, "{name}@{digest} lost {}", blob.digest);
                assert_eq!(Digest::sha256(&reply.body), blob.digest, "intact");
                referenced.insert(blob.digest.clone());
            }
        }
    }
    let stored: std::collections::BTreeSet<Digest> = storage
        .list_blobs(&all)
        .await
        .expect("blobs")
        .items
        .into_iter()
        .collect();
    assert_eq!(
        stored, referenced,
        "only referenced blobs are left\n{report}"
    );
}

on_each_backend!(pushes_and_deletes_racing_a_collector_lose_nothing);
