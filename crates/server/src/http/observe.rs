//! One access-log line and one metrics record per request.
//!
//! The record is made when the response body ends (or is dropped, when the
//! client goes away), so the duration and byte counts cover the whole
//! exchange, blob streams included. The log line is emitted at `INFO` with
//! the target `wharf_server::access`; filter it like any other target.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::MatchedPath;
use http::{Method, Request, Response, StatusCode, Uri};
use tower::{Layer, Service};

use crate::distribution::route::RouteKind;
use crate::http::metrics::Metrics;
use crate::http::tap::{Polled, Tap, Tapped};

/// A tower layer recording every request in [`Metrics`] and the access log.
///
/// Apply it with [`Router::layer`](axum::Router::layer) (after the routes
/// and the fallback), so that it wraps each route and sees the
/// [`MatchedPath`] its `route` label comes from.
#[derive(Clone)]
pub(crate) struct ObserveLayer {
    pub(crate) metrics: Arc<Metrics>,
    /// Whether the router serves the package REST API (see
    /// [`RouteKind::of_request`]).
    pub(crate) rest_api: bool,
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            metrics: self.metrics.clone(),
            rest_api: self.rest_api,
        }
    }
}

#[derive(Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    metrics: Arc<Metrics>,
    rest_api: bool,
}

impl<S> Service<Request<Body>> for Observe<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let start = Instant::now();
        // Applied with `Router::layer`, this runs after routing: the route
        // the request matched (absent for the fallback) names the endpoint.
        let route = RouteKind::of_request(
            request
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str),
            request.uri().path(),
            self.rest_api,
        );
        let method = request.method().clone();
        let uri = request.uri().clone();
        self.metrics.request_started();

        // Count request bytes only when there is a body to count.
        let has_body = http_body::Body::size_hint(request.body()).upper() != Some(0);
        let bytes_in = has_body.then(|| Arc::new(AtomicU64::new(0)));
        let request = match &bytes_in {
            Some(counter) => request.map(|body| Tapped::wrap(body, Counted(counter.clone()))),
            None => request,
        };

        // Until the handler answers, the request counts as abandoned by the
        // client (nginx's 499): hyper drops this future when the connection
        // closes mid-request, and the guard then records that.
        let guard = Pending(Some(Record {
            metrics: self.metrics.clone(),
            route,
            method,
            uri,
            status: CLIENT_CLOSED,
            start,
            bytes_in,
            bytes_out: 0,
        }));
        // The clone that was made ready is the one to call (tower's rule).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let mut guard = guard;
            let response = inner.call(request).await?;
            let mut record = guard.0.take();
            if let Some(record) = &mut record {
                record.status = response.status();
            }
            Ok(response.map(|body| Tapped::wrap(body, Observed(record))))
        })
    }
}

/// The status recorded for a request whose client went away before the
/// response head was ready.
const CLIENT_CLOSED: StatusCode = match StatusCode::from_u16(499) {
    Ok(status) => status,
    Err(_) => StatusCode::BAD_REQUEST,
};

/// Finishes the record if the request future is dropped unanswered.
struct Pending(Option<Record>);

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(record) = self.0.take() {
            record.finish(false);
        }
    }
}

/// Counts the data bytes of a request body as they are read.
struct Counted(Arc<AtomicU64>);

impl Tap for Counted {
    fn polled(&mut self, poll: &Polled) {
        if let Poll::Ready(Some(Ok(frame))) = poll {
            if let Some(data) = frame.data_ref() {
                self.0.fetch_add(data.len() as u64, Relaxed);
            }
        }
    }
}

struct Record {
    metrics: Arc<Metrics>,
    route: RouteKind,
    method: Method,
    uri: Uri,
    status: StatusCode,
    start: Instant,
    bytes_in: Option<Arc<AtomicU64>>,
    bytes_out: u64,
}

impl Record {
    fn finish(self, complete: bool) {
        let duration = self.start.elapsed();
        let bytes_in = self.bytes_in.map_or(0, |c| c.load(Relaxed));
        self.metrics.request_finished();
        self.metrics.record_request(
            self.route,
            &self.method,
            self.status,
            bytes_in,
            self.bytes_out,
            duration,
        );
        tracing::info!(
            target: "wharf_server::access",
            method = %self.method,
            path = self.uri.path(),
            route = self.route.template(),
            status = self.status.as_u16(),
            bytes_in,
            bytes_out = self.bytes_out,
            duration_ms = duration.as_secs_f64() * 1e3,
            complete,
            "request"
        );
    }
}

/// Watches the response body, finishing the record when it ends or is
/// dropped.
struct Observed(Option<Record>);

impl Tap for Observed {
    fn polled(&mut self, poll: &Polled) {
        match poll {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(data), Some(record)) = (frame.data_ref(), self.0.as_mut()) {
                    record.bytes_out += data.len() as u64;
                }
            }
            Poll::Ready(None) => {
                if let Some(record) = self.0.take() {
                    record.finish(true);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(record) = self.0.take() {
                    record.finish(false);
                }
            }
            Poll::Pending => {}
        }
    }

    fn dropped(&mut self, ended: bool) {
        if let Some(record) = self.0.take() {
            // Hyper does not poll a body it knows is empty (HEAD, 204):
            // that is a complete exchange, not an aborted one.
            record.finish(ended);
        }
    }
}
