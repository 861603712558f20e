//! The two windows a push crosses between stores, with the process dying
//! in them: a manifest stored (and tagged) before its package version is
//! recorded, and a tag moved in storage before the records move it. The
//! state a crash leaves there is made directly in storage; the tests then
//! check what a restarted registry shows, and that the client's retry of
//! the push (which never got its 201) completes it, losing nothing.

mod common;

use common::ghcr::*;
use common::*;
use reqwest::Method;
use serde_json::Value;
use wharf_reference::{Digest, MediaType, RepositoryName, Tag};
use wharf_storage::ManifestPut;

const INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// An image index the registry accepts with no blobs: `marker` makes it
/// unique.
fn index(marker: &str) -> (Vec<u8>, Digest) {
    let bytes = format!(
        r#"{{"schemaVersion":2,"mediaType":"{INDEX}","manifests":[],"annotations":{{"marker":"{marker}"}}}}"#
    )
    .into_bytes();
    let digest = Digest::sha256(&bytes);
    (bytes, digest)
}

/// What the crash left: the storage half of a push of `bytes` by `tag`.
async fn stored_only(ghcr: &Ghcr, repo: &str, tag: &str, bytes: &[u8], digest: &Digest) {
    let name: RepositoryName = repo.parse().expect("name");
    let storage = ghcr.server.registry.storage();
    storage
        .put_manifest(
            &name,
            ManifestPut::new(digest.clone(), MediaType::OCI_IMAGE_INDEX, bytes.to_vec()),
        )
        .await
        .expect("put");
    let tag: Tag = tag.parse().expect("tag");
    storage.set_tag(&name, &tag, digest).await.expect("tag");
}

/// The client retries the push that never got its answer.
async fn retry(ghcr: &Ghcr, repo: &str, tag: &str, bytes: &[u8]) -> Reply {
    ghcr.server
        .send(
            Method::PUT,
            &format!("/v2/{repo}/manifests/{tag}"),
            &[
                ("authorization", ghcr.basic("alice").as_str()),
                ("content-type", INDEX),
            ],
            bytes.to_vec(),
        )
        .await
}

/// A registry where alice published alice/app tagged `published`, then
/// pushed the index `label` tagged `stored` that reached storage but not
/// the records (the crash window); the first manifest's digest, the
/// index and its digest.
async fn stored_after_publish(
    published: &str,
    label: &str,
    stored: &str,
) -> (Ghcr, Digest, Vec<u8>, Digest) {
    let ghcr = Ghcr::start().await;
    let first = ghcr.publish("alice", "alice/app", published).await;
    let (bytes, digest) = index(label);
    stored_only(&ghcr, "alice/app", stored, &bytes, &digest).await;
    (ghcr, first, bytes, digest)
}

/// The versions the REST API lists: digest → tags.
async fn versions(ghcr: &Ghcr) -> Vec<(String, Vec<String>)> {
    let reply = ghcr
        .assert_get("alice", "/user/packages/container/app/versions", 200)
        .await;
    let mut out: Vec<(String, Vec<String>)> = reply
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| {
            let tags = v["metadata"]["container"]["tags"]
                .as_array()
                .expect("tags")
                .iter()
                .map(|t| t.as_str().expect("tag").to_owned())
                .collect();
            (v["name"].as_str().expect("name").to_owned(), tags)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_manifest_stored_before_its_version_was_recorded_is_completed_by_the_retry() {
    let (ghcr, first, bytes, digest) = stored_after_publish("1.0", "second", "2.0").await;

    // After the crash: the version is not in the records, the manifest is
    // complete under its digest, and nothing else changed.
    let listed = versions(&ghcr).await;
    assert_eq!(listed, vec![(first.to_string(), vec!["1.0".to_owned()])]);
    let by_digest = ghcr
        .assert_get("alice", &format!("/v2/alice/app/manifests/{digest}"), 200)
        .await;
    assert_eq!(&by_digest.body[..], &bytes[..], "whole, never partial");
    // Nobody else sees it: the package is private.
    ghcr.assert_get("bob", &format!("/v2/alice/app/manifests/{digest}"), 404)
        .await;

    // The client's retry records the version with its tag.
    let reply = retry(&ghcr, "alice/app", "2.0", &bytes).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let listed = versions(&ghcr).await;
    let mut expected = vec![
        (first.to_string(), vec!["1.0".to_owned()]),
        (digest.to_string(), vec!["2.0".to_owned()]),
    ];
    expected.sort();
    assert_eq!(listed, expected);
    // The earlier version is intact.
    ghcr.assert_get("alice", &format!("/v2/alice/app/manifests/{first}"), 200)
        .await;
}

#[tokio::test]
async fn a_tag_moved_in_storage_before_the_records_is_settled_by_the_retry() {
    let (ghcr, old, bytes, new) = stored_after_publish("latest", "moved", "latest").await;

    // After the crash the tag resolves to the new manifest (storage is the
    // truth for pulls); the records still name the old one.
    let pulled = ghcr
        .assert_get("alice", "/v2/alice/app/manifests/latest", 200)
        .await;
    assert_eq!(pulled.header("docker-content-digest"), Some(new.as_str()));
    assert_eq!(
        versions(&ghcr).await,
        vec![(old.to_string(), vec!["latest".to_owned()])]
    );

    // The retry moves the tag in the records too; the old version stays,
    // untagged, and pullable by digest.
    let reply = retry(&ghcr, "alice/app", "latest", &bytes).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let mut expected = vec![
        (old.to_string(), Vec::new()),
        (new.to_string(), vec!["latest".to_owned()]),
    ];
    expected.sort();
    assert_eq!(versions(&ghcr).await, expected);
    ghcr.assert_get("alice", &format!("/v2/alice/app/manifests/{old}"), 200)
        .await;
    let tags = ghcr.get_as("alice", "/v2/alice/app/tags/list").await;
    let tags: Value = tags.json();
    assert_eq!(tags["tags"], serde_json::json!(["latest"]));
}
