//! Properties over arbitrary input: nothing panics, limits always hold,
//! truncation keeps a prefix, names round-trip.

// Tests may unwrap: a panic there is a failed test with its message.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use proptest::prelude::*;
use url::Url;
use wharf_annotations::{
    extract, CodeHost, Field, Key, Licenses, Origin, PackageMetadata, Policy, SourceRepository,
    Sources, Timestamp,
};

/// Text with the characters that matter: control characters, line breaks,
/// multi-byte and astral characters, whitespace.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zé🐳 \t\r\n\u{0}-\u{1f}\u{7f}\u{85}\u{202e}]{0,40}",
        "[aé🐳\u{7}]{500,700}",
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::STRICT),
        Just(Policy::LENIENT),
        Just(Policy::STRICT.with_limits(wharf_annotations::LimitPolicy::Truncate)),
        Just(Policy::STRICT.with_control_characters(wharf_annotations::ControlPolicy::Strip)),
    ]
}

fn annotations() -> impl Strategy<Value = BTreeMap<String, String>> {
    proptest::collection::btree_map(
        prop_oneof![
            proptest::sample::select(Key::ALL.map(Key::as_str).to_vec()).prop_map(str::to_owned),
            "[a-z.]{1,20}",
        ],
        text(),
        0..8,
    )
}

fn text_fields(meta: &PackageMetadata) -> Vec<(Key, &Field<String>)> {
    [
        (Key::Description, &meta.description),
        (Key::Title, &meta.title),
        (Key::Version, &meta.version),
        (Key::Revision, &meta.revision),
        (Key::Vendor, &meta.vendor),
        (Key::Authors, &meta.authors),
        (Key::RefName, &meta.ref_name),
        (Key::BaseName, &meta.base_name),
    ]
    .into_iter()
    .filter_map(|(key, field)| field.as_ref().map(|f| (key, f)))
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_annotations_and_labels_never_panic_and_respect_limits(
        upper in annotations(),
        lower in annotations(),
        policy in policy(),
    ) {
        let labels = serde_json::to_vec(&serde_json::json!({ "config": { "Labels": lower } })).unwrap();
        let extraction = Sources::new()
            .annotations(Origin::IndexAnnotation, &upper)
            .config(&labels)
            .extract(&policy);
        let meta = &extraction.metadata;
        for (key, field) in text_fields(meta) {
            let raw = match field.origin {
                Origin::IndexAnnotation => &upper[key.as_str()],
                _ => &lower[key.as_str()],
            };
            if let Some(limit) = key.max_chars() {
                prop_assert!(field.value.chars().count() <= limit);
            }
            if !field.is_modified() {
                prop_assert_eq!(&field.value, raw.trim());
            }
            if field.stripped == 0 {
                prop_assert!(raw.trim().starts_with(&field.value));
            }
            prop_assert!(field.value.chars().all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r')));
        }
        if let Some(licenses) = &meta.licenses {
            prop_assert!(licenses.value.raw.chars().count() <= 256);
        }
        // Every key present and non-blank in a layer is either extracted or reported.
        let non_blank = |layer: &BTreeMap<String, String>, key: &Key| {
            layer.get(key.as_str()).is_some_and(|v| !v.trim().is_empty())
        };
        let present = Key::ALL.iter().filter(|k| non_blank(&upper, k) || non_blank(&lower, k)).count();
        let extracted = serde_json::to_value(meta).unwrap().as_object().unwrap().len();
        prop_assert_eq!(present, extracted + extraction.problems.len());
    }

    #[test]
    fn truncation_yields_at_most_the_limit_and_a_prefix(value in "[^\u{0}-\u{1f}\u{7f}-\u{9f}]{0,1200}") {
        let manifest = common::index(&[(common::DESCRIPTION, &value)]);
        let extraction = extract(&manifest, None, &Policy::LENIENT);
        prop_assert!(extraction.problems.is_empty());
        let trimmed = value.trim();
        match extraction.metadata.description {
            None => prop_assert!(trimmed.is_empty()),
            Some(field) => {
                prop_assert!(field.value.chars().count() <= 512);
                prop_assert!(trimmed.starts_with(&field.value));
                prop_assert_eq!(field.truncated, trimmed.chars().count() > 512);
                prop_assert_eq!(field.value.chars().count(), trimmed.chars().count().min(512));
            }
        }
    }

    #[test]
    fn arbitrary_config_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let extraction = Sources::new().config(&bytes).extract(&Policy::default());
        prop_assert!(extraction.problems.len() <= 1 + Key::ALL.len());
    }

    #[test]
    fn json_shaped_configs_never_panic(json in r#"\{("config":)?\{?("Labels":)?(\{|\[|null|1|"x")("org.opencontainers.image.[a-z]{0,11}":)?("[^"\\]{0,10}"|1|null)?\}?\}?\}?"#) {
        let _ = Sources::new().config(json.as_bytes()).extract(&Policy::default());
    }

    #[test]
    fn licenses_and_timestamps_never_panic(
        raw in prop_oneof![
            any::<String>(),
            "[A-Za-z0-9.+()/ -]{0,40}",
            "((MIT|GPL-2.0|gpl|Apache-2.0|apache2|LicenseRef-x|DocumentRef-a:LicenseRef-b|LLVM-exception|\\+|/|\\(|\\)|AND|or|WITH|with) ?){0,8}",
        ],
    ) {
        let licenses = Licenses::new(raw.clone());
        prop_assert_eq!(&licenses.raw, &raw);
        if let Some(suggestion) = &licenses.suggestion {
            prop_assert!(Licenses::new(suggestion.clone()).is_valid_spdx());
        }
        prop_assert_eq!(licenses.is_valid_spdx(), licenses.spdx_error.is_none());
        let _ = Timestamp::new(raw);
    }

    #[test]
    fn linking_arbitrary_urls_never_panics_and_links_round_trip(
        scheme in "https?",
        host in "(github\\.example\\.com|GITHUB\\.example\\.com|localhost|other\\.test)(:[0-9]{1,5})?",
        path in "(/[A-Za-z0-9._%~-]{0,12}){0,4}/?",
        suffix in "(\\?[a-z=]{0,5})?(#[a-z]{0,5})?",
    ) {
        let hosts: Vec<CodeHost> = vec!["github.example.com".parse().unwrap(), "http://localhost:5000".parse().unwrap()];
        let Ok(url) = Url::parse(&format!("{scheme}://{host}{path}{suffix}")) else { return Ok(()); };
        if let Ok(repo) = SourceRepository::from_url(&url, &hosts) {
            prop_assert_eq!(repo.to_string().parse::<SourceRepository>().unwrap(), repo.clone());
            let host = hosts.iter().find(|h| h.host().eq_ignore_ascii_case(url.host_str().unwrap())).unwrap();
            prop_assert_eq!(SourceRepository::from_url(&host.repository_url(&repo), &hosts).unwrap(), repo);
        }
    }

    #[test]
    fn valid_repositories_round_trip_through_text_and_json(
        owner in "[A-Za-z0-9]([A-Za-z0-9-]{0,37}[A-Za-z0-9])?",
        name in "[A-Za-z0-9._-]{1,100}",
    ) {
        prop_assume!(name != "." && name != "..");
        let repo = SourceRepository::new(&owner, &name).unwrap();
        prop_assert_eq!(repo.to_string(), format!("{owner}/{name}"));
        prop_assert_eq!(repo.to_string().parse::<SourceRepository>().unwrap(), repo.clone());
        let json = serde_json::to_string(&repo).unwrap();
        prop_assert_eq!(serde_json::from_str::<SourceRepository>(&json).unwrap(), repo);
    }

    #[test]
    fn arbitrary_repository_and_host_text_never_panics(s in any::<String>()) {
        let _ = s.parse::<SourceRepository>();
        let _ = s.parse::<CodeHost>();
        let _ = s.parse::<Key>();
    }
}
