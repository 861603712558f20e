//! The authorization hook: every endpoint asks it before touching storage,
//! and its 401/403 answers reach the client unchanged.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use http::request::Parts;
use reqwest::Method;
use wharf_server::distribution::auth;
use wharf_server::{Access, Action, ApiError, Authorizer};

/// `Bearer reader` may pull everything except `secret/*`; `Bearer writer`
/// may do anything; no token gets a challenge naming the scope.
struct Tokens;

#[async_trait]
impl Authorizer for Tokens {
    async fn authorize(&self, request: &Parts, access: Access<'_>) -> Result<(), ApiError> {
        let token = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let challenge = format!(
            "Bearer realm=\"http://auth.test/token\",service=\"wharf\",scope=\"{}\"",
            access.scope()
        );
        match (token, access) {
            (None, _) => Err(auth::unauthorized(&challenge, "authentication required")),
            (Some("writer"), _) => Ok(()),
            (
                Some("reader"),
                Access::Repository {
                    name,
                    action: Action::Pull,
                },
            ) if !name.as_str().starts_with("secret/") => Ok(()),
            (Some("reader"), Access::Base) => Ok(()),
            (Some(_), _) => Err(auth::denied("the token does not grant this")),
        }
    }
}

#[tokio::test]
async fn the_authorizer_decides_before_storage_is_touched() {
    let server = start_with(Backend::Memory, |b| b.authorizer(Arc::new(Tokens))).await;
    let writer = [("authorization", "Bearer writer")];
    let reader = [("authorization", "Bearer reader")];
    // Set up with the writer.
    let digest = wharf_reference::Digest::sha256(b"secret bytes");
    for repo in ["public/app", "secret/app"] {
        let reply = server
            .send(
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
                &writer,
                b"secret bytes".to_vec(),
            )
            .await;
        assert_eq!(reply.status, 201);
    }

    // (what, method, path, headers, status, code)
    type Row<'a> = (
        &'a str,
        Method,
        String,
        &'a [(&'a str, &'a str)],
        u16,
        Option<&'a str>,
    );
    let table: Vec<Row<'_>> = vec![
        (
            "base without token",
            Method::GET,
            "/v2/".into(),
            &[],
            401,
            Some("UNAUTHORIZED"),
        ),
        (
            "base with token",
            Method::GET,
            "/v2/".into(),
            &reader,
            200,
            None,
        ),
        (
            "pull without token",
            Method::GET,
            format!("/v2/public/app/blobs/{digest}"),
            &[],
            401,
            Some("UNAUTHORIZED"),
        ),
        (
            "pull with reader",
            Method::GET,
            format!("/v2/public/app/blobs/{digest}"),
            &reader,
            200,
            None,
        ),
        (
            "pull of a private repository",
            Method::GET,
            format!("/v2/secret/app/blobs/{digest}"),
            &reader,
            403,
            Some("DENIED"),
        ),
        (
            "denied even where nothing exists",
            Method::GET,
            "/v2/secret/nothing/tags/list".into(),
            &reader,
            403,
            Some("DENIED"),
        ),
        (
            "push with reader",
            Method::POST,
            "/v2/public/app/blobs/uploads/".into(),
            &reader,
            403,
            Some("DENIED"),
        ),
        (
            "delete with reader",
            Method::DELETE,
            format!("/v2/public/app/blobs/{digest}"),
            &reader,
            403,
            Some("DENIED"),
        ),
        (
            "manifest put with reader",
            Method::PUT,
            "/v2/public/app/manifests/v1".into(),
            &reader,
            403,
            Some("DENIED"),
        ),
        (
            "catalog with reader",
            Method::GET,
            "/v2/_catalog".into(),
            &reader,
            403,
            Some("DENIED"),
        ),
        (
            "catalog with writer",
            Method::GET,
            "/v2/_catalog".into(),
            &writer,
            200,
            None,
        ),
        (
            "referrers without token",
            Method::GET,
            format!("/v2/public/app/referrers/{digest}"),
            &[],
            401,
            Some("UNAUTHORIZED"),
        ),
    ];
    for (what, method, path, headers, status, code) in table {
        let reply = server.send(method, &path, headers, Vec::new()).await;
        assert_eq!(reply.status, status, "{what}: {reply:?}");
        assert_eq!(reply.error_code().as_deref(), code, "{what}");
        if status == 401 {
            let challenge = reply.header("www-authenticate").expect("challenge");
            assert!(
                challenge.starts_with("Bearer realm="),
                "{what}: {challenge}"
            );
        }
    }

    // The challenge names the scope asked for.
    let reply = server.get("/v2/public/app/tags/list").await;
    assert!(reply
        .challenge()
        .contains("scope=\"repository:public/app:pull\""));
}

/// Pushes to anything, pulls only from `mine/*`.
struct PushAnywhere;

#[async_trait]
impl Authorizer for PushAnywhere {
    async fn authorize(&self, _: &Parts, access: Access<'_>) -> Result<(), ApiError> {
        match access {
            Access::Repository {
                name,
                action: Action::Pull,
            } if !name.as_str().starts_with("mine/") => Err(auth::denied("not yours")),
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn a_mount_from_a_repository_the_caller_cannot_pull_falls_back_to_an_upload() {
    let server = start_with(Backend::Memory, |b| b.authorizer(Arc::new(PushAnywhere))).await;
    let digest = server.push_blob("theirs/app", b"their layer").await;
    let mine = server.push_blob("mine/other", b"my layer").await;
    let reply = server
        .request(
            Method::POST,
            &format!("/v2/mine/app/blobs/uploads/?mount={digest}&from=theirs/app"),
        )
        .await;
    assert_eq!(
        reply.status, 202,
        "knowing a digest is not enough to mount it"
    );
    let reply = server
        .request(
            Method::POST,
            &format!("/v2/mine/app/blobs/uploads/?mount={mine}&from=mine/other"),
        )
        .await;
    assert_eq!(reply.status, 201);
}
