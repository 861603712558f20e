//! Image references as people write them: one table of valid references
//! with the parts they must yield, one of invalid references with the part
//! and byte offset the error must name.

#![allow(clippy::unwrap_used)] // tests unwrap what they have just asserted to be valid

use wharf_reference::{Error, Part, Reference};

const SHA256: &str = "sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa";

struct Valid {
    input: String,
    registry: Option<&'static str>,
    repository: String,
    tag: Option<String>,
    digest: Option<String>,
}

fn valid(
    input: impl Into<String>,
    registry: Option<&'static str>,
    repository: impl Into<String>,
    tag: Option<&str>,
    digest: Option<&str>,
) -> Valid {
    Valid {
        input: input.into(),
        registry,
        repository: repository.into(),
        tag: tag.map(String::from),
        digest: digest.map(String::from),
    }
}

fn valid_references() -> Vec<Valid> {
    let sha512 = format!("sha512:{}", "ab".repeat(64));
    let blake3 = format!("blake3:{}", "0f".repeat(32));
    let long_tag = "t".repeat(128);
    let long_path = format!("{}/{}", "a".repeat(127), "b".repeat(127)); // 255 bytes
    let long_name_path = "c".repeat(255 - "ghcr.io/".len());
    vec![
        // Docker Hub short names: nothing is implied.
        valid("busybox", None, "busybox", None, None),
        valid(
            "library/busybox:1.36",
            None,
            "library/busybox",
            Some("1.36"),
            None,
        ),
        valid("user/app", None, "user/app", None, None),
        valid(
            "docker.io/library/busybox",
            Some("docker.io"),
            "library/busybox",
            None,
            None,
        ),
        // Hosts: a `.`, a `:`, `localhost`, or an upper-case letter make a registry.
        valid(
            "ghcr.io/octocat/my-repo:latest",
            Some("ghcr.io"),
            "octocat/my-repo",
            Some("latest"),
            None,
        ),
        valid(
            "containers.HOSTNAME/namespace/image_name/release:1.14.1",
            Some("containers.HOSTNAME"),
            "namespace/image_name/release",
            Some("1.14.1"),
            None,
        ),
        valid(
            format!("localhost:5000/a/b@{SHA256}"),
            Some("localhost:5000"),
            "a/b",
            None,
            Some(SHA256),
        ),
        valid("localhost/app", Some("localhost"), "app", None, None),
        valid(
            "[::1]:5000/img:tag",
            Some("[::1]:5000"),
            "img",
            Some("tag"),
            None,
        ),
        valid(
            "[2001:db8::1]/img",
            Some("[2001:db8::1]"),
            "img",
            None,
            None,
        ),
        valid(
            "127.0.0.1:5000/app",
            Some("127.0.0.1:5000"),
            "app",
            None,
            None,
        ),
        valid(
            "registry:5000/app",
            Some("registry:5000"),
            "app",
            None,
            None,
        ),
        valid("Foo/bar", Some("Foo"), "bar", None, None),
        valid(
            "registry-1.docker.io/library/ubuntu",
            Some("registry-1.docker.io"),
            "library/ubuntu",
            None,
            None,
        ),
        valid(
            "example.com:443/a/b/c/d:v1",
            Some("example.com:443"),
            "a/b/c/d",
            Some("v1"),
            None,
        ),
        // Without `/`, the first component is never a registry.
        valid("localhost:5000", None, "localhost", Some("5000"), None),
        valid("example.com", None, "example.com", None, None),
        valid("example.com:5000", None, "example.com", Some("5000"), None),
        // Separators: one `.`, one or two `_`, any number of `-`.
        valid("a.b_c__d---e", None, "a.b_c__d---e", None, None),
        valid("x/a.b_c__d---e/f-g", None, "x/a.b_c__d---e/f-g", None, None),
        valid("0/1/2", None, "0/1/2", None, None),
        // Tags: letters of any case, digits, `_` first, `.` and `-` inside.
        valid("img:V1.0-RC_2", None, "img", Some("V1.0-RC_2"), None),
        valid("img:_underscore", None, "img", Some("_underscore"), None),
        valid(
            format!("img:{long_tag}"),
            None,
            "img",
            Some(&long_tag),
            None,
        ),
        // Tag and digest together: both kept.
        valid(
            format!("img:tag@{SHA256}"),
            None,
            "img",
            Some("tag"),
            Some(SHA256),
        ),
        valid(
            format!("ghcr.io/o/i:1.0@{SHA256}"),
            Some("ghcr.io"),
            "o/i",
            Some("1.0"),
            Some(SHA256),
        ),
        // Other digest algorithms.
        valid(format!("img@{sha512}"), None, "img", None, Some(&sha512)),
        valid(format!("img@{blake3}"), None, "img", None, Some(&blake3)),
        // Length limits, at the limit.
        valid(long_path.clone(), None, long_path, None, None),
        valid(
            format!("ghcr.io/{long_name_path}"),
            Some("ghcr.io"),
            long_name_path,
            None,
            None,
        ),
    ]
}

#[test]
fn valid_references_yield_their_parts_and_print_back_exactly() {
    for case in valid_references() {
        let r: Reference = case
            .input
            .parse()
            .unwrap_or_else(|e| panic!("{:?} should parse: {e}", case.input));
        assert_eq!(r.registry(), case.registry, "registry of {:?}", case.input);
        assert_eq!(
            r.repository(),
            case.repository,
            "repository of {:?}",
            case.input
        );
        assert_eq!(r.repository_name().as_str(), case.repository);
        assert_eq!(
            r.tag().map(|t| t.as_str()),
            case.tag.as_deref(),
            "tag of {:?}",
            case.input
        );
        assert_eq!(
            r.digest().map(|d| d.as_str()),
            case.digest.as_deref(),
            "digest of {:?}",
            case.input
        );
        assert_eq!(r.to_string(), case.input);
        assert_eq!(r.to_string().parse::<Reference>().as_ref(), Ok(&r));
    }
}

/// Where an error must point.
#[derive(Debug, PartialEq)]
enum Expect {
    /// `Error::Invalid` for this part at this offset.
    Invalid(Part, usize),
    /// `Error::Empty` for this part at this offset.
    Empty(Part, usize),
    /// `Error::TooLong` for this part, with this length.
    TooLong(Part, usize),
}
use Expect::{Empty, Invalid, TooLong};

fn observed(e: &Error) -> Expect {
    match e {
        Error::Invalid { part, offset, .. } => Invalid(*part, *offset),
        Error::Empty { part, offset } => Empty(*part, *offset),
        Error::TooLong { part, len, .. } => TooLong(*part, *len),
        other => panic!("unexpected error kind {other:?}"),
    }
}

fn invalid_references() -> Vec<(String, Expect)> {
    use Part::{
        Algorithm, Digest, Encoded, Name, PathComponent, Reference, Registry, Repository, Tag,
    };
    let hex64 = &SHA256["sha256:".len()..];
    let cases: Vec<(String, Expect)> = vec![
        ("".into(), Empty(Reference, 0)),
        // Upper case is for registries and tags only. Docker says the same:
        // `containers.HOSTNAME/NAMESPACE/...` has registry
        // `containers.HOSTNAME` and an invalid (upper-case) path.
        (
            "containers.HOSTNAME/NAMESPACE/IMAGE_NAME/release:1.14.1".into(),
            Invalid(PathComponent, 20),
        ),
        ("ghcr.io/Octocat/app".into(), Invalid(PathComponent, 8)),
        ("ghcr.io/octocat/My-App".into(), Invalid(PathComponent, 16)),
        ("NAMESPACE".into(), Invalid(PathComponent, 0)),
        ("Foo".into(), Invalid(PathComponent, 0)),
        ("foo/Bar".into(), Invalid(PathComponent, 4)),
        ("foo/bAr".into(), Invalid(PathComponent, 5)),
        // Path components and separators.
        ("a//b".into(), Empty(PathComponent, 2)),
        ("a/".into(), Empty(PathComponent, 2)),
        ("/a".into(), Empty(PathComponent, 0)),
        ("a..b".into(), Invalid(PathComponent, 2)),
        ("a___b".into(), Invalid(PathComponent, 3)),
        ("a_.b".into(), Invalid(PathComponent, 2)),
        ("-a".into(), Invalid(PathComponent, 0)),
        ("a-".into(), Invalid(PathComponent, 1)),
        ("a b".into(), Invalid(PathComponent, 1)),
        ("café".into(), Invalid(PathComponent, 3)),
        (":tag".into(), Empty(Repository, 0)),
        (format!("@{SHA256}"), Empty(Repository, 0)),
        ("ghcr.io/".into(), Empty(Repository, 8)),
        ("ghcr.io//a".into(), Empty(PathComponent, 8)),
        // Registries.
        ("a..b/c".into(), Invalid(Registry, 2)),
        // A first component with a `.` is a registry, so it must be a valid
        // host. (Docker's ParseNormalizedNamed quietly reads `a.b_c/d` as a
        // path with an empty domain instead; we refuse it.)
        ("a.b_c/d".into(), Invalid(Registry, 3)),
        ("exa_mple.com/img".into(), Invalid(Registry, 3)),
        ("-example.com/img".into(), Invalid(Registry, 0)),
        ("example-.com/img".into(), Invalid(Registry, 7)),
        ("example.com:/img".into(), Empty(Registry, 12)),
        ("example.com:80a/img".into(), Invalid(Registry, 14)),
        (":5000/img".into(), Invalid(Registry, 0)),
        ("[::1/img".into(), Invalid(Registry, 0)),
        ("[::1]x/img".into(), Invalid(Registry, 5)),
        ("[]:5000/img".into(), Invalid(Registry, 1)),
        ("[zz::1]/img".into(), Invalid(Registry, 1)),
        ("[fe80::1%eth0]/img".into(), Invalid(Registry, 8)),
        // Tags.
        ("img:".into(), Empty(Tag, 4)),
        ("img:.x".into(), Invalid(Tag, 4)),
        ("img:-x".into(), Invalid(Tag, 4)),
        ("img:tag:more".into(), Invalid(Tag, 7)),
        // A `:` before a `/` makes a registry with a port, as in docker.
        ("img:tag/x".into(), Invalid(Registry, 4)),
        (format!("img:{}", "t".repeat(129)), TooLong(Tag, 129)),
        // Digests.
        ("img@".into(), Empty(Digest, 4)),
        ("img:@".into(), Empty(Tag, 4)),
        ("img@sha256".into(), Invalid(Digest, 10)),
        (
            format!("img@sha256:{}", hex64.to_uppercase()),
            Invalid(Encoded, 12),
        ),
        ("img@sha256:abc".into(), Invalid(Encoded, 14)),
        (format!("img@sha256:{hex64}0"), Invalid(Encoded, 75)),
        (format!("img@sha256:{}", &hex64[..63]), Invalid(Encoded, 74)),
        (format!("img@{SHA256}@x"), Invalid(Encoded, 75)),
        (
            "img@multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8".into(),
            Invalid(Encoded, 21),
        ),
        ("img@md5:0123456789abcdef".into(), Invalid(Encoded, 24)),
        (format!("img@1sha:{hex64}"), Invalid(Algorithm, 4)),
        (format!("img@sha3-256:{hex64}"), Invalid(Algorithm, 9)),
        (format!("img@SHA256:{hex64}"), Invalid(Algorithm, 4)),
        // Lengths: the path, and the whole name, at most 255 bytes.
        ("a".repeat(256), TooLong(Repository, 256)),
        (
            format!("{}/{}", "a".repeat(128), "b".repeat(127)),
            TooLong(Repository, 256),
        ),
        (format!("ghcr.io/{}", "c".repeat(248)), TooLong(Name, 256)),
    ];
    cases
}

#[test]
fn invalid_references_name_the_part_and_byte_that_broke_the_grammar() {
    for (input, expect) in invalid_references() {
        let err = input
            .parse::<Reference>()
            .expect_err(&format!("{input:?} should be rejected"));
        assert_eq!(observed(&err), expect, "{input:?}: {err}");
        if let Some(offset) = err.offset() {
            assert!(offset <= input.len(), "{input:?}: offset past the end");
            assert!(
                input.is_char_boundary(offset),
                "{input:?}: offset inside a character"
            );
        }
    }
}

#[test]
fn error_messages_name_the_part_offset_and_rule() {
    let err = "ghcr.io/Octocat/app".parse::<Reference>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid path component at byte 8: upper-case letters are not allowed in a repository path"
    );
    let err = format!("ghcr.io/{}", "c".repeat(248))
        .parse::<Reference>()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "name (registry and repository) is 256 bytes long; at most 255 are allowed"
    );
}

#[test]
fn equal_references_are_equal_parts_and_hash_alike() {
    use std::collections::HashSet;
    let [a, b, c]: [Reference; 3] =
        ["ghcr.io/o/i:1", "ghcr.io/o/i:1", "ghcr.io/o/i:2"].map(|s| s.parse().unwrap());
    assert_eq!(a, b);
    assert_ne!(a, c);
    let set: HashSet<Reference> = [a, b, c].into_iter().collect();
    assert_eq!(set.len(), 2);
}

#[test]
fn debug_shows_the_written_reference() {
    let r: Reference = "ghcr.io/o/i:1".parse().unwrap();
    assert_eq!(format!("{r:?}"), "Reference(ghcr.io/o/i:1)");
}

#[test]
fn new_builds_references_that_print_and_parse_back() {
    let digest: wharf_reference::Digest = SHA256.parse().unwrap();
    let r = Reference::new(
        Some("[::1]:5000"),
        "team/app".parse().unwrap(),
        Some("v1".parse().unwrap()),
        Some(digest.clone()),
    )
    .unwrap();
    assert_eq!(r.to_string(), format!("[::1]:5000/team/app:v1@{SHA256}"));
    assert_eq!(r.to_string().parse::<Reference>().unwrap(), r);

    let bare = Reference::new(None, "busybox".parse().unwrap(), None, None).unwrap();
    assert_eq!(bare.to_string(), "busybox");
    let tagged = bare.clone().with_tag("1.36".parse().unwrap());
    assert_eq!(tagged.to_string(), "busybox:1.36");
    let pinned = tagged.clone().with_digest(digest).unwrap();
    assert_eq!(pinned.to_string(), format!("busybox:1.36@{SHA256}"));
    assert_eq!(
        pinned.clone().without_tag().to_string(),
        format!("busybox@{SHA256}")
    );
    assert_eq!(pinned.without_digest(), tagged);
}

#[test]
fn new_refuses_parts_that_would_read_back_differently() {
    use Part::{Encoded, Name, Registry, Repository};
    let name = |s: &str| s.parse::<wharf_reference::RepositoryName>().unwrap();
    let cases: Vec<(Result<Reference, Error>, Expect)> = vec![
        // `registry/app` would read as the two-component path `registry/app`.
        (
            Reference::new(Some("registry"), name("app"), None, None),
            Invalid(Registry, 0),
        ),
        (
            Reference::new(Some("bad_host.io"), name("app"), None, None),
            Invalid(Registry, 3),
        ),
        (
            Reference::new(Some(""), name("app"), None, None),
            Empty(Registry, 0),
        ),
        // `example.com/app` would read as registry `example.com`.
        (
            Reference::new(None, name("example.com/app"), None, None),
            Invalid(Repository, 0),
        ),
        (
            Reference::new(None, name("localhost/app"), None, None),
            Invalid(Repository, 0),
        ),
        (
            Reference::new(Some("ghcr.io"), name(&"a".repeat(250)), None, None),
            TooLong(Name, 258),
        ),
        (
            Reference::new(
                None,
                name("app"),
                None,
                Some(
                    "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"
                        .parse()
                        .unwrap(),
                ),
            ),
            Invalid(Encoded, 17),
        ),
    ];
    for (result, expect) in cases {
        let err = result.expect_err("should be refused");
        assert_eq!(observed(&err), expect, "{err}");
    }
    // A single-component name needs no registry even if it has a dot.
    assert!(Reference::new(None, name("example.com"), None, None).is_ok());
}

#[test]
fn references_travel_through_serde_as_their_string() {
    let r: Reference = format!("ghcr.io/o/i:1@{SHA256}").parse().unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, format!("\"ghcr.io/o/i:1@{SHA256}\""));
    assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);

    let err = serde_json::from_str::<Reference>("\"ghcr.io/Octocat/app\"").unwrap_err();
    assert!(err.to_string().contains("at byte 8"), "{err}");
    assert!(serde_json::from_str::<Reference>("42").is_err());
}

#[test]
#[cfg(feature = "oci-spec")]
fn references_convert_to_and_from_oci_spec() {
    use oci_spec::distribution::Reference as OciReference;
    let cases = [
        // (ours, theirs as written, ours back from theirs)
        ("busybox", "docker.io/library/busybox:latest", "docker.io/library/busybox:latest"),
        ("user/app:v1", "docker.io/user/app:v1", "docker.io/user/app:v1"),
        (
            "ghcr.io/o/i:1@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa",
            "ghcr.io/o/i:1@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa",
            "ghcr.io/o/i:1@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa",
        ),
        ("localhost:5000/app@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa",
         "localhost:5000/app@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa",
         "localhost:5000/app@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa"),
    ];
    for (ours, theirs, back) in cases {
        let r: Reference = ours.parse().unwrap();
        let oci = OciReference::try_from(&r).unwrap();
        assert_eq!(oci.whole(), theirs);
        // What oci-spec itself parses from our text agrees.
        assert_eq!(ours.parse::<OciReference>().unwrap(), oci, "{ours}");
        assert_eq!(Reference::try_from(&oci).unwrap().to_string(), back);
    }
    // Normalization that would exceed the name limit cannot convert.
    let long: Reference = "a".repeat(250).parse().unwrap();
    assert!(OciReference::try_from(long).is_err());
}
