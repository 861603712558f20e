//! Accounts on: the token endpoint and who may do what on `/v2/`, as
//! GitHub's Container registry answers (401 with a challenge, 403
//! `DENIED`, 404 `NAME_UNKNOWN`).

mod common;

use common::ghcr::*;
use common::*;
use reqwest::Method;

/// alice/app (private, by alice), alice/public-app (public), and
/// alice/site-image (private, first published by the alice/site workflow).
async fn seeded() -> Ghcr {
    let ghcr = Ghcr::start().await;
    ghcr.publish("alice", "alice/app", "1.0").await;
    ghcr.publish_public("alice", "alice/public-app", "1.0")
        .await;
    ghcr.publish("site-ci", "alice/site-image", "1.0").await;
    ghcr
}

#[tokio::test]
async fn the_token_endpoint_grants_what_was_asked_as_far_as_it_is_allowed() {
    let ghcr = seeded().await;
    // (what, token, scopes asked, access granted)
    type Row<'a> = (&'a str, Option<&'a str>, &'a [&'a str], &'a [&'a str]);
    let table: &[Row<'_>] = &[
        (
            "anonymous, public package",
            None,
            &["repository:alice/public-app:pull,push"],
            &["repository:alice/public-app:pull"],
        ),
        (
            "anonymous, private package",
            None,
            &["repository:alice/app:pull"],
            &[],
        ),
        (
            "owner with every scope",
            Some("alice"),
            &["repository:alice/app:pull,push,delete"],
            &["repository:alice/app:pull,push,delete"],
        ),
        (
            "owner with read:packages only",
            Some("alice-read"),
            &["repository:alice/app:pull,push"],
            &["repository:alice/app:pull"],
        ),
        (
            "owner without delete:packages",
            Some("alice-write"),
            &["repository:alice/app:*"],
            &["repository:alice/app:pull,push"],
        ),
        (
            "outsider, private package",
            Some("bob"),
            &["repository:alice/app:pull,push"],
            &[],
        ),
        (
            "first publish into one's own namespace",
            Some("bob"),
            &["repository:bob/new:pull,push"],
            &["repository:bob/new:push"],
        ),
        (
            "several scopes, in several parameters",
            Some("bob"),
            &[
                "repository:alice/public-app:pull",
                "repository:bob/new:push repository:alice/app:pull",
            ],
            &[
                "repository:alice/public-app:pull",
                "repository:bob/new:push",
            ],
        ),
        (
            "workflow, its linked package",
            Some("site-ci"),
            &["repository:alice/site-image:pull,push"],
            &["repository:alice/site-image:pull,push"],
        ),
        (
            "workflow, a package not linked to it",
            Some("site-ci"),
            &["repository:alice/app:pull,push"],
            &[],
        ),
        (
            "the catalog",
            Some("bob"),
            &["registry:catalog:*"],
            &["registry:catalog:*"],
        ),
        ("no scope at all (docker login)", Some("alice"), &[], &[]),
    ];
    for (what, token, scopes, expected) in table {
        let authorization = token.map(|t| ghcr.basic(t));
        let reply = ghcr.token_reply(authorization.as_deref(), scopes).await;
        assert_eq!(reply.status, 200, "{what}: {reply:?}");
        let body = reply.json();
        assert_eq!(body["token"], body["access_token"], "{what}");
        assert_eq!(body["expires_in"], 300, "{what}");
        assert!(
            body["issued_at"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{what}: {body}"
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"), "{what}");
        let bearer = format!("Bearer {}", body["token"].as_str().expect("token"));
        assert_eq!(granted(&bearer), *expected, "{what}");
    }
}

#[tokio::test]
async fn the_token_endpoint_refuses_bad_requests_and_bad_credentials() {
    let ghcr = seeded().await;
    let alice = ghcr.basic("alice");
    let wrong_password = basic("alice", "wharf_pat_not-a-token");
    // (what, method, path, authorization, body, status, message contains)
    type Row<'a> = (
        &'a str,
        Method,
        String,
        Option<&'a str>,
        &'a str,
        u16,
        &'a str,
    );
    let table: Vec<Row<'_>> = vec![
        (
            "wrong service",
            Method::GET,
            "/token?service=elsewhere.test&scope=repository:alice/app:pull".into(),
            Some(&alice),
            "",
            400,
            "unknown service",
        ),
        (
            "malformed scope",
            Method::GET,
            format!("/token?service={SERVICE}&scope=repository:Alice/App:pull"),
            Some(&alice),
            "",
            400,
            "invalid scope",
        ),
        (
            "unknown token",
            Method::GET,
            format!("/token?service={SERVICE}"),
            Some(&wrong_password),
            "",
            401,
            "bad credentials",
        ),
        (
            "bearer credentials",
            Method::GET,
            format!("/token?service={SERVICE}"),
            Some("Bearer abc"),
            "",
            401,
            "Basic credentials",
        ),
        (
            "refresh token grant",
            Method::POST,
            "/token".into(),
            None,
            "grant_type=refresh_token&refresh_token=x&service=registry.test",
            400,
            "refresh",
        ),
        (
            "other methods",
            Method::PUT,
            "/token".into(),
            None,
            "",
            405,
            "GET and POST",
        ),
    ];
    for (what, method, path, authorization, body, status, message) in table {
        let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
        if let Some(a) = authorization {
            headers.push(("authorization", a));
        }
        let reply = ghcr
            .server
            .send(method, &path, &headers, body.to_owned())
            .await;
        assert_eq!(reply.status.as_u16(), status, "{what}: {reply:?}");
        let text = reply.json()["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(text.contains(message), "{what}: {text}");
        if status == 401 {
            assert_eq!(
                reply.header("www-authenticate"),
                Some("Basic realm=\"registry.test\",charset=\"UTF-8\""),
                "{what}"
            );
            assert_eq!(
                reply.error_code().as_deref(),
                Some("UNAUTHORIZED"),
                "{what}"
            );
        }
    }
}

#[tokio::test]
async fn the_oauth2_password_grant_issues_the_same_tokens() {
    let ghcr = seeded().await;
    let form = format!(
        "grant_type=password&service={SERVICE}&client_id=buildkit&username=alice&password={}&scope={}",
        url_encode(ghcr.secret("alice-read")),
        url_encode("repository:alice/app:pull,push")
    );
    let reply = ghcr
        .server
        .send(
            Method::POST,
            "/token",
            &[("content-type", "application/x-www-form-urlencoded")],
            form,
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["scope"], "repository:alice/app:pull");
    let bearer = format!("Bearer {}", body["access_token"].as_str().expect("token"));
    assert_eq!(granted(&bearer), ["repository:alice/app:pull"]);
    let pull = ghcr.get("/v2/alice/app/manifests/1.0", Some(&bearer)).await;
    assert_eq!(pull.status, 200);
}

#[tokio::test]
async fn every_denial_has_its_status_code_and_challenge() {
    let ghcr = seeded().await;
    let alice = ghcr.basic("alice");
    let alice_read = ghcr.basic("alice-read");
    let alice_write = ghcr.basic("alice-write");
    let bob = ghcr.basic("bob");
    let carol = ghcr.basic("carol");
    let ci = ghcr.basic("site-ci");
    let ci_read = ghcr.basic("site-ci-read");
    let garbage = basic(
        "alice",
        "wharf_pat_0000000000000000000000000000000000000000000000",
    );
    // Issued an hour before the others: expired by the time it is used.
    let expired = ghcr
        .bearer(Some("alice"), &["repository:alice/app:pull"])
        .await;
    ghcr.advance(3600);
    let bob_bearer = ghcr
        .bearer(Some("bob"), &["repository:alice/app:pull"])
        .await;
    let alice_pull_bearer = ghcr
        .bearer(Some("alice"), &["repository:alice/app:pull"])
        .await;
    let alice_bearer = ghcr
        .bearer(Some("alice"), &["repository:alice/app:pull,push,delete"])
        .await;
    let anonymous_bearer = ghcr
        .bearer(None, &["repository:alice/public-app:pull"])
        .await;

    let manifest = "/v2/alice/app/manifests/1.0";
    let upload = |repo: &str| format!("/v2/{repo}/blobs/uploads/");
    // (what, method, path, authorization, status, code, www-authenticate contains)
    type Row<'a> = (
        &'a str,
        Method,
        String,
        Option<&'a str>,
        u16,
        Option<&'a str>,
        Option<&'a str>,
    );
    let table: Vec<Row<'_>> = vec![
        ("base, anonymous", Method::GET, "/v2/".into(), None, 401, Some("UNAUTHORIZED"), Some(CHALLENGE)),
        ("base, a PAT", Method::GET, "/v2/".into(), Some(&alice), 200, None, None),
        ("base, a bearer token", Method::GET, "/v2/".into(), Some(&alice_bearer), 200, None, None),
        ("base, an anonymous bearer token", Method::GET, "/v2/".into(), Some(&anonymous_bearer), 200, None, None),
        ("base, an unknown PAT", Method::GET, "/v2/".into(), Some(&garbage), 401, Some("UNAUTHORIZED"), Some(CHALLENGE)),
        ("base, an expired bearer token", Method::GET, "/v2/".into(), Some(&expired), 401, Some("UNAUTHORIZED"), Some("error=\"invalid_token\"")),
        (
            "private manifest, anonymous",
            Method::GET, manifest.into(), None, 401, Some("UNAUTHORIZED"),
            Some("Bearer realm=\"http://registry.test/token\",service=\"registry.test\",scope=\"repository:alice/app:pull\""),
        ),
        (
            "private manifest, anonymous bearer token",
            Method::GET, manifest.into(), Some(&anonymous_bearer), 401, Some("UNAUTHORIZED"),
            Some("scope=\"repository:alice/app:pull\""),
        ),
        ("private manifest, outsider PAT", Method::GET, manifest.into(), Some(&bob), 404, Some("NAME_UNKNOWN"), None),
        ("private manifest, outsider bearer", Method::GET, manifest.into(), Some(&bob_bearer), 404, Some("NAME_UNKNOWN"), None),
        ("missing package, outsider", Method::GET, "/v2/alice/nothing/manifests/1.0".into(), Some(&bob), 404, Some("NAME_UNKNOWN"), None),
        ("namespace nobody owns", Method::GET, "/v2/nobody/app/manifests/1.0".into(), Some(&bob), 404, Some("NAME_UNKNOWN"), None),
        ("private blob list, outsider", Method::GET, "/v2/alice/app/tags/list".into(), Some(&bob), 404, Some("NAME_UNKNOWN"), None),
        ("private manifest, owner PAT", Method::GET, manifest.into(), Some(&alice_read), 200, None, None),
        ("private manifest, owner bearer", Method::GET, manifest.into(), Some(&alice_pull_bearer), 200, None, None),
        ("public manifest, anonymous", Method::GET, "/v2/alice/public-app/manifests/1.0".into(), None, 200, None, None),
        ("public manifest, outsider bearer without that scope", Method::GET, "/v2/alice/public-app/manifests/1.0".into(), Some(&bob_bearer), 200, None, None),
        ("public tags, anonymous", Method::GET, "/v2/alice/public-app/tags/list".into(), None, 200, None, None),
        (
            "push to public, anonymous",
            Method::POST, upload("alice/public-app"), None, 401, Some("UNAUTHORIZED"),
            Some("scope=\"repository:alice/public-app:pull,push\""),
        ),
        ("push, read-only PAT", Method::POST, upload("alice/app"), Some(&alice_read), 403, Some("DENIED"), None),
        (
            "push, bearer token granting pull only",
            Method::POST, upload("alice/app"), Some(&alice_pull_bearer), 403, Some("DENIED"),
            Some("error=\"insufficient_scope\""),
        ),
        ("push, owner bearer", Method::POST, upload("alice/app"), Some(&alice_bearer), 202, None, None),
        ("push to someone else's public package", Method::POST, upload("alice/public-app"), Some(&bob), 403, Some("DENIED"), None),
        ("push into someone else's namespace", Method::POST, upload("alice/bobs"), Some(&bob), 403, Some("DENIED"), None),
        ("first publish into one's own namespace", Method::POST, upload("bob/new"), Some(&bob), 202, None, None),
        ("first publish into an organization, member", Method::POST, upload("acme/tool"), Some(&carol), 202, None, None),
        ("first publish into an organization, outsider", Method::POST, upload("acme/tool"), Some(&bob), 403, Some("DENIED"), None),
        ("delete, a PAT without delete:packages", Method::DELETE, manifest.into(), Some(&alice_write), 403, Some("DENIED"), None),
        ("delete, an outsider", Method::DELETE, manifest.into(), Some(&bob), 404, Some("NAME_UNKNOWN"), None),
        ("workflow, its linked package", Method::POST, upload("alice/site-image"), Some(&ci), 202, None, None),
        ("workflow, a package not linked to it", Method::POST, upload("alice/app"), Some(&ci), 403, Some("DENIED"), None),
        ("workflow, another namespace", Method::POST, upload("bob/thing"), Some(&ci), 403, Some("DENIED"), None),
        ("workflow with packages: read, pull", Method::GET, "/v2/alice/site-image/manifests/1.0".into(), Some(&ci_read), 200, None, None),
        ("workflow with packages: read, push", Method::POST, upload("alice/site-image"), Some(&ci_read), 403, Some("DENIED"), None),
        ("malformed credentials", Method::GET, manifest.into(), Some("Digest abc"), 401, Some("UNAUTHORIZED"), Some(CHALLENGE)),
    ];
    for (what, method, path, authorization, status, code, challenge) in table {
        let reply = ghcr.send(method, &path, authorization, Vec::new()).await;
        assert_eq!(reply.status.as_u16(), status, "{what}: {reply:?}");
        assert_eq!(reply.error_code().as_deref(), code, "{what}");
        match challenge {
            Some(expected) => {
                let header = reply.challenge();
                assert!(header.contains(expected), "{what}: {header}");
            }
            None if status == 401 => panic!("{what}: a 401 needs a challenge"),
            None => {}
        }
    }
}

#[tokio::test]
async fn a_not_visible_answer_does_not_reveal_that_a_private_package_exists() {
    let ghcr = seeded().await;
    let bob = ghcr.basic("bob");
    for path in [
        "/v2/alice/app/manifests/1.0",
        "/v2/alice/app/tags/list",
        "/v2/alice/app/blobs/sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    ] {
        let existing = ghcr.get(path, Some(&bob)).await;
        let missing = ghcr.get(&path.replace("alice/app", "alice/nothing"), Some(&bob)).await;
        assert_eq!(existing.status, missing.status, "{path}");
        assert_eq!(existing.error_code(), missing.error_code(), "{path}");
        let message = |r: &Reply| r.json()["errors"][0]["message"].clone();
        assert_eq!(message(&existing), message(&missing), "{path}");
    }
}

#[tokio::test]
async fn blobs_are_served_and_mounted_only_to_those_who_may_pull_their_repository() {
    let ghcr = seeded().await;
    let alice = ghcr.basic("alice");
    let bob = ghcr.basic("bob");
    let secret = b"alice's private layer";
    let digest = wharf_reference::Digest::sha256(secret);
    assert_eq!(
        ghcr.push_blob_as(&alice, "alice/app", secret).await.status,
        201
    );

    let read = ghcr
        .get(&format!("/v2/alice/app/blobs/{digest}"), Some(&bob))
        .await;
    assert_eq!(read.status, 404);
    assert_eq!(read.error_code().as_deref(), Some("NAME_UNKNOWN"));

    // bob knows the digest, but may not pull alice/app: no mount, a session.
    let mount_into_copy = |owner: &str, authorization: &str| {
        let path = format!("/v2/{owner}/copy/blobs/uploads/?mount={digest}&from=alice/app");
        let authorization = authorization.to_owned();
        let ghcr = &ghcr;
        async move { ghcr.post(&path, Some(&authorization)).await }
    };
    let mount = mount_into_copy("bob", &bob).await;
    assert_eq!(mount.status, 202, "{mount:?}");
    let read = ghcr
        .get(&format!("/v2/bob/copy/blobs/{digest}"), Some(&bob))
        .await;
    assert_eq!(read.status, 404);

    // alice may: the blob is mounted into her other package.
    let mount = mount_into_copy("alice", &alice).await;
    assert_eq!(mount.status, 201, "{mount:?}");
}

#[tokio::test]
async fn the_catalog_lists_only_what_the_caller_may_pull() {
    let ghcr = seeded().await;
    let names = |reply: Reply| -> Vec<String> {
        assert_eq!(reply.status, 200, "{reply:?}");
        reply.json()["repositories"]
            .as_array()
            .expect("list")
            .iter()
            .map(|v| v.as_str().expect("name").to_owned())
            .collect()
    };
    let anonymous = names(ghcr.get("/v2/_catalog", None).await);
    assert_eq!(anonymous, ["alice/public-app"]);
    let bob = names(ghcr.get_as("bob", "/v2/_catalog").await);
    assert_eq!(bob, ["alice/public-app"]);
    let alice = names(ghcr.get_as("alice", "/v2/_catalog").await);
    assert_eq!(alice, ["alice/app", "alice/public-app", "alice/site-image"]);
    let bearer = ghcr.bearer(Some("alice"), &["registry:catalog:*"]).await;
    assert_eq!(names(ghcr.get("/v2/_catalog", Some(&bearer)).await), alice);
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_once() {
    let ghcr = seeded().await;
    let alice = ghcr.basic("alice-read");
    assert_eq!(
        ghcr.get("/v2/alice/app/manifests/1.0", Some(&alice))
            .await
            .status,
        200
    );
    let tokens = ghcr
        .store
        .personal_tokens(&"alice".parse().expect("login"))
        .await
        .expect("tokens");
    let hash = wharf_auth::TokenHash::of(ghcr.secret("alice-read"));
    let record = tokens
        .iter()
        .find(|t| t.personal().is_some_and(|p| p.hash == hash))
        .expect("token");
    ghcr.store
        .revoke_token(record.id, ghcr.now())
        .await
        .expect("revoke");
    let reply = ghcr.get("/v2/alice/app/manifests/1.0", Some(&alice)).await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(reply.json()["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("revoked"));
    let token = ghcr
        .token_reply(Some(&alice), &["repository:alice/app:pull"])
        .await;
    assert_eq!(token.status, 401);
}
