//! The package REST API, shaped like GitHub's: listing, reading, deleting
//! and restoring packages and versions, visibility and grants.

mod common;

use common::ghcr::*;
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// alice/app (private, tags 1.0 and 2.0), alice/app/release (private,
/// nested), alice/public-app (public), acme/tool (private, by carol).
async fn seeded() -> Ghcr {
    let ghcr = Ghcr::start().await;
    ghcr.publish("alice", "alice/app", "1.0").await;
    let alice = ghcr.basic("alice");
    let labels = json!({
        "org.opencontainers.image.description": "The app",
        "org.opencontainers.image.licenses": "MIT",
        "org.opencontainers.image.source": "http://registry.test/alice/app-src",
    });
    let (reply, _, _) = ghcr.push_labelled(&alice, "alice/app", "2.0", labels).await;
    assert_eq!(reply.status, 201);
    ghcr.publish("alice", "alice/app/release", "1.0").await;
    ghcr.publish_public("alice", "alice/public-app", "1.0")
        .await;
    ghcr.publish("carol", "acme/tool", "1.0").await;
    ghcr
}

fn names(reply: &Reply) -> Vec<String> {
    reply
        .json()
        .as_array()
        .unwrap_or_else(|| panic!("a list: {reply:?}"))
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn listings_show_the_packages_the_caller_may_see() {
    let ghcr = seeded().await;
    let container = "?package_type=container";
    // (what, path, token, status, names)
    type Row<'a> = (&'a str, String, Option<&'a str>, u16, &'a [&'a str]);
    let table: &[Row<'_>] = &[
        (
            "the owner, /user",
            format!("/user/packages{container}"),
            Some("alice"),
            200,
            &["app", "app/release", "public-app"],
        ),
        (
            "the owner, /users",
            format!("/users/alice/packages{container}"),
            Some("alice-read"),
            200,
            &["app", "app/release", "public-app"],
        ),
        (
            "an outsider",
            format!("/users/alice/packages{container}"),
            Some("bob"),
            200,
            &["public-app"],
        ),
        (
            "visibility filter",
            format!("/users/alice/packages{container}&visibility=private"),
            Some("alice"),
            200,
            &["app", "app/release"],
        ),
        (
            "an organization, its owner",
            format!("/orgs/acme/packages{container}"),
            Some("alice"),
            200,
            &["tool"],
        ),
        (
            "an organization, an outsider",
            format!("/orgs/acme/packages{container}"),
            Some("bob"),
            200,
            &[],
        ),
        (
            "a workflow token",
            format!("/users/alice/packages{container}"),
            Some("site-ci"),
            200,
            &["public-app"],
        ),
        (
            "another package type",
            "/users/alice/packages?package_type=npm".into(),
            Some("alice"),
            200,
            &[],
        ),
        (
            "no package type",
            "/users/alice/packages".into(),
            Some("alice"),
            400,
            &[],
        ),
        (
            "a user as an organization",
            format!("/orgs/alice/packages{container}"),
            Some("alice"),
            404,
            &[],
        ),
        (
            "an unknown owner",
            format!("/users/nobody/packages{container}"),
            Some("alice"),
            404,
            &[],
        ),
        (
            "no credentials",
            format!("/users/alice/packages{container}"),
            None,
            401,
            &[],
        ),
        (
            "a workflow token, /user",
            format!("/user/packages{container}"),
            Some("site-ci"),
            403,
            &[],
        ),
    ];
    for (what, path, token, status, expected) in table {
        let authorization = token.map(|t| ghcr.basic(t));
        let reply = ghcr.get(path, authorization.as_deref()).await;
        assert_eq!(reply.status.as_u16(), *status, "{what}: {reply:?}");
        assert!(
            reply
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{what}"
        );
        if *status == 200 {
            assert_eq!(names(&reply), *expected, "{what}");
        } else {
            assert!(reply.json()["message"].is_string(), "{what}: {reply:?}");
        }
    }
}

#[tokio::test]
async fn listings_are_paged_with_a_link_to_the_next_page() {
    let ghcr = seeded().await;
    let first = ghcr
        .get_as("alice", "/user/packages?package_type=container&per_page=2")
        .await;
    assert_eq!(names(&first), ["app", "app/release"]);
    let link = first.header("link").expect("link").to_owned();
    assert!(link.ends_with("rel=\"next\""), "{link}");
    let next = link
        .trim_start_matches(&format!("<{PUBLIC_URL}"))
        .split('>')
        .next()
        .expect("url")
        .to_owned();
    let second = ghcr.get_as("alice", &next).await;
    assert_eq!(names(&second), ["public-app"]);
    assert_eq!(second.header("link"), None);
}

#[tokio::test]
async fn a_package_reads_like_githubs_with_its_metadata() {
    let ghcr = seeded().await;
    let reply = ghcr
        .assert_get("alice", "/users/alice/packages/container/app", 200)
        .await;
    let package = reply.json();
    assert!(package["id"].is_number());
    assert_eq!(package["name"], "app");
    assert_eq!(package["package_type"], "container");
    assert_eq!(package["owner"]["login"], "alice");
    assert_eq!(package["owner"]["type"], "User");
    assert_eq!(package["visibility"], "private");
    assert_eq!(package["version_count"], 2);
    assert_eq!(
        package["url"],
        "http://registry.test/users/alice/packages/container/app"
    );
    assert_eq!(
        package["html_url"],
        "http://registry.test/alice/packages/container/app"
    );
    assert_eq!(package["description"], "The app");
    assert_eq!(package["licenses"], "MIT");
    assert_eq!(package["source"], "http://registry.test/alice/app-src");
    assert_eq!(package["repository"]["full_name"], "alice/app-src");
    assert_eq!(
        package["repository"]["html_url"],
        "http://registry.test/alice/app-src"
    );
    for key in ["created_at", "updated_at"] {
        let at = package[key].as_str().expect(key);
        assert!(
            at.len() == 20 && at.ends_with('Z') && at.contains('T'),
            "{key}: {at}"
        );
    }

    let nested = ghcr
        .assert_get("alice", "/user/packages/container/app%2Frelease", 200)
        .await;
    assert_eq!(nested.json()["name"], "app/release");
    assert_eq!(
        nested.json()["html_url"],
        "http://registry.test/alice/packages/container/app%2Frelease"
    );

    let org = ghcr
        .get_as("alice", "/orgs/acme/packages/container/tool")
        .await;
    assert_eq!(org.json()["owner"]["type"], "Organization");
    assert_eq!(
        org.json()["url"],
        "http://registry.test/orgs/acme/packages/container/tool"
    );
}

#[tokio::test]
async fn who_may_read_change_and_delete_a_package() {
    let ghcr = seeded().await;
    let app = "/users/alice/packages/container/app";
    // (what, method, path, token, body, status)
    type Row<'a> = (&'a str, Method, String, Option<&'a str>, Value, u16);
    let table: Vec<Row<'_>> = vec![
        (
            "read, owner",
            Method::GET,
            app.into(),
            Some("alice-read"),
            json!(null),
            200,
        ),
        (
            "read, outsider",
            Method::GET,
            app.into(),
            Some("bob"),
            json!(null),
            404,
        ),
        (
            "read, missing",
            Method::GET,
            "/users/alice/packages/container/nothing".into(),
            Some("alice"),
            json!(null),
            404,
        ),
        (
            "read, no credentials",
            Method::GET,
            app.into(),
            None,
            json!(null),
            401,
        ),
        (
            "read, bad credentials",
            Method::GET,
            app.into(),
            Some("nobody"),
            json!(null),
            401,
        ),
        (
            "read, another package type",
            Method::GET,
            "/users/alice/packages/npm/app".into(),
            Some("alice"),
            json!(null),
            404,
        ),
        (
            "read, public, outsider",
            Method::GET,
            "/users/alice/packages/container/public-app".into(),
            Some("bob"),
            json!(null),
            200,
        ),
        (
            "change, read-only token",
            Method::PATCH,
            app.into(),
            Some("alice-read"),
            json!({"visibility": "public"}),
            403,
        ),
        (
            "change, outsider",
            Method::PATCH,
            app.into(),
            Some("bob"),
            json!({"visibility": "public"}),
            404,
        ),
        (
            "change, public, outsider",
            Method::PATCH,
            "/users/alice/packages/container/public-app".into(),
            Some("bob"),
            json!({"visibility": "private"}),
            403,
        ),
        (
            "change, unknown visibility",
            Method::PATCH,
            app.into(),
            Some("alice"),
            json!({"visibility": "secret"}),
            400,
        ),
        (
            "change, a JSON array of the fields in order",
            Method::PATCH,
            app.into(),
            Some("alice"),
            json!(["public"]),
            400,
        ),
        (
            "grant, a JSON array of the fields in order",
            Method::PUT,
            format!("{app}/grants/user:bob"),
            Some("alice"),
            json!(["admin"]),
            400,
        ),
        (
            "change, unknown field",
            Method::PATCH,
            app.into(),
            Some("alice"),
            json!({"colour": "red"}),
            400,
        ),
        (
            "change, another owner's repository",
            Method::PATCH,
            app.into(),
            Some("alice"),
            json!({"repository": "bob/repo"}),
            400,
        ),
        (
            "delete, token without delete:packages",
            Method::DELETE,
            app.into(),
            Some("alice-write"),
            json!(null),
            403,
        ),
        (
            "delete, outsider",
            Method::DELETE,
            app.into(),
            Some("bob"),
            json!(null),
            404,
        ),
        (
            "delete, org member who is no admin",
            Method::DELETE,
            "/orgs/acme/packages/container/tool".into(),
            Some("alice-write"),
            json!(null),
            403,
        ),
        (
            "other methods",
            Method::POST,
            app.into(),
            Some("alice"),
            json!(null),
            405,
        ),
    ];
    for (what, method, path, token, body, status) in table {
        let authorization = match token {
            Some("nobody") => basic("alice", "wharf_pat_nope"),
            Some(token) => ghcr.basic(token),
            None => String::new(),
        };
        let reply = if token.is_none() {
            ghcr.send(method, &path, None, Vec::new()).await
        } else if body.is_null() {
            ghcr.send(method, &path, Some(&authorization), Vec::new())
                .await
        } else {
            ghcr.send_json(method, &path, &authorization, &body).await
        };
        assert_eq!(reply.status.as_u16(), status, "{what}: {reply:?}");
        if status >= 400 {
            assert!(reply.json()["message"].is_string(), "{what}: {reply:?}");
        }
        if status == 401 {
            assert!(reply.challenge().starts_with("Basic "), "{what}");
        }
    }
}

#[tokio::test]
async fn visibility_decides_anonymous_pulls() {
    let ghcr = seeded().await;
    let path = "/v2/alice/app/manifests/1.0";
    assert_eq!(ghcr.get(path, None).await.status, 401);
    ghcr.make_public("alice", "/users/alice", "app").await;
    assert_eq!(ghcr.get(path, None).await.status, 200);
    let reply = ghcr
        .send_json(
            Method::PATCH,
            "/users/alice/packages/container/app",
            &ghcr.basic("alice"),
            &json!({ "visibility": "private" }),
        )
        .await;
    assert_eq!(reply.json()["visibility"], "private");
    assert_eq!(ghcr.get(path, None).await.status, 401);
}

#[tokio::test]
async fn grants_give_and_take_a_role() {
    let ghcr = seeded().await;
    let alice = ghcr.basic("alice");
    let bob = ghcr.basic("bob");
    let pull = "/v2/alice/app/manifests/1.0";
    let grant = "/users/alice/packages/container/app/grants/user:bob";
    ghcr.assert_get("bob", pull, 404).await;

    let reply = ghcr
        .assert_send_json(Method::PUT, grant, &alice, &json!({ "role": "read" }), 200)
        .await;
    assert_eq!(
        reply.json(),
        json!({ "grantee": "user:bob", "role": "read" })
    );
    ghcr.assert_get("bob", pull, 200).await;
    let push = ghcr.post_as("bob", "/v2/alice/app/blobs/uploads/").await;
    assert_eq!(push.status, 403, "read does not push");

    // bob may read but not manage access.
    ghcr.assert_send_json(Method::PUT, grant, &bob, &json!({ "role": "admin" }), 403)
        .await;

    let listed = ghcr
        .get_as("alice", "/users/alice/packages/container/app/grants")
        .await;
    let grants = listed.json();
    assert!(
        grants
            .as_array()
            .expect("list")
            .contains(&json!({ "grantee": "user:bob", "role": "read" })),
        "{grants}"
    );

    // A workflow of another repository, by its repository grant.
    let ci_grant = "/users/alice/packages/container/app/grants/repository:alice%2Fsite";
    ghcr.assert_send_json(
        Method::PUT,
        ci_grant,
        &alice,
        &json!({ "role": "write" }),
        200,
    )
    .await;
    let ci_push = ghcr
        .post("/v2/alice/app/blobs/uploads/", Some(&ghcr.basic("site-ci")))
        .await;
    assert_eq!(ci_push.status, 202);

    // Refused: a role GitHub does not have, a grantee that does not exist.
    let nobody = "/users/alice/packages/container/app/grants/user:nobody";
    for (path, role, status) in [(grant, "owner", 400), (nobody, "read", 404)] {
        let role = json!({ "role": role });
        ghcr.assert_send_json(Method::PUT, path, &alice, &role, status)
            .await;
    }

    let reply = ghcr.delete_as("alice", grant).await;
    assert_eq!(reply.status, 204);
    ghcr.assert_get("bob", pull, 404).await;
    let again = ghcr.delete_as("alice", grant).await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn versions_are_listed_read_deleted_and_restored() {
    let ghcr = seeded().await;
    let base = "/users/alice/packages/container/app";
    let listed = ghcr
        .assert_get("alice", &format!("{base}/versions"), 200)
        .await;
    let versions = listed.json();
    let versions = versions.as_array().expect("list");
    assert_eq!(versions.len(), 2);
    let newest = &versions[0];
    assert_eq!(newest["metadata"]["package_type"], "container");
    assert_eq!(newest["metadata"]["container"]["tags"], json!(["2.0"]));
    assert!(newest["name"]
        .as_str()
        .expect("digest")
        .starts_with("sha256:"));
    let id = newest["id"].as_i64().expect("id");
    assert_eq!(
        newest["url"],
        format!("http://registry.test/users/alice/packages/container/app/versions/{id}")
    );
    let one = ghcr.get_as("alice", &format!("{base}/versions/{id}")).await;
    assert_eq!(one.json()["name"], newest["name"]);
    ghcr.assert_get("alice", &format!("{base}/versions/999999"), 404)
        .await;
    ghcr.assert_get("alice", &format!("{base}/versions/nope"), 404)
        .await;
    ghcr.assert_get("bob", &format!("{base}/versions"), 404)
        .await;

    // Deleting needs delete:packages.
    let version = format!("{base}/versions/{id}");
    let denied = ghcr.delete_as("alice-write", &version).await;
    assert_eq!(denied.status, 403);
    let deleted = ghcr.delete_as("alice", &version).await;
    assert_eq!(deleted.status, 204, "{deleted:?}");
    ghcr.assert_get("alice", "/v2/alice/app/manifests/2.0", 404)
        .await;
    let active = ghcr.get_as("alice", &format!("{base}/versions")).await;
    assert_eq!(active.json().as_array().expect("list").len(), 1);
    let gone = ghcr
        .get_as("alice", &format!("{base}/versions?state=deleted"))
        .await;
    let gone = gone.json();
    assert_eq!(gone[0]["id"], id);
    assert!(gone[0]["deleted_at"].is_string());

    // The last version cannot be deleted: delete the package instead.
    let last_id = active.json()[0]["id"].as_i64().expect("id");
    let last = ghcr
        .delete_as("alice", &format!("{base}/versions/{last_id}"))
        .await;
    assert_eq!(last.status, 400, "{last:?}");

    let restored = ghcr.post_as("alice", &format!("{version}/restore")).await;
    assert_eq!(restored.status, 204, "{restored:?}");
    ghcr.assert_get("alice", "/v2/alice/app/manifests/2.0", 200)
        .await;
    let twice = ghcr.post_as("alice", &format!("{version}/restore")).await;
    assert_eq!(twice.status, 409, "{twice:?}");
}

#[tokio::test]
async fn a_deleted_package_is_gone_until_restored_and_purged_after_30_days() {
    let ghcr = seeded().await;
    let package = "/users/alice/packages/container/app";
    let pull = "/v2/alice/app/manifests/1.0";
    let deleted = ghcr.delete_as("alice", package).await;
    assert_eq!(deleted.status, 204, "{deleted:?}");
    ghcr.assert_get("alice", package, 404).await;
    let reply = ghcr.assert_get("alice", pull, 404).await;
    assert_eq!(reply.error_code().as_deref(), Some("NAME_UNKNOWN"));
    let listed = ghcr
        .get_as("alice", "/user/packages?package_type=container")
        .await;
    assert_eq!(names(&listed), ["app/release", "public-app"]);

    // Only an admin restores it; then its tags are back.
    let outsider = ghcr
        .post(&format!("{package}/restore"), Some(&ghcr.basic("bob")))
        .await;
    assert_eq!(outsider.status, 404);
    let restored = ghcr.post_as("alice", &format!("{package}/restore")).await;
    assert_eq!(restored.status, 204, "{restored:?}");
    ghcr.assert_get("alice", pull, 200).await;
    ghcr.assert_get("alice", "/v2/alice/app/manifests/2.0", 200)
        .await;

    // Deleted again, and 30 days pass: purged for good.
    assert_eq!(ghcr.delete_as("alice", package).await.status, 204);
    let report = ghcr.purge_after_restore_window().await;
    assert_eq!(report.packages.len(), 1);
    assert_eq!(report.versions.len(), 2);
    let late = ghcr.post_as("alice", &format!("{package}/restore")).await;
    assert_eq!(late.status, 404, "{late:?}");
    // The name is free for a new first publish.
    ghcr.publish("alice", "alice/app", "3.0").await;
    ghcr.assert_get("alice", pull, 404).await;
}

/// The routes: a nested name (`app%2Frelease`) reaches every sub-resource,
/// a path the API does not have is GitHub's 404, and a method a path does
/// not answer is 405 with `Allow`, before any authentication.
#[tokio::test]
async fn every_path_names_its_methods_and_nested_names_stay_whole() {
    let ghcr = seeded().await;
    let alice = ghcr.basic("alice");
    let base = "/user/packages/container/app%2Frelease";
    for path in [
        base.to_owned(),
        format!("{base}/versions"),
        format!("{base}/grants"),
    ] {
        let reply = ghcr.get_as("alice", &path).await;
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
    }
    assert_eq!(
        ghcr.get_as("alice", base).await.json()["name"],
        "app/release"
    );
    let versions = ghcr.get_as("alice", &format!("{base}/versions")).await;
    let id = versions.json()[0]["id"].clone();
    ghcr.assert_get("alice", &format!("{base}/versions/{id}"), 200)
        .await;

    for path in [
        "/user/packages/container",
        "/user/packages/container/app/tags",
        "/users/alice/packages/container/app/versions/1/restore/again",
        "/orgs/acme/packages/container/tool/grants/user:bob/extra",
    ] {
        let reply = ghcr.get_as("alice", path).await;
        assert_eq!(reply.status, 404, "{path}: {reply:?}");
        assert_eq!(reply.json()["message"], "Not Found", "{path}");
    }

    let table = [
        (Method::PUT, base.to_owned(), "GET, PATCH, DELETE"),
        (Method::GET, format!("{base}/restore"), "POST"),
        (Method::DELETE, format!("{base}/versions"), "GET"),
        (Method::POST, format!("{base}/versions/{id}"), "GET, DELETE"),
        (
            Method::GET,
            format!("{base}/grants/user:bob"),
            "PUT, DELETE",
        ),
        (Method::DELETE, "/user/packages".to_owned(), "GET"),
        (Method::OPTIONS, "/orgs/acme/packages".to_owned(), "GET"),
    ];
    for (method, path, allow) in table {
        for authorization in [None, Some(alice.as_str())] {
            let reply = ghcr
                .send(method.clone(), &path, authorization, Vec::new())
                .await;
            assert_eq!(reply.status, 405, "{method} {path}: {reply:?}");
            assert_eq!(reply.header("allow"), Some(allow), "{method} {path}");
            assert!(reply.json()["message"].is_string(), "{method} {path}");
        }
    }
}
