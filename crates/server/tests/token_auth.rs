//! Docker token authentication against a token server the registry does
//! not run: what a token grants is what a request may do, and nothing a
//! caller can forge, replay after expiry or reuse for another registry
//! gets through.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::{Request, StatusCode};
use tower::ServiceExt;
use wharf_auth::{ScopeSet, SigningKey, Timestamp, TokenSigner};
use wharf_reference::Digest;
use wharf_server::distribution::token_auth::TokenAuthorizer;
use wharf_server::Registry;
use wharf_storage::MemoryStorage;

const REALM: &str = "https://auth.example/token";
const SERVICE: &str = "registry.example";

struct Setup {
    router: axum::Router,
    server: TokenSigner,
}

fn setup() -> Setup {
    let key = SigningKey::from_bytes(&[42; 32]).expect("key");
    let ttl = Duration::from_secs(300);
    let verifier = TokenSigner::new(&key, REALM, SERVICE, ttl);
    let authorizer = TokenAuthorizer::new(Arc::new(verifier), REALM, SERVICE);
    let router = Registry::builder(Arc::new(MemoryStorage::new()))
        .authorizer(Arc::new(authorizer))
        .build()
        .router();
    Setup {
        router,
        server: TokenSigner::new(&key, REALM, SERVICE, ttl),
    }
}

fn now() -> Timestamp {
    Timestamp::from_system_time(std::time::SystemTime::now())
}

fn token(signer: &TokenSigner, access: &str, at: Timestamp) -> String {
    let access: ScopeSet = access.parse().expect("scopes");
    signer.issue("alice", &access, at).expect("token").token
}

async fn send(
    router: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &'static [u8],
) -> (StatusCode, Option<String>) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body)).expect("request"))
        .await
        .expect("response");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    (response.status(), challenge)
}

fn push_path() -> String {
    format!(
        "/v2/alice/app/blobs/uploads/?digest={}",
        Digest::sha256(b"layer")
    )
}

#[tokio::test]
async fn without_a_token_every_request_is_sent_to_the_token_server() {
    let Setup { router, .. } = setup();
    let table = [
        ("GET", "/v2/".to_owned(), None),
        (
            "GET",
            "/v2/alice/app/tags/list".to_owned(),
            Some("repository:alice/app:pull"),
        ),
        ("POST", push_path(), Some("repository:alice/app:pull,push")),
        (
            "DELETE",
            "/v2/alice/app/manifests/latest".to_owned(),
            Some("repository:alice/app:delete"),
        ),
        ("GET", "/v2/_catalog".to_owned(), Some("registry:catalog:*")),
    ];
    for (method, path, scope) in table {
        let (status, challenge) = send(&router, method, &path, None, b"layer").await;
        assert_eq!(status, 401, "{method} {path}");
        let mut expected = format!(r#"Bearer realm="{REALM}",service="{SERVICE}""#);
        if let Some(scope) = scope {
            expected.push_str(&format!(r#",scope="{scope}""#));
        }
        assert_eq!(
            challenge.as_deref(),
            Some(expected.as_str()),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn a_token_allows_exactly_what_it_grants() {
    let Setup { router, server } = setup();
    let pull = token(&server, "repository:alice/app:pull", now());
    let push = token(&server, "repository:alice/app:pull,push", now());

    let (status, challenge) = send(&router, "POST", &push_path(), Some(&pull), b"layer").await;
    assert_eq!(status, 401, "a pull token does not push");
    assert!(challenge
        .as_deref()
        .is_some_and(|c| c.contains(r#"error="insufficient_scope""#)));

    let (status, _) = send(&router, "POST", &push_path(), Some(&push), b"layer").await;
    assert_eq!(status, 201);
    let blob = format!("/v2/alice/app/blobs/{}", Digest::sha256(b"layer"));
    assert_eq!(send(&router, "GET", &blob, Some(&pull), b"").await.0, 200);

    // Another repository, the catalog and deletes are not granted.
    let other = format!("/v2/alice/other/blobs/{}", Digest::sha256(b"layer"));
    assert_eq!(send(&router, "GET", &other, Some(&push), b"").await.0, 401);
    assert_eq!(
        send(&router, "GET", "/v2/_catalog", Some(&push), b"")
            .await
            .0,
        401
    );
    assert_eq!(
        send(&router, "DELETE", &blob, Some(&push), b"").await.0,
        401
    );
    let catalog = token(&server, "registry:catalog:*", now());
    assert_eq!(
        send(&router, "GET", "/v2/_catalog", Some(&catalog), b"")
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let Setup { router, server } = setup();
    let path = "/v2/alice/app/tags/list";
    let all = "repository:alice/app:pull,push,delete";

    let stranger = TokenSigner::new(
        &SigningKey::from_bytes(&[7; 32]).expect("key"),
        REALM,
        SERVICE,
        Duration::from_secs(300),
    );
    let other_service = TokenSigner::new(
        &SigningKey::from_bytes(&[42; 32]).expect("key"),
        REALM,
        "other.example",
        Duration::from_secs(300),
    );
    let an_hour_ago = Timestamp::from_unix_seconds(now().unix_seconds() - 3600);
    let valid = token(&server, all, now());
    let (header, rest) = valid.split_once('.').expect("jwt");
    let (_, signature) = rest.split_once('.').expect("jwt");
    // The same claims, widened to another repository, with the old signature.
    let widened_payload = {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims = engine
            .decode(rest.split_once('.').expect("jwt").0)
            .expect("payload");
        let widened = String::from_utf8(claims)
            .expect("utf-8")
            .replace("alice/app", "alice/secret");
        engine.encode(widened)
    };
    let none_header = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    };
    let payload = rest.split_once('.').expect("jwt").0;
    let forged = [
        ("signed by another key", token(&stranger, all, now())),
        ("for another service", token(&other_service, all, now())),
        ("expired", token(&server, all, an_hour_ago)),
        ("widened", format!("{header}.{widened_payload}.{signature}")),
        ("alg none", format!("{none_header}.{payload}.")),
        ("garbage", "not-a-token".to_owned()),
    ];
    for (what, token) in forged {
        let (status, challenge) = send(&router, "GET", path, Some(&token), b"").await;
        assert_eq!(status, 401, "{what}");
        assert!(
            challenge
                .as_deref()
                .is_some_and(|c| c.contains(r#"error="invalid_token""#)),
            "{what}: {challenge:?}"
        );
        let secret = "/v2/alice/secret/tags/list";
        assert_eq!(
            send(&router, "GET", secret, Some(&token), b"").await.0,
            401,
            "{what}"
        );
    }
    // The genuine token still works.
    assert_eq!(send(&router, "GET", path, Some(&valid), b"").await.0, 404);
}
