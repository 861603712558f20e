//! Tenant isolation through credentials (issue 8, findings 1, 4, 5 and 9):
//! a bearer token's claims are an upper bound re-checked against the
//! current state on every request; the same caller gets the same answer
//! with Basic auth and with a bearer token; a push never changes who may
//! access a package; a private package and a missing one read the same to
//! whoever may not see it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::ghcr::*;
use common::{start_bound, Backend};
use reqwest::Method;
use serde_json::json;
use wharf_auth::{
    Identity, RepositoryRole, ScopeSet, SigningKey, Timestamp, TokenSigner, WorkflowPermission,
};
use wharf_packages::prelude::*;
use wharf_packages::{Collaborator, SqlitePackageStore, TokenId};
use wharf_server::AccountsConfig;

/// Stores a personal access token of `login` with `scopes`, expiring at
/// `expires_at`; its id and `Basic` credentials.
async fn personal_token(
    ghcr: &Ghcr,
    login: &str,
    scopes: &str,
    expires_at: Option<Timestamp>,
) -> (TokenId, String) {
    let (id, secret) =
        store_personal_token(&*ghcr.store, login, scopes, expires_at, ghcr.now()).await;
    (id, basic(login, &secret))
}

/// A registry where alice has the private package `private` (tag 1.0)
/// and the public alice/public-app.
async fn with_public_app(private: &str) -> Ghcr {
    let ghcr = Ghcr::start().await;
    ghcr.publish("alice", private, "1.0").await;
    ghcr.publish_public("alice", "alice/public-app", "1.0")
        .await;
    ghcr
}

/// A bearer token for `scopes` from the token endpoint, with `basic`.
async fn bearer_with(ghcr: &Ghcr, basic: &str, scopes: &[&str]) -> String {
    let reply = ghcr.token_reply(Some(basic), scopes).await;
    assert_eq!(reply.status, 200, "token: {reply:?}");
    format!("Bearer {}", reply.json()["token"].as_str().expect("token"))
}

/// alice gives bob the write role through the REST path `grant` (a
/// package's `grants/user:bob`).
async fn grant_write(ghcr: &Ghcr, grant: &str) {
    let reply = ghcr
        .send_json(
            Method::PUT,
            grant,
            &ghcr.basic("alice"),
            &json!({ "role": "write" }),
        )
        .await;
    assert!(reply.status.is_success(), "{reply:?}");
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
        assert_invalid_token(&reply);
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
    let (id, secret) = ghcr
        .workflow_token("alice/site", WorkflowPermission::Write)
        .await;
    let basic = basic("github-actions", &secret);
    let bearer = bearer_with(&ghcr, &basic, &["repository:alice/site-image:pull,push"]).await;
    let path = "/v2/alice/site-image/manifests/1.0";
    assert_eq!(ghcr.get(path, Some(&bearer)).await.status, 200);

    ghcr.store
        .revoke_token(id, ghcr.now())
        .await
        .expect("revoke");
    let reply = ghcr.get(path, Some(&bearer)).await;
    assert_eq!(reply.status, 401, "{reply:?}");
    let (reply, _, _) = ghcr
        .push_labelled(&bearer, "alice/site-image", "2.0", json!({}))
        .await;
    assert_eq!(reply.status, 401, "{reply:?}");
}

#[tokio::test]
async fn a_revocation_made_behind_the_registrys_cache_takes_effect_within_seconds() {
    // The admin CLI revokes through its own store value on the same file.
    let (ghcr, cli, _dir) = Ghcr::start_beside_another_store().await;
    ghcr.publish("alice", "alice/app", "1.0").await;
    let (id, basic) = personal_token(&ghcr, "alice", "read:packages", None).await;
    let bearer = bearer_with(&ghcr, &basic, &["repository:alice/app:pull"]).await;
    let path = "/v2/alice/app/manifests/1.0";
    assert_eq!(ghcr.get(path, Some(&bearer)).await.status, 200);

    cli.revoke_token(id, ghcr.now()).await.expect("revoke");
    // Past the cache's lifetime (CacheOptions::default(): 2 s).
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    for authorization in [&bearer, &basic] {
        let reply = ghcr.get(path, Some(authorization)).await;
        assert_eq!(reply.status, 401, "{reply:?}");
    }
}

#[tokio::test]
async fn a_bearer_token_that_names_no_stored_token_is_refused() {
    // A token as this registry signed them before bearer tokens named the
    // stored token they came from: it cannot be re-checked.
    let key = SigningKey::generate().expect("key");
    let signer = TokenSigner::new(
        &key,
        format!("{PUBLIC_URL}/token"),
        SERVICE,
        Duration::from_secs(300),
    );
    let store: Arc<dyn PackageStore> = Arc::new(SqlitePackageStore::in_memory().expect("store"));
    let now = Timestamp::from_system_time(std::time::SystemTime::now());
    store
        .create_user(&"alice".parse().expect("login"), now)
        .await
        .expect("user");
    let server = start_bound(Backend::Memory, move |builder, _| {
        builder.accounts(AccountsConfig::new(store, key, PUBLIC_URL).expect("config"))
    })
    .await;
    let access: ScopeSet = "repository:alice/app:pull,push".parse().expect("scope");
    let old = signer
        .issue(
            &Identity::User("alice".parse().expect("login")),
            &access,
            now,
        )
        .expect("issue");
    let authorization = format!("Bearer {}", old.token);
    for (method, path) in [
        (Method::GET, "/v2/alice/app/tags/list"),
        (Method::POST, "/v2/alice/app/blobs/uploads/"),
    ] {
        let reply = server
            .send(
                method,
                path,
                &[("authorization", &authorization)],
                Vec::new(),
            )
            .await;
        assert_invalid_token(&reply);
    }
    // An anonymous token needs no stored token: it grants only what anyone
    // may do.
    let anonymous = signer
        .issue(&Identity::Anonymous, &access, now)
        .expect("issue");
    let reply = server
        .send(
            Method::GET,
            "/v2/alice/app/tags/list",
            &[("authorization", &format!("Bearer {}", anonymous.token))],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(
        reply
            .header("www-authenticate")
            .is_some_and(|c| !c.contains("invalid_token")),
        "a challenge to log in: {reply:?}"
    );
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
        .push_labelled(
            &ghcr.basic("alice"),
            "acme/tool",
            "latest",
            json!({ "org.opencontainers.image.description": "alice's tool" }),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let (_, alices_digest, _) = ghcr
        .push_labelled(&ghcr.basic("alice"), "acme/tool", "@", json!({}))
        .await;

    // carol's token, still within its lifetime, names the package but
    // grants nothing on it any more: no push, no pull, no overwritten tag.
    let (reply, _, _) = ghcr
        .push_labelled(
            &carols,
            "acme/tool",
            "latest",
            json!({ "org.opencontainers.image.description": "carol was here" }),
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
    let tags = ghcr.get_as("alice", "/v2/acme/tool/tags/list").await;
    assert_eq!(tags.json()["tags"], json!(["latest"]));
    let package = ghcr
        .get_as("alice", "/orgs/acme/packages/container/tool")
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
    grant_write(&ghcr, grant).await;
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

    let reply = ghcr.delete_as("alice", grant).await;
    assert!(reply.status.is_success(), "{reply:?}");
    let reply = ghcr
        .push_blob_as(&bobs, "alice/app", b"after the grant is gone")
        .await;
    assert!(matches!(reply.status.as_u16(), 403 | 404), "{reply:?}");
    let reply = ghcr.get("/v2/alice/app/manifests/1.0", Some(&bobs)).await;
    assert_eq!(reply.status, 404, "{reply:?}");
}

// ------------------------------------------ finding 5: Basic = bearer

/// The answers a caller gets on the listings and pages that show alice's
/// package `package`: catalog, package page and owner page, as (what,
/// status, what it shows) rows.
async fn answers(
    ghcr: &Ghcr,
    authorization: &str,
    package: &str,
) -> Vec<(&'static str, u16, String)> {
    let mut rows = Vec::new();
    let catalog = ghcr.get("/v2/_catalog", Some(authorization)).await;
    rows.push((
        "catalog",
        catalog.status.as_u16(),
        catalog.json()["repositories"].to_string(),
    ));
    let page = ghcr
        .get(
            &format!("/alice/packages/container/{package}"),
            Some(authorization),
        )
        .await;
    rows.push(("package page", page.status.as_u16(), String::new()));
    let owner = ghcr.get("/alice/packages", Some(authorization)).await;
    let shows = String::from_utf8_lossy(&owner.body)
        .contains(&format!("href=\"/alice/packages/container/{package}\""));
    rows.push(("owner page", owner.status.as_u16(), shows.to_string()));
    rows
}

#[tokio::test]
async fn a_bearer_token_sees_what_its_personal_access_token_sees_through_basic_auth() {
    let ghcr = with_public_app("alice/app").await;
    let scopes = [
        "registry:catalog:*",
        "repository:alice/app:pull",
        "repository:alice/public-app:pull",
    ];
    for token_scopes in ["repo", "read:packages", "repo write:packages"] {
        let (_, basic) = personal_token(&ghcr, "alice", token_scopes, None).await;
        let bearer = bearer_with(&ghcr, &basic, &scopes).await;
        let through_basic = answers(&ghcr, &basic, "app").await;
        let through_bearer = answers(&ghcr, &bearer, "app").await;
        assert_eq!(
            through_basic, through_bearer,
            "a token with {token_scopes}: Basic then bearer"
        );
        let reads = token_scopes != "repo";
        assert_eq!(
            through_bearer[1..],
            [
                ("package page", if reads { 200 } else { 404 }, String::new()),
                ("owner page", 200, reads.to_string()),
            ],
            "a token with {token_scopes}"
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
    let scopes = [
        "registry:catalog:*",
        "repository:alice/site-image:pull,push",
    ];
    // A token of the package's own repository with `packages: none` sees
    // nothing of it, through Basic auth as through a bearer token.
    let (_, secret) = ghcr
        .workflow_token("alice/site", WorkflowPermission::None)
        .await;
    let none = basic("github-actions", &secret);
    let bearer = bearer_with(&ghcr, &none, &scopes).await;
    let through_basic = answers(&ghcr, &none, "site-image").await;
    let through_bearer = answers(&ghcr, &bearer, "site-image").await;
    assert_eq!(through_basic, through_bearer, "packages: none");
    assert_eq!(through_basic[0].2, "[]", "{through_basic:?}");

    // A read-only one pulls, and cannot push, either way.
    let bearer = ghcr.bearer(Some("site-ci-read"), &scopes).await;
    assert_eq!(granted(&bearer)[1], "repository:alice/site-image:pull");
    let through_basic = answers(&ghcr, &ghcr.basic("site-ci-read"), "site-image").await;
    let through_bearer = answers(&ghcr, &bearer, "site-image").await;
    assert_eq!(through_basic, through_bearer, "packages: read");
    assert_eq!(through_basic[2].2, "true", "{through_basic:?}");
    let reply = ghcr
        .push_blob_as(&bearer, "alice/site-image", b"read-only")
        .await;
    assert_eq!(reply.status, 403, "{reply:?}");
}

// --------------------------- finding 1: a push never changes who may access

const SOURCE: &str = "org.opencontainers.image.source";

/// The package as its admin alice sees it through the REST API.
async fn as_alice(ghcr: &Ghcr, path: &str) -> serde_json::Value {
    let reply = ghcr.assert_get("alice", path, 200).await;
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
    grant_write(&ghcr, &format!("{package}/grants/user:bob")).await;

    // bob pushes an image whose source label names alice/tools, through
    // Basic auth and through a bearer token.
    let bobs_bearer = ghcr
        .bearer(Some("bob"), &["repository:alice/app:pull,push"])
        .await;
    for (tag, credentials) in [("bob-1", ghcr.basic("bob")), ("bob-2", bobs_bearer)] {
        let (reply, _, _) = ghcr
            .push_labelled(
                &credentials,
                "alice/app",
                tag,
                json!({ SOURCE: "http://registry.test/alice/tools" }),
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
    let alices = "/users/alice/packages/container/app";
    for (what, method, path, body) in [
        (
            "grant admin",
            Method::PUT,
            format!("{alices}/grants/user:bob"),
            json!({ "role": "admin" }),
        ),
        (
            "make public",
            Method::PATCH,
            alices.to_owned(),
            json!({ "visibility": "public" }),
        ),
    ] {
        let reply = ghcr.send_json(method, &path, &bob, &body).await;
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
        .push_labelled(&alice, "alice/app", "1.0", labels.clone())
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let package = "/user/packages/container/app";
    let record = as_alice(&ghcr, package).await;
    assert_eq!(
        record["repository"]["full_name"],
        json!("alice/app"),
        "the creator's first publish links it: {record}"
    );

    ghcr.assert_send_json(
        Method::PATCH,
        package,
        &alice,
        &json!({ "repository": null }),
        200,
    )
    .await;

    // Pushing the same labels again, even as the admin, leaves it unlinked.
    let (reply, _, _) = ghcr.push_labelled(&alice, "alice/app", "2.0", labels).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let record = as_alice(&ghcr, package).await;
    assert_eq!(record["repository"], json!(null), "{record}");
    assert_eq!(record["inherit_access"], json!(false));
}

// -------------------- finding 9: a private package reads as a missing one

/// A reply with the names of the package asked about replaced by
/// placeholders: (status, body, WWW-Authenticate).
fn normalized(reply: &common::Reply, names: &[(&str, &str)]) -> (u16, String, String) {
    let mut body = String::from_utf8_lossy(&reply.body).into_owned();
    let mut challenge = reply.challenge().to_owned();
    for (name, placeholder) in names {
        body = body.replace(name, placeholder);
        challenge = challenge.replace(name, placeholder);
    }
    (reply.status.as_u16(), body, challenge)
}

/// Everything a caller can ask about the package `owner/package`: the
/// registry API, the token endpoint, the REST API and the package page.
async fn everything_about(
    ghcr: &Ghcr,
    authorization: Option<&str>,
    owner: &str,
    package: &str,
) -> Vec<(String, (u16, String, String))> {
    let name = format!("{owner}/{package}");
    let digest = wharf_reference::Digest::sha256(b"some blob");
    let names = [(name.as_str(), "NAME"), (package, "PACKAGE")];
    let rest = format!("/users/{owner}/packages/container/{package}");
    let mut answers = Vec::new();
    for (method, path) in [
        (Method::GET, format!("/v2/{name}/manifests/1.0")),
        (Method::HEAD, format!("/v2/{name}/manifests/1.0")),
        (Method::GET, format!("/v2/{name}/manifests/{digest}")),
        (Method::DELETE, format!("/v2/{name}/manifests/{digest}")),
        (Method::GET, format!("/v2/{name}/tags/list")),
        (Method::GET, format!("/v2/{name}/blobs/{digest}")),
        (Method::GET, format!("/v2/{name}/referrers/{digest}")),
        (Method::POST, format!("/v2/{name}/blobs/uploads/")),
        (
            Method::POST,
            format!("/v2/{name}/blobs/uploads/?mount={digest}&from=alice/public-app"),
        ),
        (Method::GET, rest.clone()),
        (Method::GET, format!("{rest}/versions")),
        (Method::GET, format!("{rest}/versions/1")),
        (Method::DELETE, rest.clone()),
        (Method::POST, format!("{rest}/restore")),
        (Method::GET, format!("{rest}/grants")),
        (
            Method::GET,
            format!("/{owner}/packages/container/{package}"),
        ),
    ] {
        let reply = ghcr
            .send(method.clone(), &path, authorization, Vec::new())
            .await;
        let what = format!(
            "{method} {}",
            path.replace(&name, "NAME").replace(package, "PACKAGE")
        );
        answers.push((what, normalized(&reply, &names)));
    }
    let token = ghcr
        .token_reply(
            authorization,
            &[&format!("repository:{name}:pull,push,delete")],
        )
        .await;
    let granted = match token.status.as_u16() {
        200 => granted(&format!(
            "Bearer {}",
            token.json()["token"].as_str().unwrap_or_default()
        ))
        .join(" "),
        _ => String::from_utf8_lossy(&token.body).into_owned(),
    };
    answers.push((
        "token".to_owned(),
        (token.status.as_u16(), granted, String::new()),
    ));
    answers
}

#[tokio::test]
async fn a_private_package_and_a_missing_one_read_the_same_to_whoever_may_not_see_it() {
    let ghcr = with_public_app("alice/hidden").await;
    // A package published and deleted is missing too.
    ghcr.publish("alice", "alice/gone", "1.0").await;
    let reply = ghcr
        .delete_as("alice", "/user/packages/container/gone")
        .await;
    assert_eq!(reply.status, 204, "{reply:?}");

    let bobs_bearer = ghcr
        .bearer(
            Some("bob"),
            &[
                "repository:alice/hidden:pull,push",
                "repository:alice/absent:pull,push",
            ],
        )
        .await;
    let callers = [
        ("anonymous", None),
        ("bob", Some(ghcr.basic("bob"))),
        ("bob through a bearer token", Some(bobs_bearer)),
        ("carol", Some(ghcr.basic("carol"))),
    ];
    for (who, authorization) in &callers {
        let authorization = authorization.as_deref();
        let private = everything_about(&ghcr, authorization, "alice", "hidden").await;
        // Which accounts exist is no secret (GitHub shows it), so only an
        // anonymous caller, who is asked to log in before anything is
        // looked up, is held to the same answers for an unknown owner.
        let mut missing = vec![("alice", "absent"), ("alice", "gone")];
        if authorization.is_none() {
            missing.push(("nobody", "absent"));
        }
        for (owner, package) in missing {
            let answers = everything_about(&ghcr, authorization, owner, package).await;
            for ((what, hidden), (_, absent)) in private.iter().zip(&answers) {
                assert_eq!(
                    hidden, absent,
                    "{who}: {what} on alice/hidden and on {owner}/{package}"
                );
            }
        }
    }
}

/// Asserts that `reply` refuses its bearer token as invalid: 401 with
/// `error="invalid_token"` in the challenge.
fn assert_invalid_token(reply: &common::Reply) {
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(
        reply.challenge().contains("error=\"invalid_token\""),
        "{reply:?}"
    );
}

#[tokio::test]
async fn a_pull_allowed_many_times_is_refused_as_soon_as_the_package_turns_private() {
    // The registry remembers allowed requests (the same credentials, the
    // same repository): a change through the store must end that at once,
    // for anonymous callers and for bearer tokens alike.
    let ghcr = with_public_app("alice/private-app").await;
    let (_, basic) = personal_token(&ghcr, "bob", "read:packages", None).await;
    let bearer = bearer_with(&ghcr, &basic, &["repository:alice/public-app:pull"]).await;
    let path = "/v2/alice/public-app/manifests/1.0";
    for _ in 0..3 {
        assert_eq!(ghcr.get(path, None).await.status, 200);
        assert_eq!(ghcr.get(path, Some(&bearer)).await.status, 200);
    }

    ghcr.assert_send_json(
        Method::PATCH,
        "/user/packages/container/public-app",
        &ghcr.basic("alice"),
        &json!({ "visibility": "private" }),
        200,
    )
    .await;
    let anonymous = ghcr.get(path, None).await;
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    let bob = ghcr.get(path, Some(&bearer)).await;
    assert_eq!(bob.status, 404, "{bob:?}");
}

#[tokio::test]
async fn a_push_allowed_while_the_name_was_free_stops_once_another_process_creates_the_package() {
    // Another process (a second replica, the admin CLI) on the same
    // database: its changes reach this registry's cache only after its
    // lifetime, but a package that was missing is never remembered as
    // missing, and neither is what was allowed because of that.
    let (ghcr, other, _dir) = Ghcr::start_beside_another_store().await;
    // carol, a member of acme, may push to acme/tool while the name is free.
    let carol = ghcr.basic("carol");
    for layer in [&b"one"[..], b"two", b"three"] {
        let reply = ghcr.push_blob_as(&carol, "acme/tool", layer).await;
        assert_eq!(reply.status, 201, "{reply:?}");
    }

    let name = "acme/tool".parse().expect("name");
    other
        .create_package(&wharf_auth::Package::new(name), ghcr.now())
        .await
        .expect("create elsewhere");
    // At once, not after the cache's lifetime: the package is not carol's.
    let reply = ghcr.push_blob_as(&carol, "acme/tool", b"four").await;
    assert!(matches!(reply.status.as_u16(), 403 | 404), "{reply:?}");
}
