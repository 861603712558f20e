//! `WWW-Authenticate` values, byte for byte.

use wharf_auth::{BasicChallenge, BearerChallenge, ChallengeError, DenyKind, ScopeSet};

const REALM: &str = "https://registry.example/token";
const SERVICE: &str = "registry.example";

fn scopes(s: &str) -> ScopeSet {
    s.parse().expect("valid scopes")
}

#[test]
fn bearer_challenges_render_exactly() {
    let base = || BearerChallenge::new(REALM, SERVICE);
    let cases = [
        (
            base(),
            r#"Bearer realm="https://registry.example/token",service="registry.example""#,
        ),
        (
            base().with_scopes(&scopes("repository:octocat/app:pull")),
            r#"Bearer realm="https://registry.example/token",service="registry.example",scope="repository:octocat/app:pull""#,
        ),
        (
            base().with_scopes(&scopes(
                "repository:octocat/app:push repository:octocat/app:pull",
            )),
            r#"Bearer realm="https://registry.example/token",service="registry.example",scope="repository:octocat/app:pull,push""#,
        ),
        (
            // Cross-repository mount: two scopes, space-separated in one parameter.
            base().with_scopes(&scopes(
                "repository:octocat/base:pull repository:octocat/app:pull,push",
            )),
            r#"Bearer realm="https://registry.example/token",service="registry.example",scope="repository:octocat/app:pull,push repository:octocat/base:pull""#,
        ),
        (
            base()
                .with_scopes(&scopes("repository:octocat/app:pull,push"))
                .with_error(ChallengeError::InsufficientScope),
            r#"Bearer realm="https://registry.example/token",service="registry.example",scope="repository:octocat/app:pull,push",error="insufficient_scope""#,
        ),
        (
            base()
                .with_error(ChallengeError::InvalidToken)
                .with_error_description("the token expired"),
            r#"Bearer realm="https://registry.example/token",service="registry.example",error="invalid_token",error_description="the token expired""#,
        ),
        (
            BearerChallenge::new(r#"a "quoted" \ realm"#, "line\r\nbreak"),
            r#"Bearer realm="a \"quoted\" \\ realm",service="linebreak""#,
        ),
    ];
    for (challenge, expected) in cases {
        assert_eq!(challenge.to_string(), expected);
    }
}

#[test]
fn only_insufficient_scope_denials_add_an_error() {
    let cases = [
        (DenyKind::InsufficientScope, true),
        (DenyKind::NeedsAuthentication, false),
        (DenyKind::Forbidden, false),
        (DenyKind::NotVisible, false),
    ];
    for (kind, has_error) in cases {
        let header = BearerChallenge::new(REALM, SERVICE)
            .for_denial(kind)
            .to_string();
        assert_eq!(
            header.contains(r#"error="insufficient_scope""#),
            has_error,
            "{kind:?}"
        );
    }
}

#[test]
fn basic_challenges_render_exactly() {
    assert_eq!(
        BasicChallenge::new("Wharf").to_string(),
        r#"Basic realm="Wharf",charset="UTF-8""#
    );
    assert_eq!(
        BasicChallenge::new(r#"back\slash "and" quotes"#).to_string(),
        r#"Basic realm="back\\slash \"and\" quotes",charset="UTF-8""#
    );
}
