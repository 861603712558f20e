//! Broken variants of the fixtures, and inline documents: each is refused
//! with the OCI error code the registry answers with and the JSON path of
//! the offending value.

#![allow(clippy::unwrap_used)]

mod common;

use common::{edited, fixture, Edit};
use serde_json::json;
use wharf_manifest::{Error, ErrorCode, Manifest, ParseOptions};

use ErrorCode::{DigestInvalid as DIGEST, ManifestInvalid as INVALID, Unsupported as UNSUPPORTED};

const INDEX: &str = "oci-index-multiarch.json";
const LIST: &str = "docker-manifest-list.json";
const WINDOWS: &str = "docker-windows-foreign.json";
const HELM: &str = "helm-chart.json";
const SBOM: &str = "sbom-artifact.json";
const DOCKER: &str = "docker-v2s2-image.json";
const OCI: &str = "oci-image-annotated.json";

const SHA256_UPPER: &str =
    "sha256:B5B2B2C507A0944348E0303114D8D93AAAA081732B86451D9BCE1F432A537BC7";

fn set(pointer: &'static str, value: serde_json::Value) -> Edit {
    Edit::Set(pointer, value)
}

/// (fixture, edit, expected code, expected path)
#[rustfmt::skip]
fn fixture_cases() -> Vec<(&'static str, Edit, ErrorCode, Option<&'static str>)> {
    vec![
        // Platforms.
        (INDEX, set("/manifests/1/platform/architecture", json!("")), INVALID, Some("manifests[1].platform.architecture")),
        (INDEX, set("/manifests/1/platform/architecture", json!("ARM64")), INVALID, Some("manifests[1].platform.architecture")),
        (INDEX, set("/manifests/0/platform/os", json!("linux os")), INVALID, Some("manifests[0].platform.os")),
        (INDEX, set("/manifests/1/platform/variant", json!("v8\n")), INVALID, Some("manifests[1].platform.variant")),
        (INDEX, set("/manifests/2/platform/os.version", json!("10.0 20348")), INVALID, Some("manifests[2].platform.os.version")),
        (INDEX, set("/manifests/2/platform/os.features", json!(["win32k", ""])), INVALID, Some("manifests[2].platform.os.features[1]")),
        (INDEX, Edit::Remove("/manifests/0/platform/os"), INVALID, Some("manifests[0].platform.os")),
        (INDEX, set("/manifests/0/platform/architecture", json!(64)), INVALID, Some("manifests[0].platform.architecture")),
        (LIST, set("/manifests/3/platform/architecture", json!("ppc 64")), INVALID, Some("manifests[3].platform.architecture")),
        // Index entries must be manifests.
        (INDEX, set("/manifests/0/mediaType", json!("application/vnd.oci.image.layer.v1.tar+gzip")), INVALID, Some("manifests[0].mediaType")),
        (LIST, set("/manifests/0/mediaType", json!("application/vnd.docker.distribution.manifest.v1+json")), UNSUPPORTED, Some("manifests[0].mediaType")),
        (INDEX, set("/manifests/0/urls", json!(["https://example.com/m"])), INVALID, Some("manifests[0].urls")),
        (INDEX, set("/manifests", json!({})), INVALID, Some("manifests")),
        (INDEX, Edit::Remove("/manifests"), INVALID, Some("manifests")),
        (INDEX, set("/layers", json!([])), INVALID, Some("layers")),
        (INDEX, set("/config", json!({"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2})), INVALID, Some("config")),
        // Digests.
        (INDEX, set("/manifests/0/digest", json!("sha256:abc")), DIGEST, Some("manifests[0].digest")),
        (WINDOWS, set("/layers/1/digest", json!(SHA256_UPPER)), DIGEST, Some("layers[1].digest")),
        (WINDOWS, set("/layers/3/digest", json!("md5:9e107d9d372bb6826bd81d3542a419d6")), DIGEST, Some("layers[3].digest")),
        (DOCKER, set("/config/digest", json!("")), DIGEST, Some("config.digest")),
        (SBOM, set("/subject/digest", json!("sha256")), DIGEST, Some("subject.digest")),
        (DOCKER, Edit::Remove("/layers/0/digest"), INVALID, Some("layers[0].digest")),
        // Sizes.
        (LIST, set("/manifests/0/size", json!(-1)), INVALID, Some("manifests[0].size")),
        (LIST, set("/manifests/0/size", json!(1.5)), INVALID, Some("manifests[0].size")),
        (DOCKER, set("/layers/1/size", json!(1000.0)), INVALID, Some("layers[1].size")),
        (LIST, set("/manifests/0/size", json!("528")), INVALID, Some("manifests[0].size")),
        (DOCKER, Edit::Remove("/layers/2/size"), INVALID, Some("layers[2].size")),
        // URLs.
        (WINDOWS, set("/layers/0/urls/0", json!("ftp://mcr.microsoft.com/layer")), INVALID, Some("layers[0].urls[0]")),
        (WINDOWS, set("/layers/1/urls/1", json!("not a url")), INVALID, Some("layers[1].urls[1]")),
        (WINDOWS, set("/layers/2/urls", json!(["https://example.com/layer"])), INVALID, Some("layers[2].urls")),
        (WINDOWS, set("/config/urls", json!(["https://example.com/config"])), INVALID, Some("config.urls")),
        (WINDOWS, set("/layers/0/urls", json!("https://example.com/layer")), INVALID, Some("layers[0].urls")),
        // Media types.
        (HELM, set("/config/mediaType", json!("helm config")), INVALID, Some("config.mediaType")),
        (HELM, set("/layers/0/mediaType", json!("application/vnd.cncf.helm.chart.content.v1.tar+gzip; version=1")), INVALID, Some("layers[0].mediaType")),
        (DOCKER, set("/layers/0/mediaType", json!(7)), INVALID, Some("layers[0].mediaType")),
        (SBOM, set("/artifactType", json!("spdx")), INVALID, Some("artifactType")),
        (SBOM, set("/layers/0/artifactType", json!("")), INVALID, Some("layers[0].artifactType")),
        (SBOM, set("/mediaType", json!("application/vnd.oci.artifact.manifest.v1+json")), UNSUPPORTED, Some("mediaType")),
        (SBOM, set("/mediaType", json!("application/vnd.oci.image.config.v1+json")), UNSUPPORTED, Some("mediaType")),
        (DOCKER, set("/mediaType", json!("application/vnd.docker.distribution.manifest.v1+json")), UNSUPPORTED, Some("mediaType")),
        (SBOM, set("/mediaType", json!("not/a media type")), INVALID, Some("mediaType")),
        // Structure.
        (HELM, set("/manifests", json!([])), INVALID, Some("mediaType")),
        (SBOM, set("/manifests", json!([])), INVALID, Some("manifests")),
        (HELM, set("/config", json!(null)), INVALID, Some("config")),
        (DOCKER, Edit::Remove("/config"), INVALID, Some("config")),
        (DOCKER, Edit::Remove("/layers"), INVALID, Some("layers")),
        (HELM, set("/layers/0", json!("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")), INVALID, Some("layers[0]")),
        (SBOM, set("/subject/mediaType", json!("application/spdx+json")), INVALID, Some("subject.mediaType")),
        (OCI, set("/layers/2/platform", json!({"os": "linux"})), INVALID, Some("layers[2].platform.architecture")),
        (INDEX, set("/schemaVersion", json!(3)), INVALID, Some("schemaVersion")),
        (INDEX, set("/schemaVersion", json!("2")), INVALID, Some("schemaVersion")),
        (INDEX, Edit::Remove("/schemaVersion"), INVALID, Some("schemaVersion")),
        // A schema 2 or OCI media type with `schemaVersion: 1` is a supported
        // format with invalid content, not Docker schema 1.
        (INDEX, set("/schemaVersion", json!(1)), INVALID, Some("schemaVersion")),
        (OCI, set("/schemaVersion", json!(1)), INVALID, Some("schemaVersion")),
        // Annotations.
        (INDEX, set("/annotations/org.opencontainers.image.description", json!(42)), INVALID, Some("annotations[\"org.opencontainers.image.description\"]")),
        (SBOM, set("/layers/0/annotations/org.opencontainers.image.title", json!(null)), INVALID, Some("layers[0].annotations[\"org.opencontainers.image.title\"]")),
        (OCI, set("/annotations", json!({"k": ["v"]})), INVALID, Some("annotations.k")),
        (HELM, set("/annotations", json!(["a"])), INVALID, Some("annotations")),
    ]
}

#[test]
fn broken_fixtures_are_refused_with_code_and_path() {
    for (file, edit, code, path) in fixture_cases() {
        let bytes = edited(file, &edit);
        let err = Manifest::parse(bytes, None)
            .err()
            .unwrap_or_else(|| panic!("{file} {edit:?}: accepted"));
        assert_eq!(err.code(), code, "{file} {edit:?}: {err}");
        assert_eq!(err.path(), path, "{file} {edit:?}: {err}");
        if let Some(path) = path {
            assert!(err.to_string().contains(path), "{file} {edit:?}: {err}");
        }
    }
}

/// (document, expected code, expected path)
#[rustfmt::skip]
const INLINE_CASES: &[(&str, ErrorCode, Option<&str>)] = &[
    ("", INVALID, None),
    ("  \n\t", INVALID, None),
    ("{", INVALID, None),
    ("[]", INVALID, None),
    ("null", INVALID, None),
    ("\"manifest\"", INVALID, None),
    ("[2, \"application/vnd.oci.image.index.v1+json\"]", INVALID, None),
    (r#"{"schemaVersion":2,"manifests":[]} trailing"#, INVALID, None),
    (r#"{"schemaVersion":2,"schemaVersion":2,"manifests":[]}"#, INVALID, Some("schemaVersion")),
    (r#"{"schemaVersion":2,"manifests":[],"annotations":{"a":"1","a":"2"}}"#, INVALID, Some("annotations")),
    (r#"{"schemaVersion":2}"#, INVALID, Some("mediaType")),
    (r#"{"schemaVersion":2,"manifests":[],"layers":[]}"#, INVALID, Some("mediaType")),
    (r#"{"schemaVersion":2,"manifests":[[]]}"#, INVALID, Some("manifests[0]")),
    (r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":18446744073709551616}]}"#, INVALID, Some("manifests[0].size")),
    (r#"{"schemaVersion":2.0,"manifests":[]}"#, INVALID, Some("schemaVersion")),
    // No media type anywhere and `schemaVersion: 1`: Docker schema 1.
    (r#"{"schemaVersion":1,"name":"app","tag":"1","fsLayers":[],"history":[]}"#, UNSUPPORTED, None),
    ("{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{\"a\":\"\u{1}\"}}", INVALID, None),
];

#[test]
fn broken_documents_are_refused_with_code_and_path() {
    for (doc, code, path) in INLINE_CASES {
        let err = Manifest::parse(doc.as_bytes().to_vec(), None)
            .err()
            .unwrap_or_else(|| panic!("{doc}: accepted"));
        assert_eq!(err.code(), *code, "{doc}: {err}");
        assert_eq!(err.path(), *path, "{doc}: {err}");
    }
}

#[test]
fn invalid_json_reports_line_and_column() {
    let doc = "{\n  \"schemaVersion\": 2,\n  \"manifests\": [\n    {,}\n  ]\n}";
    let err = Manifest::parse(doc, None).unwrap_err();
    assert!(matches!(err, Error::Syntax { .. }), "{err:?}");
    assert_eq!(err.line_column(), Some((4, 6)));
    assert!(err.to_string().contains("line 4, column 6"), "{err}");

    let wrong_type =
        "{\n  \"schemaVersion\": 2,\n  \"manifests\": [\n    {\"mediaType\": 1}\n  ]\n}";
    let err = Manifest::parse(wrong_type, None).unwrap_err();
    assert_eq!(err.path(), Some("manifests[0].mediaType"));
    assert_eq!(err.line_column().map(|(line, _)| line), Some(4));
}

#[test]
fn the_size_limit_is_enforced_before_parsing() {
    let bytes = fixture(INDEX);
    let limit = bytes.len() - 1;
    let mut options = ParseOptions::default();
    options.max_size = limit;
    let err = Manifest::parse_with(bytes.clone(), None, &options).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SizeInvalid);
    assert_eq!(
        err,
        Error::TooLarge {
            size: bytes.len(),
            limit
        }
    );
    assert!(err.to_string().contains(&limit.to_string()));
    options.max_size = bytes.len();
    assert!(Manifest::parse_with(bytes, None, &options).is_ok());

    // The default is 4 MiB: a 5 MiB body is refused even if it is garbage.
    let huge = vec![b' '; 5 * 1024 * 1024];
    let err = Manifest::parse(huge, None).unwrap_err();
    assert_eq!(err.code(), ErrorCode::SizeInvalid);
}

#[test]
fn digest_errors_keep_the_reference_parser_reason() {
    let err = Manifest::parse(
        edited(
            WINDOWS,
            &set(
                "/layers/3/digest",
                json!("md5:9e107d9d372bb6826bd81d3542a419d6"),
            ),
        ),
        None,
    )
    .unwrap_err();
    let Error::InvalidDigest { source, value, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(value, "md5:9e107d9d372bb6826bd81d3542a419d6");
    assert!(matches!(
        **source,
        wharf_reference::Error::UnsupportedAlgorithm(_)
    ));
    assert!(std::error::Error::source(&err).is_some());
}
