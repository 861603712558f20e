//! Builders for the manifests, indexes and configs the tests extract from.
#![allow(dead_code)] // each test file uses a different subset

use serde_json::{json, Map, Value};
use wharf_manifest::Manifest;
use wharf_reference::Digest;

pub const SOURCE: &str = "org.opencontainers.image.source";
pub const DESCRIPTION: &str = "org.opencontainers.image.description";
pub const LICENSES: &str = "org.opencontainers.image.licenses";

/// A file under `tests/fixtures`.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture parsed as a manifest.
pub fn fixture_manifest(name: &str) -> Manifest {
    Manifest::parse(fixture(name), None).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn object(pairs: &[(&str, &str)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect::<Map<_, _>>(),
    )
}

/// An image config blob with these `config.Labels`.
pub fn config(labels: &[(&str, &str)]) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Cmd": ["/app"], "Labels": object(labels) },
        "rootfs": { "type": "layers", "diff_ids": [] }
    }))
    .unwrap()
}

/// An OCI image manifest with these annotations, whose config is `config`.
pub fn image(annotations: &[(&str, &str)], config: &[u8]) -> Manifest {
    image_with_config_type(
        annotations,
        config,
        "application/vnd.oci.image.config.v1+json",
    )
}

/// An OCI image manifest whose config descriptor has this media type.
pub fn image_with_config_type(
    annotations: &[(&str, &str)],
    config: &[u8],
    config_type: &str,
) -> Manifest {
    let body = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": config_type,
            "digest": Digest::sha256(config).to_string(),
            "size": config.len(),
        },
        "layers": [],
        "annotations": object(annotations),
    });
    Manifest::parse(serde_json::to_vec(&body).unwrap(), None).unwrap()
}

/// An OCI image index with these annotations and one linux/amd64 entry.
pub fn index(annotations: &[(&str, &str)]) -> Manifest {
    let body = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": Digest::sha256(b"child").to_string(),
            "size": 5,
            "platform": { "architecture": "amd64", "os": "linux" }
        }],
        "annotations": object(annotations),
    });
    Manifest::parse(serde_json::to_vec(&body).unwrap(), None).unwrap()
}
