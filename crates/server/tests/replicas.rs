//! What a registry served by several processes plugs in: blob downloads
//! redirected to the object store, and scheduled work run by one process
//! at a time.

mod common;

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use common::{start_with, Backend};
use reqwest::{Method, StatusCode};
use wharf_reference::Digest;
use wharf_server::{BlobRedirects, Limits, WorkLease};

/// Redirects every blob to a fixed object-store host.
struct ToObjects;

#[async_trait]
impl BlobRedirects for ToObjects {
    async fn blob_url(&self, digest: &Digest) -> Option<String> {
        Some(format!(
            "https://objects.example/{}?sig=x",
            digest.encoded()
        ))
    }
}

on_each_backend!(redirects_go_only_to_callers_who_may_read_the_blob);
async fn redirects_go_only_to_callers_who_may_read_the_blob(backend: Backend) {
    let server = start_with(backend, |b| b.blob_redirects(Arc::new(ToObjects))).await;
    let digest = server.push_blob("acme/app", b"layer bytes").await;
    let path = format!("/v2/acme/app/blobs/{digest}");

    let got = server.get(&path).await;
    assert_eq!(got.status, StatusCode::TEMPORARY_REDIRECT);
    assert_eq!(
        got.header("location"),
        Some(format!("https://objects.example/{}?sig=x", digest.encoded()).as_str())
    );
    assert_eq!(got.header("docker-content-digest"), Some(digest.as_str()));

    // HEAD is answered by the registry itself.
    let head = server.send(Method::HEAD, &path, &[], "").await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.header("content-length"), Some("11"));

    // Knowing the digest is not enough: another repository gets no URL.
    let elsewhere = server.get(&format!("/v2/acme/other/blobs/{digest}")).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert_eq!(elsewhere.header("location"), None);
}

/// A lease that is granted or refused, counting the asks.
struct Lease {
    granted: bool,
    asked: AtomicUsize,
}

#[async_trait]
impl WorkLease for Lease {
    async fn try_acquire(&self, job: &'static str) -> Option<Box<dyn Any + Send>> {
        assert_eq!(job, "purge-uploads");
        self.asked.fetch_add(1, Ordering::SeqCst);
        self.granted.then(|| Box::new(()) as Box<dyn Any + Send>)
    }
}

on_each_backend!(scheduled_purges_run_only_under_the_lease);
async fn scheduled_purges_run_only_under_the_lease(backend: Backend) {
    for granted in [false, true] {
        let lease = Arc::new(Lease {
            granted,
            asked: AtomicUsize::new(0),
        });
        let mut limits = Limits::default();
        limits.upload_expiry = Duration::from_millis(1);
        let held = lease.clone();
        let server = start_with(backend, move |b| b.limits(limits).work_lease(held)).await;
        let started = server
            .send(Method::POST, "/v2/acme/app/blobs/uploads/", &[], "")
            .await;
        assert_eq!(started.status, StatusCode::ACCEPTED);
        let location = started.header("location").expect("location").to_owned();
        tokio::time::sleep(Duration::from_millis(20)).await;

        let purger = server
            .registry
            .spawn_upload_purger(Duration::from_millis(20));
        tokio::time::sleep(Duration::from_millis(300)).await;
        purger.abort();

        assert!(lease.asked.load(Ordering::SeqCst) >= 2, "asked every tick");
        let status = server.get(&location).await.status;
        let expected = if granted {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::NO_CONTENT
        };
        assert_eq!(status, expected, "lease granted: {granted}");
    }
}
