//! Request and upload metrics, kept with [`prometheus_client`].
//!
//! Every metric is a `prometheus_client` metric registered under the
//! `wharf` prefix: [`Metrics::render`] encodes them in the Prometheus text
//! format served at `/metrics`, and [`Metrics::register`] adds the same
//! metrics to a host application's own [`Registry`], so that one scrape of
//! the host covers Wharf too.
//!
//! Label values are bounded by construction: the `route` label is a
//! [`RouteKind`] (a template or an endpoint name, never a raw path), the
//! method one of seven values and the status one of a fixed set of codes
//! (any other is `other`).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{Method, StatusCode};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    EncodeLabelSet, EncodeLabelValue, EncodeMetric, LabelValueEncoder, MetricEncoder,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::{Registry, Unit};

use crate::distribution::route::RouteKind;

/// The prefix of every metric's name.
const PREFIX: &str = "wharf";

/// The status codes counted as themselves; any other is `other`.
const STATUSES: [u16; 20] = [
    200, 201, 202, 204, 206, 301, 304, 400, 401, 403, 404, 405, 408, 413, 415, 416, 429, 500, 503,
    507,
];

/// Upper bounds of the duration histogram's buckets, in seconds (the last,
/// `+Inf`, is implicit).
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 120.0,
];

impl EncodeLabelValue for RouteKind {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.template())
    }
}

/// The `method` label: the usual methods, anything else is `OTHER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct MethodLabel(&'static str);

impl MethodLabel {
    fn of(method: &Method) -> MethodLabel {
        MethodLabel(match *method {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::PUT => "PUT",
            Method::POST => "POST",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            _ => "OTHER",
        })
    }
}

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        std::fmt::Write::write_str(encoder, self.0)
    }
}

/// The `status` label: a code of [`STATUSES`], or `other` (stored as 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct StatusLabel(u16);

impl StatusLabel {
    fn of(status: StatusCode) -> StatusLabel {
        let code = status.as_u16();
        StatusLabel(if STATUSES.contains(&code) { code } else { 0 })
    }
}

impl EncodeLabelValue for StatusLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        match self.0 {
            0 => std::fmt::Write::write_str(encoder, "other"),
            code => std::fmt::Write::write_fmt(encoder, format_args!("{code}")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: RouteKind,
    method: MethodLabel,
    status: StatusLabel,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: RouteKind,
}

/// The `outcome` label of garbage collections: `success`, `failure` or
/// `dry_run`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Garbage collection's metrics (see [`crate::gc`]).
#[derive(Debug, Default)]
struct GcMetrics {
    runs: Family<OutcomeLabels, Counter>,
    last_run: Gauge,
    last_duration: Gauge<f64, AtomicU64>,
    links_removed: Counter,
    blobs_removed: Counter,
    bytes_freed: Counter,
}

/// A gauge encoded as at least zero (see [`Metrics::uploads_open`]).
#[derive(Debug, Clone, Default)]
struct NonNegativeGauge(Arc<AtomicI64>);

impl NonNegativeGauge {
    fn get(&self) -> i64 {
        self.0.load(Relaxed).max(0)
    }
}

impl TypedMetric for NonNegativeGauge {
    const TYPE: MetricType = MetricType::Gauge;
}

impl EncodeMetric for NonNegativeGauge {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_gauge(&self.get())
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

fn duration_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// The registry's metrics: HTTP requests by route, method and status,
/// bytes and durations by route, requests in flight, upload sessions and
/// overload refusals. Shared by all requests (recording one is a few
/// atomic additions after a look-up of its label set).
///
/// | metric | type | labels |
/// |---|---|---|
/// | `wharf_http_requests_total` | counter | `route`, `method`, `status` |
/// | `wharf_http_request_bytes_total` | counter | `route` |
/// | `wharf_http_response_bytes_total` | counter | `route` |
/// | `wharf_http_request_duration_seconds` | histogram | `route` |
/// | `wharf_http_requests_in_flight` | gauge | |
/// | `wharf_upload_sessions_open` | gauge | |
/// | `wharf_upload_sessions_started_total` | counter | |
/// | `wharf_upload_sessions_completed_total` | counter | |
/// | `wharf_upload_sessions_cancelled_total` | counter | |
/// | `wharf_upload_sessions_expired_total` | counter | |
/// | `wharf_requests_rejected_overload_total` | counter | |
/// | `wharf_gc_runs_total` | counter | `outcome` |
/// | `wharf_gc_last_run_timestamp_seconds` | gauge | |
/// | `wharf_gc_last_run_duration_seconds` | gauge | |
/// | `wharf_gc_links_removed_total` | counter | |
/// | `wharf_gc_blobs_removed_total` | counter | |
/// | `wharf_gc_bytes_freed_total` | counter | |
///
/// `route` is a [`RouteKind`] label, `method` one of `GET`, `HEAD`, `PUT`,
/// `POST`, `PATCH`, `DELETE` and `OTHER`, `status` the response's code (a
/// code outside the usual set, such as 499 for a client that went away, is
/// `other`), `outcome` that of a garbage collection (`success`, `failure`,
/// or `dry_run`, which removes nothing and sets neither the last run nor
/// the removal counters). A series appears once it counts something.
///
/// A host application that serves its own metrics merges these into its
/// registry with [`register`](Self::register):
///
/// ```
/// use std::sync::Arc;
/// use wharf_server::prometheus_client::registry::Registry as MetricRegistry;
/// use wharf_server::{prometheus_client, Registry};
/// use wharf_storage::MemoryStorage;
///
/// let registry = Registry::builder(Arc::new(MemoryStorage::new())).build();
/// let mut host = MetricRegistry::default();
/// registry.metrics().register(&mut host);
///
/// let mut text = String::new();
/// prometheus_client::encoding::text::encode(&mut text, &host)?;
/// assert!(text.contains("wharf_upload_sessions_open 0"));
/// # Ok::<(), std::fmt::Error>(())
/// ```
pub struct Metrics {
    /// Wharf's own registry, which [`Metrics::render`] encodes.
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_bytes: Family<RouteLabels, Counter>,
    response_bytes: Family<RouteLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    in_flight: Gauge,
    uploads_open: NonNegativeGauge,
    uploads_started: Counter,
    uploads_completed: Counter,
    uploads_cancelled: Counter,
    uploads_expired: Counter,
    rejected_overload: Counter,
    gc: GcMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut metrics = Self {
            registry: Registry::default(),
            requests: Family::default(),
            request_bytes: Family::default(),
            response_bytes: Family::default(),
            durations: Family::new_with_constructor(duration_histogram),
            in_flight: Gauge::default(),
            uploads_open: NonNegativeGauge::default(),
            uploads_started: Counter::default(),
            uploads_completed: Counter::default(),
            uploads_cancelled: Counter::default(),
            uploads_expired: Counter::default(),
            rejected_overload: Counter::default(),
            gc: GcMetrics::default(),
        };
        let mut registry = Registry::default();
        metrics.register(&mut registry);
        metrics.registry = registry;
        metrics
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("in_flight", &self.in_flight.get())
            .field("uploads_open", &self.uploads_open.get())
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Wharf's metrics, and those of `collectors` (read at each scrape)
    /// in what [`render`](Self::render) encodes. The collectors are not
    /// part of what [`register`](Self::register) adds to a host's registry:
    /// register them there yourself.
    pub fn with_collectors(collectors: Vec<Box<dyn Collector>>) -> Self {
        let mut metrics = Metrics::default();
        for collector in collectors {
            metrics.registry.register_collector(collector);
        }
        metrics
    }

    /// The `Content-Type` of [`render`](Self::render)'s text: the
    /// Prometheus text format, version 0.0.4.
    pub const CONTENT_TYPE: &'static str =
        prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

    /// The `Content-Type` of [`render_openmetrics`](Self::render_openmetrics)'s
    /// text: OpenMetrics 1.0.0.
    pub const OPENMETRICS_CONTENT_TYPE: &'static str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// Registers Wharf's metrics in `registry`, under the `wharf` prefix
    /// (`wharf_http_requests_total`, ...), so that a host application's
    /// exposition includes them. The metrics are shared, not copied: the
    /// host's registry sees every later request. Register them once per
    /// registry (twice would expose each series twice); a
    /// [sub-registry](Registry::sub_registry_with_prefix) adds a prefix
    /// of the host's own, a [labelled
    /// one](Registry::sub_registry_with_label) a constant label.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix(PREFIX);
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            self.requests.clone(),
        );
        registry.register(
            "http_request_bytes",
            "Request body bytes received, by route",
            self.request_bytes.clone(),
        );
        registry.register(
            "http_response_bytes",
            "Response body bytes sent, by route",
            self.response_bytes.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time from request head to the end of the response body, by route",
            Unit::Seconds,
            self.durations.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "Requests being served",
            self.in_flight.clone(),
        );
        registry.register(
            "upload_sessions_open",
            "Blob upload sessions open (started by this process and not yet finished)",
            self.uploads_open.clone(),
        );
        registry.register(
            "upload_sessions_started",
            "Blob upload sessions started",
            self.uploads_started.clone(),
        );
        registry.register(
            "upload_sessions_completed",
            "Blob upload sessions completed into a verified blob",
            self.uploads_completed.clone(),
        );
        registry.register(
            "upload_sessions_cancelled",
            "Blob upload sessions cancelled by clients",
            self.uploads_cancelled.clone(),
        );
        registry.register(
            "upload_sessions_expired",
            "Blob upload sessions purged after expiring",
            self.uploads_expired.clone(),
        );
        registry.register(
            "requests_rejected_overload",
            "Requests refused with 429 because a concurrency limit was reached",
            self.rejected_overload.clone(),
        );
        let gc = &self.gc;
        registry.register("gc_runs", "Garbage collections by outcome", gc.runs.clone());
        registry.register_with_unit(
            "gc_last_run_timestamp",
            "When the last garbage collection ended, in seconds since the Unix epoch",
            Unit::Seconds,
            gc.last_run.clone(),
        );
        registry.register_with_unit(
            "gc_last_run_duration",
            "How long the last garbage collection took",
            Unit::Seconds,
            gc.last_duration.clone(),
        );
        registry.register(
            "gc_links_removed",
            "Repository links to blobs no manifest references, removed by garbage collection",
            gc.links_removed.clone(),
        );
        registry.register(
            "gc_blobs_removed",
            "Blobs removed by garbage collection",
            gc.blobs_removed.clone(),
        );
        registry.register(
            "gc_bytes_freed",
            "Bytes of the blobs removed by garbage collection",
            gc.bytes_freed.clone(),
        );
    }

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
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method: MethodLabel::of(method),
                status: StatusLabel::of(status),
            })
            .inc();
        let labels = RouteLabels { route };
        if bytes_in > 0 {
            self.request_bytes.get_or_create(&labels).inc_by(bytes_in);
        }
        if bytes_out > 0 {
            self.response_bytes.get_or_create(&labels).inc_by(bytes_out);
        }
        self.durations
            .get_or_create(&labels)
            .observe(duration.as_secs_f64());
    }

    pub(crate) fn request_started(&self) {
        self.in_flight.inc();
    }

    pub(crate) fn request_finished(&self) {
        self.in_flight.dec();
    }

    pub(crate) fn upload_started(&self) {
        self.uploads_started.inc();
        self.uploads_open.0.fetch_add(1, Relaxed);
    }

    pub(crate) fn upload_completed(&self) {
        self.uploads_completed.inc();
        self.uploads_open.0.fetch_sub(1, Relaxed);
    }

    pub(crate) fn upload_cancelled(&self) {
        self.uploads_cancelled.inc();
        self.uploads_open.0.fetch_sub(1, Relaxed);
    }

    /// Records upload sessions removed by the expiry purge.
    pub fn uploads_expired(&self, count: u64) {
        self.uploads_expired.inc_by(count);
        self.uploads_open
            .0
            .fetch_sub(i64::try_from(count).unwrap_or(i64::MAX), Relaxed);
    }

    pub(crate) fn rejected_overload(&self) {
        self.rejected_overload.inc();
    }

    /// Records a garbage collection that ended at `ended`: its report, or
    /// `None` if it failed.
    pub(crate) fn gc_finished(
        &self,
        dry_run: bool,
        report: Option<&crate::gc::GcReport>,
        ended: SystemTime,
    ) {
        let gc = &self.gc;
        let outcome = match (dry_run, report) {
            (true, _) => "dry_run",
            (false, Some(_)) => "success",
            (false, None) => "failure",
        };
        gc.runs.get_or_create(&OutcomeLabels { outcome }).inc();
        if dry_run {
            return;
        }
        let unix = ended
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        gc.last_run.set(unix);
        if let Some(report) = report {
            gc.last_duration.set(report.duration.as_secs_f64());
            gc.links_removed.inc_by(report.links_removed);
            gc.blobs_removed.inc_by(report.blobs_removed);
            gc.bytes_freed.inc_by(report.bytes_freed);
        }
    }

    /// Upload sessions opened and not yet completed, cancelled or purged,
    /// as seen by this process (sessions left by an earlier process are
    /// counted only when purged, so the gauge never goes below zero).
    pub fn uploads_open(&self) -> i64 {
        self.uploads_open.get()
    }

    /// The metrics in the Prometheus text exposition format (version
    /// 0.0.4, [`CONTENT_TYPE`](Self::CONTENT_TYPE)), as `/metrics` serves
    /// them by default.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing to a String cannot fail, nor can Wharf's metrics.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }

    /// The metrics in the OpenMetrics text format
    /// ([`OPENMETRICS_CONTENT_TYPE`](Self::OPENMETRICS_CONTENT_TYPE)), as
    /// `/metrics` serves them to a scraper that asks for it in `Accept`.
    pub fn render_openmetrics(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that each of `lines` is a whole line of `text`.
    fn assert_lines(text: &str, lines: &[&str]) {
        for line in lines {
            assert!(text.lines().any(|l| l == *line), "missing {line}\n{text}");
        }
    }

    #[test]
    fn requests_are_counted_by_route_method_and_status() {
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
            RouteKind::NotFound,
            &Method::OPTIONS,
            StatusCode::IM_A_TEAPOT,
            0,
            0,
            Duration::from_secs(500),
        );
        metrics.record_request(
            RouteKind::ApiVersions,
            &Method::GET,
            StatusCode::OK,
            0,
            2,
            Duration::from_millis(1),
        );
        metrics.upload_started();
        metrics.upload_started();
        metrics.upload_completed();
        let text = metrics.render();
        assert_lines(
            &text,
            &[
                "# HELP wharf_http_requests_total HTTP requests by route, method and status.",
                "# TYPE wharf_http_requests_total counter",
                "wharf_http_requests_total{route=\"/v2/{name}/manifests/{reference}\",method=\"GET\",status=\"200\"} 3",
                "wharf_http_requests_total{route=\"/v2/{name}/blobs/uploads/{id}\",method=\"PATCH\",status=\"416\"} 1",
                "wharf_http_requests_total{route=\"not_found\",method=\"OTHER\",status=\"other\"} 1",
                "wharf_http_requests_total{route=\"api_versions\",method=\"GET\",status=\"200\"} 1",
                "# TYPE wharf_http_response_bytes_total counter",
                "wharf_http_response_bytes_total{route=\"/v2/{name}/manifests/{reference}\"} 1536",
                "wharf_http_request_bytes_total{route=\"/v2/{name}/blobs/uploads/{id}\"} 100",
                "# TYPE wharf_http_request_duration_seconds histogram",
                "wharf_http_request_duration_seconds_bucket{route=\"/v2/{name}/manifests/{reference}\",le=\"0.0005\"} 3",
                "wharf_http_request_duration_seconds_bucket{route=\"not_found\",le=\"120\"} 0",
                "wharf_http_request_duration_seconds_bucket{route=\"not_found\",le=\"+Inf\"} 1",
                "wharf_http_request_duration_seconds_count{route=\"/v2/{name}/manifests/{reference}\"} 3",
                "# TYPE wharf_http_requests_in_flight gauge",
                "wharf_http_requests_in_flight 0",
                "# TYPE wharf_upload_sessions_open gauge",
                "wharf_upload_sessions_open 1",
                "# TYPE wharf_upload_sessions_started_total counter",
                "wharf_upload_sessions_started_total 2",
                "wharf_upload_sessions_completed_total 1",
                "wharf_upload_sessions_cancelled_total 0",
                "wharf_upload_sessions_expired_total 0",
                "wharf_requests_rejected_overload_total 0",
            ],
        );
        let sum = text
            .lines()
            .find_map(|l| {
                l.strip_prefix(
                    "wharf_http_request_duration_seconds_sum{route=\"/v2/{name}/manifests/{reference}\"} ",
                )
            })
            .and_then(|v| v.parse::<f64>().ok())
            .expect("sum");
        assert!((sum - 0.0009).abs() < 1e-9, "{sum}");
        assert!(!text.contains("# EOF"));
    }

    #[test]
    fn the_openmetrics_rendering_has_the_same_samples() {
        let metrics = Metrics::default();
        metrics.record_request(
            RouteKind::Token,
            &Method::GET,
            StatusCode::OK,
            0,
            10,
            Duration::from_millis(3),
        );
        let text = metrics.render_openmetrics();
        assert_lines(
            &text,
            &[
                "# TYPE wharf_http_requests counter",
                "wharf_http_requests_total{route=\"token\",method=\"GET\",status=\"200\"} 1",
                "# UNIT wharf_http_request_duration_seconds seconds",
                "wharf_http_request_duration_seconds_count{route=\"token\"} 1",
                "# EOF",
            ],
        );
    }

    #[test]
    fn every_status_outside_the_set_is_other() {
        assert_eq!(StatusLabel::of(StatusCode::NOT_FOUND), StatusLabel(404));
        for code in [100, 302, 409, 499, 502] {
            let status = StatusCode::from_u16(code).expect("status");
            assert_eq!(StatusLabel::of(status), StatusLabel(0), "{code}");
        }
    }

    #[test]
    fn the_open_uploads_gauge_never_goes_negative() {
        let metrics = Metrics::default();
        metrics.uploads_expired(5);
        assert_eq!(metrics.uploads_open(), 0);
        assert_lines(&metrics.render(), &["wharf_upload_sessions_open 0"]);
    }

    #[test]
    fn a_host_registry_gets_the_same_metrics() {
        let metrics = Metrics::default();
        let mut host = Registry::default();
        let requests: Counter = Counter::default();
        host.register("host_requests", "The host's own", requests.clone());
        requests.inc();
        metrics.register(host.sub_registry_with_label(("instance".into(), "a".into())));
        // Recorded after registering: the host sees it all the same.
        metrics.record_request(
            RouteKind::PagePackage,
            &Method::GET,
            StatusCode::OK,
            0,
            0,
            Duration::from_millis(1),
        );
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &host).expect("encode");
        assert_lines(
            &text,
            &[
                "host_requests_total 1",
                "wharf_http_requests_total{instance=\"a\",route=\"page_package\",method=\"GET\",status=\"200\"} 1",
                "wharf_upload_sessions_open{instance=\"a\"} 0",
            ],
        );
    }
}
