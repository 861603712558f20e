//! What a push does to the package records with accounts on: first publish,
//! versions and tags, and the package metadata read from annotations and
//! labels (`org.opencontainers.image.*`).

mod common;

use common::ghcr::*;
use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use wharf_auth::{Grantee, Role, Visibility};
use wharf_packages::{PackageRecord, PageRequest, VersionQuery, VersionRecord};
use wharf_reference::{Digest, RepositoryName};
use wharf_server::AnnotationPolicy;

const SOURCE: &str = "org.opencontainers.image.source";
const DESCRIPTION: &str = "org.opencontainers.image.description";
const LICENSES: &str = "org.opencontainers.image.licenses";

fn name(s: &str) -> RepositoryName {
    s.parse().expect("name")
}

/// The version record of the manifest `digest` in `repo`, which must be
/// there (deleted or not).
async fn version_of(ghcr: &Ghcr, repo: &RepositoryName, digest: &Digest) -> VersionRecord {
    let version = ghcr.store.version_by_digest(repo, digest).await;
    version.expect("store").expect("a version of the digest")
}

/// The live package `package`, which must exist.
async fn live_package(ghcr: &Ghcr, package: &str) -> PackageRecord {
    ghcr.store
        .package(&name(package))
        .await
        .expect("store")
        .expect("package")
}

/// The package's (description, licenses, source, linked repository).
async fn metadata(
    ghcr: &Ghcr,
    package: &str,
) -> (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
) {
    let record = live_package(ghcr, package).await;
    let m = &record.metadata;
    (
        m.description.as_ref().map(|f| f.value.clone()),
        m.licenses.as_ref().map(|f| f.value.raw.clone()),
        m.source.as_ref().map(|f| f.value.to_string()),
        record.linked_repository().map(ToString::to_string),
    )
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[tokio::test]
async fn a_first_publish_creates_a_private_package_administered_by_its_pusher() {
    let ghcr = Ghcr::start().await;
    ghcr.publish("alice", "alice/app", "1.0").await;
    let record = live_package(&ghcr, "alice/app").await;
    assert_eq!(record.visibility(), Visibility::Private);
    assert_eq!(
        record
            .package
            .role_of(&Grantee::User("alice".parse().expect("login"))),
        Some(Role::Admin)
    );
    assert_eq!(record.linked_repository(), None);
    assert_eq!(record.version_count, 1);

    // In an organization, the member who publishes first administers it.
    ghcr.publish("carol", "acme/tool", "1.0").await;
    let record = live_package(&ghcr, "acme/tool").await;
    assert_eq!(
        record
            .package
            .role_of(&Grantee::User("carol".parse().expect("login"))),
        Some(Role::Admin)
    );

    // A workflow's first publish links the package to its repository.
    ghcr.publish("site-ci", "alice/site-image", "1.0").await;
    let record = live_package(&ghcr, "alice/site-image").await;
    assert_eq!(
        record.linked_repository().map(ToString::to_string),
        some("alice/site")
    );
    assert!(record.package.inherit_access);
}

#[tokio::test]
async fn versions_follow_pushes_and_tags_move_between_them() {
    let ghcr = Ghcr::start().await;
    let alice = ghcr.basic("alice");
    let (_, first, size) = ghcr
        .push_labelled(&alice, "alice/app", "latest", json!({"n": "1"}))
        .await;
    let (_, second, _) = ghcr
        .push_labelled(&alice, "alice/app", "latest", json!({"n": "2"}))
        .await;
    // Tagging the first again with another tag, by pushing the same bytes.
    let (reply, again, _) = ghcr
        .push_labelled(&alice, "alice/app", "stable", json!({"n": "1"}))
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(again, first);

    let store = &ghcr.store;
    let app = name("alice/app");
    let v1 = version_of(&ghcr, &app, &first).await;
    let v2 = version_of(&ghcr, &app, &second).await;
    assert_eq!(
        v1.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ["stable"]
    );
    assert_eq!(
        v2.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ["latest"]
    );
    assert_eq!(v1.media_type, OCI_MANIFEST);
    assert_eq!(v1.size, size as u64);
    let listed = store
        .list_versions(&app, VersionQuery::active(), &PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 2);

    // Untagging through the registry API untags the version too.
    let reply = ghcr
        .delete("/v2/alice/app/manifests/stable", Some(&alice))
        .await;
    assert_eq!(reply.status, 202);
    let v1 = version_of(&ghcr, &app, &first).await;
    assert!(v1.tags.is_empty());
    assert!(!v1.is_deleted());
}

#[tokio::test]
async fn deleting_a_manifest_by_digest_deletes_its_version_restorably() {
    let ghcr = Ghcr::start().await;
    let alice = ghcr.basic("alice");
    ghcr.publish("alice", "alice/app", "1.0").await;
    let digest = ghcr.publish("alice", "alice/app", "2.0").await;
    let path = format!("/v2/alice/app/manifests/{digest}");
    assert_eq!(ghcr.get(&path, Some(&alice)).await.status, 200);
    let reply = ghcr.delete(&path, Some(&alice)).await;
    assert_eq!(reply.status, 202, "{reply:?}");
    // Gone from the registry API, by digest and by tag...
    let reply = ghcr.get(&path, Some(&alice)).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code().as_deref(), Some("MANIFEST_UNKNOWN"));
    assert_eq!(
        ghcr.get("/v2/alice/app/manifests/2.0", Some(&alice))
            .await
            .status,
        404
    );
    let again = ghcr.delete(&path, Some(&alice)).await;
    assert_eq!(again.status, 404);
    // ...and deleted, not forgotten, in the records: restorable for 30 days.
    let version = version_of(&ghcr, &name("alice/app"), &digest).await;
    assert!(version.is_deleted());
    let restore = ghcr
        .post_as(
            "alice",
            &format!(
                "/user/packages/container/app/versions/{}/restore",
                version.id
            ),
        )
        .await;
    assert_eq!(restore.status, 204, "{restore:?}");
    assert_eq!(ghcr.get(&path, Some(&alice)).await.status, 200);
    assert_eq!(
        ghcr.get("/v2/alice/app/manifests/2.0", Some(&alice))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn annotations_and_labels_describe_the_package() {
    let ghcr = Ghcr::start().await;
    let alice = ghcr.basic("alice");
    let long = "x".repeat(513);
    // (what, repo, config labels, manifest annotations, expected (description, licenses, source, linked))
    type Row = (
        &'static str,
        &'static str,
        Value,
        Value,
        (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        ),
    );
    let table: Vec<Row> = vec![
        (
            "config labels, as docker build --label writes them",
            "alice/labels",
            json!({ SOURCE: "http://registry.test/alice/my-repo", DESCRIPTION: "My container image", LICENSES: "MIT" }),
            json!({}),
            (
                some("My container image"),
                some("MIT"),
                some("http://registry.test/alice/my-repo"),
                some("alice/my-repo"),
            ),
        ),
        (
            "manifest annotations win over labels, key by key",
            "alice/annotated",
            json!({ DESCRIPTION: "from the label", LICENSES: "MIT" }),
            json!({ DESCRIPTION: "from the annotation" }),
            (some("from the annotation"), some("MIT"), None, None),
        ),
        (
            "a description over 512 characters is left out; the push succeeds",
            "alice/long",
            json!({ DESCRIPTION: long, LICENSES: "Apache-2.0" }),
            json!({}),
            (None, some("Apache-2.0"), None, None),
        ),
        (
            "a source of another owner's repository does not link",
            "alice/foreign",
            json!({ SOURCE: "http://registry.test/bob/repo" }),
            json!({}),
            (None, None, some("http://registry.test/bob/repo"), None),
        ),
        (
            "a source on another code host does not link",
            "alice/elsewhere",
            json!({ SOURCE: "https://github.com/alice/repo" }),
            json!({}),
            (None, None, some("https://github.com/alice/repo"), None),
        ),
        (
            "licenses that are not SPDX are kept as written",
            "alice/sloppy",
            json!({ LICENSES: "MIT/Apache-2.0" }),
            json!({}),
            (None, some("MIT/Apache-2.0"), None, None),
        ),
    ];
    for (what, repo, labels, annotations, expected) in table {
        let (reply, _, _) = ghcr
            .push_image_as(&alice, repo, "1.0", labels, annotations)
            .await;
        assert_eq!(reply.status, 201, "{what}: {reply:?}");
        assert_eq!(metadata(&ghcr, repo).await, expected, "{what}");
    }
}

#[tokio::test]
async fn the_latest_tagged_image_describes_the_package_and_untagged_pushes_do_not() {
    let ghcr = Ghcr::start().await;
    let alice = ghcr.basic("alice");
    let push = |labels: Value, reference: &'static str| {
        let alice = alice.clone();
        let ghcr = &ghcr;
        async move {
            let (reply, digest, size) = ghcr
                .push_labelled(&alice, "alice/app", reference, labels)
                .await;
            assert_eq!(reply.status, 201, "{reply:?}");
            (digest, size)
        }
    };
    push(json!({ DESCRIPTION: "version one" }), "1.0").await;
    assert_eq!(metadata(&ghcr, "alice/app").await.0, some("version one"));
    push(json!({ DESCRIPTION: "untagged" }), "@").await;
    assert_eq!(metadata(&ghcr, "alice/app").await.0, some("version one"));
    let (subject, subject_size) = push(json!({ DESCRIPTION: "version two" }), "2.0").await;
    assert_eq!(metadata(&ghcr, "alice/app").await.0, some("version two"));

    // A signature (an artifact with a subject) pushed by tag changes nothing.
    let empty = ghcr.push_blob_as(&alice, "alice/app", b"{}").await;
    assert_eq!(empty.status, 201);
    let signature = artifact_manifest(
        "application/vnd.dev.cosign.artifact.sig.v1+json",
        &Digest::sha256(b"{}"),
        (&subject, subject_size),
        "signed",
    );
    let reply = ghcr
        .server
        .send(
            Method::PUT,
            "/v2/alice/app/manifests/sha256-sig",
            &[
                ("authorization", alice.as_str()),
                ("content-type", OCI_MANIFEST),
            ],
            signature,
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(metadata(&ghcr, "alice/app").await.0, some("version two"));
}

/// Pushes two images by digest and an index of them tagged `tag`, with
/// `annotations` on the index.
async fn push_multi_arch(
    ghcr: &Ghcr,
    repo: &str,
    tag: &str,
    child_labels: Value,
    annotations: Value,
) -> Reply {
    let alice = ghcr.basic("alice");
    let mut manifests = Vec::new();
    for arch in ["arm64", "amd64"] {
        let mut labels = child_labels.clone();
        labels["arch"] = json!(arch);
        let (reply, digest, size) = ghcr.push_labelled(&alice, repo, "@", labels).await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let mut entry = descriptor(OCI_MANIFEST, &digest, size);
        entry["platform"] = json!({ "os": "linux", "architecture": arch });
        manifests.push(entry);
    }
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
        "annotations": annotations,
    });
    ghcr.server
        .send(
            Method::PUT,
            &format!("/v2/{repo}/manifests/{tag}"),
            &[
                ("authorization", alice.as_str()),
                ("content-type", OCI_INDEX),
            ],
            serde_json::to_vec(&index).expect("json"),
        )
        .await
}

#[tokio::test]
async fn a_multi_arch_image_is_described_by_its_index_annotations_first() {
    let ghcr = Ghcr::start().await;
    let reply = push_multi_arch(
        &ghcr,
        "alice/multi",
        "latest",
        json!({ DESCRIPTION: "amd64 build", LICENSES: "MIT", SOURCE: "http://registry.test/alice/multi" }),
        json!({ DESCRIPTION: "My multi-arch image" }),
    )
    .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(
        metadata(&ghcr, "alice/multi").await,
        (
            some("My multi-arch image"),
            some("MIT"),
            some("http://registry.test/alice/multi"),
            some("alice/multi")
        ),
        "index annotation wins; the amd64 image's labels fill the rest"
    );
    let digest: Digest = reply
        .header("docker-content-digest")
        .expect("digest")
        .parse()
        .expect("digest");
    let version = version_of(&ghcr, &name("alice/multi"), &digest).await;
    assert_eq!(version.platforms, ["linux/amd64", "linux/arm64"]);
    assert_eq!(
        version.tags.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
        ["latest"]
    );
}

#[tokio::test]
async fn a_strict_policy_refuses_a_push_with_invalid_annotations_before_storing_it() {
    let mut strict = AnnotationPolicy::default();
    strict.reject_invalid = true;
    let ghcr = Ghcr::start_with(strict).await;
    let alice = ghcr.basic("alice");
    let (reply, digest, _) = ghcr
        .push_labelled(
            &alice,
            "alice/app",
            "1.0",
            json!({ DESCRIPTION: "x".repeat(600) }),
        )
        .await;
    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.error_code().as_deref(), Some("MANIFEST_INVALID"));
    let message = reply.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("512"), "{message}");
    assert!(ghcr
        .store
        .package(&name("alice/app"))
        .await
        .expect("store")
        .is_none());
    let pull = ghcr
        .get(&format!("/v2/alice/app/manifests/{digest}"), Some(&alice))
        .await;
    assert_eq!(pull.status, 404);

    let (reply, _, _) = ghcr
        .push_labelled(&alice, "alice/app", "1.0", json!({ DESCRIPTION: "short" }))
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
}
