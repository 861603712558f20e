//! Property tests for references: everything the grammar generates parses
//! back into its parts; distribution's own regular expression is an oracle
//! for what must be accepted and rejected; nothing panics.

#![allow(clippy::unwrap_used)] // tests unwrap what they have just asserted to be valid

use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use regex::Regex;
use wharf_reference::{Digest, Reference};

// ---------------------------------------------------------------------------
// The oracle: distribution's ReferenceRegexp, built from the same named
// productions as its regexp.go.

const ALPHANUMERIC: &str = "[a-z0-9]+";
const SEPARATOR: &str = "(?:[._]|__|[-]+)";
const LOCALHOST: &str = "localhost";
const DOMAIN_NAME_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const OPTIONAL_PORT: &str = "(?::[0-9]+)?";
/// `[\w][\w.-]{0,127}` with Go's ASCII-only `\w`.
const TAG: &str = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
const DIGEST: &str = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}";
const IPV6_ADDRESS: &str = r"\[(?:[a-fA-F0-9:]+)\]";

fn optional(re: &str) -> String {
    format!("(?:{re})?")
}
fn any_times(re: &str) -> String {
    format!("(?:{re})*")
}
fn capture(re: &str) -> String {
    format!("({re})")
}
fn anchored(re: &str) -> String {
    format!("^{re}$")
}

fn domain_and_port() -> String {
    let domain_name = format!(
        r"{DOMAIN_NAME_COMPONENT}{}",
        any_times(&format!(r"\.{DOMAIN_NAME_COMPONENT}"))
    );
    let host = format!("(?:{domain_name}|{IPV6_ADDRESS})");
    format!("{host}{OPTIONAL_PORT}")
}

fn remote_name() -> String {
    let path_component = format!(
        "{ALPHANUMERIC}{}",
        any_times(&format!("{SEPARATOR}{ALPHANUMERIC}"))
    );
    format!(
        "{path_component}{}",
        any_times(&format!("/{path_component}"))
    )
}

/// `^(name)(?::(tag))?(?:@(digest))?$`
static REFERENCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    let name = format!(
        "{}{}",
        optional(&format!("{}/", domain_and_port())),
        remote_name()
    );
    let reference = format!(
        "{}{}{}",
        capture(&name),
        optional(&format!(":{}", capture(TAG))),
        optional(&format!("@{}", capture(DIGEST)))
    );
    Regex::new(&anchored(&reference)).expect("the oracle compiles")
});

static REMOTE_NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&anchored(&remote_name())).expect("the oracle compiles"));

static DOMAIN_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&anchored(&domain_and_port())).expect("the oracle compiles"));

/// Docker's `splitDockerDomain` rule for the component before the first `/`.
fn docker_takes_for_registry(first: &str) -> bool {
    first == LOCALHOST
        || first.contains(['.', ':'])
        || first.chars().any(|c| c.is_ascii_uppercase())
}

/// What the oracle says, and whether our stricter, documented rules must
/// still accept it: name at most 255 bytes, a digest that meets the
/// image-spec grammar (exact lengths for sha256/384/512, lower case), and
/// the name split as docker splits it: a first component that docker takes
/// for a registry must be a valid host, and otherwise the whole name must
/// be a path (`[0aaa]/app` matches the regex but docker refuses it too).
struct Verdict {
    oracle_accepts: bool,
    we_must_accept: bool,
}

fn oracle(s: &str) -> Verdict {
    let Some(caps) = REFERENCE_RE.captures(s) else {
        return Verdict {
            oracle_accepts: false,
            we_must_accept: false,
        };
    };
    let name = caps.get(1).map_or("", |m| m.as_str());
    let length_ok = name.len() <= 255;
    let digest_ok = caps
        .get(3)
        .is_none_or(|d| d.as_str().parse::<Digest>().is_ok());
    // The regex alone would also take `[0aaa]` or `foo` for a domain; docker
    // decides by `splitDockerDomain` and then needs the rest to fit.
    let split_ok = match name.split_once('/') {
        Some((first, _)) if docker_takes_for_registry(first) => DOMAIN_RE.is_match(first),
        _ => REMOTE_NAME_RE.is_match(name),
    };
    Verdict {
        oracle_accepts: true,
        we_must_accept: length_ok && digest_ok && split_ok,
    }
}

/// Strings over a biased alphabet, half of them token soup and half of
/// them references from the grammar with one character inserted, replaced
/// or removed, so that both verdicts are frequent and the boundary between
/// them is probed.
fn biased_string() -> impl Strategy<Value = String> {
    prop_oneof![token_soup(), mutated_reference()]
}

const ALPHABET: &str = "abcdefxyzABCXYZ0189._:/@-[]+=%";

fn mutated_reference() -> impl Strategy<Value = String> {
    (
        parts(),
        any::<prop::sample::Index>(),
        0..4u8,
        proptest::sample::select(ALPHABET.chars().collect::<Vec<_>>()),
    )
        .prop_map(|(p, at, op, c)| {
            let mut s = p.written();
            let i = at.index(s.len() + 1);
            match op {
                0 => s.insert(i, c),
                1 if i < s.len() => {
                    s.remove(i);
                }
                2 if i < s.len() => {
                    s.replace_range(i..=i, c.encode_utf8(&mut [0; 4]));
                }
                _ => {}
            }
            s
        })
}

fn token_soup() -> impl Strategy<Value = String> {
    let hex64 = "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa";
    let tokens: Vec<String> = vec![
        "a".into(),
        "b".into(),
        "z9".into(),
        "app".into(),
        "Foo".into(),
        "X".into(),
        "ghcr.io".into(),
        "localhost".into(),
        "[::1]".into(),
        "[".into(),
        "]".into(),
        "/".into(),
        "/".into(),
        "/".into(),
        ":".into(),
        ":".into(),
        "5000".into(),
        "@".into(),
        ".".into(),
        "_".into(),
        "__".into(),
        "-".into(),
        "--".into(),
        format!("sha256:{hex64}"),
        format!("sha512:{hex64}{hex64}"),
        format!("blake3:{}", &hex64[..32]),
        format!("Sha256:{hex64}"),
        "sha256:abc".into(),
        format!("sha256:{}", hex64.to_uppercase()),
        " ".into(),
        "é".into(),
        "%".into(),
    ];
    let single = proptest::sample::select(ALPHABET.chars().map(String::from).collect::<Vec<_>>());
    proptest::collection::vec(
        prop_oneof![3 => proptest::sample::select(tokens), 2 => single],
        0..10,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn we_accept_only_what_the_oracle_accepts_and_all_it_accepts_within_our_limits(s in biased_string()) {
        let verdict = oracle(&s);
        let ours = s.parse::<Reference>();
        if ours.is_ok() {
            prop_assert!(verdict.oracle_accepts, "we accept {:?}, the oracle does not", s);
        }
        if verdict.we_must_accept {
            prop_assert!(ours.is_ok(), "the oracle accepts {:?}, we say {:?}", s, ours);
        }
        if let Ok(r) = ours {
            prop_assert_eq!(r.to_string(), s);
        }
    }
}

#[test]
fn the_biased_strings_exercise_both_verdicts() {
    let mut runner = TestRunner::deterministic();
    let strategy = biased_string();
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..4000 {
        let s = strategy.new_tree(&mut runner).expect("generates").current();
        if s.parse::<Reference>().is_ok() {
            accepted += 1;
        } else {
            rejected += 1;
        }
    }
    assert!(accepted >= 1000, "only {accepted} of 4000 accepted");
    assert!(rejected >= 1000, "only {rejected} of 4000 rejected");
}

#[test]
fn the_oracle_itself_agrees_with_the_tables() {
    for accepted in [
        "busybox",
        "Foo/bar",
        "[::1]:5000/img:tag",
        "a.b_c/d",
        "localhost:5000",
    ] {
        assert!(oracle(accepted).oracle_accepts, "{accepted}");
    }
    for rejected in ["", "a//b", "a..b", "a___b", "img:", "img@", "Foo"] {
        assert!(!oracle(rejected).oracle_accepts, "{rejected}");
    }
    // Our documented divergence: docker reads `a.b_c/d` as a path with an
    // empty domain; we take `a.b_c` for a registry and refuse it.
    assert!(!oracle("a.b_c/d").we_must_accept);
    // The regex takes `[0aaa]` for an IPv6 host; docker and we do not.
    assert!(oracle("[0aaa]/app").oracle_accepts);
    assert!(!oracle("[0aaa]/app").we_must_accept);
    assert!("[0aaa]/app".parse::<Reference>().is_err());
}

// ---------------------------------------------------------------------------
// Generation from the grammar, with the parts we expect back.

#[derive(Debug, Clone)]
struct Parts {
    registry: Option<String>,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl Parts {
    fn written(&self) -> String {
        let mut s = String::new();
        if let Some(r) = &self.registry {
            s.push_str(r);
            s.push('/');
        }
        s.push_str(&self.path);
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }
}

fn registry() -> impl Strategy<Value = String> {
    let component = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?";
    let domain_name = proptest::collection::vec(component, 1..4).prop_map(|c| c.join("."));
    let host = prop_oneof![
        4 => domain_name,
        1 => Just("localhost".to_owned()),
        1 => "\\[[a-fA-F0-9:]{1,16}\\]",
    ];
    (host, proptest::option::of("[0-9]{1,5}"))
        .prop_map(|(host, port)| match port {
            Some(port) => format!("{host}:{port}"),
            None => host,
        })
        .prop_filter("docker must take it for a registry", |r| {
            docker_takes_for_registry(r)
        })
}

fn path() -> impl Strategy<Value = String> {
    let component = "[a-z0-9]{1,5}((\\.|_|__|-{1,3})[a-z0-9]{1,5}){0,3}";
    proptest::collection::vec(component, 1..5).prop_map(|c| c.join("/"))
}

fn digest() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-f]{64}".prop_map(|h| format!("sha256:{h}")),
        "[0-9a-f]{96}".prop_map(|h| format!("sha384:{h}")),
        "[0-9a-f]{128}".prop_map(|h| format!("sha512:{h}")),
        (
            "[a-z][a-z0-9]{0,6}([+._-][a-z][a-z0-9]{0,4}){0,2}",
            "[0-9a-fA-F]{32,80}"
        )
            .prop_filter("registered algorithms are strict", |(a, _)| {
                !matches!(a.as_str(), "sha256" | "sha384" | "sha512")
            })
            .prop_map(|(a, h)| format!("{a}:{h}")),
    ]
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        proptest::option::of(registry()),
        path(),
        proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"),
        proptest::option::of(digest()),
    )
        .prop_map(|(registry, path, tag, digest)| Parts {
            registry,
            path,
            tag,
            digest,
        })
        .prop_filter("the name is at most 255 bytes", |p| {
            p.registry.as_ref().map_or(0, |r| r.len() + 1) + p.path.len() <= 255
        })
        .prop_filter(
            "without a registry, the first component must not read as one",
            |p| {
                p.registry.is_some()
                    || p.path
                        .split_once('/')
                        .is_none_or(|(first, _)| !docker_takes_for_registry(first))
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn generated_references_parse_into_their_parts_and_print_back_exactly(p in parts()) {
        let written = p.written();
        let r: Reference = written.parse().map_err(|e| TestCaseError::fail(format!("{written:?}: {e}")))?;
        prop_assert_eq!(r.registry(), p.registry.as_deref());
        prop_assert_eq!(r.repository(), p.path.as_str());
        prop_assert_eq!(r.tag().map(|t| t.as_str()), p.tag.as_deref());
        prop_assert_eq!(r.digest().map(|d| d.as_str()), p.digest.as_deref());
        prop_assert_eq!(r.to_string(), written.clone());
        prop_assert!(oracle(&written).oracle_accepts);

        // The same parts through the constructor give the same reference.
        let built = Reference::new(
            p.registry.as_deref(),
            p.path.parse().expect("generated path"),
            p.tag.as_deref().map(|t| t.parse().expect("generated tag")),
            p.digest.as_deref().map(|d| d.parse().expect("generated digest")),
        );
        prop_assert_eq!(built.as_ref(), Ok(&r));
    }

    #[test]
    fn normalization_is_idempotent_and_familiar_forms_normalize_back(p in parts()) {
        let r: Reference = p.written().parse().expect("generated");
        if let Ok(n) = r.normalized() {
            prop_assert_eq!(n.normalized().ok(), Some(n.clone()));
            prop_assert!(n.registry().is_some());
            let familiar: Reference = r.to_familiar_string().parse().expect("familiar forms parse");
            prop_assert_eq!(familiar.normalized().ok(), Some(n.clone()));
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        if let Ok(r) = s.parse::<Reference>() {
            prop_assert_eq!(r.to_string(), s.clone());
            let _ = r.normalized();
            let _ = r.familiar();
        }
        let _ = Reference::parse_normalized(&s);
    }

    #[test]
    fn error_offsets_are_character_boundaries_within_the_input(s in biased_string()) {
        if let Err(e) = s.parse::<Reference>() {
            if let Some(offset) = e.offset() {
                prop_assert!(offset <= s.len() && s.is_char_boundary(offset), "{:?}: {}", s, e);
            }
        }
    }
}
