//! Blob uploads end to end: chunked, streamed, out of order, interrupted and
//! resumed, stalled, cancelled, and over the concurrency limit.

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::*;
use futures::{stream, StreamExt};
use reqwest::Method;
use wharf_reference::Digest;

const REPO: &str = "owner/app/release";

/// Starts a session and returns its `Location`, checking the 202 headers.
async fn start_session(server: &TestServer, repo: &str) -> String {
    let reply = server
        .request(Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    assert_eq!(reply.header("range"), Some("0-0"));
    assert_eq!(reply.header("content-length"), Some("0"));
    let location = reply.header("location").expect("location").to_owned();
    let uuid = reply.header("docker-upload-uuid").expect("uuid");
    assert!(
        location.starts_with(&format!("/v2/{repo}/blobs/uploads/")) && location.ends_with(uuid),
        "{location}"
    );
    assert!(
        !location.contains('?'),
        "Location carries no query: {location}"
    );
    location
}

/// Ends a session: `PUT <location>?digest=<digest>` with `body` (the last
/// chunk, or nothing).
async fn finish_session(
    server: &TestServer,
    location: &str,
    digest: &Digest,
    body: impl Into<reqwest::Body>,
) -> Reply {
    server
        .send(
            Method::PUT,
            &format!("{location}?digest={digest}"),
            &[],
            body,
        )
        .await
}

async fn status_range(server: &TestServer, location: &str) -> Option<String> {
    let reply = server.get(location).await;
    (reply.status == 204).then(|| reply.header("range").expect("range").to_owned())
}

async fn assert_blob(server: &TestServer, repo: &str, content: &[u8]) {
    let digest = Digest::sha256(content);
    let reply = server.get(&format!("/v2/{repo}/blobs/{digest}")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(&reply.body[..], content);
}

fn content(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

async fn chunked_upload_with_content_ranges_completes(backend: Backend) {
    let server = start(backend).await;
    let data = content(3000);
    let location = start_session(&server, REPO).await;
    for (start, end) in [(0usize, 999usize), (1000, 1999), (2000, 2999)] {
        let range = format!("{start}-{end}");
        let reply = server
            .send(
                Method::PATCH,
                &location,
                &[
                    ("content-range", &range),
                    ("content-type", "application/octet-stream"),
                ],
                data[start..=end].to_vec(),
            )
            .await;
        assert_eq!(reply.status, 202, "{backend:?} {reply:?}");
        assert_eq!(reply.header("range"), Some(format!("0-{end}").as_str()));
        assert_eq!(reply.header("location"), Some(location.as_str()));
        assert!(reply.header("docker-upload-uuid").is_some());
    }
    assert_eq!(
        status_range(&server, &location).await.as_deref(),
        Some("0-2999")
    );
    let digest = Digest::sha256(&data);
    let reply = finish_session(&server, &location, &digest, Vec::new()).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_eq!(
        reply.header("location"),
        Some(format!("/v2/{REPO}/blobs/{digest}").as_str())
    );
    assert_eq!(reply.header("docker-content-digest"), Some(digest.as_str()));
    assert_blob(&server, REPO, &data).await;
    // The session is over.
    assert_eq!(status_range(&server, &location).await, None);
}
on_each_backend!(chunked_upload_with_content_ranges_completes);

async fn streamed_patch_and_last_chunk_in_put_complete(backend: Backend) {
    let server = start(backend).await;
    let data = content(10_000);
    let location = start_session(&server, REPO).await;
    // Without Content-Range, as docker does: streamed at the current offset.
    let chunks: Vec<Result<Bytes, std::io::Error>> = data[..6000]
        .chunks(1000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let reply = server
        .send(
            Method::PATCH,
            &location,
            &[],
            reqwest::Body::wrap_stream(stream::iter(chunks)),
        )
        .await;
    assert_eq!(reply.status, 202);
    assert_eq!(reply.header("range"), Some("0-5999"));
    let digest = Digest::sha256(&data);
    let reply = finish_session(&server, &location, &digest, data[6000..].to_vec()).await;
    assert_eq!(reply.status, 201, "{backend:?} {reply:?}");
    assert_blob(&server, REPO, &data).await;
}
on_each_backend!(streamed_patch_and_last_chunk_in_put_complete);

async fn out_of_order_chunk_is_rejected_with_416_and_the_current_range(backend: Backend) {
    let server = start(backend).await;
    let location = start_session(&server, REPO).await;
    let first = server
        .send(
            Method::PATCH,
            &location,
            &[("content-range", "0-4")],
            b"01234".to_vec(),
        )
        .await;
    assert_eq!(first.status, 202);
    for range in ["10-14", "0-4", "3-7"] {
        let reply = server
            .send(
                Method::PATCH,
                &location,
                &[("content-range", range)],
                b"abcde".to_vec(),
            )
            .await;
        assert_eq!(reply.status, 416, "{backend:?} {range}");
        assert_eq!(reply.error_code().as_deref(), Some("BLOB_UPLOAD_INVALID"));
        assert_eq!(reply.header("range"), Some("0-4"), "{range}");
        assert_eq!(reply.header("location"), Some(location.as_str()));
    }
    assert_eq!(
        status_range(&server, &location).await.as_deref(),
        Some("0-4")
    );
}
on_each_backend!(out_of_order_chunk_is_rejected_with_416_and_the_current_range);

#[tokio::test]
async fn malformed_chunk_headers_are_rejected() {
    let server = start(Backend::Memory).await;
    let location = start_session(&server, REPO).await;
    let table: [(&str, &[u8], u16); 5] = [
        // The range says 5 bytes, the body has 3.
        ("0-4", b"abc", 400),
        ("4-0", b"abc", 416),
        ("nonsense", b"abc", 416),
        // 2^64 bytes: the length once wrapped to 0 and matched an empty
        // body (and panicked in a debug build).
        ("0-18446744073709551615", b"", 416),
        ("bytes 0-18446744073709551615/*", b"", 416),
    ];
    for (range, body, status) in table {
        let reply = server
            .send(
                Method::PATCH,
                &location,
                &[("content-range", range)],
                body.to_vec(),
            )
            .await;
        assert_eq!(reply.status, status, "{range}");
        assert_eq!(reply.error_code().as_deref(), Some("BLOB_UPLOAD_INVALID"));
    }
    assert_eq!(
        status_range(&server, &location).await.as_deref(),
        Some("0-0")
    );
}

async fn completing_with_the_wrong_digest_is_digest_invalid_and_ends_the_session(backend: Backend) {
    let server = start(backend).await;
    let location = start_session(&server, REPO).await;
    let wrong = Digest::sha256(b"not this");
    let reply = finish_session(&server, &location, &wrong, b"this".to_vec()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code().as_deref(), Some("DIGEST_INVALID"));
    assert_eq!(status_range(&server, &location).await, None);
    let blob = server.get(&format!("/v2/{REPO}/blobs/{wrong}")).await;
    assert_eq!(blob.status, 404);
}
on_each_backend!(completing_with_the_wrong_digest_is_digest_invalid_and_ends_the_session);

#[tokio::test]
async fn completing_without_a_digest_is_refused_and_keeps_the_session() {
    let server = start(Backend::Memory).await;
    let location = start_session(&server, REPO).await;
    let reply = server.request(Method::PUT, &location).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_code().as_deref(), Some("DIGEST_INVALID"));
    assert!(status_range(&server, &location).await.is_some());
}

async fn a_cancelled_upload_is_gone(backend: Backend) {
    let server = start(backend).await;
    let location = start_session(&server, REPO).await;
    let reply = server.request(Method::DELETE, &location).await;
    assert_eq!(reply.status, 204);
    let reply = server.get(&location).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code().as_deref(), Some("BLOB_UPLOAD_UNKNOWN"));
}
on_each_backend!(a_cancelled_upload_is_gone);

#[tokio::test]
async fn a_session_is_only_reachable_through_its_repository() {
    let server = start(Backend::Memory).await;
    let location = start_session(&server, REPO).await;
    let elsewhere = location.replace(REPO, "someone/else");
    let reply = server
        .send(Method::PATCH, &elsewhere, &[], b"x".to_vec())
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.error_code().as_deref(), Some("BLOB_UPLOAD_UNKNOWN"));
}

async fn an_interrupted_patch_keeps_its_bytes_and_the_client_resumes(backend: Backend) {
    let server = start(backend).await;
    let data = content(256 * 1024);
    let location = start_session(&server, REPO).await;
    // 128 KiB arrive, then the client fails mid-body.
    let sent = 128 * 1024;
    let chunks = stream::iter(
        data[..sent]
            .chunks(16 * 1024)
            .map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    )
    .chain(stream::once(async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Err(std::io::Error::other("client crashed"))
    }));
    let result = server.patch_streaming(&location, chunks).await;
    assert!(
        result.is_err() || !result.as_ref().is_ok_and(|r| r.status().is_success()),
        "an interrupted body must not succeed"
    );
    // The server keeps what it received; the status says where to resume.
    let mut offset = 0;
    for _ in 0..50 {
        let range = status_range(&server, &location).await.expect("session");
        offset = range
            .split_once('-')
            .and_then(|(_, end)| end.parse::<usize>().ok())
            .map_or(0, |end| end + 1);
        if offset == sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        offset, sent,
        "{backend:?}: bytes kept after the interruption"
    );
    let reply = server
        .send(
            Method::PATCH,
            &location,
            &[("content-range", &format!("{offset}-{}", data.len() - 1))],
            data[offset..].to_vec(),
        )
        .await;
    assert_eq!(reply.status, 202, "{reply:?}");
    let digest = Digest::sha256(&data);
    let reply = finish_session(&server, &location, &digest, Vec::new()).await;
    assert_eq!(reply.status, 201);
    assert_blob(&server, REPO, &data).await;
}
on_each_backend!(an_interrupted_patch_keeps_its_bytes_and_the_client_resumes);

async fn a_stalled_body_is_cut_off_after_the_idle_timeout_keeping_its_bytes(backend: Backend) {
    let server = start_with_limits(backend, |l| {
        l.body_idle_timeout = Duration::from_millis(300)
    })
    .await;
    let location = start_session(&server, REPO).await;
    let chunks = stream::iter([Ok::<_, std::io::Error>(Bytes::from(vec![7u8; 1000]))])
        .chain(stream::pending());
    let request = server.patch_streaming(&location, chunks);
    // The server answers (408) or drops the request; either way it stops
    // waiting within the idle timeout, not the client's.
    let outcome = tokio::time::timeout(Duration::from_secs(10), request).await;
    if let Ok(Ok(response)) = &outcome {
        assert_eq!(response.status(), 408, "{backend:?}");
    }
    let mut range = None;
    for _ in 0..100 {
        range = status_range(&server, &location).await;
        if range.as_deref() == Some("0-999") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(range.as_deref(), Some("0-999"), "{backend:?}");
}
on_each_backend!(a_stalled_body_is_cut_off_after_the_idle_timeout_keeping_its_bytes);

#[tokio::test]
async fn uploads_beyond_the_concurrency_limit_get_429() {
    let server = start_with_limits(Backend::Memory, |l| l.max_concurrent_uploads = 1).await;
    let first = start_session(&server, REPO).await;
    let second = start_session(&server, REPO).await;
    // The first upload holds the only permit while its body stalls.
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let stalled = stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"abc"))]).chain(
        stream::once(async move {
            let _ = released.await;
            Ok(Bytes::from_static(b"def"))
        }),
    );
    let holder = tokio::spawn(server.patch_streaming(&first, stalled));
    let mut refused = None;
    for _ in 0..100 {
        let reply = server
            .send(Method::PATCH, &second, &[], b"x".to_vec())
            .await;
        if reply.status == 429 {
            refused = Some(reply);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let refused = refused.expect("a second concurrent upload is refused");
    assert_eq!(refused.error_code().as_deref(), Some("TOOMANYREQUESTS"));
    assert_eq!(refused.header("retry-after"), Some("1"));
    let _ = release.send(());
    let first_upload = holder.await.expect("join").expect("first upload");
    assert_eq!(first_upload.status(), 202);
    // With the permit back, the second upload goes through.
    let reply = server
        .send(Method::PATCH, &second, &[], b"x".to_vec())
        .await;
    assert_eq!(reply.status, 202);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_open_sessions() {
    let server = start(Backend::Memory).await;
    let _location = start_session(&server, REPO).await;
    server.push_blob(REPO, b"blob").await;
    let _ = server.get("/v2/owner/app/release/manifests/nope").await;
    let reply = server.get("/metrics").await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")));
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert_has_lines(&text, &[
        "wharf_http_requests_total{route=\"/v2/{name}/blobs/uploads/\",method=\"POST\",status=\"202\"} 1",
        "wharf_http_requests_total{route=\"/v2/{name}/blobs/uploads/\",method=\"POST\",status=\"201\"} 1",
        "wharf_http_requests_total{route=\"/v2/{name}/manifests/{reference}\",method=\"GET\",status=\"404\"} 1",
        "wharf_http_request_bytes_total{route=\"/v2/{name}/blobs/uploads/\"} 4",
        "wharf_upload_sessions_open 1",
    ]);
    assert!(!text.contains("owner/app"), "raw paths never become labels");
}
