//! Manifest pushes: what is accepted, what is refused and with which code.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;
use wharf_reference::Digest;

const REPO: &str = "octocat/hello";

/// A Docker V2 Schema 2 manifest with a foreign (Windows) base layer whose
/// bytes the registry never receives, and one ordinary layer.
fn windows_manifest(
    config: &Digest,
    config_len: usize,
    layer: &Digest,
    layer_len: usize,
) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": descriptor(DOCKER_CONFIG, config, config_len),
        "layers": [
            {
                "mediaType": DOCKER_FOREIGN_LAYER,
                "digest": Digest::sha256(b"windows base layer, hosted elsewhere").to_string(),
                "size": 123456789,
                "urls": ["https://mcr.microsoft.com/v2/windows/servercore/blobs/sha256:abc"]
            },
            descriptor("application/vnd.docker.image.rootfs.diff.tar.gzip", layer, layer_len),
        ]
    }))
    .expect("json")
}

async fn manifest_pushes_are_accepted_or_refused_with_the_right_code(backend: Backend) {
    let server = start(backend).await;
    let config = b"{\"os\":\"windows\"}";
    let layer = b"app layer";
    let config_digest = server.push_blob(REPO, config).await;
    let layer_digest = server.push_blob(REPO, layer).await;
    let missing = Digest::sha256(b"never pushed");
    let good = image_manifest(
        (&config_digest, config.len()),
        &[(&layer_digest, layer.len())],
        None,
    );
    let good_digest = Digest::sha256(&good);
    let schema_version_1 = |manifest: &[u8]| {
        let mut value: serde_json::Value = serde_json::from_slice(manifest).expect("json");
        value["schemaVersion"] = json!(1);
        serde_json::to_vec(&value).expect("json")
    };
    let schema1 = serde_json::to_vec(&json!({
        "schemaVersion": 1, "name": REPO, "tag": "v1", "architecture": "amd64",
        "fsLayers": [], "history": [], "signatures": []
    }))
    .expect("json");

    // (what, reference, content type, body, status, error code)
    type Row = (
        &'static str,
        String,
        &'static str,
        Vec<u8>,
        u16,
        Option<&'static str>,
    );
    let table: Vec<Row> = vec![
        (
            "image by tag",
            "v1".into(),
            OCI_MANIFEST,
            good.clone(),
            201,
            None,
        ),
        (
            "image by its digest",
            good_digest.to_string(),
            OCI_MANIFEST,
            good.clone(),
            201,
            None,
        ),
        (
            "image by a digest it does not have",
            missing.to_string(),
            OCI_MANIFEST,
            good.clone(),
            400,
            Some("DIGEST_INVALID"),
        ),
        (
            "missing layer",
            "v2".into(),
            OCI_MANIFEST,
            image_manifest((&config_digest, config.len()), &[(&missing, 5)], None),
            400,
            Some("MANIFEST_BLOB_UNKNOWN"),
        ),
        (
            "missing config",
            "v2".into(),
            OCI_MANIFEST,
            image_manifest((&missing, 5), &[(&layer_digest, layer.len())], None),
            400,
            Some("MANIFEST_BLOB_UNKNOWN"),
        ),
        (
            "foreign layer without its blob",
            "windows".into(),
            DOCKER_MANIFEST,
            windows_manifest(&config_digest, config.len(), &layer_digest, layer.len()),
            201,
            None,
        ),
        (
            "index of a present manifest",
            "multi".into(),
            OCI_INDEX,
            index(&[(&good_digest, good.len(), "amd64")]),
            201,
            None,
        ),
        (
            "index of a missing manifest",
            "multi2".into(),
            OCI_INDEX,
            index(&[(&good_digest, good.len(), "amd64"), (&missing, 10, "arm64")]),
            400,
            Some("MANIFEST_BLOB_UNKNOWN"),
        ),
        (
            "docker schema 1",
            "old".into(),
            "application/vnd.docker.distribution.manifest.v1+prettyjws",
            schema1,
            415,
            Some("UNSUPPORTED"),
        ),
        (
            "an unknown field nested 100,000 deep",
            "deep".into(),
            OCI_MANIFEST,
            {
                let mut value: serde_json::Value = serde_json::from_slice(&good).expect("json");
                value["x"] = json!(null);
                let text = serde_json::to_string(&value).expect("json");
                let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
                text.replacen("null", &deep, 1).into_bytes()
            },
            400,
            Some("MANIFEST_INVALID"),
        ),
        (
            "an OCI media type with schemaVersion 1",
            "v1-schema".into(),
            OCI_MANIFEST,
            schema_version_1(&good),
            400,
            Some("MANIFEST_INVALID"),
        ),
        (
            "not JSON",
            "broken".into(),
            OCI_MANIFEST,
            b"{not json".to_vec(),
            400,
            Some("MANIFEST_INVALID"),
        ),
        (
            "empty body",
            "broken".into(),
            OCI_MANIFEST,
            Vec::new(),
            400,
            Some("MANIFEST_INVALID"),
        ),
        (
            "content type contradicting mediaType",
            "broken".into(),
            OCI_INDEX,
            good.clone(),
            400,
            Some("MANIFEST_INVALID"),
        ),
        (
            "subject that does not exist yet",
            "sig".into(),
            OCI_MANIFEST,
            image_manifest(
                (&config_digest, config.len()),
                &[(&layer_digest, layer.len())],
                Some((&missing, 100)),
            ),
            201,
            None,
        ),
    ];
    for (what, reference, content_type, body, status, code) in table {
        let reply = server
            .push_manifest(REPO, &reference, content_type, &body)
            .await;
        assert_eq!(
            reply.status,
            status,
            "[{backend:?}] {what}: {:?}",
            String::from_utf8_lossy(&reply.body)
        );
        assert_eq!(reply.error_code().as_deref(), code, "[{backend:?}] {what}");
        if status == 201 {
            let digest = Digest::sha256(&body);
            assert_eq!(
                reply.header("docker-content-digest"),
                Some(digest.as_str()),
                "{what}"
            );
            assert_eq!(
                reply.header("location"),
                Some(format!("/v2/{REPO}/manifests/{digest}").as_str()),
                "{what}"
            );
            // Served back byte for byte, with the media type it was pushed with.
            let got = server
                .get(&format!("/v2/{REPO}/manifests/{reference}"))
                .await;
            assert_eq!(got.status, 200, "{what}");
            assert_eq!(&got.body[..], &body[..], "{what}");
            assert_eq!(got.header("content-type"), Some(content_type), "{what}");
        }
    }

    // The missing blob is named in the error detail.
    let reply = server
        .push_manifest(
            REPO,
            "v3",
            OCI_MANIFEST,
            &image_manifest((&config_digest, config.len()), &[(&missing, 5)], None),
        )
        .await;
    assert_eq!(
        reply.json()["errors"][0]["detail"]["digest"],
        missing.to_string()
    );

    // The subject header is returned, and the referrer listed, even
    // though the subject was never pushed.
    let sig = image_manifest(
        (&config_digest, config.len()),
        &[(&layer_digest, layer.len())],
        Some((&missing, 100)),
    );
    let reply = server.push_manifest(REPO, "sig", OCI_MANIFEST, &sig).await;
    assert_eq!(reply.header("oci-subject"), Some(missing.as_str()));
    let referrers = server
        .get(&format!("/v2/{REPO}/referrers/{missing}"))
        .await
        .json();
    assert_eq!(
        referrers["manifests"][0]["digest"],
        Digest::sha256(&sig).to_string()
    );
    assert_eq!(referrers["manifests"][0]["artifactType"], OCI_CONFIG);
}
on_each_backend!(manifest_pushes_are_accepted_or_refused_with_the_right_code);

#[tokio::test]
async fn an_oversized_manifest_is_refused_with_413() {
    let server = start_with_limits(Backend::Memory, |l| l.max_manifest_size = 1024).await;
    let mut big = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "annotations": {}});
    big["annotations"]["padding"] = json!("x".repeat(2000));
    let bytes = serde_json::to_vec(&big).expect("json");
    let reply = server
        .push_manifest(REPO, "big", OCI_MANIFEST, &bytes)
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.error_code().as_deref(), Some("SIZE_INVALID"));

    // Also when the client does not declare a length (chunked body).
    let chunks = futures::stream::iter(
        bytes
            .chunks(100)
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let reply = server
        .send(
            Method::PUT,
            &format!("/v2/{REPO}/manifests/big"),
            &[("content-type", OCI_MANIFEST)],
            reqwest::Body::wrap_stream(chunks),
        )
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.error_code().as_deref(), Some("SIZE_INVALID"));
}

#[tokio::test]
async fn retagging_moves_the_tag_and_keeps_the_old_manifest_by_digest() {
    let server = start(Backend::Filesystem).await;
    let (first, first_digest) = server.push_image(REPO, "latest", "one").await;
    let (_, second_digest) = server.push_image(REPO, "latest", "two").await;
    let latest = server.get(&format!("/v2/{REPO}/manifests/latest")).await;
    assert_eq!(
        latest.header("docker-content-digest"),
        Some(second_digest.as_str())
    );
    let old = server
        .get(&format!("/v2/{REPO}/manifests/{first_digest}"))
        .await;
    assert_eq!(old.status, 200);
    assert_eq!(&old.body[..], &first[..]);
}

/// Blobs and uploads in one store, links in another (as with S3 and
/// PostgreSQL): an upload links its digest before the blob is stored.
async fn start_composite() -> TestServer {
    let blobs = wharf_storage::MemoryStorage::new();
    let metadata = wharf_storage::MemoryStorage::new().with_external_blobs();
    start_on_storage(std::sync::Arc::new(wharf_storage::Composite::new(
        blobs, metadata,
    )))
    .await
}

/// A monolithic upload links its digest before its body is stored; a
/// manifest naming that blob meanwhile (another client guessing or
/// racing it) must be refused, not stored with a layer that may never
/// arrive: here the upload is then abandoned and the blob never exists.
#[tokio::test]
async fn a_manifest_naming_a_blob_still_uploading_is_refused() {
    let server = start_composite().await;
    let config = b"{\"os\":\"linux\"}";
    let config_digest = server.push_blob(REPO, config).await;
    let layer = vec![7u8; 64 * 1024];
    let layer_digest = Digest::sha256(&layer);
    let manifest = image_manifest(
        (&config_digest, config.len()),
        &[(&layer_digest, layer.len())],
        None,
    );

    let (tx, rx) = futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let upload = {
        let request = server
            .client
            .post(server.url(&format!("/v2/{REPO}/blobs/uploads/?digest={layer_digest}")))
            .header("content-type", "application/octet-stream")
            .header("content-length", layer.len().to_string())
            .body(reqwest::Body::wrap_stream(rx));
        tokio::spawn(request.send())
    };
    let mut tx = tx;
    futures::SinkExt::send(&mut tx, Ok(layer[..1024].to_vec()))
        .await
        .expect("first part");
    let name = wharf_reference::RepositoryName::parse(REPO).expect("name");
    let storage = server.registry.storage().clone();
    for _ in 0..500 {
        if storage
            .is_blob_linked(&name, &layer_digest)
            .await
            .expect("linked?")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        storage
            .is_blob_linked(&name, &layer_digest)
            .await
            .expect("linked?"),
        "the upload links its digest first"
    );

    let reply = server
        .push_manifest(REPO, "v1", OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(reply.status.as_u16(), 400, "{reply:?}");
    assert_eq!(reply.error_code().as_deref(), Some("MANIFEST_BLOB_UNKNOWN"));
    assert_eq!(
        reply.json()["errors"][0]["detail"]["digest"],
        layer_digest.to_string()
    );

    // The client gives up mid-body: the blob never exists, nor does a
    // manifest that needs it.
    futures::SinkExt::send(&mut tx, Err(std::io::Error::other("the client gives up")))
        .await
        .expect("abort");
    drop(tx);
    assert!(
        upload.await.expect("join").is_err(),
        "the upload was abandoned"
    );
    let reply = server.get(&format!("/v2/{REPO}/manifests/v1")).await;
    assert_eq!(reply.status.as_u16(), 404, "{reply:?}");
    let reply = server
        .get(&format!("/v2/{REPO}/blobs/{layer_digest}"))
        .await;
    assert_eq!(reply.status.as_u16(), 404, "{reply:?}");

    // Uploaded in full, the same manifest is accepted.
    let pushed = server.push_blob(REPO, &layer).await;
    assert_eq!(pushed, layer_digest);
    let reply = server
        .push_manifest(REPO, "v1", OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{reply:?}");
}
