//! Extraction: which value wins, what each rule does under each policy, and
//! what is reported.

// Tests may unwrap: a panic there is a failed test with its message.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use wharf_annotations::{
    extract, CodeHost, ControlPolicy, Error, Field, Key, LimitPolicy, Origin, PackageMetadata,
    Policy, Sources,
};
use wharf_manifest::Manifest;

fn hosts() -> Vec<CodeHost> {
    vec!["github.example.com".parse().unwrap()]
}

// ---------------------------------------------------------------- fixtures

#[test]
fn docker_build_labels_fill_the_package_page() {
    let manifest = fixture_manifest("docker-manifest.json");
    let config = fixture("docker-config.json");
    let extraction = extract(&manifest, Some(&config), &Policy::default());
    assert_eq!(extraction.problems, []);
    let meta = extraction.metadata;

    fn text(f: &Option<Field<String>>) -> Option<(&str, Origin)> {
        f.as_ref().map(|f| (f.value.as_str(), f.origin))
    }
    let label = Origin::ConfigLabel;
    assert_eq!(
        text(&meta.description),
        Some(("A tiny HTTP echo server for testing proxies.", label))
    );
    assert_eq!(text(&meta.title), Some(("echo-server", label)));
    assert_eq!(text(&meta.version), Some(("1.4.2", label)));
    assert_eq!(
        text(&meta.revision),
        Some(("9f2c1e4b7a0d3c5e8f1a2b3c4d5e6f708192a3b4", label))
    );
    let licenses = meta.licenses.as_ref().unwrap();
    assert_eq!(
        (licenses.value.raw.as_str(), licenses.value.is_valid_spdx()),
        ("Apache-2.0", true)
    );
    let created = meta.created.as_ref().unwrap();
    assert_eq!(
        (created.value.raw.as_str(), created.value.is_rfc3339),
        ("2024-05-14T09:21:37.512Z", true)
    );
    assert_eq!(
        meta.url.as_ref().unwrap().value.as_str(),
        "https://github.example.com/octocat/echo-server"
    );
    assert_eq!(
        meta.source_repository(&hosts())
            .unwrap()
            .unwrap()
            .to_string(),
        "octocat/echo-server"
    );
    // Not a pre-defined key: `maintainer` is not read.
    assert_eq!(meta.authors, None);
}

#[test]
fn buildx_index_annotations_describe_a_multi_arch_image() {
    let index = fixture_manifest("oci-index.json");
    let child = fixture_manifest("oci-manifest-arm64.json");
    let child_config = fixture("oci-config-arm64.json");
    assert_eq!(index.child_manifests()[1].digest, *child.digest());

    let meta = Sources::new()
        .manifest(&index)
        .manifest(&child)
        .image_config(child.config().unwrap(), &child_config)
        .extract(&Policy::default())
        .into_result()
        .unwrap();

    let description = meta.description.unwrap();
    assert_eq!(
        (description.value.as_str(), description.origin),
        (
            "A tiny HTTP echo server for testing proxies, for amd64 and arm64.",
            Origin::IndexAnnotation
        )
    );
    assert_eq!(meta.licenses.unwrap().value.raw, "Apache-2.0 OR MIT");
    assert_eq!(meta.created.unwrap().value.raw, "2024-05-14T09:22:05Z"); // the index's
    let version = meta.version.unwrap(); // only the child manifest sets it
    assert_eq!(
        (version.value.as_str(), version.origin),
        ("1.4.2", Origin::ManifestAnnotation)
    );
}

#[test]
fn a_child_image_alone_takes_its_manifest_annotations_over_its_labels() {
    let child = fixture_manifest("oci-manifest-arm64.json");
    let meta = extract(
        &child,
        Some(&fixture("oci-config-arm64.json")),
        &Policy::default(),
    )
    .into_result()
    .unwrap();
    let description = meta.description.unwrap();
    assert_eq!(
        (description.value.as_str(), description.origin),
        ("echo-server for linux/arm64", Origin::ManifestAnnotation)
    );
    assert_eq!(meta.source.unwrap().origin, Origin::ConfigLabel);
}

// ---------------------------------------------------------------- precedence

#[test]
fn precedence_is_decided_key_by_key() {
    // (manifest annotation, config label) -> (winner, origin)
    let m = Origin::ManifestAnnotation;
    let c = Origin::ConfigLabel;
    let cases = [
        (Some("annotation"), Some("label"), Some(("annotation", m))),
        (Some("annotation"), None, Some(("annotation", m))),
        (None, Some("label"), Some(("label", c))),
        (None, None, None),
        // Empty or blank values are absent: the lower layer provides the key.
        (Some(""), Some("label"), Some(("label", c))),
        (Some(" \n\t "), Some("label"), Some(("label", c))),
        (Some("annotation"), Some(""), Some(("annotation", m))),
        (Some(""), Some(""), None),
    ];
    for (annotation, label, expected) in cases {
        let annotations: Vec<_> = annotation.map(|a| (DESCRIPTION, a)).into_iter().collect();
        let labels: Vec<_> = label.map(|l| (DESCRIPTION, l)).into_iter().collect();
        let config = config(&labels);
        let manifest = image(&annotations, &config);
        let meta = extract(&manifest, Some(&config), &Policy::default())
            .into_result()
            .unwrap();
        let got = meta
            .description
            .as_ref()
            .map(|f| (f.value.as_str(), f.origin));
        assert_eq!(got, expected, "annotation {annotation:?}, label {label:?}");
    }
}

#[test]
fn an_index_comes_before_the_config_given_as_fallback() {
    let fallback = config(&[(DESCRIPTION, "from the amd64 image"), (LICENSES, "MIT")]);
    let cases = [
        (
            vec![(DESCRIPTION, "multi-arch")],
            "multi-arch",
            Origin::IndexAnnotation,
        ),
        (vec![], "from the amd64 image", Origin::ConfigLabel),
        (
            vec![(DESCRIPTION, "")],
            "from the amd64 image",
            Origin::ConfigLabel,
        ),
    ];
    for (annotations, value, origin) in cases {
        let meta = extract(&index(&annotations), Some(&fallback), &Policy::default())
            .into_result()
            .unwrap();
        let description = meta.description.unwrap();
        assert_eq!(
            (description.value.as_str(), description.origin),
            (value, origin),
            "{annotations:?}"
        );
        assert_eq!(meta.licenses.unwrap().origin, Origin::ConfigLabel);
    }
}

#[test]
fn an_index_without_fallback_has_only_its_own_annotations() {
    let meta = extract(
        &index(&[(DESCRIPTION, "multi-arch")]),
        None,
        &Policy::default(),
    )
    .into_result()
    .unwrap();
    assert_eq!(meta.description.unwrap().origin, Origin::IndexAnnotation);
    assert_eq!(meta.licenses, None);
    assert!(extract(&index(&[]), None, &Policy::default())
        .metadata
        .is_empty());
}

#[test]
fn a_rejected_value_does_not_let_a_lower_one_through() {
    let config = config(&[
        (DESCRIPTION, "short label"),
        (SOURCE, "https://github.example.com/o/r"),
    ]);
    let long = "x".repeat(513);
    let manifest = image(
        &[
            (DESCRIPTION, &long),
            (SOURCE, "ftp://github.example.com/o/r"),
        ],
        &config,
    );
    let extraction = extract(&manifest, Some(&config), &Policy::default());
    assert_eq!(extraction.metadata.description, None);
    assert_eq!(extraction.metadata.source, None);
    assert_eq!(extraction.problems.len(), 2);
}

#[test]
fn merged_over_fills_only_missing_fields() {
    let field = |v: &str, o| Some(Field::new(v.to_owned(), o));
    let upper = {
        let mut metadata = PackageMetadata::default();
        metadata.description = field("index", Origin::IndexAnnotation);
        metadata
    };
    let lower = {
        let mut metadata = PackageMetadata::default();
        metadata.description = field("child", Origin::ConfigLabel);
        metadata.vendor = field("Octo Inc.", Origin::ConfigLabel);
        metadata
    };
    let merged = upper.clone().merged_over(lower.clone());
    assert_eq!(merged.description, upper.description);
    assert_eq!(merged.vendor, lower.vendor);
    assert_eq!(PackageMetadata::default().merged_over(lower.clone()), lower);
    assert_eq!(lower.clone().merged_over(PackageMetadata::default()), lower);
}

// ---------------------------------------------------------------- limits

fn description_of(value: &str, policy: Policy) -> (Option<Field<String>>, Vec<Error>) {
    let manifest = index(&[(DESCRIPTION, value)]);
    let extraction = extract(&manifest, None, &policy);
    (extraction.metadata.description, extraction.problems)
}

#[test]
fn limits_count_characters_and_apply_the_policy() {
    let reject = Policy::STRICT;
    let truncate = Policy::STRICT.with_limits(LimitPolicy::Truncate);
    // (key, value, limit)
    let cases = [
        (Key::Description, "a".repeat(512), None),
        (Key::Description, "é".repeat(512), None), // 1024 bytes, 512 characters
        (Key::Description, "🐳".repeat(512), None),
        (Key::Description, "a".repeat(513), Some(512)),
        (Key::Description, "é".repeat(600), Some(512)),
        (Key::Description, format!("{}  ", "a".repeat(512)), None), // trimmed first
        (Key::Licenses, "MIT OR ".repeat(36) + "MIT", None),        // 255
        (Key::Licenses, "MIT OR ".repeat(36) + "MIT0", Some(256)),  // 256
        (Key::Licenses, "MIT OR ".repeat(37) + "MIT", Some(256)),   // 262
        (Key::Title, "a".repeat(10_000), None),                     // no limit
    ];
    for (key, value, over) in cases {
        let manifest = index(&[(key.as_str(), &value)]);
        let chars = value.trim().chars().count();
        let strict = extract(&manifest, None, &reject);
        let lenient = extract(&manifest, None, &truncate);
        let text = |m: &PackageMetadata| match key {
            Key::Description => m.description.clone(),
            Key::Licenses => m.licenses.clone().map(|f| f.map(|l| l.raw)),
            Key::Title => m.title.clone(),
            _ => unreachable!(),
        };
        match over {
            Some(limit) if chars > limit => {
                assert_eq!(
                    strict.problems,
                    [Error::TooLong {
                        key,
                        origin: Origin::IndexAnnotation,
                        chars,
                        limit
                    }],
                    "{key} of {chars}"
                );
                assert_eq!(text(&strict.metadata), None);
                assert_eq!(lenient.problems, []);
                let field = text(&lenient.metadata).unwrap();
                assert!(field.truncated);
                assert_eq!(field.value.chars().count(), limit);
                assert!(value.starts_with(&field.value));
            }
            _ => {
                assert_eq!(strict, lenient, "{key} of {chars}");
                let field = text(&strict.metadata).unwrap();
                assert!(!field.truncated);
                assert_eq!(field.value, value.trim());
            }
        }
    }
}

#[test]
fn too_long_message_names_origin_key_and_rule() {
    let config = config(&[(DESCRIPTION, &"d".repeat(600))]);
    let manifest = image(&[], &config);
    let err = extract(&manifest, Some(&config), &Policy::default())
        .into_result()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "config label org.opencontainers.image.description is 600 characters; at most 512 are allowed"
    );
}

#[test]
fn truncated_licenses_are_checked_as_cut() {
    let value = "Apache-2.0 OR ".repeat(20); // 280 characters
    let manifest = index(&[(LICENSES, &value)]);
    let lenient = extract(&manifest, None, &Policy::LENIENT);
    let licenses = lenient.metadata.licenses.unwrap();
    assert!(licenses.truncated);
    assert_eq!(licenses.value.raw.chars().count(), 256);
    // ...ends in "Apache-2.0 OR Apac": no longer an expression.
    assert!(!licenses.value.is_valid_spdx());
}

// ---------------------------------------------------------------- control characters

#[test]
fn control_characters_are_rejected_or_stripped_by_policy() {
    // (value, first forbidden (char offset, char), stripped value, count)
    let cases = [
        ("two\nlines", None, "two\nlines", 0),
        ("tab\tseparated", None, "tab\tseparated", 0),
        ("windows\r\nline", None, "windows\r\nline", 0),
        ("bell\u{7}!", Some((4, '\u{7}')), "bell!", 1),
        (
            "\u{1b}[31mred\u{1b}[0m",
            Some((0, '\u{1b}')),
            "[31mred[0m",
            2,
        ),
        ("lone\rreturn", Some((4, '\r')), "lonereturn", 1),
        (
            "nul\u{0} and del\u{7f}",
            Some((3, '\u{0}')),
            "nul and del",
            2,
        ),
        (
            "<b>markup</b> & \u{202e}bidi",
            None,
            "<b>markup</b> & \u{202e}bidi",
            0,
        ),
    ];
    for (value, first, stripped, count) in cases {
        let (field, problems) = description_of(value, Policy::STRICT);
        match first {
            Some((char_offset, character)) => {
                assert_eq!(field, None, "{value:?}");
                assert_eq!(
                    problems,
                    [Error::ControlCharacter {
                        key: Key::Description,
                        origin: Origin::IndexAnnotation,
                        character,
                        char_offset
                    }],
                    "{value:?}"
                );
            }
            None => assert_eq!(field.unwrap().value, value),
        }
        let (field, problems) = description_of(
            value,
            Policy::STRICT.with_control_characters(ControlPolicy::Strip),
        );
        assert_eq!(problems, []);
        let field = field.unwrap();
        assert_eq!(
            (field.value.as_str(), field.stripped),
            (stripped, count),
            "{value:?}"
        );
        assert_eq!(field.is_modified(), count > 0);
    }
}

#[test]
fn control_character_message_shows_the_code_point() {
    let (_, problems) = description_of("bell\u{7}", Policy::STRICT);
    assert_eq!(
        problems[0].to_string(),
        "index annotation org.opencontainers.image.description contains the control character \
         U+0007 at character offset 4; only tab and line breaks are allowed in text"
    );
}

#[test]
fn a_value_of_only_control_characters_is_flagged_not_dropped() {
    let (field, problems) = description_of("\u{7}\u{8}", Policy::LENIENT);
    assert_eq!(problems, []);
    let field = field.unwrap();
    assert_eq!((field.value.as_str(), field.stripped), ("", 2));
}

#[test]
fn stripping_happens_before_the_limit_is_applied() {
    let value = format!("{}{}", "\u{7}".repeat(100), "a".repeat(512));
    let (field, problems) = description_of(
        &value,
        Policy::STRICT.with_control_characters(ControlPolicy::Strip),
    );
    assert_eq!(problems, []);
    let field = field.unwrap();
    assert_eq!(
        (field.value.len(), field.stripped, field.truncated),
        (512, 100, false)
    );
}

// ---------------------------------------------------------------- URLs, digests, dates

#[test]
fn url_keys_accept_only_http_and_https() {
    // (value, accepted as)
    let cases: [(&str, Result<&str, &str>); 11] = [
        (
            "https://github.example.com/octocat/repo",
            Ok("https://github.example.com/octocat/repo"),
        ),
        ("http://example.com", Ok("http://example.com/")),
        ("HTTPS://Example.COM/Path", Ok("https://example.com/Path")),
        ("  https://example.com/x  ", Ok("https://example.com/x")),
        ("ftp://example.com/x", Err("is a ftp: URL")),
        (
            "git@github.com:octocat/repo.git",
            Err("is not a usable URL"),
        ),
        ("file:///etc/passwd", Err("is a file: URL")),
        ("javascript:alert(1)", Err("is a javascript: URL")),
        (
            "github.com/octocat/repo",
            Err("relative URL without a base"),
        ),
        (
            "https://exa mple.com/x",
            Err("whitespace or control characters"),
        ),
        (
            "https://user:token@github.com/o/r",
            Err("contains credentials"),
        ),
    ];
    for key in [Key::Source, Key::Url, Key::Documentation] {
        for (value, expected) in cases {
            let extraction = extract(&index(&[(key.as_str(), value)]), None, &Policy::default());
            let m = &extraction.metadata;
            let got = match key {
                Key::Source => &m.source,
                Key::Url => &m.url,
                _ => &m.documentation,
            };
            match expected {
                Ok(url) => {
                    assert_eq!(extraction.problems, [], "{key} {value:?}");
                    assert_eq!(got.as_ref().unwrap().value.as_str(), url);
                }
                Err(message) => {
                    assert_eq!(got, &None, "{key} {value:?}");
                    let problem = extraction.problems[0].to_string();
                    assert!(problem.contains(message), "{key} {value:?}: {problem}");
                    assert!(problem.contains(key.as_str()), "{problem}");
                }
            }
        }
    }
}

#[test]
fn base_digest_must_be_a_digest() {
    let good = "sha256:4fbec69b941195fd56f8212a5000e304129451d82efca94ff0e0fb2d5355472e";
    let cases = [
        (good, true),
        (
            "sha256:4FBEC69B941195FD56F8212A5000E304129451D82EFCA94FF0E0FB2D5355472E",
            false,
        ),
        ("sha256:1234", false),
        ("latest", false),
    ];
    for (value, valid) in cases {
        let extraction = extract(
            &index(&[("org.opencontainers.image.base.digest", value)]),
            None,
            &Policy::default(),
        );
        assert_eq!(extraction.metadata.base_digest.is_some(), valid, "{value}");
        assert_eq!(extraction.problems.is_empty(), valid, "{value}");
        if !valid {
            assert!(matches!(
                extraction.problems[0],
                Error::InvalidDigest {
                    key: Key::BaseDigest,
                    ..
                }
            ));
        }
    }
}

#[test]
fn created_is_kept_as_written_with_its_rfc3339_verdict() {
    for (value, valid) in [
        ("2024-05-14T09:21:37Z", true),
        ("2024-05-14 09:21:37", false),
        ("yesterday", false),
    ] {
        let extraction = extract(
            &index(&[("org.opencontainers.image.created", value)]),
            None,
            &Policy::default(),
        );
        assert_eq!(extraction.problems, []);
        let created = extraction.metadata.created.unwrap().value;
        assert_eq!((created.raw.as_str(), created.is_rfc3339), (value, valid));
    }
}

#[test]
fn every_predefined_key_is_read() {
    let digest = "sha256:4fbec69b941195fd56f8212a5000e304129451d82efca94ff0e0fb2d5355472e";
    let values: Vec<(Key, String)> = Key::ALL
        .iter()
        .map(|&key| {
            let value = match key {
                Key::Source | Key::Url | Key::Documentation => {
                    format!("https://example.com/{}", key.as_str())
                }
                Key::BaseDigest => digest.to_owned(),
                Key::Licenses => "MIT".to_owned(),
                Key::Created => "2024-01-01T00:00:00Z".to_owned(),
                _ => format!("value of {key}"),
            };
            (key, value)
        })
        .collect();
    let pairs: Vec<(&str, &str)> = values
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let meta = extract(&index(&pairs), None, &Policy::default())
        .into_result()
        .unwrap();
    let json = serde_json::to_value(&meta).unwrap();
    let fields = json.as_object().unwrap();
    assert_eq!(fields.len(), Key::ALL.len(), "{json:#}");
    // The plain-text keys the other tests do not read.
    for (field, key) in [
        (&meta.ref_name, Key::RefName),
        (&meta.base_name, Key::BaseName),
        (&meta.vendor, Key::Vendor),
        (&meta.authors, Key::Authors),
    ] {
        assert_eq!(field.as_ref().unwrap().value, format!("value of {key}"));
    }
    assert_eq!(meta.base_digest.unwrap().value.as_str(), digest);
}

#[test]
fn keys_are_case_sensitive_and_other_namespaces_are_ignored() {
    let extraction = extract(
        &index(&[
            ("org.opencontainers.image.Description", "wrong case"),
            ("org.label-schema.description", "label-schema"),
            ("description", "bare"),
        ]),
        None,
        &Policy::default(),
    );
    assert_eq!(extraction, Default::default());
}

// ---------------------------------------------------------------- configs

#[test]
fn a_malformed_config_is_reported_and_annotations_still_extracted() {
    let cases: [&[u8]; 5] = [
        b"not json",
        b"[]",
        br#"{"config":{"Labels":["a=b"]}}"#,
        br#"{"config":{"Labels":{"org.opencontainers.image.licenses":1}}}"#,
        b"\xff\xfe{}",
    ];
    for config in cases {
        let manifest = image(&[(DESCRIPTION, "from the manifest")], config);
        let extraction = extract(&manifest, Some(config), &Policy::default());
        assert_eq!(
            extraction.metadata.description.unwrap().value,
            "from the manifest"
        );
        assert_eq!(extraction.problems.len(), 1, "{config:?}");
        assert!(
            matches!(&extraction.problems[0], Error::MalformedConfig { .. }),
            "{:?}",
            extraction.problems
        );
        assert!(extraction.problems[0]
            .to_string()
            .contains("its labels were not read"));
    }
}

#[test]
fn malformed_config_message_names_the_json_path() {
    let config = br#"{"config":{"Labels":{"org.opencontainers.image.licenses":1}}}"#;
    let extraction = Sources::new().config(config).extract(&Policy::default());
    assert_eq!(
        extraction.into_result().unwrap_err().to_string(),
        "the image config is malformed at config.Labels.org.opencontainers.image.licenses: \
         invalid type: integer `1`, expected a string at line 1 column 58; its labels were not read"
    );
}

#[test]
fn a_config_that_is_not_the_manifests_is_refused() {
    let real = config(&[(DESCRIPTION, "real")]);
    let other = config(&[(DESCRIPTION, "other")]);
    let manifest = image(&[], &real);
    let extraction = extract(&manifest, Some(&other), &Policy::default());
    assert_eq!(extraction.metadata.description, None);
    match &extraction.problems[..] {
        [Error::ConfigDigestMismatch { expected, actual }] => {
            assert_eq!(expected, &manifest.config().unwrap().digest);
            assert_eq!(actual, &wharf_reference::Digest::sha256(&other));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_artifact_config_is_not_read_for_labels() {
    let helm = br#"{"name":"chart","version":"1.0.0","apiVersion":"v2"}"#;
    let manifest = image_with_config_type(
        &[(DESCRIPTION, "a chart")],
        helm,
        "application/vnd.cncf.helm.config.v1+json",
    );
    let extraction = extract(&manifest, Some(helm), &Policy::default());
    assert_eq!(extraction.problems, []);
    assert_eq!(extraction.metadata.description.unwrap().value, "a chart");

    let empty = b"{}";
    let manifest = image_with_config_type(&[], empty, "application/vnd.oci.empty.v1+json");
    assert_eq!(
        extract(&manifest, Some(empty), &Policy::default()),
        Default::default()
    );
}

#[test]
fn docker_config_labels_are_read_from_config_not_container_config() {
    let config = br#"{"config":{"Labels":null},"container_config":{"Labels":{"org.opencontainers.image.description":"build container"}}}"#;
    let manifest = image(&[], config);
    assert_eq!(
        extract(&manifest, Some(config), &Policy::default()),
        Default::default()
    );
}

// ---------------------------------------------------------------- output

#[test]
fn metadata_serializes_compactly_and_round_trips() {
    let config = config(&[
        (DESCRIPTION, &"é".repeat(600)),
        (LICENSES, "MIT/Apache-2.0"),
    ]);
    let manifest: Manifest = image(&[(SOURCE, "https://github.example.com/o/r")], &config);
    let meta = extract(&manifest, Some(&config), &Policy::LENIENT).metadata;
    let json = serde_json::to_value(&meta).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "source": { "value": "https://github.example.com/o/r", "origin": "manifest_annotation" },
            "description": { "value": "é".repeat(512), "origin": "config_label", "truncated": true },
            "licenses": {
                "value": {
                    "raw": "MIT/Apache-2.0",
                    "spdx_error": "invalid character(s) at character offset 3",
                    "suggestion": "MIT OR Apache-2.0"
                },
                "origin": "config_label"
            }
        })
    );
    let back: PackageMetadata = serde_json::from_value(json).unwrap();
    assert_eq!(back, meta);
    assert_eq!(
        serde_json::to_string(&PackageMetadata::default()).unwrap(),
        "{}"
    );
}

#[test]
fn policy_reads_from_configuration() {
    let cases = [
        ("{}", Policy::STRICT),
        (
            r#"{"limits":"truncate"}"#,
            Policy::STRICT.with_limits(LimitPolicy::Truncate),
        ),
        (
            r#"{"limits":"truncate","control_characters":"strip"}"#,
            Policy::LENIENT,
        ),
    ];
    for (json, policy) in cases {
        assert_eq!(
            serde_json::from_str::<Policy>(json).unwrap(),
            policy,
            "{json}"
        );
    }
    assert!(serde_json::from_str::<Policy>(r#"{"limit":"truncate"}"#).is_err());
    assert!(serde_json::from_str::<Policy>(r#"{"limits":"cut"}"#).is_err());
}

#[test]
fn problems_come_in_a_stable_order() {
    let config = b"oops";
    let manifest = index(&[
        ("org.opencontainers.image.base.digest", "nope"),
        (DESCRIPTION, &"x".repeat(513)),
        (SOURCE, "ftp://x"),
    ]);
    let problems = extract(&manifest, Some(config), &Policy::default()).problems;
    let kinds: Vec<_> = problems
        .iter()
        .map(|p| match p {
            Error::MalformedConfig { .. } => "config",
            Error::UnsupportedScheme {
                key: Key::Source, ..
            } => "source",
            Error::TooLong {
                key: Key::Description,
                ..
            } => "description",
            Error::InvalidDigest {
                key: Key::BaseDigest,
                ..
            } => "base.digest",
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["config", "source", "description", "base.digest"]);
}
