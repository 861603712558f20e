//! Tenant isolation through credentials (issue 8, findings 1, 4, 5 and 9):
//! a bearer token's claims are an upper bound re-checked against the
//! current state on every request; the same caller gets the same answer
//! with Basic auth and with a bearer token; a push never changes who may
//! access a package; a private package and a missing one read the same to
//! whoever may not see it.

mod common;

use std::time::Duration;

use common::ghcr::*;
use reqwest::Method;
use serde_json::json;
use wharf_auth::{PersonalAccessToken, RepositoryRole, StoredToken, Timestamp, WorkflowPermission};
use wharf_packages::{Collaborator, TokenId, WorkflowToken};

/// Stores a personal access token of `login` with `scopes`, expiring at
/// `expires_at`; its id and `Basic` credentials.
async fn personal_token(
    ghcr: &Ghcr,
    login: &str,
    scopes: &str,
    expires_at: Option<Timestamp>,
) -> (TokenId, String) {
    let secret = PersonalAccessToken::generate().expect("token");
    let stored = StoredToken::new(
        &secret,
        login.parse().expect("login"),
        scopes.parse().expect("scopes"),
        expires_at,
    );
    let record = ghcr
        .store
        .insert_personal_token(&stored, ghcr.now())
        .await
        .expect("insert");
    (record.id, basic(login, secret.expose_secret()))
}

/// A bearer token for `scopes` from the token endpoint, with `basic`.
async fn bearer_with(ghcr: &Ghcr, basic: &str, scopes: &[&str]) -> String {
    let reply = ghcr.token_reply(Some(basic), scopes).await;
    assert_eq!(reply.status, 200, "token: {reply:?}");
    format!("Bearer {}", reply.json()["token"].as_str().expect("token"))
}

// ------------------------------------------------ finding 4: re-checked

#[tokio::test]
async fn a_bearer_token_stops_working_once_its_personal_access_token_is_revoked() {
    let ghcr = Ghcr::start().await;
    ghcr.publish("alice", "alice/app", "1.0").await;
    let (id, basic) = personal_token(&ghcr, "alice", "write:packages", None).await;
    let bearer = bearer_with(&ghcr, &basic, &["repository:alice/app:pull,push"]).await;
    let pull = |auth: String| {
        let ghcr = &ghcr;
        async move { ghcr.get("/v2/alice/app/manifests/1.0", Some(&auth)).await }
    };
    assert_eq!(pull(bearer.clone()).await.status, 200);

    ghcr.store
        .revoke_token(id, ghcr.now())
        .await
        .expect("revoke");

    for reply in [
        pull(bearer.clone()).await,
        ghcr.push_blob_as(&bearer, "alice/app", b"after revocation")
            .await,
        ghcr.get("/v2/_catalog", Some(&bearer)).await,
    ] {
        assert_eq!(reply.status, 401, "{reply:?}");
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|c| c.contains("error=\"invalid_token\"")),
            "{reply:?}"
        );
    }
    // The package page does not show it either.
    let page = ghcr
        .get("/alice/packages/container/app", Some(&bearer))
        .await;
    assert_eq!(page.status, 404, "{page:?}");
}

#[tokio::test]
async fn a_bearer_token_stops_working_once_its_personal_access_token_expires() {
    let ghcr = Ghcr::start().await;
    ghcr.publish("alice", "alice/app", "1.0").await;
    let expiry = ghcr.now().saturating_add(Duration::from_secs(60));
    let (_, basic) = personal_token(&ghcr, "alice", "read:packages", Some(expiry)).await;
    let bearer = bearer_with(&ghcr, &basic, &["repository:alice/app:pull"]).await;
    let path = "/v2/alice/app/manifests/1.0";
    assert_eq!(ghcr.get(path, Some(&bearer)).await.status, 200);
    // Past the personal access token's expiry, within the bearer token's.
    ghcr.advance(90);
    let reply = ghcr.get(path, Some(&bearer)).await;
    assert_eq!(reply.status, 401, "{reply:?}");
}

#[tokio::test]
async fn a_bearer_token_stops_working_once_its_workflow_token_is_revoked() {
    let ghcr = Ghcr::start().await;
    ghcr.publish("site-ci", "alice/site-image", "1.0").await;
    let secret = PersonalAccessToken::generate().expect("token");
    let record = ghcr
        .store
        .insert_workflow_token(
            &WorkflowToken::new(
                secret.hash(),
                "alice/site".parse().expect("repo"),
                WorkflowPermission::Write,
                None,
            ),
            ghcr.now(),
        )
        .await
        .expect("insert");
    let basic = basic("github-actions", secret.expose_secret());
    let bearer = bearer_with(&ghcr, &basic, &["repository:alice/site-image:pull,push"]).await;
    let path = "/v2/alice/site-image/manifests/1.0";
    assert_eq!(ghcr.get(path, Some(&bearer)).await.status, 200);

    ghcr.store
        .revoke_token(record.id, ghcr.now())
        .await
        .expect("revoke");
    let reply = ghcr.get(path, Some(&bearer)).await;
    assert_eq!(reply.status, 401, "{reply:?}");
    let (reply, _, _) = ghcr
        .push_image_as(&bearer, "alice/site-image", "2.0", json!({}), json!({}))
        .await;
    assert_eq!(reply.status, 401, "{reply:?}");
}

#[tokio::test]
async fn a_push_token_minted_while_the_name_was_free_cannot_push_once_someone_else_owns_it() {
    let ghcr = Ghcr::start().await;
    // carol, a member of acme, may create acme/tool while the name is free.
    let carols = ghcr
        .bearer(Some("carol"), &["repository:acme/tool:pull,push"])
        .await;
    assert_eq!(
        granted(&carols),
        ["repository:acme/tool:push"],
        "the name is free"
    );
    // alice publishes acme/tool first: private, alice its only admin.
    let (reply, _, _) = ghcr
        .push_image_as(
            &ghcr.basic("alice"),
            "acme/tool",
            "latest",
            json!({ "org.opencontainers.image.description": "alice's tool" }),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let (_, alices_digest, _) = ghcr
        .push_image_as(&ghcr.basic("alice"), "acme/tool", "@", json!({}), json!({}))
        .await;

    // carol's token, still within its lifetime, names the package but
    // grants nothing on it any more: no push, no pull, no overwritten tag.
    let (reply, _, _) = ghcr
        .push_image_as(
            &carols,
            "acme/tool",
            "latest",
            json!({ "org.opencontainers.image.description": "carol was here" }),
            json!({}),
        )
        .await;
    assert!(
        matches!(reply.status.as_u16(), 403 | 404),
        "push with a stale token: {reply:?}"
    );
    let pull = ghcr
        .get(
            &format!("/v2/acme/tool/manifests/{alices_digest}"),
            Some(&carols),
        )
        .await;
    assert!(matches!(pull.status.as_u16(), 403 | 404), "{pull:?}");
    let tags = ghcr
        .get("/v2/acme/tool/tags/list", Some(&ghcr.basic("alice")))
        .await;
    assert_eq!(tags.json()["tags"], json!(["latest"]));
    let package = ghcr
        .get(
            "/orgs/acme/packages/container/tool",
            Some(&ghcr.basic("alice")),
        )
        .await;
    assert_eq!(
        package.json()["description"],
        json!("alice's tool"),
        "{package:?}"
    );
}

#[tokio::test]
async fn a_bearer_token_loses_what_a_revoked_grant_gave() {
    let ghcr = Ghcr::start().await;
    ghcr.publish("alice", "alice/app", "1.0").await;
    let grant = "/user/packages/container/app/grants/user:bob";
    let reply = ghcr
        .send_json(
            Method::PUT,
            grant,
            &ghcr.basic("alice"),
            &json!({ "role": "write" }),
        )
        .await;
    assert!(reply.status.is_success(), "{reply:?}");
    let bobs = ghcr
        .bearer(Some("bob"), &["repository:alice/app:pull,push"])
        .await;
    assert_eq!(granted(&bobs), ["repository:alice/app:pull,push"]);
    assert_eq!(
        ghcr.push_blob_as(&bobs, "alice/app", b"while granted")
            .await
            .status,
        201
    );

    let reply = ghcr.delete(grant, Some(&ghcr.basic("alice"))).await;
    assert!(reply.status.is_success(), "{reply:?}");
    let reply = ghcr
        .push_blob_as(&bobs, "alice/app", b"after the grant is gone")
        .await;
    assert!(matches!(reply.status.as_u16(), 403 | 404), "{reply:?}");
    let reply = ghcr.get("/v2/alice/app/manifests/1.0", Some(&bobs)).await;
    assert_eq!(reply.status, 404, "{reply:?}");
}

// ------------------------------------------ finding 5: Basic = bearer

/// The answers a caller gets on the listings and pages that show a
/// package: catalog, package page, owner page, REST package and REST
/// owner listing, as (what, status, body) rows.
async fn answers(ghcr: &Ghcr, authorization: &str) -> Vec<(&'static str, u16, String)> {
    let mut rows = Vec::new();
    let catalog = ghcr.get("/v2/_catalog", Some(authorization)).await;
    rows.push((
        "catalog",
        catalog.status.as_u16(),
        catalog.json()["repositories"].to_string(),
    ));
    let page = ghcr
        .get("/alice/packages/container/app", Some(authorization))
        .await;
    rows.push(("package page", page.status.as_u16(), String::new()));
    let owner = ghcr.get("/alice/packages", Some(authorization)).await;
    let shows_app = String::from_utf8_lossy(&owner.body).contains("alice/app");
    rows.push(("owner page", owner.status.as_u16(), shows_app.to_string()));
    rows
}

#[tokio::test]
async fn a_bearer_token_sees_what_its_personal_access_token_sees_through_basic_auth() {
    let ghcr = Ghcr::start().await;
    ghcr.publish("alice", "alice/app", "1.0").await;
    ghcr.publish("alice", "alice/public-app", "1.0").await;
    ghcr.make_public("alice", "/user", "public-app").await;
    let scopes = [
        "registry:catalog:*",
        "repository:alice/app:pull",
        "repository:alice/public-app:pull",
    ];
    for token_scopes in ["repo", "read:packages", "repo write:packages"] {
        let (_, basic) = personal_token(&ghcr, "alice", token_scopes, None).await;
        let bearer = bearer_with(&ghcr, &basic, &scopes).await;
        let through_basic = answers(&ghcr, &basic).await;
        let through_bearer = answers(&ghcr, &bearer).await;
        assert_eq!(
            through_basic, through_bearer,
            "a token with {token_scopes}: Basic then bearer"
        );
    }
    // With only `repo`, alice's own private package is not shown either way.
    let (_, basic) = personal_token(&ghcr, "alice", "repo", None).await;
    let bearer = bearer_with(&ghcr, &basic, &scopes).await;
    let catalog = ghcr.get("/v2/_catalog", Some(&bearer)).await;
    assert_eq!(
        catalog.json()["repositories"],
        json!(["alice/public-app"]),
        "{catalog:?}"
    );
}

#[tokio::test]
async fn a_workflow_bearer_token_has_its_workflow_tokens_permission() {
    let ghcr = Ghcr::start().await;
    ghcr.publish("site-ci", "alice/site-image", "1.0").await;
    // A read-only workflow token, through a bearer token, cannot write
    // package settings or push, as through Basic auth.
    let bearer = ghcr
        .bearer(
            Some("site-ci-read"),
            &[
                "registry:catalog:*",
                "repository:alice/site-image:pull,push",
            ],
        )
        .await;
    assert_eq!(granted(&bearer)[1], "repository:alice/site-image:pull");
    let through_basic = answers(&ghcr, &ghcr.basic("site-ci-read")).await;
    let through_bearer = answers(&ghcr, &bearer).await;
    assert_eq!(through_basic, through_bearer);
    let reply = ghcr
        .push_blob_as(&bearer, "alice/site-image", b"read-only")
        .await;
    assert_eq!(reply.status, 403, "{reply:?}");
}

// --------------------------- finding 1: a push never changes who may access

const SOURCE: &str = "org.opencontainers.image.source";

/// The package as its admin alice sees it through the REST API.
async fn as_alice(ghcr: &Ghcr, path: &str) -> serde_json::Value {
    let reply = ghcr.get(path, Some(&ghcr.basic("alice"))).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.json()
}

#[tokio::test]
async fn a_writer_cannot_make_themselves_admin_through_a_source_label() {
    let ghcr = Ghcr::start().await;
    ghcr.publish("alice", "alice/app", "1.0").await;
    // bob administers alice's repository alice/tools, and may only write
    // to alice/app.
    ghcr.store
        .set_collaborator(
            &"alice/tools".parse().expect("repo"),
            &Collaborator::User("bob".parse().expect("login")),
            RepositoryRole::Admin,
        )
        .await
        .expect("collaborator");
    let package = "/user/packages/container/app";
    let reply = ghcr
        .send_json(
            Method::PUT,
            &format!("{package}/grants/user:bob"),
            &ghcr.basic("alice"),
            &json!({ "role": "write" }),
        )
        .await;
    assert!(reply.status.is_success(), "{reply:?}");

    // bob pushes an image whose source label names alice/tools, through
    // Basic auth and through a bearer token.
    let bobs_bearer = ghcr
        .bearer(Some("bob"), &["repository:alice/app:pull,push"])
        .await;
    for (tag, credentials) in [("bob-1", ghcr.basic("bob")), ("bob-2", bobs_bearer)] {
        let (reply, _, _) = ghcr
            .push_image_as(
                &credentials,
                "alice/app",
                tag,
                json!({ SOURCE: "http://registry.test/alice/tools" }),
                json!({}),
            )
            .await;
        assert_eq!(reply.status, 201, "the write role pushes: {reply:?}");
    }
    let record = as_alice(&ghcr, package).await;
    assert_eq!(record["repository"], json!(null), "not linked: {record}");
    assert_eq!(record["inherit_access"], json!(false));

    // ...so bob is no admin: he cannot grant himself admin, remove alice's
    // say, or publish the package.
    let bob = ghcr.basic("bob");
    for (what, reply) in [
        (
            "grant admin",
            ghcr.send_json(
                Method::PUT,
                "/users/alice/packages/container/app/grants/user:bob",
                &bob,
                &json!({ "role": "admin" }),
            )
            .await,
        ),
        (
            "make public",
            ghcr.send_json(
                Method::PATCH,
                "/users/alice/packages/container/app",
                &bob,
                &json!({ "visibility": "public" }),
            )
            .await,
        ),
    ] {
        assert_eq!(reply.status, 403, "{what}: {reply:?}");
    }
    let record = as_alice(&ghcr, package).await;
    assert_eq!(record["visibility"], json!("private"));
    let grants = as_alice(&ghcr, &format!("{package}/grants")).await;
    assert_eq!(
        grants,
        json!([
            { "grantee": "user:alice", "role": "admin" },
            { "grantee": "user:bob", "role": "write" },
        ]),
        "{grants}"
    );
}

#[tokio::test]
async fn a_push_does_not_link_again_what_an_admin_unlinked() {
    let ghcr = Ghcr::start().await;
    let alice = ghcr.basic("alice");
    let labels = json!({ SOURCE: "http://registry.test/alice/app" });
    let (reply, _, _) = ghcr
        .push_image_as(&alice, "alice/app", "1.0", labels.clone(), json!({}))
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let package = "/user/packages/container/app";
    let record = as_alice(&ghcr, package).await;
    assert_eq!(
        record["repository"]["full_name"],
        json!("alice/app"),
        "the creator's first publish links it: {record}"
    );

    let reply = ghcr
        .send_json(
            Method::PATCH,
            package,
            &alice,
            &json!({ "repository": null }),
        )
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");

    // Pushing the same labels again, even as the admin, leaves it unlinked.
    let (reply, _, _) = ghcr
        .push_image_as(&alice, "alice/app", "2.0", labels, json!({}))
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let record = as_alice(&ghcr, package).await;
    assert_eq!(record["repository"], json!(null), "{record}");
    assert_eq!(record["inherit_access"], json!(false));
}
