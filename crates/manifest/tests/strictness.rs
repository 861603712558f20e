//! Which config and layer media types each strictness accepts.

#![allow(clippy::unwrap_used)]

mod common;

use common::{edited, fixture, Edit};
use serde_json::json;
use wharf_manifest::{ErrorCode, Manifest, ParseOptions, Strictness};

use Strictness::{Artifacts, Images, Permissive};

/// Accepted.
const OK: Result<(), &str> = Ok(());

/// Refused as `MANIFEST_INVALID` at this path.
fn at(path: &'static str) -> Result<(), &'static str> {
    Err(path)
}

type Outcomes = [Result<(), &'static str>; 3];

/// (document, description, outcome under [Images, Artifacts, Permissive])
#[rustfmt::skip]
fn cases() -> Vec<(Vec<u8>, &'static str, Outcomes)> {
    vec![
        (fixture("oci-image-annotated.json"), "OCI image", [OK, OK, OK]),
        (fixture("docker-v2s2-image.json"), "Docker image", [OK, OK, OK]),
        (fixture("docker-windows-foreign.json"), "Windows image with foreign layers", [OK, OK, OK]),
        (fixture("oci-index-multiarch.json"), "multi-arch index", [OK, OK, OK]),
        (fixture("docker-manifest-list.json"), "manifest list", [OK, OK, OK]),
        (fixture("helm-chart.json"), "Helm chart (artifact by config type)", [at("config.mediaType"), OK, OK]),
        (fixture("sbom-artifact.json"), "SBOM (artifactType, empty config)", [at("artifactType"), OK, OK]),
        (fixture("notation-signature.json"), "notation signature", [at("artifactType"), OK, OK]),
        (fixture("buildkit-attestation.json"), "BuildKit attestation (image config, in-toto layers)", [at("layers[0].mediaType"), at("layers[0].mediaType"), OK]),
        (edited("sbom-artifact.json", &Edit::Remove("/artifactType")), "empty config without artifactType", [at("config.mediaType"), at("artifactType"), OK]),
        (edited("oci-image-annotated.json", &Edit::Set("/layers/1/mediaType", json!("application/vnd.example.data"))), "image with an unknown layer type", [at("layers[1].mediaType"), at("layers[1].mediaType"), OK]),
        (edited("oci-image-annotated.json", &Edit::Set("/artifactType", json!("application/vnd.example.bundle"))), "image config with artifactType", [at("artifactType"), OK, OK]),
        (edited("oci-index-multiarch.json", &Edit::Set("/artifactType", json!("application/vnd.example.bundle"))), "index with artifactType", [at("artifactType"), OK, OK]),
    ]
}

#[test]
fn each_strictness_accepts_its_media_types() {
    for (doc, what, outcomes) in cases() {
        for (strictness, outcome) in [Images, Artifacts, Permissive].into_iter().zip(outcomes) {
            let mut options = ParseOptions::default();
            options.strictness = strictness;
            match (Manifest::parse_with(doc.clone(), None, &options), outcome) {
                (Ok(_), Ok(())) => {}
                (Ok(_), Err(_)) => panic!("{what}: accepted by {strictness:?}"),
                (Err(err), Ok(())) => panic!("{what}: refused by {strictness:?}: {err}"),
                (Err(err), Err(path)) => {
                    assert_eq!(err.code(), ErrorCode::ManifestInvalid, "{what}");
                    assert_eq!(err.path(), Some(path), "{what} under {strictness:?}: {err}");
                }
            }
        }
    }
}

#[test]
fn the_default_is_permissive() {
    assert_eq!(ParseOptions::default().strictness, Permissive);
    assert!(Manifest::parse(fixture("buildkit-attestation.json"), None).is_ok());
}

#[test]
fn every_strictness_still_refuses_malformed_manifests() {
    let broken = edited(
        "helm-chart.json",
        &Edit::Set("/layers/0/mediaType", json!("helm chart")),
    );
    for strictness in [Images, Artifacts, Permissive] {
        let mut options = ParseOptions::default();
        options.strictness = strictness;
        let err = Manifest::parse_with(broken.clone(), None, &options).unwrap_err();
        assert_eq!(err.path(), Some("layers[0].mediaType"), "{strictness:?}");
    }
}
