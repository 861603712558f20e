//! The [`Registry`] value: storage, authorizer, limits and metrics, and the
//! router serving the API over them.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderMap, Method, StatusCode};
use wharf_reference::RepositoryName;
use wharf_storage::Storage;

use crate::builder::RegistryBuilder;
use crate::distribution::auth::{Access, Action, Authorizer, Repo};
use crate::distribution::error::{ApiError, ErrorCode};
use crate::distribution::hooks::ManifestHooks;
use crate::distribution::name_locks::NameLocks;
use crate::distribution::redirect::BlobRedirects;
use crate::distribution::route::Route;
use crate::distribution::upload_quota::{client_key, SlotPermit, UploadSessions, UploadSlots};
use crate::distribution::{blobs, listing, manifests, uploads};
#[cfg(feature = "ghcr")]
use crate::ghcr::accounts::Accounts;
use crate::http::headers::{API_VERSION, NOSNIFF};
use crate::http::metrics::Metrics;
use crate::http::observe::ObserveLayer;
use crate::lease::WorkLease;

/// Limits that keep one client from exhausting the registry.
///
/// ```
/// use std::time::Duration;
/// use wharf_server::Limits;
///
/// let mut limits = Limits::default();
/// limits.max_manifest_size = 1 << 20;
/// limits.body_idle_timeout = Duration::from_secs(10);
/// assert_eq!(limits.request_timeout, Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest manifest accepted, in bytes (default 4 MiB, as CNCF
    /// Distribution and the OCI specification suggest). Larger ones get 413
    /// `SIZE_INVALID`.
    pub max_manifest_size: usize,
    /// How long a request that does not stream a blob upload may take to
    /// produce its response head (default 60 s). Blob downloads are bounded
    /// by this until their first byte; uploads by `body_idle_timeout`.
    pub request_timeout: Duration,
    /// How long a request body may send nothing before the request is
    /// aborted (default 30 s). An upload chunk cut short this way keeps the
    /// bytes received, so the client can resume.
    pub body_idle_timeout: Duration,
    /// How long an upload session may stay untouched before
    /// [`Registry::purge_expired_uploads`] removes it (default 24 h).
    pub upload_expiry: Duration,
    /// The slowest a request body may arrive, in bytes per second, averaged
    /// over each [`min_body_rate_window`](Self::min_body_rate_window)
    /// (default 1 KiB/s; 0 turns the check off). A body that delivers less
    /// in a window is cut with 408, keeping the bytes received, so that a
    /// client trickling its upload cannot hold an upload slot.
    pub min_body_rate: u64,
    /// The window [`min_body_rate`](Self::min_body_rate) is measured over
    /// (default 30 s), counted from the start of the body, window after
    /// window.
    pub min_body_rate_window: Duration,
    /// How long one request body may take in all (default 4 h), however
    /// fast it arrives; beyond it the request is cut with 408 (an upload
    /// chunk keeps the bytes received).
    pub body_deadline: Duration,
    /// How many requests may stream upload data at once (default 256).
    /// Beyond it, new ones get 429 `TOOMANYREQUESTS` with `Retry-After`.
    pub max_concurrent_uploads: usize,
    /// The share of [`max_concurrent_uploads`](Self::max_concurrent_uploads)
    /// one client (a principal, or an IP address for anonymous requests)
    /// may hold, in percent (default 50; at least one slot). Beyond it the
    /// client gets 429 while the other slots stay free for others.
    pub upload_share_percent: u8,
    /// How many upload sessions may be open at once in all (default
    /// 10,000). Beyond it, starting one gets 429 `TOOMANYREQUESTS` with
    /// `Retry-After`. Sessions in storage from before a restart count.
    pub max_upload_sessions: usize,
    /// How many upload sessions one client may have open at once (default
    /// 200); finishing or cancelling one frees its place.
    pub max_upload_sessions_per_client: usize,
    /// The largest page of tags or repositories one request may ask for
    /// with `n` (default 10,000); a larger `n` is lowered to it and the
    /// `Link` header points at the rest.
    pub max_page_size: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_manifest_size: 4 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            body_idle_timeout: Duration::from_secs(30),
            upload_expiry: Duration::from_secs(24 * 60 * 60),
            min_body_rate: 1024,
            min_body_rate_window: Duration::from_secs(30),
            body_deadline: Duration::from_secs(4 * 60 * 60),
            max_concurrent_uploads: 256,
            upload_share_percent: 50,
            max_upload_sessions: 10_000,
            max_upload_sessions_per_client: 200,
            max_page_size: 10_000,
        }
    }
}

/// A registry: storage, an authorizer, limits and metrics. Cheap to clone
/// (one `Arc`); [`Registry::router`] serves the OCI Distribution API over it.
///
/// ```no_run
/// use std::sync::Arc;
/// use wharf_server::Registry;
/// use wharf_storage::MemoryStorage;
///
/// # async fn serve() -> std::io::Result<()> {
/// let registry = Registry::builder(Arc::new(MemoryStorage::new()))
///     .metrics_endpoint(true)
///     .build();
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
/// axum::serve(listener, registry.router()).await
/// # }
/// ```
#[derive(Clone)]
pub struct Registry {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) authorizer: Arc<dyn Authorizer>,
    pub(crate) hooks: Arc<dyn ManifestHooks>,
    #[cfg(feature = "ghcr")]
    pub(crate) accounts: Option<Accounts>,
    pub(crate) limits: Limits,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) upload_slots: UploadSlots,
    pub(crate) upload_sessions: UploadSessions,
    pub(crate) metrics_endpoint: bool,
    pub(crate) name_locks: NameLocks,
    pub(crate) lease: Arc<dyn WorkLease>,
    pub(crate) redirects: Option<Arc<dyn BlobRedirects>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("limits", &self.inner.limits)
            .field("metrics", &self.inner.metrics)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// A builder over `storage`, with the default authorizer ([`AllowAll`](crate::AllowAll))
    /// and limits.
    pub fn builder(storage: Arc<dyn Storage>) -> RegistryBuilder {
        RegistryBuilder::new(storage)
    }

    /// The axum router serving the API: `/v2/` and everything under it (and
    /// `/metrics` when enabled), with one access-log line and one metrics
    /// record per request.
    pub fn router(&self) -> Router {
        let mut router = Router::new()
            .route("/v2", any(dispatch))
            .route("/v2/", any(dispatch))
            .route("/v2/{*path}", any(dispatch));
        if self.inner.metrics_endpoint {
            router = router.route("/metrics", get(metrics));
        }
        #[cfg(feature = "ghcr")]
        {
            router = self.ghcr_routes(router);
        }
        let router = router.fallback(not_found).with_state(self.clone());
        #[cfg(feature = "ghcr")]
        let router = router.merge(self.page_routes());
        #[cfg(feature = "ghcr")]
        let rest_api = self.inner.accounts.is_some();
        #[cfg(not(feature = "ghcr"))]
        let rest_api = false;
        router.layer(ObserveLayer {
            metrics: self.inner.metrics.clone(),
            rest_api,
        })
    }

    /// A router serving only `GET /metrics` (the Prometheus text format),
    /// for a listener of its own, such as an address only the monitoring
    /// network reaches, whatever [`RegistryBuilder::metrics_endpoint`] says
    /// for [`Registry::router`]. The metrics name endpoints and counts, not
    /// packages, but a registry with private packages need not show its
    /// traffic to anyone who can reach `/v2/`.
    pub fn metrics_router(&self) -> Router {
        Router::new()
            .route("/metrics", get(metrics))
            .fallback(not_found)
            .with_state(self.clone())
    }

    /// The storage the registry serves.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The registry's metrics (render them with [`Metrics::render`]).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// Asks the authorizer whether the request may do `access`.
    ///
    /// A repository name is first checked by the hooks
    /// ([`ManifestHooks::check_name`]): with
    /// [accounts](RegistryBuilder::accounts) on, a repository is
    /// `OWNER/PACKAGE`, and a name of one component (`bob`) is refused
    /// first, whoever asks, with 400 `NAME_INVALID`.
    pub async fn authorize(&self, request: &Parts, access: Access<'_>) -> Result<(), ApiError> {
        if let Access::Repository { name, .. } = access {
            self.inner.hooks.check_name(name)?;
        }
        self.inner.authorizer.authorize(request, access).await
    }

    /// Where blob downloads are redirected, if anywhere (see
    /// [`RegistryBuilder::blob_redirects`]).
    pub(crate) fn blob_redirects(&self) -> Option<&Arc<dyn BlobRedirects>> {
        self.inner.redirects.as_ref()
    }

    /// The hooks a model plugged in (see [`RegistryBuilder::hooks`]).
    pub fn hooks(&self) -> &Arc<dyn ManifestHooks> {
        &self.inner.hooks
    }

    /// Removes upload sessions untouched for longer than
    /// [`Limits::upload_expiry`], returning how many were removed.
    pub async fn purge_expired_uploads(&self) -> Result<usize, wharf_storage::Error> {
        let purged = self
            .inner
            .storage
            .purge_expired_uploads(self.inner.limits.upload_expiry)
            .await?;
        self.inner.metrics.uploads_expired(purged as u64);
        // Frees the places of the purged sessions, and of those removed
        // with their package.
        if let Err(err) = self
            .inner
            .upload_sessions
            .reconcile(&*self.inner.storage)
            .await
        {
            tracing::warn!(error = ?err, "recounting open upload sessions failed");
        }
        Ok(purged)
    }

    /// Spawns a task on the current tokio runtime that calls
    /// [`purge_expired_uploads`](Self::purge_expired_uploads) every
    /// `interval`, logging what it removed and any failure. Abort the
    /// returned handle to stop it.
    pub fn spawn_upload_purger(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        self.spawn_every("purge-uploads", interval, |registry| async move {
            match registry.purge_expired_uploads().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "removed expired upload sessions"),
                Err(err) => tracing::warn!(error = %err, "purging expired uploads failed"),
            }
        })
    }

    /// Spawns a task on the current tokio runtime that runs `task` on a
    /// clone of the registry every `interval` (a missed tick is delayed,
    /// not made up), each time only if this process gets the
    /// [`WorkLease`] on `job`.
    pub(crate) fn spawn_every<F, Fut>(
        &self,
        job: &'static str,
        interval: Duration,
        task: F,
    ) -> tokio::task::JoinHandle<()>
    where
        F: FnMut(Registry) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        self.spawn_every_from(job, tokio::time::Instant::now(), interval, task)
    }

    /// [`spawn_every`](Self::spawn_every), the first run at `first`
    /// rather than at once.
    pub(crate) fn spawn_every_from<F, Fut>(
        &self,
        job: &'static str,
        first: tokio::time::Instant,
        interval: Duration,
        mut task: F,
    ) -> tokio::task::JoinHandle<()>
    where
        F: FnMut(Registry) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let registry = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval_at(first, interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(lease) = registry.inner.lease.try_acquire(job).await else {
                    tracing::debug!(job, "another process holds this job's lease; skipped");
                    continue;
                };
                task(registry.clone()).await;
                drop(lease);
            }
        })
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The locks that order content writes against package deletes and
    /// restores.
    pub(crate) fn name_locks(&self) -> &NameLocks {
        &self.inner.name_locks
    }

    /// Who the request counts as for the upload shares (see
    /// [`client_key`]).
    pub(crate) async fn client_key(&self, parts: &Parts) -> String {
        client_key(&*self.inner.authorizer, parts).await
    }

    /// A slot to stream upload data for the request's client, or 429 when
    /// too many uploads are in progress or the client holds its share.
    pub(crate) async fn upload_permit(&self, parts: &Parts) -> Result<SlotPermit, ApiError> {
        let key = self.client_key(parts).await;
        self.inner.upload_slots.acquire(&key).inspect_err(|_| {
            self.inner.metrics.rejected_overload();
        })
    }
}

async fn dispatch(State(registry): State<Registry>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut response = match Route::parse(parts.uri.path()) {
        Ok(Some(route)) => {
            let streams_upload = matches!(route, Route::Upload { .. } | Route::UploadStart { .. });
            let handled = handle(&registry, route, parts, body);
            let result = if streams_upload {
                // Bounded by the body's pace and deadline instead (see
                // `Limits::min_body_rate`): a large upload may take longer
                // than the request timeout.
                handled.await
            } else {
                match tokio::time::timeout(registry.inner.limits.request_timeout, handled).await {
                    Ok(result) => result,
                    Err(_) => Err(ApiError::new(
                        ErrorCode::Unknown,
                        "the request took longer than the registry's request timeout",
                    )
                    .with_status(StatusCode::SERVICE_UNAVAILABLE)),
                }
            };
            result.unwrap_or_else(IntoResponse::into_response)
        }
        Ok(None) => not_found().await,
        Err(err) => err.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(API_VERSION.0, API_VERSION.1);
    headers.insert(NOSNIFF.0, NOSNIFF.1);
    response
}

async fn handle(
    registry: &Registry,
    route: Route,
    parts: Parts,
    body: Body,
) -> Result<Response, ApiError> {
    let method = parts.method.clone();
    let allow = route.allowed_methods();
    let _content_write = match written_name(&route, &method) {
        Some(name) => Some(registry.name_locks().content_write(name).await),
        None => None,
    };
    // Every repository handler is given a `Repo`, so none can forget to
    // authorize. A manifest reference is parsed first, as before any
    // authorization.
    let repo = |name, action| Repo::authorize(registry, &parts, name, action);
    match (route, method) {
        (Route::Base, Method::GET | Method::HEAD) => {
            registry.authorize(&parts, Access::Base).await?;
            Ok(([(CONTENT_TYPE, "application/json")], "{}").into_response())
        }
        (Route::Catalog, Method::GET) => listing::catalog(registry, &parts).await,
        (Route::TagsList { name }, Method::GET) => {
            listing::tags(repo(name, Action::Pull).await?).await
        }
        (Route::Referrers { name, digest }, Method::GET) => {
            listing::referrers(repo(name, Action::Pull).await?, digest).await
        }
        (Route::Manifest { name, reference }, Method::GET | Method::HEAD) => {
            manifests::get(repo(name, Action::Pull).await?, reference).await
        }
        (Route::Manifest { name, reference }, Method::PUT) => {
            let reference = reference.reference()?;
            manifests::put(repo(name, Action::Push).await?, body, reference).await
        }
        (Route::Manifest { name, reference }, Method::DELETE) => {
            let reference = reference.reference()?;
            manifests::delete(repo(name, Action::Delete).await?, reference).await
        }
        (Route::Blob { name, digest }, Method::GET | Method::HEAD) => {
            blobs::get(repo(name, Action::Pull).await?, digest).await
        }
        (Route::Blob { name, digest }, Method::DELETE) => {
            blobs::delete(repo(name, Action::Delete).await?, digest).await
        }
        (Route::UploadStart { name }, Method::POST) => {
            uploads::start(repo(name, Action::Push).await?, body).await
        }
        (Route::Upload { name, id }, Method::PATCH) => {
            uploads::patch(repo(name, Action::Push).await?, body, id).await
        }
        (Route::Upload { name, id }, Method::PUT) => {
            uploads::put(repo(name, Action::Push).await?, body, id).await
        }
        (Route::Upload { name, id }, Method::GET) => {
            uploads::status(repo(name, Action::Push).await?, id).await
        }
        (Route::Upload { name, id }, Method::DELETE) => {
            uploads::cancel(repo(name, Action::Push).await?, id).await
        }
        _ => Err(ApiError::method_not_allowed()
            .with_header(http::header::ALLOW, HeaderValue::from_static(allow))),
    }
}

/// The repository a request may write content under (see
/// [`NameLocks`]): manifest pushes and deletes, blob deletes, and every
/// upload request but a status check.
fn written_name<'r>(route: &'r Route, method: &Method) -> Option<&'r RepositoryName> {
    match (route, method) {
        (Route::Manifest { name, .. }, &Method::PUT | &Method::DELETE)
        | (Route::Blob { name, .. }, &Method::DELETE)
        | (Route::UploadStart { name }, &Method::POST)
        | (Route::Upload { name, .. }, &Method::PATCH | &Method::PUT | &Method::DELETE) => {
            Some(name)
        }
        _ => None,
    }
}

/// `GET /metrics`: the Prometheus text format, or OpenMetrics for a
/// scraper whose `Accept` names it first (as Prometheus does when it
/// prefers it).
async fn metrics(State(registry): State<Registry>, headers: HeaderMap) -> Response {
    let metrics = &registry.inner.metrics;
    let (content_type, text) = if wants_openmetrics(&headers) {
        (
            Metrics::OPENMETRICS_CONTENT_TYPE,
            metrics.render_openmetrics(),
        )
    } else {
        (Metrics::CONTENT_TYPE, metrics.render())
    };
    ([(CONTENT_TYPE, content_type)], text).into_response()
}

/// Whether the `Accept` header's first media type is OpenMetrics text.
fn wants_openmetrics(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .and_then(|accept| accept.split(',').next())
        .is_some_and(|first| {
            first.split(';').next().is_some_and(|media| {
                media
                    .trim()
                    .eq_ignore_ascii_case("application/openmetrics-text")
            })
        })
}

async fn not_found() -> Response {
    ApiError::new(
        ErrorCode::Unsupported,
        "no such endpoint in the OCI Distribution API",
    )
    .with_status(StatusCode::NOT_FOUND)
    .into_response()
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use tower::ServiceExt;
    use wharf_storage::MemoryStorage;

    use super::*;
    use crate::distribution::auth::denied;

    /// Refuses every request on `locked/...`.
    struct LockedNamespace;

    #[async_trait]
    impl Authorizer for LockedNamespace {
        async fn authorize(&self, _request: &Parts, access: Access<'_>) -> Result<(), ApiError> {
            match access {
                Access::Repository { name, .. } if name.namespace() == "locked" => {
                    Err(denied("locked"))
                }
                _ => Ok(()),
            }
        }
    }

    /// Refuses the name `frozen/...`, whoever asks.
    struct FrozenNamespace;

    impl ManifestHooks for FrozenNamespace {
        fn check_name(&self, name: &RepositoryName) -> Result<(), ApiError> {
            if name.namespace() == "frozen" {
                return Err(ApiError::new(ErrorCode::NameInvalid, "frozen"));
            }
            Ok(())
        }
    }

    async fn statuses(registry: Registry) -> Vec<StatusCode> {
        let mut statuses = Vec::new();
        for name in ["locked/app", "frozen/app", "open/app"] {
            let request = Request::get(format!("/v2/{name}/tags/list"))
                .body(Body::empty())
                .expect("request");
            let response = registry.router().oneshot(request).await.expect("response");
            statuses.push(response.status());
        }
        statuses
    }

    #[tokio::test]
    async fn authorizer_and_hooks_apply_whichever_is_set_first() {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let authorizer_first = Registry::builder(storage.clone())
            .authorizer(Arc::new(LockedNamespace))
            .hooks(Arc::new(FrozenNamespace))
            .build();
        let hooks_first = Registry::builder(storage)
            .hooks(Arc::new(FrozenNamespace))
            .authorizer(Arc::new(LockedNamespace))
            .build();
        let expected = [
            StatusCode::FORBIDDEN,
            StatusCode::BAD_REQUEST,
            StatusCode::NOT_FOUND,
        ];
        assert_eq!(statuses(authorizer_first).await, expected);
        assert_eq!(statuses(hooks_first).await, expected);
    }
}
