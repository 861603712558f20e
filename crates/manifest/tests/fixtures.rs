//! Real-shaped manifests, written from the OCI image-spec, the Docker V2
//! Schema 2 spec and what BuildKit, Helm, oras and notation push: each
//! parses, keeps its bytes, and answers the registry's questions.

#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::fixture;
use wharf_manifest::{Content, ErrorCode, Manifest, MediaType};
use wharf_reference::Digest;

struct Expect {
    file: &'static str,
    content_type: Option<&'static str>,
    media_type: MediaType,
    required_blobs: usize,
    foreign_blobs: usize,
    children: usize,
    artifact_type: Option<&'static str>,
    subject: bool,
    annotations: usize,
}

fn table() -> Vec<Expect> {
    vec![
        Expect {
            file: "oci-index-multiarch.json",
            content_type: Some("application/vnd.oci.image.index.v1+json"),
            media_type: MediaType::OCI_IMAGE_INDEX,
            required_blobs: 0,
            foreign_blobs: 0,
            children: 4,
            artifact_type: None,
            subject: false,
            annotations: 3,
        },
        Expect {
            file: "docker-manifest-list.json",
            content_type: Some("application/vnd.docker.distribution.manifest.list.v2+json"),
            media_type: MediaType::DOCKER_MANIFEST_LIST,
            required_blobs: 0,
            foreign_blobs: 0,
            children: 4,
            artifact_type: None,
            subject: false,
            annotations: 0,
        },
        Expect {
            file: "docker-windows-foreign.json",
            content_type: Some("application/vnd.docker.distribution.manifest.v2+json"),
            media_type: MediaType::DOCKER_MANIFEST,
            required_blobs: 3,
            foreign_blobs: 2,
            children: 0,
            artifact_type: Some("application/vnd.docker.container.image.v1+json"),
            subject: false,
            annotations: 0,
        },
        Expect {
            // Helm omits `mediaType`: the Content-Type decides.
            file: "helm-chart.json",
            content_type: Some("application/vnd.oci.image.manifest.v1+json"),
            media_type: MediaType::OCI_IMAGE_MANIFEST,
            required_blobs: 2,
            foreign_blobs: 0,
            children: 0,
            artifact_type: Some("application/vnd.cncf.helm.config.v1+json"),
            subject: false,
            annotations: 4,
        },
        Expect {
            file: "sbom-artifact.json",
            content_type: Some("application/vnd.oci.image.manifest.v1+json"),
            media_type: MediaType::OCI_IMAGE_MANIFEST,
            required_blobs: 2,
            foreign_blobs: 0,
            children: 0,
            artifact_type: Some("application/spdx+json"),
            subject: true,
            annotations: 1,
        },
        Expect {
            file: "notation-signature.json",
            content_type: None,
            media_type: MediaType::OCI_IMAGE_MANIFEST,
            required_blobs: 2,
            foreign_blobs: 0,
            children: 0,
            artifact_type: Some("application/vnd.cncf.notary.signature"),
            subject: true,
            annotations: 2,
        },
        Expect {
            file: "docker-v2s2-image.json",
            content_type: Some("application/vnd.docker.distribution.manifest.v2+json"),
            media_type: MediaType::DOCKER_MANIFEST,
            required_blobs: 4,
            foreign_blobs: 0,
            children: 0,
            artifact_type: Some("application/vnd.docker.container.image.v1+json"),
            subject: false,
            annotations: 0,
        },
        Expect {
            file: "oci-image-annotated.json",
            content_type: Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
            media_type: MediaType::OCI_IMAGE_MANIFEST,
            required_blobs: 4,
            foreign_blobs: 0,
            children: 0,
            artifact_type: Some("application/vnd.oci.image.config.v1+json"),
            subject: false,
            annotations: 8,
        },
        Expect {
            file: "buildkit-attestation.json",
            content_type: Some("application/vnd.oci.image.manifest.v1+json"),
            media_type: MediaType::OCI_IMAGE_MANIFEST,
            required_blobs: 3,
            foreign_blobs: 0,
            children: 0,
            artifact_type: Some("application/vnd.oci.image.config.v1+json"),
            subject: false,
            annotations: 0,
        },
    ]
}

#[test]
fn every_fixture_parses_and_answers_the_registry_questions() {
    for e in table() {
        let bytes = fixture(e.file);
        let m = Manifest::parse(bytes.clone(), e.content_type)
            .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let f = e.file;
        assert_eq!(m.media_type(), &e.media_type, "{f}");
        assert_eq!(m.bytes().as_ref(), &bytes[..], "{f}: bytes kept");
        assert_eq!(
            m.digest(),
            &Digest::sha256(&bytes),
            "{f}: digest of the bytes"
        );
        assert_eq!(m.size(), bytes.len() as u64, "{f}");
        assert_eq!(
            m.required_blobs().count(),
            e.required_blobs,
            "{f}: required"
        );
        assert_eq!(m.foreign_blobs().count(), e.foreign_blobs, "{f}: foreign");
        assert_eq!(m.child_manifests().len(), e.children, "{f}: children");
        assert_eq!(
            m.artifact_type().map(MediaType::as_str),
            e.artifact_type,
            "{f}: artifact type"
        );
        assert_eq!(m.subject().is_some(), e.subject, "{f}: subject");
        assert_eq!(m.annotations().len(), e.annotations, "{f}: annotations");
        assert_eq!(m.is_index(), e.children > 0, "{f}");
        // With the Content-Type left out, the document alone decides the
        // same way (every fixture without `mediaType` is OCI).
        let alone = Manifest::parse(bytes.clone(), None).unwrap();
        assert_eq!(
            alone.media_type(),
            m.media_type(),
            "{f}: without Content-Type"
        );
    }
}

#[test]
fn required_and_foreign_blobs_partition_the_layers_of_a_windows_image() {
    let m = Manifest::parse(fixture("docker-windows-foreign.json"), None).unwrap();
    let config = m.config().unwrap();
    assert_eq!(config.media_type, MediaType::DOCKER_CONFIG);
    let required: Vec<_> = m.required_blobs().collect();
    assert_eq!(required[0], config, "the config comes first");
    assert!(required[1..]
        .iter()
        .all(|d| d.media_type == MediaType::DOCKER_LAYER));
    let foreign: Vec<_> = m.foreign_blobs().collect();
    assert!(foreign
        .iter()
        .all(|d| d.media_type == MediaType::DOCKER_FOREIGN_LAYER && !d.urls.is_empty()));
    assert_eq!(foreign[1].urls.len(), 2);
    assert_eq!(foreign[0].size, 1_502_187_092);
    assert_eq!(m.layers().len(), required.len() - 1 + foreign.len());
}

#[test]
fn index_entries_carry_their_platforms() {
    let m = Manifest::parse(fixture("oci-index-multiarch.json"), None).unwrap();
    let platforms: Vec<String> = m.platforms().map(ToString::to_string).collect();
    assert_eq!(
        platforms,
        [
            "linux/amd64",
            "linux/arm64/v8",
            "windows/amd64",
            "unknown/unknown"
        ]
    );
    let windows = m.child_manifests()[2].platform.as_ref().unwrap();
    assert_eq!(windows.os_version.as_deref(), Some("10.0.20348.2582"));
    assert_eq!(windows.os_features, ["win32k"]);
    let attestation = &m.child_manifests()[3];
    assert_eq!(
        attestation.annotations["vnd.docker.reference.type"],
        "attestation-manifest"
    );
    assert_eq!(
        m.annotations()["org.opencontainers.image.source"],
        "https://github.com/wharf-rs/example"
    );
    let list = Manifest::parse(fixture("docker-manifest-list.json"), None).unwrap();
    assert_eq!(
        list.platforms()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "linux/amd64",
            "linux/arm/v7",
            "linux/arm64/v8",
            "linux/ppc64le"
        ]
    );
    assert!(list
        .child_manifests()
        .iter()
        .all(|d| d.media_type == MediaType::DOCKER_MANIFEST));
}

#[test]
fn an_artifact_becomes_a_referrer_descriptor_of_its_subject() {
    let bytes = fixture("sbom-artifact.json");
    let m = Manifest::parse(bytes.clone(), None).unwrap();
    let subject = m.subject().unwrap();
    assert_eq!(subject.media_type, MediaType::OCI_IMAGE_MANIFEST);
    assert!(m.config().unwrap().media_type.is_empty_config());
    let referrer = m.descriptor();
    assert_eq!(referrer.media_type, MediaType::OCI_IMAGE_MANIFEST);
    assert_eq!(referrer.digest, Digest::sha256(&bytes));
    assert_eq!(referrer.size, bytes.len() as u64);
    assert_eq!(
        referrer.artifact_type.as_ref().map(MediaType::as_str),
        Some("application/spdx+json")
    );
    assert_eq!(
        referrer.annotations["org.opencontainers.image.created"],
        "2024-05-02T11:05:00Z"
    );
    // The referrers index entry as the distribution-spec shows it.
    let json = serde_json::to_value(&referrer).unwrap();
    assert_eq!(json["artifactType"], "application/spdx+json");
    assert!(json.get("platform").is_none() && json.get("urls").is_none());
}

#[test]
fn content_is_typed_by_kind() {
    let m = Manifest::parse(fixture("oci-image-annotated.json"), None).unwrap();
    let Content::Image(image) = m.content() else {
        panic!("an image manifest")
    };
    assert_eq!(image.media_type(), Some(&MediaType::OCI_IMAGE_MANIFEST));
    assert_eq!(image.layers()[1].media_type, MediaType::OCI_LAYER_ZSTD);
    assert_eq!(
        image.layers()[2].annotations["org.opencontainers.image.title"],
        "app.tar"
    );
    assert!(!image.is_artifact());
    assert!(m.as_index().is_none());

    let helm = Manifest::parse(fixture("helm-chart.json"), None).unwrap();
    let image = helm.as_image().unwrap();
    assert_eq!(image.media_type(), None, "Helm leaves mediaType out");
    assert!(image.is_artifact());
}

#[test]
#[cfg(feature = "oci-spec")]
fn converts_to_oci_spec_types() {
    let m = Manifest::parse(fixture("docker-windows-foreign.json"), None).unwrap();
    let oci = m.to_oci_image_manifest().unwrap();
    assert_eq!(oci.layers().len(), 4);
    assert_eq!(oci.layers()[0].urls().as_ref().unwrap().len(), 1);
    assert_eq!(oci.config().size(), 1797);
    assert!(m.to_oci_image_index().is_none());

    let index = Manifest::parse(fixture("oci-index-multiarch.json"), None).unwrap();
    let oci = index.to_oci_image_index().unwrap();
    assert_eq!(oci.manifests().len(), 4);
    let p = oci.manifests()[1].platform().as_ref().unwrap();
    assert_eq!(p.variant().as_deref(), Some("v8"));
    assert_eq!(
        oci.annotations().as_ref().unwrap()["org.opencontainers.image.licenses"],
        "MIT OR Apache-2.0"
    );
    // Built from the validated values, not through oci-spec's serde: oci-spec
    // 0.10 names the platform fields `os_version`/`os_features` in JSON and
    // so loses Windows' `os.version`, which the conversion keeps.
    let windows = oci.manifests()[2].platform().as_ref().unwrap();
    assert_eq!(windows.os_version().as_deref(), Some("10.0.20348.2582"));
    assert_eq!(
        windows.os_features().as_deref(),
        Some(&["win32k".to_owned()][..])
    );
    let theirs: oci_spec::image::ImageIndex = serde_json::from_slice(index.bytes()).unwrap();
    assert_eq!(theirs.manifests()[..2], oci.manifests()[..2]);

    let sbom = Manifest::parse(fixture("sbom-artifact.json"), None).unwrap();
    let oci = sbom.to_oci_image_manifest().unwrap();
    let theirs: oci_spec::image::ImageManifest = serde_json::from_slice(sbom.bytes()).unwrap();
    assert_eq!(oci, theirs);
}

#[test]
fn schema1_is_refused_and_says_why() {
    let bytes = fixture("docker-schema1-signed.json");
    for content_type in [
        None,
        Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
        Some("application/vnd.docker.distribution.manifest.v1+json"),
        Some("application/json"),
    ] {
        let err = Manifest::parse(bytes.clone(), content_type).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unsupported, "{content_type:?}");
        let message = err.to_string();
        for words in [
            "Schema 1",
            "not supported",
            "deprecated",
            "JSON Web Signature",
            "Schema 2 or OCI",
        ] {
            assert!(message.contains(words), "{content_type:?}: {message}");
        }
    }
}

#[test]
fn bytes_are_shared_not_copied() {
    let bytes = Bytes::from(fixture("docker-v2s2-image.json"));
    let m = Manifest::parse(bytes.clone(), None).unwrap();
    assert_eq!(m.bytes().as_ptr(), bytes.as_ptr());
    assert_eq!(m.into_bytes(), bytes);
}
