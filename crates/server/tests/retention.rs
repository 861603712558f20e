//! Retention policies through the package REST API: set, read, previewed,
//! refused to whoever may not change them, validated, and applied by
//! `Registry::apply_retention_policies` as ordinary, restorable deletes.

mod common;

use common::ghcr::*;
use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use wharf_reference::Digest;
use wharf_server::RetentionReport;

const DAY: u64 = 86_400;
const APP: &str = "/users/alice/packages/container/app";

/// Pushes a distinct image `n` to `repo` as `who`, tagged `reference`
/// (`"@"`: untagged); its digest.
async fn push(ghcr: &Ghcr, who: &str, repo: &str, reference: &str, n: u32) -> Digest {
    let (reply, digest, _) = ghcr
        .push_labelled(
            &ghcr.basic(who),
            repo,
            reference,
            json!({ "n": n.to_string() }),
        )
        .await;
    assert_eq!(reply.status, 201, "push {repo}:{reference}: {reply:?}");
    digest
}

/// alice/app, one push a day: `v1.0` (oldest), two untagged, `dev`, and
/// `latest` (newest). Their digests, oldest first.
async fn alice_app(ghcr: &Ghcr) -> Vec<Digest> {
    let mut digests = Vec::new();
    for (n, reference) in ["v1.0", "@", "@", "dev", "latest"].into_iter().enumerate() {
        digests.push(push(ghcr, "alice", "alice/app", reference, n as u32).await);
        ghcr.advance(DAY);
    }
    digests
}

/// The digests (`name`s) of a version listing or preview, in order.
fn digests(versions: &Value) -> Vec<String> {
    versions
        .as_array()
        .unwrap_or_else(|| panic!("a list of versions: {versions}"))
        .iter()
        .map(|v| v["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Applies the retention policies now: the report, and the digests of
/// the versions it deleted, in its order.
async fn apply_policies(ghcr: &Ghcr) -> (RetentionReport, Vec<String>) {
    let registry = &ghcr.server.registry;
    let report = registry.apply_retention_policies().await.expect("apply");
    let deleted = report
        .deleted
        .iter()
        .map(|v| v.digest.to_string())
        .collect();
    (report, deleted)
}

fn strings(digests: &[&Digest]) -> Vec<String> {
    digests.iter().map(|d| d.to_string()).collect()
}

#[tokio::test]
async fn a_package_policy_is_set_read_previewed_and_removed() {
    let ghcr = Ghcr::start().await;
    let d = alice_app(&ghcr).await;
    let alice = ghcr.basic("alice");
    let retention = format!("{APP}/retention");

    let none = ghcr.assert_get("alice-read", &retention, 200).await;
    assert_eq!(none.json(), json!({ "policy": null, "source": null }));

    let policy = json!({ "keep_latest": 2, "protected_tags": ["v*"] });
    let set = ghcr
        .assert_send_json(Method::PUT, &retention, &alice, &policy, 200)
        .await;
    assert_eq!(set.json(), json!({ "policy": policy, "source": "package" }));
    let read = ghcr.assert_get("alice-read", &retention, 200).await;
    assert_eq!(read.json(), set.json());

    // v1.0 is protected and not counted; latest and dev are the two kept.
    let preview = ghcr
        .assert_get("alice-read", &format!("{retention}/preview"), 200)
        .await
        .json();
    assert_eq!(preview["policy"], policy);
    assert_eq!(digests(&preview["versions"]), strings(&[&d[2], &d[1]]));
    assert_eq!(
        preview["versions"][0]["metadata"]["container"]["tags"],
        json!([])
    );

    let removed = ghcr.delete_as("alice", &retention).await;
    assert_eq!(removed.status, 204, "{removed:?}");
    let none = ghcr.assert_get("alice", &retention, 200).await;
    assert_eq!(none.json()["policy"], Value::Null);
    let preview = ghcr
        .assert_get("alice", &format!("{retention}/preview"), 200)
        .await;
    assert_eq!(preview.json()["versions"], json!([]));
}

#[tokio::test]
async fn only_admins_who_may_delete_change_a_package_policy() {
    let ghcr = Ghcr::start().await;
    alice_app(&ghcr).await;
    let retention = format!("{APP}/retention");
    let preview = format!("{retention}/preview");
    let policy = json!({ "keep_latest": 1 });
    ghcr.assert_send_json(
        Method::PUT,
        &format!("{APP}/grants/user:bob"),
        &ghcr.basic("alice"),
        &json!({ "role": "read" }),
        200,
    )
    .await;

    // (who, method, path, status)
    let table: &[(&str, Method, &str, u16)] = &[
        ("bob", Method::GET, &retention, 200),
        ("bob", Method::GET, &preview, 200),
        ("bob", Method::PUT, &retention, 403),
        ("bob", Method::DELETE, &retention, 403),
        ("alice-read", Method::PUT, &retention, 403),
        ("alice-write", Method::PUT, &retention, 403),
        ("alice-write", Method::DELETE, &retention, 403),
        ("carol", Method::GET, &retention, 404),
        ("carol", Method::PUT, &retention, 404),
        ("carol", Method::GET, &preview, 404),
        ("site-ci", Method::PUT, &retention, 404),
        ("alice", Method::PUT, &retention, 200),
    ];
    for (who, method, path, status) in table {
        let reply = ghcr
            .send_json(method.clone(), path, &ghcr.basic(who), &policy)
            .await;
        assert_eq!(reply.status, *status, "{method} {path} as {who}: {reply:?}");
        if *status == 404 {
            assert_eq!(reply.json()["message"], "Package not found.");
        }
    }
    let anonymous = ghcr.get(&retention, None).await;
    assert_eq!(anonymous.status, 401);
    // Nothing the refused callers sent was stored.
    let read = ghcr.assert_get("alice", &retention, 200).await;
    assert_eq!(read.json()["policy"], policy);
}

#[tokio::test]
async fn policies_are_validated_with_clear_errors() {
    let ghcr = Ghcr::start().await;
    alice_app(&ghcr).await;
    let alice = ghcr.basic("alice");
    let retention = format!("{APP}/retention");
    let table: &[(Value, &str)] = &[
        (json!({ "keep_latest": -1 }), "invalid value: integer `-1`"),
        (json!({ "delete_untagged_after_days": -3 }), "invalid value"),
        (
            json!({ "delete_untagged_after_days": 1_000_000 }),
            "at most 36500",
        ),
        (json!({ "keep_last": 3 }), "unknown field `keep_last`"),
        (
            json!({ "protected_tags": ["v[0-9]*"] }),
            "`[` cannot appear in a tag",
        ),
        (json!({ "protected_tags": [""] }), "it is empty"),
        (json!({ "protected_tags": "v*" }), "invalid type"),
        (json!([{ "keep_latest": 1 }]), "must be a JSON object"),
    ];
    for (body, message) in table {
        let reply = ghcr
            .assert_send_json(Method::PUT, &retention, &alice, body, 400)
            .await;
        let said = reply.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(said.contains(message), "{body}: {said}");
    }
    let org = ghcr
        .assert_send_json(
            Method::PUT,
            "/orgs/acme/packages/retention",
            &alice,
            &json!({ "keep_latest": 1, "extra": true }),
            400,
        )
        .await;
    assert!(org.json()["message"]
        .as_str()
        .is_some_and(|m| m.contains("unknown field `extra`")));
    let read = ghcr.assert_get("alice", &retention, 200).await;
    assert_eq!(
        read.json()["policy"],
        Value::Null,
        "nothing invalid was stored"
    );
}

#[tokio::test]
async fn only_organization_owners_manage_its_default() {
    let ghcr = Ghcr::start().await;
    let default = "/orgs/acme/packages/retention";
    let preview = "/orgs/acme/packages/retention/preview";
    let policy = json!({ "delete_untagged_after_days": 30 });
    // (who, method, path, status): alice owns acme, carol is a member.
    let table: &[(&str, Method, &str, u16)] = &[
        ("carol", Method::GET, default, 403),
        ("carol", Method::PUT, default, 403),
        ("carol", Method::DELETE, default, 403),
        ("carol", Method::GET, preview, 403),
        ("bob", Method::PUT, default, 403),
        ("bob", Method::GET, preview, 403),
        ("site-ci", Method::PUT, default, 403),
        ("alice-write", Method::PUT, default, 403),
        ("alice-read", Method::PUT, default, 403),
        ("alice-read", Method::GET, default, 200),
        ("alice", Method::PUT, "/users/alice/packages/retention", 404),
        ("alice", Method::PUT, "/user/packages/retention", 404),
        ("alice", Method::PUT, "/orgs/nobody/packages/retention", 404),
        ("alice", Method::PUT, default, 200),
    ];
    for (who, method, path, status) in table {
        let reply = ghcr
            .send_json(method.clone(), path, &ghcr.basic(who), &policy)
            .await;
        assert_eq!(reply.status, *status, "{method} {path} as {who}: {reply:?}");
    }
    let read = ghcr.assert_get("alice", default, 200).await;
    assert_eq!(read.json(), json!({ "policy": policy }));
    let removed = ghcr.delete_as("alice", default).await;
    assert_eq!(removed.status, 204);
    let read = ghcr.assert_get("alice", default, 200).await;
    assert_eq!(read.json(), json!({ "policy": null }));
}

#[tokio::test]
async fn applied_policies_delete_restorably_and_keep_what_they_protect() {
    let ghcr = Ghcr::start().await;
    let d = alice_app(&ghcr).await;
    let alice = ghcr.basic("alice");
    // acme/tool follows the organization's default; acme/kept has a
    // policy of its own without rules, which overrides it; alice's own
    // packages are outside the organization's scope.
    let tool: Vec<Digest> = {
        let mut tool = Vec::new();
        for n in 0..3 {
            tool.push(push(&ghcr, "carol", "acme/tool", &format!("{n}.0"), 10 + n).await);
        }
        tool
    };
    for n in 0..3 {
        push(&ghcr, "carol", "acme/kept", &format!("{n}.0"), 20 + n).await;
    }
    push(&ghcr, "alice", "alice/other", "1.0", 30).await;
    push(&ghcr, "alice", "alice/other", "2.0", 31).await;
    ghcr.assert_send_json(
        Method::PUT,
        "/orgs/acme/packages/retention",
        &alice,
        &json!({ "keep_latest": 1 }),
        200,
    )
    .await;
    ghcr.assert_send_json(
        Method::PUT,
        "/orgs/acme/packages/container/kept/retention",
        &alice,
        &json!({}),
        200,
    )
    .await;
    let inherited = ghcr
        .assert_get("carol", "/orgs/acme/packages/container/tool/retention", 200)
        .await;
    assert_eq!(
        inherited.json(),
        json!({ "policy": { "keep_latest": 1 }, "source": "organization" })
    );
    let org_preview = ghcr
        .assert_get("alice", "/orgs/acme/packages/retention/preview", 200)
        .await
        .json();
    assert_eq!(org_preview["packages"].as_array().map(Vec::len), Some(1));
    assert_eq!(org_preview["packages"][0]["package"], "tool");
    assert_eq!(
        digests(&org_preview["packages"][0]["versions"]),
        strings(&[&tool[1], &tool[0]])
    );
    ghcr.assert_send_json(
        Method::PUT,
        &format!("{APP}/retention"),
        &alice,
        &json!({ "keep_latest": 1, "delete_untagged_after_days": 1, "protected_tags": ["v*", "de*"] }),
        200,
    )
    .await;

    let (report, deleted) = apply_policies(&ghcr).await;
    assert_eq!(
        report.packages, 3,
        "alice/app, acme/tool, acme/kept: {report:?}"
    );
    assert_eq!(report.failed, 0);
    assert_eq!(
        deleted,
        strings(&[&d[2], &d[1], &tool[1], &tool[0]]),
        "alice/app's untagged ones and acme/tool's older ones"
    );

    // Deleted as a user's delete is: listed as deleted, restorable.
    let gone = ghcr
        .assert_get("alice", &format!("{APP}/versions?state=deleted"), 200)
        .await
        .json();
    assert_eq!(digests(&gone), strings(&[&d[2], &d[1]]));
    let live = ghcr
        .assert_get("alice", &format!("{APP}/versions"), 200)
        .await
        .json();
    assert_eq!(digests(&live), strings(&[&d[4], &d[3], &d[0]]));
    for tag in ["v1.0", "dev", "latest"] {
        ghcr.assert_get("alice", &format!("/v2/alice/app/manifests/{tag}"), 200)
            .await;
    }
    ghcr.assert_get("alice", &format!("/v2/alice/app/manifests/{}", d[1]), 404)
        .await;
    let id = gone[1]["id"].as_i64().expect("id");
    let restored = ghcr
        .post_as("alice", &format!("{APP}/versions/{id}/restore"))
        .await;
    assert_eq!(restored.status, 204, "{restored:?}");
    ghcr.assert_get("alice", &format!("/v2/alice/app/manifests/{}", d[1]), 200)
        .await;
    let kept = ghcr
        .assert_get("alice", "/orgs/acme/packages/container/kept/versions", 200)
        .await
        .json();
    assert_eq!(digests(&kept).len(), 3, "its own empty policy keeps all");
    let other = ghcr
        .assert_get(
            "alice",
            "/users/alice/packages/container/other/versions",
            200,
        )
        .await
        .json();
    assert_eq!(
        digests(&other).len(),
        2,
        "the organization's default stays in it"
    );

    // Restored, it is judged again on the next run; once the restore
    // window passes, what the policy deleted is purged like any delete.
    assert_eq!(apply_policies(&ghcr).await.1, strings(&[&d[1]]));
    let purged = ghcr.purge_after_restore_window().await;
    assert_eq!(purged.versions.len(), 4);
}

#[tokio::test]
async fn a_kept_multi_arch_index_keeps_its_untagged_platform_images() {
    let ghcr = Ghcr::start().await;
    let alice = ghcr.basic("alice");
    let amd64 = push(&ghcr, "alice", "alice/app", "@", 1).await;
    let arm64 = push(&ghcr, "alice", "alice/app", "@", 2).await;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            child(&ghcr, &amd64, "amd64").await,
            child(&ghcr, &arm64, "arm64").await,
        ],
    });
    let reply = ghcr
        .server
        .send(
            Method::PUT,
            "/v2/alice/app/manifests/latest",
            &[("authorization", &alice), ("content-type", OCI_INDEX)],
            serde_json::to_vec(&index).expect("json"),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let stray = push(&ghcr, "alice", "alice/app", "@", 3).await;
    ghcr.advance(10 * DAY);
    ghcr.assert_send_json(
        Method::PUT,
        &format!("{APP}/retention"),
        &alice,
        &json!({ "delete_untagged_after_days": 7 }),
        200,
    )
    .await;
    let preview = ghcr
        .assert_get("alice", &format!("{APP}/retention/preview"), 200)
        .await
        .json();
    assert_eq!(digests(&preview["versions"]), strings(&[&stray]));
    assert_eq!(apply_policies(&ghcr).await.1, strings(&[&stray]));
    for digest in [&amd64, &arm64] {
        ghcr.assert_get("alice", &format!("/v2/alice/app/manifests/{digest}"), 200)
            .await;
    }
}

/// The index descriptor of the manifest `digest` of alice/app, for
/// `linux/<architecture>`.
async fn child(ghcr: &Ghcr, digest: &Digest, architecture: &str) -> Value {
    let reply = ghcr
        .assert_get("alice", &format!("/v2/alice/app/manifests/{digest}"), 200)
        .await;
    let mut descriptor = descriptor(OCI_MANIFEST, digest, reply.body.len());
    descriptor["platform"] = json!({ "os": "linux", "architecture": architecture });
    descriptor
}

#[tokio::test]
async fn a_shorter_restore_window_is_the_one_restores_and_purges_follow() {
    let window = 3600;
    let sqlite = wharf_packages::SqlitePackageStore::in_memory()
        .expect("sqlite")
        .with_restore_window(std::time::Duration::from_secs(window));
    let ghcr = Ghcr::start_on_store(sqlite).await;
    let d = alice_app(&ghcr).await;
    let versions = ghcr
        .assert_get("alice", &format!("{APP}/versions"), 200)
        .await
        .json();
    let id = |n: usize| versions[n]["id"].as_i64().expect("id");
    // Newest first: 0 is latest (d[4]), 1 is dev (d[3]).
    for n in [0, 1] {
        let reply = ghcr
            .delete_as("alice", &format!("{APP}/versions/{}", id(n)))
            .await;
        assert_eq!(reply.status, 204, "{reply:?}");
    }
    ghcr.advance(window - 1);
    let restored = ghcr
        .post_as("alice", &format!("{APP}/versions/{}/restore", id(0)))
        .await;
    assert_eq!(restored.status, 204, "within the window: {restored:?}");
    ghcr.advance(1);
    let refused = ghcr
        .post_as("alice", &format!("{APP}/versions/{}/restore", id(1)))
        .await;
    assert_eq!(refused.status, 404, "after the window: {refused:?}");
    assert!(refused.json()["message"]
        .as_str()
        .is_some_and(|m| m.contains("restore window has passed")));
    let totals = ghcr
        .server
        .registry
        .purge_expired_packages()
        .await
        .expect("purge");
    assert_eq!((totals.versions, totals.manifests), (1, 1));
    ghcr.assert_get("alice", &format!("/v2/alice/app/manifests/{}", d[4]), 200)
        .await;
}
