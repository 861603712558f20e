//! wharf-manifest: parse + validate (+ SHA-256 of the bytes) against the
//! baseline of plain `serde_json::from_slice::<serde_json::Value>` on the
//! same bytes, for a typical image manifest and a multi-arch index.
//!
//! ```sh
//! cargo bench -p wharf-benches --bench manifest -- --warm-up-time 1 --measurement-time 5
//! ```

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use wharf_manifest::Manifest;
use wharf_reference::Digest;

fn digest(seed: &str) -> String {
    Digest::sha256(seed.as_bytes()).to_string()
}

/// An OCI image manifest with 10 gzip layers and the usual annotations, as
/// BuildKit writes it (about 2.6 KB).
fn image_manifest() -> Bytes {
    let layers: Vec<String> = (0..10)
        .map(|i| {
            format!(
                r#"    {{
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "{}",
      "size": {}
    }}"#,
                digest(&format!("layer{i}")),
                1_000_000 + i * 7919
            )
        })
        .collect();
    format!(
        r#"{{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {{
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "{}",
    "size": 7023
  }},
  "layers": [
{}
  ],
  "annotations": {{
    "org.opencontainers.image.created": "2024-05-02T10:59:41Z",
    "org.opencontainers.image.description": "A typical web service image",
    "org.opencontainers.image.licenses": "Apache-2.0",
    "org.opencontainers.image.revision": "5a4c6bf5b3e0c3c8a7d7b0c0a2f4e1d9c8b7a6f5",
    "org.opencontainers.image.source": "https://github.com/wharf-rs/example",
    "org.opencontainers.image.version": "1.4.2"
  }}
}}"#,
        digest("config"),
        layers.join(",\n")
    )
    .into()
}

/// An OCI index as `docker buildx build --platform ... --provenance`
/// pushes it: 5 platforms, each with its attestation manifest (about 3.9 KB).
fn multiarch_index() -> Bytes {
    let platforms = [
        ("linux", "amd64", None),
        ("linux", "arm64", Some("v8")),
        ("linux", "arm", Some("v7")),
        ("linux", "ppc64le", None),
        ("linux", "s390x", None),
    ];
    let mut entries = Vec::new();
    for (os, arch, variant) in platforms {
        let image = digest(&format!("{os}/{arch}"));
        let variant = variant.map_or(String::new(), |v| format!(r#", "variant": "{v}""#));
        entries.push(format!(
            r#"    {{
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "{image}",
      "size": 1187,
      "platform": {{ "architecture": "{arch}", "os": "{os}"{variant} }}
    }}"#
        ));
        entries.push(format!(
            r#"    {{
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "{}",
      "size": 840,
      "annotations": {{
        "vnd.docker.reference.digest": "{image}",
        "vnd.docker.reference.type": "attestation-manifest"
      }},
      "platform": {{ "architecture": "unknown", "os": "unknown" }}
    }}"#,
            digest(&format!("attestation {os}/{arch}"))
        ));
    }
    format!(
        r#"{{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
{}
  ],
  "annotations": {{
    "org.opencontainers.image.description": "A multi-arch web service image",
    "org.opencontainers.image.source": "https://github.com/wharf-rs/example"
  }}
}}"#,
        entries.join(",\n")
    )
    .into()
}

fn parse_vs_serde_json_value(c: &mut Criterion) {
    let mut group = c.benchmark_group("manifest");
    for (name, bytes, content_type) in [
        (
            "image-10-layers",
            image_manifest(),
            "application/vnd.oci.image.manifest.v1+json",
        ),
        (
            "index-5-platforms",
            multiarch_index(),
            "application/vnd.oci.image.index.v1+json",
        ),
    ] {
        // Sanity: the inputs are valid, so the benchmark measures success.
        Manifest::parse(bytes.clone(), Some(content_type)).expect("benchmark input is valid");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("wharf_manifest::Manifest::parse", name),
            &bytes,
            |b, bytes| b.iter(|| Manifest::parse(black_box(bytes.clone()), Some(content_type))),
        );
        group.bench_with_input(
            BenchmarkId::new("serde_json::Value", name),
            &bytes,
            |b, bytes| b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes))),
        );
    }
    group.finish();
}

criterion_group!(benches, parse_vs_serde_json_value);
criterion_main!(benches);
