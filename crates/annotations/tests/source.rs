//! Linking `org.opencontainers.image.source` to a repository on the
//! registry's code host.

// Tests may unwrap: a panic there is a failed test with its message.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use url::Url;
use wharf_annotations::{CodeHost, Error, SourceRepository};

fn hosts(specs: &[&str]) -> Vec<CodeHost> {
    specs.iter().map(|s| s.parse().unwrap()).collect()
}

#[derive(Debug)]
enum Expect {
    Linked(&'static str),
    ForeignHost,
    OriginMismatch,
    NotARepository(&'static str),
    InvalidRepository,
}
use Expect::*;

#[test]
fn source_urls_link_exactly_owner_slash_repo_on_a_code_host() {
    let hosts = hosts(&[
        "github.example.com",
        "http://localhost:5000",
        "code.example.org:8443",
    ]);
    let cases: [(&str, Expect); 33] = [
        (
            "https://github.example.com/octocat/my-repo",
            Linked("octocat/my-repo"),
        ),
        (
            "https://github.example.com/octocat/my-repo/",
            Linked("octocat/my-repo"),
        ),
        (
            "https://github.example.com/octocat/my-repo.git",
            Linked("octocat/my-repo"),
        ),
        (
            "https://github.example.com/octocat/my-repo.git/",
            Linked("octocat/my-repo"),
        ),
        (
            "https://GitHub.Example.COM/Octocat/My-Repo",
            Linked("Octocat/My-Repo"),
        ),
        (
            "https://github.example.com:443/octocat/my-repo",
            Linked("octocat/my-repo"),
        ),
        (
            "https://github.example.com/octo-org/repo.name_2",
            Linked("octo-org/repo.name_2"),
        ),
        ("https://github.example.com/o/.github", Linked("o/.github")),
        ("http://localhost:5000/dev/app", Linked("dev/app")),
        ("https://code.example.org:8443/team/svc", Linked("team/svc")),
        // Other hosts, www. included.
        ("https://github.com/octocat/my-repo", ForeignHost),
        (
            "https://www.github.example.com/octocat/my-repo",
            ForeignHost,
        ),
        (
            "https://github.example.com.evil.test/octocat/my-repo",
            ForeignHost,
        ),
        ("https://gitlab.example.com/octocat/my-repo", ForeignHost),
        // The host, but another scheme or port.
        ("http://github.example.com/octocat/my-repo", OriginMismatch),
        (
            "https://github.example.com:8443/octocat/my-repo",
            OriginMismatch,
        ),
        ("https://localhost:5000/dev/app", OriginMismatch),
        ("http://localhost/dev/app", OriginMismatch),
        ("https://code.example.org/team/svc", OriginMismatch),
        // The host, but not a repository.
        (
            "https://github.example.com",
            NotARepository("names no repository"),
        ),
        (
            "https://github.example.com/",
            NotARepository("names no repository"),
        ),
        (
            "https://github.example.com/octocat",
            NotARepository("names no repository"),
        ),
        (
            "https://github.example.com/octocat/",
            NotARepository("names no repository"),
        ),
        (
            "https://github.example.com/octocat/my-repo/tree/main",
            NotARepository("goes past OWNER/REPO"),
        ),
        (
            "https://github.example.com/octocat/my-repo/tree/main/sub",
            NotARepository("goes past OWNER/REPO"),
        ),
        (
            "https://github.example.com/octocat/my-repo//",
            NotARepository("goes past OWNER/REPO"),
        ),
        (
            "https://github.example.com/octocat/my-repo?tab=readme",
            NotARepository("query"),
        ),
        (
            "https://github.example.com/octocat/my-repo#readme",
            NotARepository("fragment"),
        ),
        (
            "https://me:token@github.example.com/octocat/my-repo",
            NotARepository("credentials"),
        ),
        // A repository path, but not valid names.
        (
            "https://github.example.com/-octocat/my-repo",
            InvalidRepository,
        ),
        (
            "https://github.example.com/octo_cat/my-repo",
            InvalidRepository,
        ),
        ("https://github.example.com/octocat/.git", InvalidRepository),
        (
            "https://github.example.com/octocat/my%20repo",
            InvalidRepository,
        ),
    ];
    for (source, expect) in cases {
        let url = Url::parse(source).unwrap();
        let got = SourceRepository::from_url(&url, &hosts);
        match (&expect, &got) {
            (Linked(repo), Ok(got)) => assert_eq!(got.to_string(), *repo, "{source}"),
            (ForeignHost, Err(Error::ForeignHost { .. }))
            | (OriginMismatch, Err(Error::OriginMismatch { .. }))
            | (InvalidRepository, Err(Error::InvalidRepository { .. })) => {}
            (NotARepository(reason), Err(e @ Error::NotARepository { .. })) => {
                assert!(e.to_string().contains(reason), "{source}: {e}")
            }
            _ => panic!("{source}: expected {expect:?}, got {got:?}"),
        }
    }
}

#[test]
fn link_errors_say_what_to_write() {
    let hosts = hosts(&["github.example.com"]);
    let cases = [
        (
            "https://github.com/octocat/my-repo",
            "org.opencontainers.image.source https://github.com/octocat/my-repo is not on a code host \
             this registry links packages to (accepted: https://github.example.com)",
        ),
        (
            "http://github.example.com/octocat/my-repo",
            "org.opencontainers.image.source http://github.example.com/octocat/my-repo names the code \
             host with another scheme or port; it is served at https://github.example.com",
        ),
        (
            "https://github.example.com/octocat/my-repo/tree/main",
            "org.opencontainers.image.source https://github.example.com/octocat/my-repo/tree/main does \
             not name a repository: the path goes past OWNER/REPO; only the repository itself can be \
             linked; write https://HOST/OWNER/REPO",
        ),
    ];
    for (source, message) in cases {
        let err = SourceRepository::from_url(&Url::parse(source).unwrap(), &hosts).unwrap_err();
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn no_code_host_links_nothing() {
    let url = Url::parse("https://github.example.com/o/r").unwrap();
    let err = SourceRepository::from_url(&url, &[]).unwrap_err();
    assert!(matches!(err, Error::ForeignHost { .. }));
    assert!(
        err.to_string().ends_with("(accepted: none configured)"),
        "{err}"
    );
}

#[test]
fn code_hosts_parse_from_host_host_port_or_origin() {
    // (input, display, port)
    let valid = [
        ("github.example.com", "https://github.example.com", 443),
        ("GitHub.Example.com", "https://github.example.com", 443),
        ("github.example.com:443", "https://github.example.com", 443),
        (
            "github.example.com:8443",
            "https://github.example.com:8443",
            8443,
        ),
        (
            "https://github.example.com",
            "https://github.example.com",
            443,
        ),
        (
            "https://github.example.com/",
            "https://github.example.com",
            443,
        ),
        ("http://localhost:5000", "http://localhost:5000", 5000),
        ("http://localhost", "http://localhost", 80),
        ("127.0.0.1:5000", "https://127.0.0.1:5000", 5000),
        ("[::1]:5000", "https://[::1]:5000", 5000),
    ];
    for (input, display, port) in valid {
        let host: CodeHost = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(
            (host.to_string().as_str(), host.port()),
            (display, port),
            "{input}"
        );
        let json = serde_json::to_string(&host).unwrap();
        assert_eq!(serde_json::from_str::<CodeHost>(&json).unwrap(), host);
    }
    let invalid = [
        "",
        "ftp://github.example.com",
        "github.example.com/octocat",
        "https://github.example.com/path",
        "https://github.example.com?x",
        "user@github.example.com",
        "github.example.com:99999",
        "github example.com",
        " github.example.com",
    ];
    for input in invalid {
        assert!(
            matches!(
                input.parse::<CodeHost>(),
                Err(Error::InvalidCodeHost { .. })
            ),
            "{input:?}: {:?}",
            input.parse::<CodeHost>()
        );
    }
}

#[test]
fn repositories_parse_from_owner_slash_name() {
    let valid = [
        "octocat/hello-world",
        "Octocat/Hello-World",
        "a/b",
        "octo-org/repo.with_dots-and_underscores",
        "o/.github",
        "o/..x",
    ];
    for input in valid {
        let repo: SourceRepository = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(repo.to_string(), input);
        let json = serde_json::to_string(&repo).unwrap();
        assert_eq!(json, format!("\"{input}\""));
        assert_eq!(
            serde_json::from_str::<SourceRepository>(&json).unwrap(),
            repo
        );
    }
    let long_owner = format!("{}/r", "o".repeat(40));
    let long_name = format!("o/{}", "r".repeat(101));
    let invalid = [
        "",
        "octocat",
        "/repo",
        "octocat/",
        "octocat/repo/extra",
        "-octocat/repo",
        "octocat-/repo",
        "octo_cat/repo",
        "octo.cat/repo",
        "octocat/re po",
        "octocat/.",
        "octocat/..",
        "octocät/repo",
        long_owner.as_str(),
        long_name.as_str(),
    ];
    for input in invalid {
        assert!(
            matches!(
                input.parse::<SourceRepository>(),
                Err(Error::InvalidRepository { .. })
            ),
            "{input:?}"
        );
    }
    assert!(format!("{}/r", "o".repeat(39))
        .parse::<SourceRepository>()
        .is_ok());
    assert!(format!("o/{}", "r".repeat(100))
        .parse::<SourceRepository>()
        .is_ok());
}

#[test]
fn repositories_compare_without_regard_to_case() {
    let a: SourceRepository = "Octocat/Hello-World".parse().unwrap();
    let b: SourceRepository = "octocat/hello-world".parse().unwrap();
    let c: SourceRepository = "octocat/hello-worlds".parse().unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
    assert!(b < c);
    let set: HashSet<_> = [a.clone(), b, c].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert_eq!(a.owner(), "Octocat"); // displayed as written
}

#[test]
fn repository_urls_are_built_on_the_code_host() {
    let repo: SourceRepository = "octocat/my-repo".parse().unwrap();
    let cases = [
        (
            "github.example.com",
            "https://github.example.com/octocat/my-repo",
        ),
        (
            "http://localhost:5000",
            "http://localhost:5000/octocat/my-repo",
        ),
    ];
    for (host, url) in cases {
        let host: CodeHost = host.parse().unwrap();
        let built = host.repository_url(&repo);
        assert_eq!(built.as_str(), url);
        assert_eq!(SourceRepository::from_url(&built, &[host]).unwrap(), repo);
    }
}
