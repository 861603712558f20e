//! `/metrics` on a registry with accounts: a route label for every
//! endpoint family, the content types, and Wharf's metrics merged into a
//! host application's registry.

mod common;

use common::assert_has_lines;
use common::ghcr::*;
use reqwest::Method;
use serde_json::json;
use wharf_server::prometheus_client;

/// The rendered metrics, as `GET /metrics` serves them.
async fn scrape(ghcr: &Ghcr) -> String {
    let reply = ghcr.get("/metrics", None).await;
    assert_eq!(reply.status, 200);
    String::from_utf8(reply.body.to_vec()).expect("utf-8")
}

/// The count of `wharf_http_requests_total` for a label set.
fn requests(text: &str, route: &str, method: &str, status: &str) -> Option<u64> {
    let prefix = format!(
        "wharf_http_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}} "
    );
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.parse().expect("count"))
}

#[tokio::test]
async fn every_endpoint_family_has_its_route_label() {
    let ghcr = Ghcr::start().await;
    let alice = ghcr.basic("alice");
    // /v2: blob uploads and a manifest push.
    ghcr.publish("alice", "alice/app", "1.0").await;
    // The token endpoint.
    let reply = ghcr
        .token_reply(Some(&alice), &["repository:alice/app:pull"])
        .await;
    assert_eq!(reply.status, 200);
    // The REST API: a package (PATCH), its versions, a listing, and a path
    // under a package that no endpoint serves.
    ghcr.make_public("alice", "/user", "app").await;
    for (path, status) in [
        ("/users/alice/packages/container/app/versions", 200),
        ("/user/packages?package_type=container", 200),
        ("/users/alice/packages/container/app/nothing-here", 404),
    ] {
        ghcr.assert_get("alice", path, status).await;
    }
    // The pages.
    let reply = ghcr.get("/alice/packages/container/app", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let reply = ghcr.get("/alice/packages", None).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    // Unknown paths, under /v2/ and elsewhere.
    let reply = ghcr.get("/no/such/endpoint-secret-path", None).await;
    assert_eq!(reply.status, 404);
    let reply = ghcr.get("/v2/alice", None).await;
    assert_eq!(reply.status, 404);
    // /metrics itself is counted once its response has been sent.
    let _ = scrape(&ghcr).await;

    let text = scrape(&ghcr).await;
    for (route, method, status) in [
        ("/v2/{name}/blobs/uploads/", "POST", "201"),
        ("/v2/{name}/manifests/{reference}", "PUT", "201"),
        ("token", "GET", "200"),
        ("api_package", "PATCH", "200"),
        ("api_versions", "GET", "200"),
        ("api_packages", "GET", "200"),
        ("not_found", "GET", "404"),
        ("page_package", "GET", "200"),
        ("page_owner", "GET", "200"),
        ("metrics", "GET", "200"),
    ] {
        assert!(
            requests(&text, route, method, status).is_some_and(|n| n >= 1),
            "no {route} {method} {status}\n{text}"
        );
    }
    // The unknown API path, the unknown path and /v2/alice.
    assert_eq!(
        requests(&text, "not_found", "GET", "404"),
        Some(3),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l
                .starts_with("wharf_http_request_duration_seconds_count{route=\"page_owner\"}")),
        "{text}"
    );
    for raw in ["alice", "endpoint-secret-path", "nothing-here"] {
        assert!(!text.contains(raw), "raw paths never become labels: {raw}");
    }
    // Every route label is one of the known kinds.
    let known: Vec<&str> = wharf_server::RouteKind::ALL
        .iter()
        .map(|k| k.template())
        .collect();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(rest) = line.split("route=\"").nth(1) {
            let route = rest.split('"').next().expect("label");
            assert!(known.contains(&route), "unknown route label {route}");
        }
    }
}

#[tokio::test]
async fn metrics_are_served_as_prometheus_text_or_openmetrics_on_request() {
    let ghcr = Ghcr::start().await;
    let reply = ghcr.get("/metrics", None).await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(text.contains("# TYPE wharf_upload_sessions_started_total counter\n"));
    assert!(!text.contains("# EOF"));

    let reply = ghcr
        .server
        .send(
            Method::GET,
            "/metrics",
            &[(
                "accept",
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
            )],
            Vec::new(),
        )
        .await;
    assert_eq!(
        reply.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    let text = String::from_utf8_lossy(&reply.body).into_owned();
    assert!(
        text.contains("# TYPE wharf_upload_sessions_started counter\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "wharf_http_requests_total{route=\"metrics\",method=\"GET\",status=\"200\"} 1\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[tokio::test]
async fn a_host_registry_gets_wharf_metrics_merged() {
    let ghcr = Ghcr::start().await;
    let mut host = prometheus_client::registry::Registry::default();
    let jobs: prometheus_client::metrics::counter::Counter = Default::default();
    host.register("host_jobs", "The host application's own jobs", jobs.clone());
    jobs.inc();
    ghcr.server.registry.metrics().register(&mut host);

    let alice = ghcr.basic("alice");
    ghcr.assert_send_json(
        Method::PATCH,
        "/user/packages/container/missing",
        &alice,
        &json!({ "visibility": "public" }),
        404,
    )
    .await;

    let mut text = String::new();
    prometheus_client::encoding::prometheus_text::encode(&mut text, &host).expect("encode");
    assert_has_lines(
        &text,
        &[
            "host_jobs_total 1",
            "wharf_http_requests_total{route=\"api_package\",method=\"PATCH\",status=\"404\"} 1",
            "wharf_upload_sessions_open 0",
        ],
    );
    // The registry's own /metrics says the same.
    assert_eq!(
        requests(&scrape(&ghcr).await, "api_package", "PATCH", "404"),
        Some(1)
    );
}
