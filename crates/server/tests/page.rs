//! The package pages over a real (in-memory SQLite) package store: who
//! sees which page, and what the pages show.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use base64::Engine as _;
use http::{Request, Response, StatusCode};
use tower::ServiceExt;
use wharf_annotations::{Field, Licenses, Origin, PackageMetadata};
use wharf_auth::{
    CodeRepository, Identity, OrgRole, OrganizationPolicy, Package, PersonalAccessToken,
    StoredToken, Timestamp, Visibility, WorkflowPermission,
};
use wharf_packages::prelude::*;
use wharf_packages::{NewVersion, PackageChanges, SqlitePackageStore, WorkflowToken};
use wharf_reference::{Digest, RepositoryName};
use wharf_server::ghcr::web::PackagePages;

const NOW: Timestamp = Timestamp::from_unix_seconds(1_700_000_000);

struct Fixture {
    store: Arc<SqlitePackageStore>,
    router: Router,
    /// Basic credentials of alice (owner of alice/*, member of acme).
    alice: String,
    /// Basic credentials of bob (no role anywhere).
    bob: String,
    /// Basic credentials of a workflow token of acme/site.
    workflow: String,
}

fn basic(user: &str, token: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"))
    )
}

async fn token(store: &SqlitePackageStore, login: &str, scopes: &str) -> String {
    let secret = PersonalAccessToken::generate().unwrap();
    let stored = StoredToken::new(
        &secret,
        login.parse().unwrap(),
        scopes.parse().unwrap(),
        None,
    );
    store.insert_personal_token(&stored, NOW).await.unwrap();
    basic(login, secret.expose_secret())
}

async fn publish(
    store: &SqlitePackageStore,
    name: &str,
    creator: &Identity,
    visibility: Visibility,
    tags: &[&str],
) -> RepositoryName {
    let name: RepositoryName = name.parse().unwrap();
    store
        .create_package(&Package::first_publish(name.clone(), creator), NOW)
        .await
        .unwrap();
    let mut version = NewVersion::new(
        Digest::sha256(name.as_str().as_bytes()),
        wharf_reference::MediaType::OCI_IMAGE_MANIFEST,
        100,
    );
    for tag in tags {
        version = version.with_tag(tag.parse().unwrap());
    }
    store.record_version(&name, &version, NOW).await.unwrap();
    let metadata = {
        let mut metadata = PackageMetadata::default();
        metadata.description = Some(Field::new(format!("The {name} image"), Origin::ConfigLabel));
        metadata.licenses = Some(Field::new(Licenses::new("MIT"), Origin::ConfigLabel));
        metadata
    };
    store
        .update_package(
            &name,
            &PackageChanges::new()
                .visibility(visibility)
                .metadata(metadata),
            NOW,
        )
        .await
        .unwrap();
    name
}

async fn fixture() -> Fixture {
    let store = Arc::new(SqlitePackageStore::in_memory().unwrap());
    for user in ["alice", "bob"] {
        store
            .create_user(&user.parse().unwrap(), NOW)
            .await
            .unwrap();
    }
    let acme = "acme".parse().unwrap();
    store
        .create_organization(&acme, OrganizationPolicy::default(), NOW)
        .await
        .unwrap();
    store
        .add_member(&acme, &"alice".parse().unwrap(), OrgRole::Member, NOW)
        .await
        .unwrap();
    let alice_id = Identity::User("alice".parse().unwrap());
    publish(
        &store,
        "alice/public-app",
        &alice_id,
        Visibility::Public,
        &["1.0", "latest"],
    )
    .await;
    publish(
        &store,
        "alice/secret",
        &alice_id,
        Visibility::Private,
        &["1.0"],
    )
    .await;
    publish(
        &store,
        "acme/app/release",
        &alice_id,
        Visibility::Public,
        &["v2"],
    )
    .await;
    publish(
        &store,
        "acme/internal-tool",
        &alice_id,
        Visibility::Internal,
        &["edge"],
    )
    .await;
    let site: CodeRepository = "acme/site".parse().unwrap();
    publish(
        &store,
        "acme/site",
        &Identity::Workflow(site.clone()),
        Visibility::Private,
        &["main"],
    )
    .await;

    let workflow_secret = PersonalAccessToken::generate().unwrap();
    store
        .insert_workflow_token(
            &WorkflowToken::new(workflow_secret.hash(), site, WorkflowPermission::Read, None),
            NOW,
        )
        .await
        .unwrap();

    let alice = token(&store, "alice", "read:packages").await;
    let bob = token(&store, "bob", "read:packages").await;
    let router = PackagePages::new(store.clone())
        .public_host("registry.example")
        .router();
    Fixture {
        store,
        router,
        alice,
        bob,
        workflow: basic("x-access-token", workflow_secret.expose_secret()),
    }
}

async fn get(router: &Router, path: &str, authorization: Option<&str>) -> (StatusCode, String) {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = respond(router, request.body(Body::empty()).unwrap()).await;
    (response.status(), text(response).await)
}

/// The router's answer to `request`.
async fn respond(router: &Router, request: Request<Body>) -> Response<Body> {
    router.clone().oneshot(request).await.unwrap()
}

/// A response's body, as text.
async fn text(response: Response<Body>) -> String {
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

/// A response's header `name`, as text.
fn header<'r>(response: &'r Response<Body>, name: &str) -> &'r str {
    response.headers()[name].to_str().unwrap()
}

#[tokio::test]
async fn who_sees_which_package_page() {
    let f = fixture().await;
    let anonymous = None;
    let alice = Some(f.alice.as_str());
    let bob = Some(f.bob.as_str());
    let workflow = Some(f.workflow.as_str());
    let wrong_token = basic("alice", "wharf_pat_not-a-real-token");
    let wrong = Some(wrong_token.as_str());
    #[rustfmt::skip]
    let table: &[(&str, Option<&str>, StatusCode)] = &[
        // path                                            who        status
        ("/alice/packages/container/public-app",           anonymous, StatusCode::OK),
        ("/alice/packages/container/public-app",           bob,       StatusCode::OK),
        ("/alice/packages/container/secret",               anonymous, StatusCode::NOT_FOUND),
        ("/alice/packages/container/secret",               bob,       StatusCode::NOT_FOUND),
        ("/alice/packages/container/secret",               wrong,     StatusCode::NOT_FOUND),
        ("/alice/packages/container/secret",               alice,     StatusCode::OK),
        ("/acme/packages/container/internal-tool",         anonymous, StatusCode::NOT_FOUND),
        ("/acme/packages/container/internal-tool",         bob,       StatusCode::OK),
        ("/acme/packages/container/site",                  anonymous, StatusCode::NOT_FOUND),
        ("/acme/packages/container/site",                  bob,       StatusCode::NOT_FOUND),
        ("/acme/packages/container/site",                  workflow,  StatusCode::OK),
        ("/acme/packages/container/app%2Frelease",         anonymous, StatusCode::OK),
        ("/acme/packages/container/app/release",           anonymous, StatusCode::OK),
        ("/acme/packages/container/app%2frelease",         anonymous, StatusCode::OK),
        ("/Alice/packages/container/Public-App",           anonymous, StatusCode::OK),
        ("/alice/packages/container/nothing-here",         anonymous, StatusCode::NOT_FOUND),
        ("/nobody/packages/container/app",                 anonymous, StatusCode::NOT_FOUND),
        ("/alice/packages/container/..%2F..%2Fetc",        anonymous, StatusCode::NOT_FOUND),
        ("/alice/packages/container/%3Cscript%3E",         anonymous, StatusCode::NOT_FOUND),
    ];
    for (path, who, expected) in table {
        let (status, body) = get(&f.router, path, *who).await;
        assert_eq!(status, *expected, "{path} as {who:?}: {body}");
        assert!(!body.contains("<script"), "{path}");
    }
}

#[tokio::test]
async fn a_denied_page_looks_exactly_like_a_missing_one() {
    let f = fixture().await;
    let (_, denied) = get(&f.router, "/alice/packages/container/secret", None).await;
    let (_, missing) = get(&f.router, "/alice/packages/container/nothing", None).await;
    assert_eq!(denied, missing);
    assert!(!denied.contains("secret"));
}

#[tokio::test]
async fn a_package_page_shows_metadata_and_pull_commands() {
    let f = fixture().await;
    let (status, html) = get(&f.router, "/alice/packages/container/public-app", None).await;
    assert_eq!(status, StatusCode::OK);
    let digest = Digest::sha256(b"alice/public-app");
    for needle in [
        "<title>alice/public-app · Wharf</title>",
        "The alice/public-app image",
        r#"<span class="badge public">public</span>"#,
        r#"https://spdx.org/licenses/MIT.html"#,
        r#"class="spdx""#,
        "docker pull registry.example/alice/public-app:latest",
        &format!("docker pull registry.example/alice/public-app@{digest}"),
        r#"<span class="tag">1.0</span>"#,
        r#"<span class="tag">latest</span>"#,
    ] {
        assert!(html.contains(needle), "missing {needle:?} in {html}");
    }
}

#[tokio::test]
async fn pages_are_html_without_scripts_or_shared_caching() {
    let f = fixture().await;
    let request = Request::get("/alice/packages/container/public-app");
    let response = respond(&f.router, request.body(Body::empty()).unwrap()).await;
    assert_eq!(
        header(&response, "content-type"),
        "text/html; charset=utf-8"
    );
    let csp = header(&response, "content-security-policy");
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert_eq!(header(&response, "cache-control"), "private, no-cache");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn without_a_public_host_pull_commands_name_the_request_host() {
    let f = fixture().await;
    let router = PackagePages::new(f.store.clone()).router();
    let request = Request::get("/alice/packages/container/public-app")
        .header("host", "127.0.0.1:5123")
        .body(Body::empty())
        .unwrap();
    let html = text(respond(&router, request).await).await;
    assert!(html.contains("docker pull 127.0.0.1:5123/alice/public-app:latest"));
}

/// A list page, who asks, the packages it shows and those it hides.
type ListCase<'a> = (&'a str, Option<&'a str>, &'a [&'a str], &'a [&'a str]);

#[tokio::test]
async fn an_owner_list_shows_only_the_packages_the_viewer_may_pull() {
    let f = fixture().await;
    #[rustfmt::skip]
    let table: &[ListCase<'_>] = &[
        // path                     who                   shown                                      hidden
        ("/alice/packages",         None,                 &["public-app"],                           &["secret"]),
        ("/alice?tab=packages",     None,                 &["public-app"],                           &["secret"]),
        ("/alice/packages",         Some(&f.alice),       &["public-app", "secret"],                 &[]),
        ("/acme/packages",          None,                 &["app/release"],                          &["internal-tool", "site"]),
        ("/acme/packages",          Some(&f.bob),         &["app/release", "internal-tool"],         &["site"]),
    ];
    for (path, who, shown, hidden) in table {
        let (status, html) = get(&f.router, path, *who).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        for name in *shown {
            let owner = path[1..].split(['/', '?']).next().unwrap();
            let link = format!(
                r#"href="/{owner}/packages/container/{}""#,
                name.replace('/', "%2F")
            );
            assert!(
                html.contains(&link),
                "{path} as {who:?}: {link} missing in {html}"
            );
        }
        for name in *hidden {
            assert!(
                !html.contains(&format!(">{name}<")),
                "{path} as {who:?} shows {name}"
            );
        }
    }
    for path in ["/nobody/packages", "/alice", "/alice?tab=repositories"] {
        assert_eq!(
            get(&f.router, path, None).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_revoked_token_sees_only_public_pages() {
    let f = fixture().await;
    let secret = PersonalAccessToken::generate().unwrap();
    let stored = StoredToken::new(
        &secret,
        "alice".parse().unwrap(),
        "read:packages".parse().unwrap(),
        None,
    );
    let record = f.store.insert_personal_token(&stored, NOW).await.unwrap();
    let credentials = basic("alice", secret.expose_secret());
    let path = "/alice/packages/container/secret";
    assert_eq!(
        get(&f.router, path, Some(&credentials)).await.0,
        StatusCode::OK
    );
    f.store.revoke_token(record.id, NOW).await.unwrap();
    assert_eq!(
        get(&f.router, path, Some(&credentials)).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_registry_with_accounts_serves_its_pages_beside_the_api() {
    use wharf_auth::SigningKey;
    use wharf_server::{AccountsConfig, Registry};
    use wharf_storage::MemoryStorage;

    let f = fixture().await;
    let config = AccountsConfig::new(
        f.store.clone(),
        SigningKey::generate().unwrap(),
        "https://registry.example:8443",
    )
    .unwrap();
    let router = Registry::builder(Arc::new(MemoryStorage::new()))
        .accounts(config)
        .build()
        .router();
    let (status, html) = get(&router, "/alice/packages/container/public-app", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("docker pull registry.example:8443/alice/public-app:latest"));
    #[rustfmt::skip]
    let table: &[(&str, Option<&str>, StatusCode)] = &[
        ("/alice/packages/container/secret", None,                  StatusCode::NOT_FOUND),
        ("/alice/packages/container/secret", Some(&f.alice),        StatusCode::OK),
        ("/alice/packages/container/secret", Some(&f.bob),          StatusCode::NOT_FOUND),
        ("/acme/packages/container/site",    Some(&f.workflow),     StatusCode::OK),
        ("/alice/packages",                  None,                  StatusCode::OK),
        // The registry API is still there, and answers as before.
        ("/v2/",                             None,                  StatusCode::UNAUTHORIZED),
        ("/v2/",                             Some(&f.alice),        StatusCode::OK),
    ];
    for (path, who, expected) in table {
        assert_eq!(
            get(&router, path, *who).await.0,
            *expected,
            "{path} as {who:?}"
        );
    }
}

#[tokio::test]
async fn a_registry_without_accounts_serves_no_pages() {
    use wharf_server::Registry;
    use wharf_storage::MemoryStorage;

    let registry = Registry::builder(Arc::new(MemoryStorage::new())).build();
    assert!(registry.package_pages().is_none());
    let (status, _) = get(&registry.router(), "/alice/packages/container/app", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_style_sheet_is_a_cacheable_asset_the_pages_link() {
    let f = fixture().await;
    let (_, html) = get(&f.router, "/alice/packages/container/public-app", None).await;
    let start = html.find("/_wharf/style.css?v=").unwrap();
    let href = &html[start..start + html[start..].find('"').unwrap()];
    let response = respond(&f.router, Request::get(href).body(Body::empty()).unwrap()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "text/css; charset=utf-8");
    let cache = header(&response, "cache-control");
    assert!(cache.starts_with("public, max-age="), "{cache}");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    let css = text(response).await;
    assert!(css.contains(".description p{") && css.contains("white-space:pre-wrap"));
    // The sheet is the same for everyone and needs no credentials.
    let (status, _) = get(&f.router, "/_wharf/style.css", Some(&f.bob)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn pages_allow_the_style_sheet_and_nothing_inline() {
    let f = fixture().await;
    for path in [
        "/alice/packages/container/public-app",
        "/alice/packages",
        "/alice/packages/container/secret",
    ] {
        let response = respond(&f.router, Request::get(path).body(Body::empty()).unwrap()).await;
        let csp = header(&response, "content-security-policy").to_owned();
        assert!(csp.contains("style-src 'self';"), "{path}: {csp}");
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("script-src"),
            "{path}: {csp}"
        );
        let html = text(response).await;
        assert!(html.contains(r#"<link rel="stylesheet" href="/_wharf/style.css?v="#));
        assert!(!html.contains("<style"), "{path}");
    }
}

#[tokio::test]
async fn hostile_metadata_renders_inert_on_the_served_page() {
    let f = fixture().await;
    let name: RepositoryName = "alice/public-app".parse().unwrap();
    let metadata = {
        let mut metadata = PackageMetadata::default();
        metadata.description = Some(Field::new(
            "<script>alert('d')</script>\n\"><img src=x onerror=alert(1)>".to_owned(),
            Origin::ConfigLabel,
        ));
        metadata.source = Some(Field::new(
            "javascript:alert(1)".parse().unwrap(),
            Origin::ConfigLabel,
        ));
        metadata.vendor = Some(Field::new(
            r#""><img src=x onerror=alert(2)>"#.to_owned(),
            Origin::ManifestAnnotation,
        ));
        metadata
    };
    f.store
        .update_package(&name, &PackageChanges::new().metadata(metadata), NOW)
        .await
        .unwrap();
    for path in ["/alice/packages/container/public-app", "/alice/packages"] {
        let (status, html) = get(&f.router, path, None).await;
        assert_eq!(status, StatusCode::OK);
        let lower = html.to_ascii_lowercase();
        for bad in ["<script", "<img", "href=\"javascript:"] {
            assert!(!lower.contains(bad), "{path}: {bad} in {html}");
        }
        assert!(
            html.contains("&lt;script&gt;alert('d')&lt;/script&gt;"),
            "{path}: {html}"
        );
    }
    let (_, html) = get(&f.router, "/alice/packages/container/public-app", None).await;
    assert!(html.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert!(html.contains("<dd>javascript:alert(1)</dd>"), "{html}");
}
