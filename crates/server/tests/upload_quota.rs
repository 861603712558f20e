//! One client cannot take the upload capacity from the others: trickled
//! bodies are cut, a client holds at most its share of the upload slots,
//! and open upload sessions are capped per client and in all, counted
//! across restarts (issue 10, findings 2 and 3).

mod common;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use common::*;
use futures::stream;
use http::request::Parts;
use reqwest::Method;
use wharf_reference::Digest;
use wharf_server::{Access, ApiError, Authorizer, Limits, RegistryBuilder};
use wharf_storage::FsStorage;

const REPO: &str = "owner/app";

/// Lets everything through and names the principal the `x-user` header
/// gives, as an authorizer with accounts names the authenticated user.
struct ByHeader;

#[async_trait]
impl Authorizer for ByHeader {
    async fn authorize(&self, _: &Parts, _: Access<'_>) -> Result<(), ApiError> {
        Ok(())
    }

    async fn principal(&self, request: &Parts) -> Option<String> {
        let user = request.headers.get("x-user")?.to_str().ok()?;
        Some(user.to_owned())
    }
}

fn by_header(limits: Limits) -> impl FnOnce(RegistryBuilder) -> RegistryBuilder {
    move |b| b.authorizer(std::sync::Arc::new(ByHeader)).limits(limits)
}

async fn post_session(server: &TestServer, user: &str) -> Reply {
    server
        .send(
            Method::POST,
            &format!("/v2/{REPO}/blobs/uploads/"),
            &[("x-user", user)],
            Vec::new(),
        )
        .await
}

async fn open_session(server: &TestServer, user: &str) -> String {
    let reply = post_session(server, user).await;
    assert_eq!(reply.status, 202, "{user}: {reply:?}");
    reply.header("location").expect("location").to_owned()
}

fn assert_too_many(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 429, "{what}: {reply:?}");
    assert_eq!(
        reply.error_code().as_deref(),
        Some("TOOMANYREQUESTS"),
        "{what}"
    );
    assert!(reply.header("retry-after").is_some(), "{what}: Retry-After");
}

/// One byte every 100 ms, forever: far below 1 KiB/s, never idle long.
fn trickle() -> reqwest::Body {
    reqwest::Body::wrap_stream(stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<_, std::io::Error>(Bytes::from_static(b"x")), ()))
    }))
}

/// Starts a trickling `PATCH` of `location` as `user`; resolves to its
/// status, or `None` when the server dropped the connection instead.
fn patch_trickling(
    server: &TestServer,
    location: &str,
    user: &'static str,
) -> tokio::task::JoinHandle<Option<u16>> {
    let request = server
        .client
        .patch(server.url(location))
        .header("x-user", user)
        .body(trickle())
        .send();
    tokio::spawn(async move { request.await.ok().map(|r| r.status().as_u16()) })
}

#[tokio::test]
async fn trickling_uploads_of_one_principal_leave_room_for_another_and_are_cut() {
    let mut limits = Limits::default();
    limits.max_concurrent_uploads = 2;
    limits.min_body_rate = 1024;
    limits.min_body_rate_window = Duration::from_secs(2);
    let server = start_with(Backend::Memory, by_header(limits)).await;

    // Alice trickles two chunked uploads, as many as there are slots.
    let first = open_session(&server, "alice").await;
    let second = open_session(&server, "alice").await;
    let trickles = [
        patch_trickling(&server, &first, "alice"),
        patch_trickling(&server, &second, "alice"),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Bob still pushes while they trickle.
    let reply = server
        .post_blob(REPO, b"bob's layer", &[("x-user", "bob")])
        .await;
    assert_eq!(
        reply.status, 201,
        "bob's push while alice trickles: {reply:?}"
    );

    // Each trickle ends after the window: one refused at once for holding
    // alice's share, the other cut for its rate (408), within a generous
    // bound, never left to run.
    let mut statuses = Vec::new();
    for trickle in trickles {
        let status = tokio::time::timeout(Duration::from_secs(20), trickle)
            .await
            .expect("the trickling upload is cut")
            .expect("join");
        statuses.push(status);
    }
    // (A refusal may reach the client as a dropped connection too.)
    assert!(
        statuses.iter().all(|s| matches!(s, Some(408 | 429) | None)),
        "both trickles end refused or cut: {statuses:?}"
    );

    // The cut upload keeps what it received and can be resumed.
    for location in [&first, &second] {
        let reply = server
            .send(Method::GET, location, &[("x-user", "alice")], Vec::new())
            .await;
        assert_eq!(reply.status, 204, "{reply:?}");
    }
}

#[tokio::test]
async fn open_sessions_are_capped_per_principal_and_in_all_across_restarts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut limits = Limits::default();
    limits.max_upload_sessions_per_client = 3;
    limits.max_upload_sessions = 6;

    let server = start_on_filesystem(
        FsStorage::open(dir.path()).expect("open"),
        by_header(limits.clone()),
    )
    .await;
    let mut alice = Vec::new();
    for _ in 0..3 {
        alice.push(open_session(&server, "alice").await);
    }
    assert_too_many(&post_session(&server, "alice").await, "alice's fourth");
    open_session(&server, "bob").await;
    drop(server);

    // Restarted on the same data directory, the sessions still count.
    let server = start_on_filesystem(
        FsStorage::open(dir.path()).expect("reopen"),
        by_header(limits),
    )
    .await;
    assert_too_many(
        &post_session(&server, "alice").await,
        "alice's fourth after the restart",
    );
    open_session(&server, "bob").await;
    open_session(&server, "carol").await;
    // Six open in all: nobody gets another, however few they have.
    assert_too_many(&post_session(&server, "dave").await, "over the total");

    // Cancelling one frees its place.
    let reply = server
        .send(
            Method::DELETE,
            &alice[0],
            &[("x-user", "alice")],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, 204, "{reply:?}");
    let replacement = open_session(&server, "alice").await;
    assert_too_many(&post_session(&server, "alice").await, "alice, full again");

    // So does finishing one.
    let empty = Digest::sha256(b"");
    let reply = server
        .send(
            Method::PUT,
            &format!("{replacement}?digest={empty}"),
            &[("x-user", "alice")],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    open_session(&server, "alice").await;

    // A request naming another repository frees nothing.
    let elsewhere = alice[1].replace(REPO, "owner/other");
    let reply = server
        .send(
            Method::DELETE,
            &elsewhere,
            &[("x-user", "alice")],
            Vec::new(),
        )
        .await;
    assert_eq!(reply.status, 404, "{reply:?}");
    assert_too_many(&post_session(&server, "alice").await, "alice, still full");
}

#[tokio::test]
async fn with_accounts_the_session_cap_counts_per_user_whatever_the_token() {
    let ghcr = ghcr::Ghcr::start().await;
    let per_client = Limits::default().max_upload_sessions_per_client;
    let alice = ghcr.basic("alice");
    for _ in 0..per_client {
        let reply = ghcr
            .post("/v2/alice/app/blobs/uploads/", Some(&alice))
            .await;
        assert_eq!(reply.status, 202, "{reply:?}");
    }
    let over = ghcr
        .post("/v2/alice/app/blobs/uploads/", Some(&alice))
        .await;
    assert_too_many(&over, "alice over her cap");
    // Another of alice's tokens is still alice.
    let other_token = ghcr.basic("alice-write");
    let over = ghcr
        .post("/v2/alice/app/blobs/uploads/", Some(&other_token))
        .await;
    assert_too_many(&over, "alice with another token");
    // Bob, from the same address, is someone else.
    let reply = ghcr.post_as("bob", "/v2/bob/app/blobs/uploads/").await;
    assert_eq!(reply.status, 202, "{reply:?}");
}

#[tokio::test]
async fn without_principals_clients_are_told_apart_by_their_address() {
    let mut limits = Limits::default();
    limits.max_upload_sessions_per_client = 1;
    let registry =
        wharf_server::Registry::builder(std::sync::Arc::new(wharf_storage::MemoryStorage::new()))
            .limits(limits)
            .build();
    let options = wharf_server::ServeOptions::default();
    let server = Serving::start(|listener, stop| {
        wharf_server::serve(listener, registry.router(), options, stop)
    })
    .await;
    let addr = server.addr;
    let post_from = |local: [u8; 4]| {
        let client = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(local))
            .build()
            .expect("client");
        let url = format!("http://{addr}/v2/{REPO}/blobs/uploads/");
        async move {
            client
                .post(url)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        }
    };
    assert_eq!(post_from([127, 0, 0, 1]).await, 202);
    assert_eq!(
        post_from([127, 0, 0, 1]).await,
        429,
        "the same address again"
    );
    assert_eq!(post_from([127, 0, 0, 2]).await, 202, "another address");
    server.stop().await;
}
