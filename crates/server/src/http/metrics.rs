//! Request and upload metrics in the Prometheus text format.
//!
//! A fixed table of atomic counters indexed by route template, method and
//! status: recording a request is a handful of relaxed atomic additions, no
//! lock, no allocation, no hashing. Label values are bounded by
//! construction (templates, not raw paths), so the exposition stays small.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use http::{Method, StatusCode};

use crate::distribution::route::RouteKind;

const ROUTES: usize = RouteKind::ALL.len();
const METHODS: [&str; 7] = ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE", "OTHER"];
const STATUSES: [u16; 21] = [
    200, 201, 202, 204, 206, 301, 304, 400, 401, 403, 404, 405, 408, 413, 415, 416, 429, 500, 503,
    507, 0,
];
/// Upper bounds of the duration histogram's buckets, in seconds (the last,
/// `+Inf`, is implicit).
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 120.0,
];

#[derive(Default)]
struct RouteStats {
    requests: [[AtomicU64; STATUSES.len()]; METHODS.len()],
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    duration_buckets: [AtomicU64; BUCKETS.len() + 1],
    duration_sum_micros: AtomicU64,
}

/// The registry's metrics. Shared by all requests; [`Metrics::render`]
/// produces the Prometheus text exposition served at `/metrics`.
pub struct Metrics {
    routes: [RouteStats; ROUTES],
    in_flight: AtomicI64,
    uploads_open: AtomicI64,
    uploads_started: AtomicU64,
    uploads_completed: AtomicU64,
    uploads_cancelled: AtomicU64,
    uploads_expired: AtomicU64,
    rejected_overload: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            routes: std::array::from_fn(|_| RouteStats::default()),
            in_flight: AtomicI64::new(0),
            uploads_open: AtomicI64::new(0),
            uploads_started: AtomicU64::new(0),
            uploads_completed: AtomicU64::new(0),
            uploads_cancelled: AtomicU64::new(0),
            uploads_expired: AtomicU64::new(0),
            rejected_overload: AtomicU64::new(0),
        }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("in_flight", &self.in_flight.load(Relaxed))
            .field("uploads_open", &self.uploads_open.load(Relaxed))
            .finish_non_exhaustive()
    }
}

fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::PUT => 2,
        Method::POST => 3,
        Method::PATCH => 4,
        Method::DELETE => 5,
        _ => 6,
    }
}

fn status_index(status: StatusCode) -> usize {
    let code = status.as_u16();
    STATUSES
        .iter()
        .position(|&s| s == code)
        .unwrap_or(STATUSES.len() - 1)
}

impl Metrics {
    /// Records one finished request.
    pub fn record_request(
        &self,
        route: RouteKind,
        method: &Method,
        status: StatusCode,
        bytes_in: u64,
        bytes_out: u64,
        duration: Duration,
    ) {
        let stats = &self.routes[route.index()];
        stats.requests[method_index(method)][status_index(status)].fetch_add(1, Relaxed);
        if bytes_in > 0 {
            stats.bytes_in.fetch_add(bytes_in, Relaxed);
        }
        if bytes_out > 0 {
            stats.bytes_out.fetch_add(bytes_out, Relaxed);
        }
        let seconds = duration.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(BUCKETS.len());
        stats.duration_buckets[bucket].fetch_add(1, Relaxed);
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
        stats.duration_sum_micros.fetch_add(micros, Relaxed);
    }

    pub(crate) fn request_started(&self) {
        self.in_flight.fetch_add(1, Relaxed);
    }

    pub(crate) fn request_finished(&self) {
        self.in_flight.fetch_sub(1, Relaxed);
    }

    pub(crate) fn upload_started(&self) {
        self.uploads_started.fetch_add(1, Relaxed);
        self.uploads_open.fetch_add(1, Relaxed);
    }

    pub(crate) fn upload_completed(&self) {
        self.uploads_completed.fetch_add(1, Relaxed);
        self.uploads_open.fetch_sub(1, Relaxed);
    }

    pub(crate) fn upload_cancelled(&self) {
        self.uploads_cancelled.fetch_add(1, Relaxed);
        self.uploads_open.fetch_sub(1, Relaxed);
    }

    /// Records upload sessions removed by the expiry purge.
    pub fn uploads_expired(&self, count: u64) {
        self.uploads_expired.fetch_add(count, Relaxed);
        self.uploads_open
            .fetch_sub(i64::try_from(count).unwrap_or(i64::MAX), Relaxed);
    }

    pub(crate) fn rejected_overload(&self) {
        self.rejected_overload.fetch_add(1, Relaxed);
    }

    /// Upload sessions opened and not yet completed, cancelled or purged,
    /// as seen by this process (sessions left by an earlier process are
    /// counted only when purged, so the gauge never goes below zero).
    pub fn uploads_open(&self) -> i64 {
        self.uploads_open.load(Relaxed).max(0)
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        out.push_str("# HELP wharf_http_requests_total HTTP requests by route template, method and status.\n");
        out.push_str("# TYPE wharf_http_requests_total counter\n");
        for route in RouteKind::ALL {
            let stats = &self.routes[route.index()];
            for (m, method) in METHODS.iter().enumerate() {
                for (s, status) in STATUSES.iter().enumerate() {
                    let count = stats.requests[m][s].load(Relaxed);
                    if count == 0 {
                        continue;
                    }
                    let status = if *status == 0 {
                        "other".to_owned()
                    } else {
                        status.to_string()
                    };
                    let _ = writeln!(
                        out,
                        "wharf_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {count}",
                        route.template()
                    );
                }
            }
        }
        for (name, help, pick) in [
            (
                "wharf_http_request_bytes_total",
                "Request body bytes received, by route template.",
                (|s: &RouteStats| s.bytes_in.load(Relaxed)) as fn(&RouteStats) -> u64,
            ),
            (
                "wharf_http_response_bytes_total",
                "Response body bytes sent, by route template.",
                |s: &RouteStats| s.bytes_out.load(Relaxed),
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for route in RouteKind::ALL {
                let value = pick(&self.routes[route.index()]);
                if value > 0 {
                    let _ = writeln!(out, "{name}{{route=\"{}\"}} {value}", route.template());
                }
            }
        }
        out.push_str("# HELP wharf_http_request_duration_seconds Time from request head to the end of the response body, by route template.\n");
        out.push_str("# TYPE wharf_http_request_duration_seconds histogram\n");
        for route in RouteKind::ALL {
            let stats = &self.routes[route.index()];
            let counts: Vec<u64> = stats
                .duration_buckets
                .iter()
                .map(|b| b.load(Relaxed))
                .collect();
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let template = route.template();
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(&counts) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "wharf_http_request_duration_seconds_bucket{{route=\"{template}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "wharf_http_request_duration_seconds_bucket{{route=\"{template}\",le=\"+Inf\"}} {total}"
            );
            let sum = stats.duration_sum_micros.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "wharf_http_request_duration_seconds_sum{{route=\"{template}\"}} {sum}\nwharf_http_request_duration_seconds_count{{route=\"{template}\"}} {total}"
            );
        }
        let gauges = [
            (
                "wharf_http_requests_in_flight",
                "Requests being served.",
                "gauge",
                self.in_flight.load(Relaxed).max(0),
            ),
            (
                "wharf_upload_sessions_open",
                "Blob upload sessions open (started by this process and not yet finished).",
                "gauge",
                self.uploads_open(),
            ),
            (
                "wharf_upload_sessions_started_total",
                "Blob upload sessions started.",
                "counter",
                clamp(self.uploads_started.load(Relaxed)),
            ),
            (
                "wharf_upload_sessions_completed_total",
                "Blob upload sessions completed into a verified blob.",
                "counter",
                clamp(self.uploads_completed.load(Relaxed)),
            ),
            (
                "wharf_upload_sessions_cancelled_total",
                "Blob upload sessions cancelled by clients.",
                "counter",
                clamp(self.uploads_cancelled.load(Relaxed)),
            ),
            (
                "wharf_upload_sessions_expired_total",
                "Blob upload sessions purged after expiring.",
                "counter",
                clamp(self.uploads_expired.load(Relaxed)),
            ),
            (
                "wharf_requests_rejected_overload_total",
                "Requests refused with 429 because a concurrency limit was reached.",
                "counter",
                clamp(self.rejected_overload.load(Relaxed)),
            ),
        ];
        for (name, help, kind, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
        out
    }
}

fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_template_method_and_status() {
        let metrics = Metrics::default();
        for _ in 0..3 {
            metrics.record_request(
                RouteKind::Manifest,
                &Method::GET,
                StatusCode::OK,
                0,
                512,
                Duration::from_micros(300),
            );
        }
        metrics.record_request(
            RouteKind::Upload,
            &Method::PATCH,
            StatusCode::RANGE_NOT_SATISFIABLE,
            100,
            0,
            Duration::from_millis(2),
        );
        metrics.record_request(
            RouteKind::Other,
            &Method::OPTIONS,
            StatusCode::IM_A_TEAPOT,
            0,
            0,
            Duration::from_secs(500),
        );
        metrics.upload_started();
        metrics.upload_started();
        metrics.upload_completed();
        let text = metrics.render();
        for line in [
            "wharf_http_requests_total{route=\"/v2/{name}/manifests/{reference}\",method=\"GET\",status=\"200\"} 3",
            "wharf_http_requests_total{route=\"/v2/{name}/blobs/uploads/{id}\",method=\"PATCH\",status=\"416\"} 1",
            "wharf_http_requests_total{route=\"other\",method=\"OTHER\",status=\"other\"} 1",
            "wharf_http_response_bytes_total{route=\"/v2/{name}/manifests/{reference}\"} 1536",
            "wharf_http_request_bytes_total{route=\"/v2/{name}/blobs/uploads/{id}\"} 100",
            "wharf_http_request_duration_seconds_bucket{route=\"/v2/{name}/manifests/{reference}\",le=\"0.0005\"} 3",
            "wharf_http_request_duration_seconds_bucket{route=\"other\",le=\"120\"} 0",
            "wharf_http_request_duration_seconds_bucket{route=\"other\",le=\"+Inf\"} 1",
            "wharf_http_request_duration_seconds_count{route=\"/v2/{name}/manifests/{reference}\"} 3",
            "wharf_upload_sessions_open 1",
            "wharf_upload_sessions_started_total 2",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
    }

    #[test]
    fn the_open_uploads_gauge_never_goes_negative() {
        let metrics = Metrics::default();
        metrics.uploads_expired(5);
        assert_eq!(metrics.uploads_open(), 0);
    }
}
