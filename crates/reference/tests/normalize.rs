//! Docker Hub's defaults as docker and podman apply them, as an explicit
//! operation: one table of references with their normalized and familiar
//! forms.

#![allow(clippy::unwrap_used)] // tests unwrap what they have just asserted to be valid

use wharf_reference::{Error, Part, Reference};

const SHA256: &str = "sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa";

/// (as written, normalized, familiar)
fn cases() -> Vec<(String, String, String)> {
    let rows: Vec<(String, &str, &str)> = vec![
        // Official images gain `docker.io/library/`, and lose it again.
        ("busybox".into(), "docker.io/library/busybox", "busybox"),
        ("busybox:1.36".into(), "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox:1.36".into(), "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("docker.io/busybox".into(), "docker.io/library/busybox", "busybox"),
        ("docker.io/library/busybox".into(), "docker.io/library/busybox", "busybox"),
        // User images gain only the registry.
        ("user/app".into(), "docker.io/user/app", "user/app"),
        ("docker.io/user/app:v2".into(), "docker.io/user/app:v2", "user/app:v2"),
        // The legacy index name is Docker Hub too.
        ("index.docker.io/user/app".into(), "docker.io/user/app", "user/app"),
        ("index.docker.io/busybox".into(), "docker.io/library/busybox", "busybox"),
        // Nested names under `library/` keep it, as in docker.
        ("library/a/b".into(), "docker.io/library/a/b", "library/a/b"),
        // Other registries are left alone, including Docker Hub's real host.
        ("ghcr.io/octocat/app:1".into(), "ghcr.io/octocat/app:1", "ghcr.io/octocat/app:1"),
        ("localhost/app".into(), "localhost/app", "localhost/app"),
        ("localhost:5000/app".into(), "localhost:5000/app", "localhost:5000/app"),
        ("Foo/bar".into(), "Foo/bar", "Foo/bar"),
        ("registry-1.docker.io/busybox".into(), "registry-1.docker.io/busybox", "registry-1.docker.io/busybox"),
        // A familiar name that would read as a registry keeps `docker.io`.
        ("docker.io/example.com/app".into(), "docker.io/example.com/app", "docker.io/example.com/app"),
        ("docker.io/localhost/app".into(), "docker.io/localhost/app", "docker.io/localhost/app"),
        ("docker.io/library/localhost".into(), "docker.io/library/localhost", "localhost"),
        ("index.docker.io/example.com/app".into(), "docker.io/example.com/app", "docker.io/example.com/app"),
        // Tags and digests are kept, both of them; no `latest` is added.
        (
            format!("busybox:1.36@{SHA256}"),
            "docker.io/library/busybox:1.36@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa",
            "busybox:1.36@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa",
        ),
    ];
    rows.into_iter()
        .map(|(a, b, c)| (a, b.to_owned(), c.to_owned()))
        .collect()
}

#[test]
fn normalization_and_familiar_forms_match_docker() {
    for (written, normalized, familiar) in cases() {
        let r: Reference = written.parse().unwrap();
        let n = r.normalized().unwrap();
        assert_eq!(n.to_string(), normalized, "normalized({written})");
        assert_eq!(Reference::parse_normalized(&written).unwrap(), n);
        assert_eq!(r.familiar().to_string(), familiar, "familiar({written})");
        assert_eq!(
            n.to_familiar_string(),
            familiar,
            "familiar(normalized({written}))"
        );
    }
}

#[test]
fn normalization_is_idempotent_and_familiar_forms_normalize_back() {
    for (written, _, _) in cases() {
        let r: Reference = written.parse().unwrap();
        let n = r.normalized().unwrap();
        assert_eq!(n.normalized().unwrap(), n, "{written}");
        let f: Reference = r.to_familiar_string().parse().unwrap();
        assert_eq!(f.normalized().unwrap(), n, "{written}");
        assert_eq!(f.familiar(), f, "{written}");
    }
}

#[test]
fn parsing_never_normalizes_implicitly() {
    let r: Reference = "busybox".parse().unwrap();
    assert_eq!(r.registry(), None);
    assert_eq!(r.repository(), "busybox");
    assert_eq!(r.tag(), None);
    assert_eq!(r.to_string(), "busybox");
}

#[test]
fn parse_normalized_refuses_image_ids_as_docker_does() {
    let id = &SHA256["sha256:".len()..];
    let err = Reference::parse_normalized(id).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid {
                part: Part::Repository,
                offset: 0,
                ..
            }
        ),
        "{err}"
    );
    // The plain parser takes it as the (valid) repository name it is.
    assert_eq!(id.parse::<Reference>().unwrap().repository(), id);
    // 63 or 65 digits, or upper case, are ordinary names.
    assert!(Reference::parse_normalized(&id[1..]).is_ok());
    assert!(Reference::parse_normalized(&format!("{id}0")).is_ok());
}

#[test]
fn parse_normalized_refuses_upper_case_paths_but_not_upper_case_registries() {
    assert!(Reference::parse_normalized("Busybox").is_err());
    assert!(Reference::parse_normalized("user/App").is_err());
    let r = Reference::parse_normalized("Foo/bar").unwrap();
    assert_eq!((r.registry(), r.repository()), (Some("Foo"), "bar"));
}

#[test]
fn normalization_fails_only_when_the_full_name_exceeds_255_bytes() {
    // `docker.io/library/` is 18 bytes: 237 bytes of name still fit.
    let fits: Reference = "a".repeat(237).parse().unwrap();
    assert_eq!(fits.normalized().unwrap().to_string().len(), 255);

    let too_long: Reference = "a".repeat(238).parse().unwrap();
    assert_eq!(
        too_long.normalized().unwrap_err(),
        Error::TooLong {
            part: Part::Name,
            len: 256,
            max: 255
        }
    );
    assert!(Reference::parse_normalized(&"a".repeat(238)).is_err());
}

#[test]
fn default_tag_is_added_only_when_asked_and_only_without_tag_or_digest() {
    let cases = [
        ("busybox", "busybox:latest"),
        ("busybox:1.36", "busybox:1.36"),
        (&format!("busybox@{SHA256}"), &format!("busybox@{SHA256}")),
    ];
    for (written, expected) in cases {
        let r: Reference = written.parse().unwrap();
        assert_eq!(r.with_default_tag().to_string(), *expected);
    }
}

#[test]
fn docker_hub_is_recognised_by_its_two_names_or_no_registry() {
    for (written, hub) in [
        ("busybox", true),
        ("docker.io/user/app", true),
        ("index.docker.io/user/app", true),
        ("registry-1.docker.io/user/app", false),
        ("ghcr.io/user/app", false),
    ] {
        assert_eq!(
            written.parse::<Reference>().unwrap().is_docker_hub(),
            hub,
            "{written}"
        );
    }
}
