//! Garbage collection: what a reachable manifest keeps, what goes, and
//! that a dry run reports exactly what a collection then removes, in
//! memory and on disk. Every collection here runs through `collect`,
//! which runs a dry run first and checks that it changed nothing and
//! predicted the real run's figures, and that those figures are what left
//! the storage.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use common::ghcr::*;
use common::*;
use reqwest::Method;
use serde_json::json;
use wharf_reference::{Digest, RepositoryName};
use wharf_server::gc::{GcOptions, GcReport};
use wharf_storage::{ArchiveKey, PageRequest, Storage};

/// Every stored blob (condemned ones included) and every live
/// repository's links.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    blobs: BTreeSet<Digest>,
    links: BTreeMap<RepositoryName, BTreeSet<Digest>>,
}

impl Snapshot {
    fn link_count(&self) -> usize {
        self.links.values().map(BTreeSet::len).sum()
    }
}

async fn snapshot(storage: &dyn Storage) -> Snapshot {
    let all = PageRequest::all();
    let mut blobs = storage.list_blobs(&all).await.expect("blobs").items;
    blobs.extend(
        storage
            .condemned_blobs(&all)
            .await
            .expect("condemned")
            .items,
    );
    let mut links = BTreeMap::new();
    for name in storage.list_repositories(&all).await.expect("repos").items {
        let linked = storage
            .linked_blobs(&name, &all)
            .await
            .expect("links")
            .items;
        links.insert(name, linked.into_iter().collect());
    }
    Snapshot {
        blobs: blobs.into_iter().collect(),
        links,
    }
}

/// A dry run, then a collection, both with no grace period; checks that
/// the dry run changed nothing and reported what the collection removed,
/// and that the collection's figures are what left the storage.
async fn collect(server: &TestServer) -> GcReport {
    collect_with_grace(server, Duration::ZERO).await
}

async fn collect_with_grace(server: &TestServer, grace: Duration) -> GcReport {
    let storage = server.registry.storage();
    let before = snapshot(&**storage).await;
    let mut options = GcOptions::default();
    options.grace = grace;
    let mut dry_run = options.clone();
    dry_run.dry_run = true;
    let dry = server
        .registry
        .collect_garbage(dry_run)
        .await
        .expect("dry run");
    assert!(dry.dry_run);
    assert_eq!(
        snapshot(&**storage).await,
        before,
        "a dry run changes nothing"
    );
    let real = server
        .registry
        .collect_garbage(options)
        .await
        .expect("collection");
    assert!(!real.dry_run);
    assert_eq!(
        (dry.links_removed, dry.blobs_removed, dry.bytes_freed),
        (real.links_removed, real.blobs_removed, real.bytes_freed),
        "the dry run reports what the collection removes\ndry run:\n{dry}\ncollection:\n{real}"
    );
    let after = snapshot(&**storage).await;
    assert_eq!(
        (before.blobs.len() - after.blobs.len()) as u64,
        real.blobs_removed,
        "blobs removed"
    );
    assert_eq!(
        (before.link_count() - after.link_count()) as u64,
        real.links_removed,
        "links removed"
    );
    real
}

async fn is_stored(server: &TestServer, digest: &Digest) -> bool {
    server.registry.storage().blob_size(digest).await.is_ok()
}

/// Asserts which blobs are still stored and which are gone.
async fn assert_blobs(server: &TestServer, kept: &[&Digest], gone: &[&Digest]) {
    for digest in kept {
        assert!(is_stored(server, digest).await, "{digest} must be kept");
    }
    for digest in gone {
        assert!(!is_stored(server, digest).await, "{digest} must be gone");
    }
}

/// An image's blobs and manifest.
struct Pushed {
    config: Digest,
    layers: Vec<Digest>,
    manifest: Digest,
    size: usize,
}

impl Pushed {
    fn blobs(&self) -> Vec<&Digest> {
        std::iter::once(&self.config).chain(&self.layers).collect()
    }
}

/// Pushes an image of a config and `layers` (their contents) to `repo`,
/// by tag or (with `None`) by digest.
async fn push_image(
    server: &TestServer,
    repo: &str,
    tag: Option<&str>,
    seed: &str,
    layers: &[&[u8]],
) -> Pushed {
    let config = format!("{{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"{seed}\"}}");
    let config_digest = server.push_blob(repo, config.as_bytes()).await;
    let mut pushed = Vec::new();
    for layer in layers {
        pushed.push((server.push_blob(repo, layer).await, layer.len()));
    }
    let descriptors: Vec<(&Digest, usize)> = pushed.iter().map(|(d, s)| (d, *s)).collect();
    let manifest = image_manifest((&config_digest, config.len()), &descriptors, None);
    push_manifest(server, repo, tag, OCI_MANIFEST, &manifest).await;
    Pushed {
        config: config_digest,
        layers: pushed.into_iter().map(|(d, _)| d).collect(),
        manifest: Digest::sha256(&manifest),
        size: manifest.len(),
    }
}

async fn push_manifest(
    server: &TestServer,
    repo: &str,
    tag: Option<&str>,
    media_type: &str,
    bytes: &[u8],
) -> Digest {
    let digest = Digest::sha256(bytes);
    let reference = tag.map_or_else(|| digest.to_string(), str::to_owned);
    let reply = server
        .push_manifest(repo, &reference, media_type, bytes)
        .await;
    assert_eq!(
        reply.status, 201,
        "push manifest {repo}:{reference}: {reply:?}"
    );
    digest
}

async fn delete_manifest(server: &TestServer, repo: &str, digest: &Digest) {
    let reply = server
        .request(Method::DELETE, &format!("/v2/{repo}/manifests/{digest}"))
        .await;
    assert_eq!(reply.status, 202, "delete {repo}@{digest}: {reply:?}");
}

async fn a_tagged_image_keeps_its_config_and_layers(backend: Backend) {
    let server = start(backend).await;
    let image = push_image(&server, "acme/app", Some("1.0"), "a", &[b"base", b"app"]).await;
    let stray = server.push_blob("acme/app", b"never referenced").await;
    let report = collect(&server).await;
    assert_blobs(&server, &image.blobs(), &[&stray]).await;
    assert_eq!((report.links_removed, report.blobs_removed), (1, 1));
    assert_eq!(report.bytes_freed, b"never referenced".len() as u64);
    assert_eq!((report.repositories_scanned, report.manifests_read), (1, 1));
}

async fn an_untagged_manifest_is_a_version_and_keeps_its_blobs(backend: Backend) {
    let server = start(backend).await;
    let image = push_image(&server, "acme/app", None, "untagged", &[b"layer"]).await;
    let report = collect(&server).await;
    assert_blobs(&server, &image.blobs(), &[]).await;
    assert_eq!((report.links_removed, report.blobs_removed), (0, 0));
}

async fn an_index_of_indexes_keeps_every_grandchilds_layers(backend: Backend) {
    let server = start(backend).await;
    let amd = push_image(&server, "acme/multi", None, "amd64", &[b"amd64 layer"]).await;
    let arm = push_image(&server, "acme/multi", None, "arm64", &[b"arm64 layer"]).await;
    let inner = index(&[
        (&amd.manifest, amd.size, "amd64"),
        (&arm.manifest, arm.size, "arm64"),
    ]);
    let inner_digest = push_manifest(&server, "acme/multi", None, OCI_INDEX, &inner).await;
    let outer = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [descriptor(OCI_INDEX, &inner_digest, inner.len())],
    }))
    .expect("json");
    push_manifest(&server, "acme/multi", Some("latest"), OCI_INDEX, &outer).await;
    let stray = server.push_blob("acme/multi", b"stray").await;
    collect(&server).await;
    let mut kept = amd.blobs();
    kept.extend(arm.blobs());
    assert_blobs(&server, &kept, &[&stray]).await;
    let pulled = server
        .get(&format!("/v2/acme/multi/blobs/{}", amd.layers[0]))
        .await;
    assert_eq!(pulled.status, 200);
}

async fn a_referrers_chain_keeps_each_referrers_blobs(backend: Backend) {
    let server = start(backend).await;
    let repo = "acme/signed";
    let image = push_image(&server, repo, Some("1.0"), "image", &[b"image layer"]).await;
    // An SBOM of the image, and a signature of the SBOM, each with a
    // layer of its own.
    let mut subject = (image.manifest.clone(), image.size);
    let mut kept = image.blobs().into_iter().cloned().collect::<Vec<_>>();
    for (kind, content) in [
        ("sbom", &b"spdx document"[..]),
        ("signature", &b"signature bytes"[..]),
    ] {
        let config = server.push_blob(repo, b"{}").await;
        let layer = server.push_blob(repo, content).await;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": format!("application/vnd.example.{kind}"),
            "config": descriptor("application/vnd.oci.empty.v1+json", &config, 2),
            "layers": [descriptor("application/vnd.example.payload", &layer, content.len())],
            "subject": descriptor(OCI_MANIFEST, &subject.0, subject.1),
        }))
        .expect("json");
        let digest = push_manifest(&server, repo, None, OCI_MANIFEST, &manifest).await;
        kept.extend([config, layer]);
        subject = (digest, manifest.len());
    }
    let report = collect(&server).await;
    assert_eq!((report.links_removed, report.blobs_removed), (0, 0));
    assert_blobs(&server, &kept.iter().collect::<Vec<_>>(), &[]).await;
}

async fn a_blob_shared_by_two_repositories_goes_with_the_last_reference(backend: Backend) {
    let server = start(backend).await;
    let base: &[u8] = b"shared base";
    let a = push_image(&server, "acme/a", Some("1"), "a", &[base, b"only a"]).await;
    let b = push_image(&server, "acme/b", Some("1"), "b", &[base, b"only b"]).await;
    let shared = &a.layers[0];
    assert_eq!(shared, &b.layers[0]);

    delete_manifest(&server, "acme/a", &a.manifest).await;
    let report = collect(&server).await;
    assert_eq!(
        report.links_removed, 3,
        "a's config, shared base and own layer"
    );
    assert_blobs(&server, &b.blobs(), &[&a.config, &a.layers[1]]).await;
    let pulled = server.get(&format!("/v2/acme/b/blobs/{shared}")).await;
    assert_eq!(pulled.status, 200);
    let unlinked = server.get(&format!("/v2/acme/a/blobs/{shared}")).await;
    assert_eq!(unlinked.status, 404, "a's link went");

    delete_manifest(&server, "acme/b", &b.manifest).await;
    collect(&server).await;
    assert_blobs(&server, &[], &b.blobs()).await;
}

async fn an_archived_repository_keeps_its_blobs_until_its_archive_is_deleted(backend: Backend) {
    let server = start(backend).await;
    let storage = server.registry.storage().clone();
    let gone = push_image(
        &server,
        "acme/gone",
        Some("1"),
        "gone",
        &[b"shared", b"unique"],
    )
    .await;
    let stays = push_image(&server, "acme/stays", Some("1"), "stays", &[b"shared"]).await;
    let key: ArchiveKey = "package-1".parse().expect("key");
    let name: RepositoryName = "acme/gone".parse().expect("name");
    storage
        .archive_repository(&name, &key)
        .await
        .expect("archive");

    let report = collect(&server).await;
    assert_eq!((report.links_removed, report.blobs_removed), (0, 0));
    assert_blobs(&server, &gone.blobs(), &[]).await;

    storage.delete_archive(&key).await.expect("delete archive");
    let report = collect(&server).await;
    assert_eq!(report.blobs_removed, 2, "its config and unique layer");
    assert_blobs(&server, &stays.blobs(), &[&gone.config, &gone.layers[1]]).await;
}

async fn an_uploaded_blob_never_referenced_goes_after_the_grace_period(backend: Backend) {
    let server = start(backend).await;
    let digest = server
        .push_blob("acme/app", b"pushed, no manifest yet")
        .await;
    let report = collect_with_grace(&server, Duration::from_secs(3600)).await;
    assert_eq!((report.links_removed, report.blobs_removed), (0, 0));
    assert_blobs(&server, &[&digest], &[]).await;

    let report = collect(&server).await;
    assert_eq!((report.links_removed, report.blobs_removed), (1, 1));
    assert_blobs(&server, &[], &[&digest]).await;
}

async fn a_repository_with_a_manifest_that_cannot_be_parsed_keeps_all_its_links(backend: Backend) {
    let server = start(backend).await;
    let storage = server.registry.storage();
    let name: RepositoryName = "acme/odd".parse().expect("name");
    let digest = server.push_blob("acme/odd", b"kept anyway").await;
    let bytes = b"not a manifest".to_vec();
    let put = wharf_storage::ManifestPut::new(
        Digest::sha256(&bytes),
        OCI_MANIFEST.parse().expect("media type"),
        bytes,
    );
    storage.put_manifest(&name, put).await.expect("put");
    let report = collect(&server).await;
    assert_eq!(report.repositories_kept_whole, 1);
    assert_eq!((report.links_removed, report.blobs_removed), (0, 0));
    assert_blobs(&server, &[&digest], &[]).await;
}

/// The race of the protocol: a push that confirms its links after the
/// cutoff keeps them whatever the collector decided earlier; an unlink
/// that comes first makes the push fail instead of storing a manifest
/// whose blob may go.
async fn a_manifest_push_racing_an_unlink_never_stores_a_manifest_without_its_blobs(
    backend: Backend,
) {
    let server = start(backend).await;
    let storage = server.registry.storage();
    let name: RepositoryName = "acme/race".parse().expect("name");
    let config = br#"{"architecture":"amd64","os":"linux"}"#;
    let config_digest = server.push_blob("acme/race", config).await;
    let manifest = image_manifest((&config_digest, config.len()), &[], None);

    // The collector's cutoff is taken, then the push confirms the link,
    // then the collector tries to unlink with its (older) cutoff.
    let cutoff = SystemTime::now();
    tokio::time::sleep(Duration::from_millis(5)).await;
    push_manifest(&server, "acme/race", Some("1"), OCI_MANIFEST, &manifest).await;
    let unlinked = storage
        .unlink_blob_unused_since(&name, &config_digest, cutoff)
        .await
        .expect("unlink");
    assert!(!unlinked, "a confirmed link is too recent to go");
    assert!(storage
        .is_blob_linked(&name, &config_digest)
        .await
        .expect("linked"));

    // The other order: the unlink wins, and the push is refused.
    let other = server.push_blob("acme/race2", config).await;
    let race2: RepositoryName = "acme/race2".parse().expect("name");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let cutoff = SystemTime::now();
    assert!(storage
        .unlink_blob_unused_since(&race2, &other, cutoff)
        .await
        .expect("unlink"));
    let reply = server
        .push_manifest("acme/race2", "1", OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.error_code().as_deref(), Some("MANIFEST_BLOB_UNKNOWN"));
}

/// A mount answered 201 because the blob is already linked promises the
/// blob to the next manifest push: it confirms the link.
async fn a_mount_of_a_linked_blob_confirms_its_link(backend: Backend) {
    let server = start(backend).await;
    let storage = server.registry.storage();
    let name: RepositoryName = "acme/app".parse().expect("name");
    let digest = server.push_blob("acme/app", b"layer").await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let cutoff = SystemTime::now();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let reply = server
        .request(
            Method::POST,
            &format!("/v2/acme/app/blobs/uploads/?mount={digest}&from=acme/app"),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let unlinked = storage
        .unlink_blob_unused_since(&name, &digest, cutoff)
        .await
        .expect("unlink");
    assert!(!unlinked);
}

/// A collection interrupted after condemning blobs is continued by the
/// next: a condemned blob that has a link is pardoned, the others go.
async fn the_next_collection_finishes_what_an_interrupted_one_condemned(backend: Backend) {
    let server = start(backend).await;
    let storage = server.registry.storage();
    let image = push_image(&server, "acme/app", Some("1"), "app", &[b"layer"]).await;
    let stray = server.push_blob("acme/other", b"stray").await;
    let name: RepositoryName = "acme/other".parse().expect("name");
    storage.unlink_blob(&name, &stray).await.expect("unlink");
    // What an interrupted collection leaves: condemned blobs, one of
    // them linked meanwhile.
    assert!(storage.condemn_blob(&stray).await.expect("condemn"));
    assert!(storage
        .condemn_blob(&image.layers[0])
        .await
        .expect("condemn"));

    let report = collect(&server).await;
    assert_eq!(report.condemned_resumed, 2);
    assert_eq!(report.blobs_removed, 1);
    assert_blobs(&server, &image.blobs(), &[&stray]).await;
    let pulled = server
        .get(&format!("/v2/acme/app/blobs/{}", image.layers[0]))
        .await;
    assert_eq!(pulled.status, 200, "pardoned and served");
}

async fn collections_show_on_metrics(backend: Backend) {
    let server = start(backend).await;
    server.push_blob("acme/app", b"0123456789").await;
    collect(&server).await;
    let text = String::from_utf8(server.get("/metrics").await.body.to_vec()).expect("utf-8");
    assert_has_lines(
        &text,
        &[
            "wharf_gc_runs_total{outcome=\"success\"} 1",
            "wharf_gc_runs_total{outcome=\"dry_run\"} 1",
            "wharf_gc_links_removed_total 1",
            "wharf_gc_blobs_removed_total 1",
            "wharf_gc_bytes_freed_total 10",
        ],
    );
    let last = text
        .lines()
        .find_map(|l| l.strip_prefix("wharf_gc_last_run_timestamp_seconds "))
        .and_then(|v| v.parse::<u64>().ok())
        .expect("last run");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    assert!(now - last < 60, "{last} vs {now}");
    assert!(text.contains("wharf_gc_last_run_duration_seconds "));
}

/// A long collection shows it advances: the callback hears of every item
/// (with `every` 1) and of the end of each step, in order.
async fn progress_is_reported_along_the_way(backend: Backend) {
    let server = start(backend).await;
    push_image(&server, "acme/a", Some("1"), "a", &[b"layer a"]).await;
    push_image(&server, "acme/b", Some("1"), "b", &[b"layer b"]).await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let options = GcOptions::default().with_progress(1, move |progress| {
        let mut seen = record.lock().expect("lock");
        seen.push((
            progress.phase.name(),
            progress.done,
            progress.report.blobs_scanned,
        ));
    });
    let report = server.registry.collect_garbage(options).await.expect("gc");
    let seen = seen.lock().expect("lock").clone();
    let ends: Vec<&str> = seen
        .iter()
        .filter(|(_, done, _)| *done)
        .map(|(phase, _, _)| *phase)
        .collect();
    assert_eq!(ends, ["resume", "links", "blobs"]);
    let repositories = seen
        .iter()
        .filter(|(phase, done, _)| *phase == "links" && !done)
        .count();
    assert_eq!(repositories, 2);
    let blobs = seen
        .iter()
        .filter(|(phase, done, _)| *phase == "blobs" && !done)
        .count();
    assert_eq!(blobs as u64, report.blobs_scanned);
    assert_eq!(report.blobs_scanned, 4);
}

/// The package model: a deleted package is archived and keeps its blobs
/// through the restore window; once purged, its blobs go.
async fn a_deleted_package_keeps_its_blobs_until_it_is_purged(backend: Backend) {
    let ghcr = Ghcr::start_on_storage(backend).await;
    let digest = ghcr.publish("alice", "alice/app", "1.0").await;
    let pulled = ghcr
        .get_as("alice", &format!("/v2/alice/app/manifests/{digest}"))
        .await;
    let value = pulled.json();
    let blobs: Vec<Digest> = [&value["config"], &value["layers"][0]]
        .iter()
        .map(|d| {
            d["digest"]
                .as_str()
                .expect("digest")
                .parse()
                .expect("digest")
        })
        .collect();
    let deleted = ghcr
        .delete_as("alice", "/user/packages/container/app")
        .await;
    assert_eq!(deleted.status, 204, "{deleted:?}");

    let report = collect(&ghcr.server).await;
    assert_eq!(report.blobs_removed, 0);
    assert_blobs(&ghcr.server, &blobs.iter().collect::<Vec<_>>(), &[]).await;
    let restored = ghcr
        .post_as("alice", "/user/packages/container/app/restore")
        .await;
    assert_eq!(restored.status, 204, "{restored:?}");
    ghcr.assert_get("alice", &format!("/v2/alice/app/blobs/{}", blobs[1]), 200)
        .await;

    assert_eq!(
        ghcr.delete_as("alice", "/user/packages/container/app")
            .await
            .status,
        204
    );
    ghcr.purge_after_restore_window().await;
    let report = collect(&ghcr.server).await;
    assert_eq!(report.blobs_removed, 2);
    assert_blobs(&ghcr.server, &[], &blobs.iter().collect::<Vec<_>>()).await;
}

on_each_backend!(
    a_tagged_image_keeps_its_config_and_layers,
    an_untagged_manifest_is_a_version_and_keeps_its_blobs,
    an_index_of_indexes_keeps_every_grandchilds_layers,
    a_referrers_chain_keeps_each_referrers_blobs,
    a_blob_shared_by_two_repositories_goes_with_the_last_reference,
    an_archived_repository_keeps_its_blobs_until_its_archive_is_deleted,
    an_uploaded_blob_never_referenced_goes_after_the_grace_period,
    a_repository_with_a_manifest_that_cannot_be_parsed_keeps_all_its_links,
    a_manifest_push_racing_an_unlink_never_stores_a_manifest_without_its_blobs,
    a_mount_of_a_linked_blob_confirms_its_link,
    the_next_collection_finishes_what_an_interrupted_one_condemned,
    collections_show_on_metrics,
    a_deleted_package_keeps_its_blobs_until_it_is_purged,
    progress_is_reported_along_the_way,
);
