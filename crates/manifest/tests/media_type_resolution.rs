//! How the media type is resolved from the Content-Type, the `mediaType`
//! field and the shape of the document.

#![allow(clippy::unwrap_used)]

mod common;

use common::{edited, fixture, Edit};
use wharf_manifest::{Error, ErrorCode, Manifest, MediaType};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

enum Outcome {
    Resolves(MediaType),
    Fails(ErrorCode, Option<&'static str>),
}
use Outcome::{Fails, Resolves};

/// (document, Content-Type, outcome)
#[rustfmt::skip]
fn cases() -> Vec<(Vec<u8>, Option<&'static str>, Outcome)> {
    let no_field = |file| edited(file, &Edit::Remove("/mediaType"));
    vec![
        // Content-Type and field agree, with or without parameters and case.
        (fixture("oci-index-multiarch.json"), Some(OCI_INDEX), Resolves(MediaType::OCI_IMAGE_INDEX)),
        (fixture("oci-index-multiarch.json"), Some("application/vnd.oci.image.index.v1+json; charset=utf-8"), Resolves(MediaType::OCI_IMAGE_INDEX)),
        (fixture("oci-index-multiarch.json"), Some("  Application/VND.OCI.Image.Index.v1+JSON ;charset=UTF-8"), Resolves(MediaType::OCI_IMAGE_INDEX)),
        (fixture("docker-manifest-list.json"), Some(DOCKER_LIST), Resolves(MediaType::DOCKER_MANIFEST_LIST)),
        // No Content-Type, or a generic one: the field decides.
        (fixture("docker-v2s2-image.json"), None, Resolves(MediaType::DOCKER_MANIFEST)),
        (fixture("docker-v2s2-image.json"), Some(""), Resolves(MediaType::DOCKER_MANIFEST)),
        (fixture("docker-v2s2-image.json"), Some("application/json"), Resolves(MediaType::DOCKER_MANIFEST)),
        (fixture("docker-v2s2-image.json"), Some("application/octet-stream"), Resolves(MediaType::DOCKER_MANIFEST)),
        // No field: the Content-Type decides...
        (no_field("oci-image-annotated.json"), Some(OCI_MANIFEST), Resolves(MediaType::OCI_IMAGE_MANIFEST)),
        (no_field("oci-index-multiarch.json"), Some(OCI_INDEX), Resolves(MediaType::OCI_IMAGE_INDEX)),
        // ...and without either, the shape.
        (no_field("oci-image-annotated.json"), None, Resolves(MediaType::OCI_IMAGE_MANIFEST)),
        (no_field("oci-index-multiarch.json"), None, Resolves(MediaType::OCI_IMAGE_INDEX)),
        (no_field("oci-index-multiarch.json"), Some("text/plain"), Resolves(MediaType::OCI_IMAGE_INDEX)),
        // A conflict is an error.
        (fixture("oci-index-multiarch.json"), Some(DOCKER_LIST), Fails(ErrorCode::ManifestInvalid, Some("mediaType"))),
        (fixture("docker-v2s2-image.json"), Some(OCI_MANIFEST), Fails(ErrorCode::ManifestInvalid, Some("mediaType"))),
        (fixture("oci-image-annotated.json"), Some(OCI_INDEX), Fails(ErrorCode::ManifestInvalid, Some("mediaType"))),
        // A Content-Type that contradicts the shape fails on the shape.
        (no_field("oci-image-annotated.json"), Some(OCI_INDEX), Fails(ErrorCode::ManifestInvalid, Some("config"))),
        (no_field("oci-index-multiarch.json"), Some(OCI_MANIFEST), Fails(ErrorCode::ManifestInvalid, Some("manifests"))),
        // Docker formats must declare their media type.
        (no_field("docker-v2s2-image.json"), Some(DOCKER_MANIFEST), Fails(ErrorCode::ManifestInvalid, Some("mediaType"))),
        (no_field("docker-manifest-list.json"), Some(DOCKER_LIST), Fails(ErrorCode::ManifestInvalid, Some("mediaType"))),
        // Content-Types that are not manifests.
        (fixture("oci-image-annotated.json"), Some("application/vnd.oci.image.layer.v1.tar+gzip"), Fails(ErrorCode::Unsupported, None)),
        (fixture("oci-image-annotated.json"), Some("application/vnd.oci.artifact.manifest.v1+json"), Fails(ErrorCode::Unsupported, None)),
        (fixture("oci-image-annotated.json"), Some("application/vnd.docker.distribution.manifest.v1+prettyjws"), Fails(ErrorCode::Unsupported, None)),
        (fixture("oci-image-annotated.json"), Some("manifest"), Fails(ErrorCode::ManifestInvalid, None)),
        (fixture("oci-image-annotated.json"), Some("application/vnd.oci.image.manifest.v1+json x"), Fails(ErrorCode::ManifestInvalid, None)),
    ]
}

#[test]
fn media_type_is_resolved_from_content_type_then_field_then_shape() {
    for (i, (doc, content_type, outcome)) in cases().into_iter().enumerate() {
        let result = Manifest::parse(doc, content_type);
        match (outcome, result) {
            (Resolves(expected), Ok(m)) => {
                assert_eq!(m.media_type(), &expected, "case {i} ({content_type:?})")
            }
            (Fails(code, path), Err(err)) => {
                assert_eq!(err.code(), code, "case {i} ({content_type:?}): {err}");
                assert_eq!(err.path(), path, "case {i} ({content_type:?}): {err}");
            }
            (Resolves(_), Err(err)) => panic!("case {i} ({content_type:?}): {err}"),
            (Fails(..), Ok(m)) => panic!(
                "case {i} ({content_type:?}): accepted as {}",
                m.media_type()
            ),
        }
    }
}

#[test]
fn a_conflict_names_both_media_types_and_the_fix() {
    let err = Manifest::parse(fixture("docker-v2s2-image.json"), Some(OCI_MANIFEST)).unwrap_err();
    assert_eq!(
        err,
        Error::MediaTypeMismatch {
            content_type: MediaType::OCI_IMAGE_MANIFEST,
            media_type: MediaType::DOCKER_MANIFEST,
        }
    );
    let message = err.to_string();
    assert!(
        message.contains(OCI_MANIFEST) && message.contains(DOCKER_MANIFEST),
        "{message}"
    );
}

#[test]
fn the_removed_artifact_manifest_is_refused_with_what_to_use_instead() {
    let err = Manifest::parse(
        fixture("sbom-artifact.json"),
        Some("application/vnd.oci.artifact.manifest.v1+json"),
    )
    .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unsupported);
    assert!(err.to_string().contains("artifactType"), "{err}");
}
