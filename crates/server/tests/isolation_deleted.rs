//! Issue 8, finding 2: nothing of a deleted package is reachable through a
//! new package of the same name (manifests, tags, blob links, referrers,
//! mounts), by digest or otherwise; restoring the old one follows GitHub's
//! rule (only while the name is free); the purge removes its content.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::ghcr::Ghcr;
use common::*;
use reqwest::Method;
use serde_json::json;
use wharf_reference::Digest;

const PACKAGE: &str = "/orgs/acme/packages/container/vault";
const SIGNATURE: &str = "application/vnd.example.signature";

/// What alice published to acme/vault before deleting it.
struct Old {
    image: Digest,
    config: Digest,
    layer: Digest,
    signature: Digest,
}

/// Publishes acme/vault:v1 as alice, with a signature referring to it.
async fn publish_old(ghcr: &Ghcr) -> Old {
    let alice = ghcr.basic("alice");
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = b"the vault's secret layer";
    for blob in [&config[..], &layer[..]] {
        let reply = ghcr.push_blob_as(&alice, "acme/vault", blob).await;
        assert_eq!(reply.status, 201, "{reply:?}");
    }
    let image = put_manifest(
        ghcr,
        &alice,
        "v1",
        &json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": descriptor(OCI_CONFIG, &Digest::sha256(config), config.len()),
            "layers": [descriptor(OCI_LAYER, &Digest::sha256(layer), layer.len())],
        }),
    )
    .await;
    let empty = b"{}";
    let reply = ghcr.push_blob_as(&alice, "acme/vault", empty).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let image_bytes = ghcr
        .get_as("alice", &format!("/v2/acme/vault/manifests/{image}"))
        .await
        .body;
    let signature = put_manifest(
        ghcr,
        &alice,
        "@",
        &json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": SIGNATURE,
            "config": descriptor("application/vnd.oci.empty.v1+json", &Digest::sha256(empty), empty.len()),
            "layers": [descriptor("application/vnd.oci.empty.v1+json", &Digest::sha256(empty), empty.len())],
            "subject": descriptor(OCI_MANIFEST, &image, image_bytes.len()),
        }),
    )
    .await;
    Old {
        image,
        config: Digest::sha256(config),
        layer: Digest::sha256(layer),
        signature,
    }
}

/// PUTs a manifest to acme/vault by tag (or by digest for `"@"`); asserts
/// 201 and returns its digest.
async fn put_manifest(
    ghcr: &Ghcr,
    authorization: &str,
    reference: &str,
    manifest: &serde_json::Value,
) -> Digest {
    let (reply, digest, _) = ghcr
        .put_manifest_as(authorization, "acme/vault", reference, manifest)
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    digest
}

/// A registry on `backend` where alice published acme/vault (see
/// [`publish_old`]) and deleted it.
async fn deleted_package(backend: Backend) -> (Ghcr, Old) {
    let ghcr = Ghcr::start_on_storage(backend).await;
    let old = publish_old(&ghcr).await;
    let deleted = ghcr.delete_as("alice", PACKAGE).await;
    assert_eq!(deleted.status, 204, "{deleted:?}");
    (ghcr, old)
}

/// What the startup reconciliation repaired.
async fn reconcile(registry: &wharf_server::Registry) -> wharf_server::ArchiveRepairs {
    let repairs = registry.reconcile_package_archives().await;
    repairs.expect("reconcile")
}

/// `PUT location?digest=...` as alice: completes her upload session at
/// `location` with the last chunk `body`.
async fn finish_upload(ghcr: &Ghcr, location: &str, digest: &Digest, body: Vec<u8>) -> Reply {
    let separator = if location.contains('?') { '&' } else { '?' };
    let url = format!("{location}{separator}digest={digest}");
    let alice = ghcr.basic("alice");
    ghcr.send(Method::PUT, &url, Some(&alice), body).await
}

/// Asserts that `who` reaches nothing of `old` through acme/vault.
async fn assert_nothing_reachable(ghcr: &Ghcr, who: &str, old: &Old) {
    let auth = ghcr.basic(who);
    for digest in [&old.image, &old.signature] {
        let path = format!("/v2/acme/vault/manifests/{digest}");
        let reply = ghcr.get(&path, Some(&auth)).await;
        assert_eq!(reply.status, 404, "GET {path}: {reply:?}");
        assert_eq!(reply.error_code().as_deref(), Some("MANIFEST_UNKNOWN"));
        let head = ghcr
            .send(Method::HEAD, &path, Some(&auth), Vec::new())
            .await;
        assert_eq!(head.status, 404, "HEAD {path}: {head:?}");
    }
    for digest in [&old.config, &old.layer] {
        let path = format!("/v2/acme/vault/blobs/{digest}");
        let reply = ghcr.get(&path, Some(&auth)).await;
        assert_eq!(reply.status, 404, "GET {path}: {reply:?}");
        assert_eq!(reply.error_code().as_deref(), Some("BLOB_UNKNOWN"));
    }
    let tag = ghcr.get("/v2/acme/vault/manifests/v1", Some(&auth)).await;
    assert_eq!(tag.status, 404, "the old tag: {tag:?}");
    let referrers = ghcr
        .get(
            &format!("/v2/acme/vault/referrers/{}", old.image),
            Some(&auth),
        )
        .await;
    if referrers.status == 200 {
        assert_eq!(
            referrers.json()["manifests"],
            json!([]),
            "referrers of the old image: {referrers:?}"
        );
    }
    let tags = ghcr.get("/v2/acme/vault/tags/list", Some(&auth)).await;
    if tags.status == 200 {
        let listed = tags.json()["tags"].clone();
        assert!(
            !listed.as_array().is_some_and(|t| t.contains(&json!("v1"))),
            "the old tag is listed: {listed}"
        );
    }
    // Mounting the old layer from acme/vault into a repository of the
    // caller's own starts an upload instead (202), links nothing.
    let mount = ghcr
        .post(
            &format!(
                "/v2/{who}/loot/blobs/uploads/?mount={}&from=acme/vault",
                old.layer
            ),
            Some(&auth),
        )
        .await;
    assert_eq!(mount.status, 202, "mount of the old layer: {mount:?}");
    let loot = ghcr
        .get(&format!("/v2/{who}/loot/blobs/{}", old.layer), Some(&auth))
        .await;
    assert_eq!(loot.status, 404, "{loot:?}");
}

async fn the_new_package_of_a_deleted_name_starts_empty(backend: Backend) {
    let (ghcr, old) = deleted_package(backend).await;
    // carol, a member who may create packages in acme, publishes the name.
    ghcr.publish("carol", "acme/vault", "new").await;
    assert_nothing_reachable(&ghcr, "carol", &old).await;
    // Nor through a push that names the old blobs without uploading them.
    let carol = ghcr.basic("carol");
    let borrowed = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, &old.config, 80),
        "layers": [descriptor(OCI_LAYER, &old.layer, 24)],
    });
    let (reply, _, _) = ghcr
        .put_manifest_as(&carol, "acme/vault", "borrowed", &borrowed)
        .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.error_code().as_deref(), Some("MANIFEST_BLOB_UNKNOWN"));

    // The name is taken: the old package cannot be restored over it.
    let refused = ghcr.post_as("alice", &format!("{PACKAGE}/restore")).await;
    assert_eq!(refused.status, 409, "{refused:?}");
    assert_nothing_reachable(&ghcr, "carol", &old).await;
    let pulled = ghcr.get_as("carol", "/v2/acme/vault/manifests/new").await;
    assert_eq!(pulled.status, 200, "the new package is untouched");

    // The new package deleted and restored in turn brings back its own
    // content, still nothing of the old one.
    assert_eq!(ghcr.delete_as("alice", PACKAGE).await.status, 204);
    let restored = ghcr.post_as("alice", &format!("{PACKAGE}/restore")).await;
    assert_eq!(restored.status, 204, "{restored:?}");
    ghcr.assert_get("carol", "/v2/acme/vault/manifests/new", 200)
        .await;
    assert_nothing_reachable(&ghcr, "carol", &old).await;
}
on_each_backend!(the_new_package_of_a_deleted_name_starts_empty);

async fn a_restored_package_gets_its_content_back_and_the_purge_removes_it(backend: Backend) {
    let (ghcr, old) = deleted_package(backend).await;
    // Blobs uploaded under the free name without a package (no manifest)
    // do not block the restore, and do not join the restored package.
    let stray = b"carol's stray blob";
    let reply = ghcr
        .push_blob_as(&ghcr.basic("carol"), "acme/vault", stray)
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");

    let restored = ghcr.post_as("alice", &format!("{PACKAGE}/restore")).await;
    assert_eq!(restored.status, 204, "{restored:?}");
    for path in [
        format!("/v2/acme/vault/manifests/{}", old.image),
        format!("/v2/acme/vault/manifests/{}", old.signature),
        "/v2/acme/vault/manifests/v1".to_owned(),
        format!("/v2/acme/vault/blobs/{}", old.layer),
        format!("/v2/acme/vault/blobs/{}", old.config),
    ] {
        let reply = ghcr.get_as("alice", &path).await;
        assert_eq!(reply.status, 200, "GET {path} after the restore: {reply:?}");
    }
    let referrers = ghcr
        .get_as("alice", &format!("/v2/acme/vault/referrers/{}", old.image))
        .await;
    assert_eq!(
        referrers.json()["manifests"][0]["digest"],
        json!(old.signature.to_string())
    );
    let stray_reply = ghcr
        .get_as(
            "alice",
            &format!("/v2/acme/vault/blobs/{}", Digest::sha256(stray)),
        )
        .await;
    assert_eq!(stray_reply.status, 404, "{stray_reply:?}");

    // Deleted again; after the restore window the purge removes the
    // content for good: a new package of the name reaches none of it.
    assert_eq!(ghcr.delete_as("alice", PACKAGE).await.status, 204);
    let report = ghcr.purge_after_restore_window().await;
    assert_eq!(report.packages.len(), 1);
    let archives = ghcr
        .server
        .registry
        .storage()
        .list_archives(&wharf_storage::PageRequest::all())
        .await
        .expect("archives")
        .items;
    assert!(archives.is_empty(), "left after the purge: {archives:?}");
    let late = ghcr.post_as("alice", &format!("{PACKAGE}/restore")).await;
    assert_eq!(late.status, 404, "{late:?}");
    ghcr.publish("carol", "acme/vault", "new").await;
    assert_nothing_reachable(&ghcr, "carol", &old).await;
}
on_each_backend!(a_restored_package_gets_its_content_back_and_the_purge_removes_it);

/// A crash between a package change and its storage change is repaired
/// before serving: a deleted package's content still under its name is
/// archived, a restored package's content still archived comes back, and
/// the archive of a purged package goes.
#[tokio::test]
async fn startup_reconciles_archives_with_the_package_records() {
    let ghcr = Ghcr::start_on_storage(Backend::Filesystem).await;
    let registry = &ghcr.server.registry;
    let storage = registry.storage().clone();
    let old = publish_old(&ghcr).await;
    let name = "acme/vault".parse().expect("name");

    // Deleted in the records only, as if the process died right after.
    let record = ghcr
        .store
        .delete_package(&name, ghcr.now())
        .await
        .expect("delete the record");
    let repairs = reconcile(registry).await;
    assert_eq!(repairs.archived, vec![name.clone()]);
    ghcr.publish("carol", "acme/vault", "new").await;
    assert_nothing_reachable(&ghcr, "carol", &old).await;

    // carol's package restored in the records only: its content comes back.
    assert_eq!(ghcr.delete_as("alice", PACKAGE).await.status, 204);
    ghcr.store
        .restore_package(&name, ghcr.now())
        .await
        .expect("restore the record");
    // An archive whose package is gone (purged) is dropped.
    let purged_key = "package-999999".parse().expect("key");
    storage
        .archive_repository(&"acme/gone".parse().expect("name"), &purged_key)
        .await
        .expect("archive");
    let repairs = reconcile(registry).await;
    assert_eq!(repairs.restored, vec![name.clone()]);
    assert_eq!(repairs.dropped, vec![purged_key]);
    let pulled = ghcr.get_as("carol", "/v2/acme/vault/manifests/new").await;
    assert_eq!(pulled.status, 200, "{pulled:?}");

    // Nothing left to repair; the first package's archive is kept.
    let again = reconcile(registry).await;
    assert!(again.is_empty(), "{again:?}");
    let archives = storage
        .list_archives(&wharf_storage::PageRequest::all())
        .await
        .expect("archives")
        .items;
    assert_eq!(
        archives
            .iter()
            .map(|a| a.key.to_string())
            .collect::<Vec<_>>(),
        vec![format!("package-{}", record.id)]
    );
}

/// An upload into the package that was under way when it was deleted
/// cannot be finished afterwards: its blob would land under the free name,
/// where the next package of the name would serve it.
async fn uploads_under_way_at_the_delete_are_cancelled(backend: Backend) {
    let ghcr = Ghcr::start_on_storage(backend).await;
    publish_old(&ghcr).await;
    let started = ghcr.post_as("alice", "/v2/acme/vault/blobs/uploads/").await;
    assert_eq!(started.status, 202, "{started:?}");
    let location = started.header("location").expect("location").to_owned();
    let content = b"pushed while the package was deleted";
    let digest = Digest::sha256(content);

    assert_eq!(ghcr.delete_as("alice", PACKAGE).await.status, 204);
    let finished = finish_upload(&ghcr, &location, &digest, content.to_vec()).await;
    assert_eq!(finished.status, 404, "{backend:?}: {finished:?}");
    assert_eq!(
        finished.error_code().as_deref(),
        Some("BLOB_UPLOAD_UNKNOWN")
    );

    ghcr.publish("carol", "acme/vault", "new").await;
    let reply = ghcr
        .get_as("carol", &format!("/v2/acme/vault/blobs/{digest}"))
        .await;
    assert_eq!(reply.status, 404, "{backend:?}: {reply:?}");
}
on_each_backend!(uploads_under_way_at_the_delete_are_cancelled);

/// A delete waits for a chunk being streamed into the package, then
/// cancels its session: the push racing the delete cannot link its blob
/// under the freed name, where the next package of the name would serve it.
#[tokio::test]
async fn a_delete_waits_for_a_chunk_under_way_and_cancels_its_upload() {
    let ghcr = Arc::new(Ghcr::start_on_storage(Backend::Filesystem).await);
    let alice = ghcr.basic("alice");
    publish_old(&ghcr).await;
    let started = ghcr.post_as("alice", "/v2/acme/vault/blobs/uploads/").await;
    assert_eq!(started.status, 202, "{started:?}");
    let location = started.header("location").expect("location").to_owned();
    let content = b"streamed while the package was deleted".to_vec();
    let digest = Digest::sha256(&content);

    let (chunks, body) = futures::channel::mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
    let patch = {
        let (ghcr, alice, location) = (ghcr.clone(), alice.clone(), location.clone());
        tokio::spawn(async move {
            ghcr.send(
                Method::PATCH,
                &location,
                Some(&alice),
                reqwest::Body::wrap_stream(body),
            )
            .await
        })
    };
    chunks
        .unbounded_send(Ok(content[..10].to_vec()))
        .expect("first chunk");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let delete = {
        let ghcr = ghcr.clone();
        tokio::spawn(async move { ghcr.delete_as("alice", PACKAGE).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!delete.is_finished(), "the delete waits for the chunk");
    chunks
        .unbounded_send(Ok(content[10..].to_vec()))
        .expect("rest");
    drop(chunks);
    let patched = patch.await.expect("patch");
    assert_eq!(patched.status, 202, "{patched:?}");
    assert_eq!(delete.await.expect("delete").status, 204);

    let finished = finish_upload(&ghcr, &location, &digest, Vec::new()).await;
    assert_eq!(finished.status, 404, "{finished:?}");
    ghcr.publish("carol", "acme/vault", "new").await;
    let reply = ghcr
        .get_as("carol", &format!("/v2/acme/vault/blobs/{digest}"))
        .await;
    assert_eq!(reply.status, 404, "{reply:?}");
}
