//! Tenant isolation for names (issue 8): the catalog never names a
//! repository the caller may not see, not even through its `Link` header.

mod common;

use common::ghcr::*;
use common::Reply;

/// Private, public and deleted packages whose names interleave in the
/// catalog's order, so that every page boundary falls next to a name some
/// caller may not see:
///
/// | name | state |
/// |---|---|
/// | `acme/vault` | public, then deleted |
/// | `alice/app` | private (alice) |
/// | `alice/public-app` | public |
/// | `alice/site-image` | private (the alice/site workflow, alice) |
/// | `bob/open` | public |
/// | `bob/secret` | private (bob) |
/// | `carol/zzz` | private (carol) |
async fn interleaved() -> Ghcr {
    let ghcr = Ghcr::start().await;
    ghcr.publish_public("alice", "acme/vault", "1.0").await;
    ghcr.publish("alice", "alice/app", "1.0").await;
    ghcr.publish_public("alice", "alice/public-app", "1.0")
        .await;
    ghcr.publish("site-ci", "alice/site-image", "1.0").await;
    ghcr.publish_public("bob", "bob/open", "1.0").await;
    ghcr.publish("bob", "bob/secret", "1.0").await;
    ghcr.publish("carol", "carol/zzz", "1.0").await;
    let deleted = ghcr
        .delete_as("alice", "/orgs/acme/packages/container/vault")
        .await;
    assert_eq!(deleted.status, 204, "delete acme/vault: {deleted:?}");
    ghcr
}

/// The path a `Link: <PATH>; rel="next"` header points to.
fn next_path(link: &str) -> &str {
    link.strip_prefix('<')
        .and_then(|rest| rest.split_once('>'))
        .map(|(path, _)| path)
        .unwrap_or_else(|| panic!("not a Link header: {link}"))
}

/// Walks the catalog `n` names at a time from the first page, following
/// `Link` headers; returns every name listed. Each `Link` must carry the
/// last name of its page (so it names nothing the page did not show) and
/// no page may hold more than `n` names.
async fn walk_catalog(ghcr: &Ghcr, authorization: Option<&str>, n: usize) -> Vec<String> {
    let mut listed = Vec::new();
    let mut path = format!("/v2/_catalog?n={n}");
    for _ in 0..50 {
        let reply = ghcr.get(&path, authorization).await;
        assert_eq!(reply.status, 200, "{path}: {reply:?}");
        let page: Vec<String> = reply.json()["repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .map(|v| v.as_str().expect("name").to_owned())
            .collect();
        assert!(page.len() <= n, "{path}: {page:?}");
        let Some(link) = reply.header("link") else {
            listed.extend(page);
            return listed;
        };
        let last = page
            .last()
            .unwrap_or_else(|| panic!("{path}: an empty page with a Link ({link})"));
        assert_eq!(
            link,
            format!(
                "</v2/_catalog?n={n}&last={}>; rel=\"next\"",
                url_encode(last)
            ),
            "{path}"
        );
        path = next_path(link).to_owned();
        listed.extend(page);
    }
    panic!("the catalog walk did not end");
}

#[tokio::test]
async fn catalog_pages_name_only_what_the_caller_may_see() {
    let ghcr = interleaved().await;
    let (alice, bob, carol) = (ghcr.basic("alice"), ghcr.basic("bob"), ghcr.basic("carol"));
    // (caller, authorization, the names it may see, in order)
    let table: [(&str, Option<&str>, &[&str]); 4] = [
        ("anonymous", None, &["alice/public-app", "bob/open"]),
        (
            "alice",
            Some(&alice),
            &[
                "alice/app",
                "alice/public-app",
                "alice/site-image",
                "bob/open",
            ],
        ),
        (
            "bob",
            Some(&bob),
            &["alice/public-app", "bob/open", "bob/secret"],
        ),
        (
            "carol",
            Some(&carol),
            &["alice/public-app", "bob/open", "carol/zzz"],
        ),
    ];
    for (caller, authorization, visible) in table {
        for n in 1..=3 {
            let listed = walk_catalog(&ghcr, authorization, n).await;
            assert_eq!(listed, visible, "{caller}, n={n}");
        }
        // The whole catalog in one page says the same.
        let all = ghcr.get("/v2/_catalog", authorization).await;
        assert_eq!(
            all.json()["repositories"],
            serde_json::json!(visible),
            "{caller}"
        );
        assert_eq!(all.header("link"), None, "{caller}");
    }
}

#[tokio::test]
async fn a_catalog_page_after_a_hidden_name_skips_to_the_next_visible_one() {
    let ghcr = interleaved().await;
    // `last` may be any string, a hidden name included: the page is the
    // next visible names, and its Link (if any) names the last of them.
    let reply = ghcr.get("/v2/_catalog?n=1&last=alice%2Fapp", None).await;
    assert_eq!(
        reply.json()["repositories"],
        serde_json::json!(["alice/public-app"])
    );
    assert_eq!(
        reply.header("link"),
        Some("</v2/_catalog?n=1&last=alice%2Fpublic-app>; rel=\"next\"")
    );
    // Only hidden names follow `bob/open` for anonymous callers: no Link.
    let reply = ghcr.get("/v2/_catalog?n=1&last=bob%2Fopen", None).await;
    assert_eq!(reply.json()["repositories"], serde_json::json!([]));
    assert_eq!(reply.header("link"), None);
    let reply = ghcr
        .get("/v2/_catalog?n=1&last=alice%2Fpublic-app", None)
        .await;
    assert_eq!(
        reply.json()["repositories"],
        serde_json::json!(["bob/open"])
    );
    assert_eq!(reply.header("link"), None);
}

#[tokio::test]
async fn a_repository_named_only_after_its_owner_is_refused_with_name_invalid() {
    let ghcr = Ghcr::start().await;
    let bob = ghcr.basic("bob");
    let expected = "a package name is needed after the owner: bob/NAME";
    let refused = |what: &str, reply: &Reply| {
        assert_eq!(reply.status, 400, "{what}: {reply:?}");
        assert_eq!(
            reply.error_code().as_deref(),
            Some("NAME_INVALID"),
            "{what}"
        );
        assert_eq!(
            reply.json()["errors"][0]["message"],
            expected,
            "{what}: {reply:?}"
        );
    };
    let blob = ghcr.push_blob_as(&bob, "bob", b"a layer").await;
    refused("blob upload", &blob);
    let bearer = ghcr
        .bearer(Some("bob"), &["repository:bob:pull,push"])
        .await;
    for (what, auth) in [
        ("image push", &bob),
        ("image push with a bearer token", &bearer),
    ] {
        let json = serde_json::json!({});
        let (manifest, _, _) = ghcr
            .push_image_as(auth, "bob", "1", json.clone(), json)
            .await;
        refused(what, &manifest);
    }
    // Whoever asks, whether or not `bob` is an account.
    refused(
        "anonymous pull",
        &ghcr.get("/v2/bob/manifests/1", None).await,
    );
    let nobody = ghcr.assert_get("bob", "/v2/nobody/tags/list", 400).await;
    assert_eq!(nobody.error_code().as_deref(), Some("NAME_INVALID"));

    // No package came into being.
    let packages = ghcr
        .assert_get("bob", "/user/packages?package_type=container", 200)
        .await;
    assert_eq!(packages.json(), serde_json::json!([]));
    // bob/NAME is still bob's to publish.
    ghcr.publish("bob", "bob/app", "1").await;
}

#[tokio::test]
async fn without_accounts_a_one_component_name_is_an_ordinary_repository() {
    let server = common::start(common::Backend::Memory).await;
    server.push_image("alpine", "3", "alpine").await;
    assert_eq!(server.get("/v2/alpine/manifests/3").await.status, 200);
}

#[tokio::test]
async fn logins_the_help_forbids_and_route_names_never_become_owners() {
    let ghcr = Ghcr::start().await;
    // (login, why it is refused): GitHub's rule, and the names of the
    // registry's own routes, whose owner pages nobody could reach.
    let table = [
        ("a_b", "single hyphens"),
        ("a.b", "single hyphens"),
        ("a--b", "two hyphens in a row"),
        ("-ab", "starts nor ends with a hyphen"),
        ("v2", "reserved"),
        ("token", "reserved"),
        ("metrics", "reserved"),
        ("user", "reserved"),
        ("users", "reserved"),
        ("orgs", "reserved"),
        ("packages", "reserved"),
        ("static", "reserved"),
    ];
    for (name, why) in table {
        let err = name
            .parse::<wharf_auth::Login>()
            .expect_err(&format!("{name} is not a login"));
        assert!(err.to_string().contains(why), "{name}: {err}");
        // No account can own the namespace, so nobody publishes into it.
        let (reply, _, _) = ghcr
            .push_labelled(
                &ghcr.basic("bob"),
                &format!("{name}/app"),
                "1",
                serde_json::json!({}),
            )
            .await;
        assert!(
            matches!(reply.status.as_u16(), 400 | 403 | 404),
            "{name}: {reply:?}"
        );
    }
}

/// Every entry below `dir`, and `dir` itself, with its permission bits.
#[cfg(unix)]
fn modes(dir: &std::path::Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut modes = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = std::fs::symlink_metadata(&path).expect("metadata");
        modes.push((
            path.display().to_string(),
            meta.permissions().mode() & 0o777,
        ));
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).expect("read dir") {
                pending.push(entry.expect("entry").path());
            }
        }
    }
    modes
}

#[cfg(unix)]
#[tokio::test]
async fn data_files_are_private_to_the_registry_user_under_the_usual_umask() {
    use std::sync::Arc;
    use wharf_auth::{SigningKey, Timestamp};
    use wharf_packages::{PackageStore, SqlitePackageStore};
    use wharf_reference::Digest;
    use wharf_server::AccountsConfig;

    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let dir = tempfile::tempdir().expect("tempdir");
    // Laid out as minimal-registry lays out its data directory.
    let data = dir.path().join("data");
    let storage = wharf_storage::FsStorage::open(&data).expect("storage");
    let store: Arc<dyn PackageStore> =
        Arc::new(SqlitePackageStore::open(data.join("registry.db")).expect("store"));
    let now = Timestamp::from_system_time(std::time::SystemTime::now());
    let alice = "alice".parse().expect("login");
    store.create_user(&alice, now).await.expect("user");
    let scopes = "read:packages write:packages delete:packages";
    let (_, secret) = store_personal_token(&*store, "alice", scopes, None, now).await;
    let config = AccountsConfig::new(store, SigningKey::generate().expect("key"), PUBLIC_URL)
        .expect("config");
    let server = common::start_on_filesystem(storage, move |b| b.accounts(config)).await;
    let auth = basic("alice", &secret);
    // Each request as alice, which must answer `status`.
    let send = |method: reqwest::Method,
                path: String,
                content_type: &'static str,
                body: Vec<u8>,
                status: u16| {
        let auth = auth.clone();
        let server = &server;
        async move {
            let reply = server
                .send(
                    method,
                    &path,
                    &[("authorization", &auth), ("content-type", content_type)],
                    body,
                )
                .await;
            assert_eq!(reply.status, status, "{reply:?}");
            reply
        }
    };

    // Pushed images: blobs, manifests, tags, packages in the database.
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let layer = b"a private layer".to_vec();
    for repo in ["alice/app", "alice/old"] {
        for blob in [&config, &layer] {
            let digest = Digest::sha256(blob);
            send(
                reqwest::Method::POST,
                format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
                "application/octet-stream",
                blob.clone(),
                201,
            )
            .await;
        }
        let manifest = common::image_manifest(
            (&Digest::sha256(&config), config.len()),
            &[(&Digest::sha256(&layer), layer.len())],
            None,
        );
        send(
            reqwest::Method::PUT,
            format!("/v2/{repo}/manifests/1.0"),
            common::OCI_MANIFEST,
            manifest,
            201,
        )
        .await;
    }
    // An upload left open, with data.
    let started = send(
        reqwest::Method::POST,
        "/v2/alice/app/blobs/uploads/".into(),
        "application/octet-stream",
        Vec::new(),
        202,
    )
    .await;
    let location = started.header("location").expect("location").to_owned();
    send(
        reqwest::Method::PATCH,
        location,
        "application/octet-stream",
        b"half a layer".to_vec(),
        202,
    )
    .await;
    // One of them deleted (restorable, so kept somewhere).
    send(
        reqwest::Method::DELETE,
        "/user/packages/container/old".into(),
        "application/json",
        Vec::new(),
        204,
    )
    .await;

    let modes = modes(&data);
    let seen = [
        "registry.db-wal",
        "registry.db-shm",
        "/blobs/",
        "/repositories/",
        "/uploads/",
    ];
    for part in seen {
        assert!(
            modes.iter().any(|(path, _)| path.contains(part)),
            "the walk sees {part}: {modes:#?}"
        );
    }
    let open: Vec<_> = modes.iter().filter(|(_, mode)| mode & 0o077 != 0).collect();
    assert!(open.is_empty(), "open to group or others: {open:#?}");
}
