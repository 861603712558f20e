//! Repository names (`/v2/<name>/...`) and tags, as a registry receives
//! them on the wire.

#![allow(clippy::unwrap_used)] // tests unwrap what they have just asserted to be valid

use std::sync::LazyLock;

use proptest::prelude::*;
use wharf_reference::{Error, Part, RepositoryName, Tag};

#[test]
fn repository_names_split_into_namespace_and_package() {
    let cases = [
        ("octocat", "octocat", None, 1),
        ("octocat/my-repo", "octocat", Some("my-repo"), 2),
        (
            "octocat/my-repo/release",
            "octocat",
            Some("my-repo/release"),
            3,
        ),
        ("my-org/a.b/c__d/e---f", "my-org", Some("a.b/c__d/e---f"), 4),
    ];
    for (input, namespace, package, components) in cases {
        let name: RepositoryName = input.parse().unwrap();
        assert_eq!(name.namespace(), namespace, "{input}");
        assert_eq!(name.package(), package, "{input}");
        assert_eq!(name.components().count(), components, "{input}");
        assert_eq!(name.to_string(), input);
        assert_eq!(name, input);
    }
}

#[test]
fn invalid_repository_names_name_the_offset() {
    // Ok((part, offset)) for a grammar error, Err(len) for a name too long.
    type Expected = Result<(Part, usize), usize>;
    let cases: Vec<(String, Expected)> = vec![
        ("".into(), Ok((Part::Repository, 0))),
        ("Octocat/app".into(), Ok((Part::PathComponent, 0))),
        ("octocat/App".into(), Ok((Part::PathComponent, 8))),
        ("a//b".into(), Ok((Part::PathComponent, 2))),
        ("a..b".into(), Ok((Part::PathComponent, 2))),
        ("a___b".into(), Ok((Part::PathComponent, 3))),
        ("a/b-".into(), Ok((Part::PathComponent, 3))),
        ("ghcr.io:443/a".into(), Ok((Part::PathComponent, 7))),
        ("a".repeat(256), Err(256)),
    ];
    for (input, expected) in cases {
        let err = input.parse::<RepositoryName>().expect_err(&input);
        match (err, expected) {
            (Error::Invalid { part, offset, .. } | Error::Empty { part, offset }, Ok(at)) => {
                assert_eq!((part, offset), at, "{input}")
            }
            (
                Error::TooLong {
                    part: Part::Repository,
                    len,
                    max: 255,
                },
                Err(expected_len),
            ) => {
                assert_eq!(len, expected_len)
            }
            (other, _) => panic!("{input}: unexpected {other:?}"),
        }
    }
}

#[test]
fn tags_allow_mixed_case_and_inner_dots_and_dashes() {
    for input in [
        "latest",
        "V1.14.1",
        "_private",
        "1.0-rc.1_build-7",
        &"t".repeat(128),
    ] {
        let tag: Tag = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(tag.as_str(), input);
        assert_eq!(&*tag, input, "Tag derefs to str");
        assert_eq!(tag, input);
    }
}

#[test]
fn invalid_tags_name_the_offset() {
    let cases: Vec<(String, Result<usize, usize>)> = vec![
        ("".into(), Ok(0)),
        (".hidden".into(), Ok(0)),
        ("-x".into(), Ok(0)),
        ("v1+build".into(), Ok(2)),
        ("a:b".into(), Ok(1)),
        ("t".repeat(129), Err(129)),
    ];
    for (input, expected) in cases {
        match (input.parse::<Tag>().expect_err(&input), expected) {
            (
                Error::Invalid {
                    part: Part::Tag,
                    offset,
                    ..
                }
                | Error::Empty {
                    part: Part::Tag,
                    offset,
                },
                Ok(at),
            ) => {
                assert_eq!(offset, at, "{input}")
            }
            (
                Error::TooLong {
                    part: Part::Tag,
                    len,
                    max: 128,
                },
                Err(expected_len),
            ) => {
                assert_eq!(len, expected_len)
            }
            (other, _) => panic!("{input}: unexpected {other:?}"),
        }
    }
}

#[test]
fn tags_order_lexically_by_bytes_as_tags_list_does() {
    let mut tags: Vec<Tag> = ["b", "B", "a", "10", "9", "_"]
        .iter()
        .map(|t| t.parse().unwrap())
        .collect();
    tags.sort();
    let sorted: Vec<&str> = tags.iter().map(|t| t.as_str()).collect();
    assert_eq!(sorted, ["10", "9", "B", "_", "a", "b"]);
}

#[test]
fn names_and_tags_travel_through_serde_as_strings() {
    let name: RepositoryName = "octocat/app".parse().unwrap();
    let tag: Tag = "v1".parse().unwrap();
    let json = serde_json::to_string(&(&name, &tag)).unwrap();
    assert_eq!(json, r#"["octocat/app","v1"]"#);
    let back: (RepositoryName, Tag) = serde_json::from_str(&json).unwrap();
    assert_eq!(back, (name, tag));
    assert!(serde_json::from_str::<RepositoryName>(r#""Octocat/app""#).is_err());
    assert!(serde_json::from_str::<Tag>(r#"".x""#).is_err());
}

#[test]
fn names_and_tags_can_be_looked_up_by_str() {
    use std::collections::HashMap;
    let mut by_tag: HashMap<Tag, u32> = HashMap::new();
    by_tag.insert("latest".parse().unwrap(), 1);
    assert_eq!(by_tag.get("latest"), Some(&1));
    let mut by_name: HashMap<RepositoryName, u32> = HashMap::new();
    by_name.insert("o/a".parse().unwrap(), 2);
    assert_eq!(by_name.get("o/a"), Some(&2));
}

/// distribution's `remoteName` and `tag` productions, anchored.
static PATH_RE: LazyLock<regex::Regex> = LazyLock::new(|| {
    let path_component = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
    regex::Regex::new(&format!("^{path_component}(?:/{path_component})*$")).expect("valid regex")
});
static TAG_RE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("valid regex")
});

proptest! {
    #[test]
    fn repository_name_and_tag_never_panic(s in any::<String>()) {
        if let Ok(name) = s.parse::<RepositoryName>() {
            prop_assert_eq!(name.as_str(), s.as_str());
        }
        if let Ok(tag) = s.parse::<Tag>() {
            prop_assert_eq!(tag.as_str(), s.as_str());
        }
    }

    #[test]
    fn repository_name_agrees_with_the_distribution_regex(s in "[a-zA-Z0-9._/-]{1,24}") {
        prop_assert_eq!(s.parse::<RepositoryName>().is_ok(), PATH_RE.is_match(&s), "{:?}", s);
    }

    #[test]
    fn tag_agrees_with_the_distribution_regex(s in "[a-zA-Z0-9._:+-]{0,140}") {
        prop_assert_eq!(s.parse::<Tag>().is_ok(), TAG_RE.is_match(&s), "{:?}", s);
    }
}
