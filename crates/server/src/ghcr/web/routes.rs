//! [`PackagePages`]: the routes, their handlers and the HTTP responses
//! (headers, the style sheet asset, 404 and 500 pages).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, HOST};
use http::request::Parts;
use http::StatusCode;
use maud::Markup;
use wharf_auth::Login;
use wharf_packages::{PackageQuery, PackageRecord, PackageStore, PageRequest, VersionQuery};
use wharf_reference::RepositoryName;

use super::access::{PageAccess, StoreCredentials};
use super::templates;
use super::view::PackageView;
use super::{PageError, MAX_PACKAGES, MAX_VERSIONS, STYLE, STYLE_PATH};

/// The pages' `Content-Security-Policy`: no script, no inline style, the
/// style sheet from this origin only, images only inline (`data:`).
pub(super) const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

impl crate::Registry {
    /// The package pages of this registry, when it has
    /// [accounts](crate::RegistryBuilder::accounts): over its store, with
    /// its access rules, pull commands naming its public URL's host.
    pub fn package_pages(&self) -> Option<PackagePages> {
        self.accounts().map(|accounts| {
            PackagePages::new(accounts.store().clone())
                .access(Arc::new(accounts.clone()))
                .public_host(accounts.public_url())
        })
    }

    /// The routes of [`package_pages`](Self::package_pages), or none.
    pub(crate) fn page_routes(&self) -> Router {
        self.package_pages()
            .map_or_else(Router::new, |pages| pages.router())
    }
}

/// The package pages of a registry: build one over the package store,
/// then serve [`router`](Self::router) (merged into the registry's own).
///
/// Cheap to clone.
#[derive(Clone)]
pub struct PackagePages {
    store: Arc<dyn PackageStore>,
    access: Arc<dyn PageAccess>,
    public_host: Option<Arc<str>>,
}

impl std::fmt::Debug for PackagePages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackagePages")
            .field("public_host", &self.public_host)
            .finish_non_exhaustive()
    }
}

impl PackagePages {
    /// Pages over `store`, deciding access with [`StoreCredentials`], with
    /// pull commands naming the host the request was sent to.
    pub fn new(store: Arc<dyn PackageStore>) -> PackagePages {
        PackagePages {
            access: Arc::new(StoreCredentials::new(store.clone())),
            store,
            public_host: None,
        }
    }

    /// The registry host the pull commands name (`registry.example`,
    /// `registry.example:5000`), instead of the request's `Host` header.
    #[must_use]
    pub fn public_host(mut self, host: impl Into<String>) -> PackagePages {
        let host = host.into();
        let host = host
            .trim()
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/');
        self.public_host = Some(host.into());
        self
    }

    /// Who may see which page (default: [`StoreCredentials`]).
    #[must_use]
    pub fn access(mut self, access: Arc<dyn PageAccess>) -> PackagePages {
        self.access = access;
        self
    }

    /// The routes:
    ///
    /// | path | page |
    /// |---|---|
    /// | `/{owner}/packages/container/{name}` | a package (`{name}` may contain `/`, encoded as `%2F` or not) |
    /// | `/{owner}/packages` | an owner's packages |
    /// | `/{owner}?tab=packages` | the same (other `/{owner}` requests: 404) |
    /// | `/_wharf/style.css` | the pages' style sheet (cacheable, the same for everyone) |
    ///
    /// Static routes of a router this is merged into (`/v2/`, `/token`,
    /// `/metrics`, ...) take precedence over `/{owner}`.
    pub fn router(&self) -> Router {
        Router::new()
            .route(STYLE_PATH, get(style_sheet))
            .route("/{owner}/packages/container/{*name}", get(package_page))
            .route("/{owner}/packages", get(owner_packages))
            .route("/{owner}/packages/", get(owner_packages))
            .route("/{owner}", get(owner_tab))
            .with_state(self.clone())
    }

    /// The host for pull commands: the configured one, else the request's
    /// `Host` when it looks like a host, else `localhost`.
    fn host_for(&self, request: &Parts) -> String {
        if let Some(host) = &self.public_host {
            return host.to_string();
        }
        request
            .headers
            .get(HOST)
            .and_then(|v| v.to_str().ok())
            .filter(|h| is_plausible_host(h))
            .map_or_else(|| "localhost".to_owned(), str::to_owned)
    }

    /// The live package `name` when the request may see it.
    async fn visible_package(
        &self,
        request: &Parts,
        name: &RepositoryName,
    ) -> Result<Option<PackageRecord>, PageError> {
        if !self.access.may_view(request, name).await? {
            return Ok(None);
        }
        Ok(self.store.package(name).await?)
    }
}

/// A host name or address with an optional port, and nothing else.
pub(super) fn is_plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

async fn package_page(
    State(pages): State<PackagePages>,
    Path((owner, name)): Path<(String, String)>,
    request: Parts,
) -> Result<Response, PageError> {
    let full = format!("{}/{}", owner, name.trim_end_matches('/')).to_ascii_lowercase();
    let Ok(name) = RepositoryName::parse(&full) else {
        return Ok(not_found());
    };
    let Some(package) = pages.visible_package(&request, &name).await? else {
        return Ok(not_found());
    };
    let first = PageRequest::first(MAX_VERSIONS);
    let versions = match pages
        .store
        .list_versions(&name, VersionQuery::active(), &first)
        .await
    {
        Ok(page) => page,
        Err(err) if err.is_not_found() => return Ok(not_found()),
        Err(err) => return Err(err.into()),
    };
    let host = pages.host_for(&request);
    Ok(html_response(
        StatusCode::OK,
        templates::package_page(&PackageView {
            package: &package,
            versions: &versions.items,
            more_versions: versions.next.is_some(),
            host: &host,
        }),
    ))
}

async fn owner_tab(
    state: State<PackagePages>,
    owner: Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request: Parts,
) -> Result<Response, PageError> {
    if query.get("tab").map(String::as_str) == Some("packages") {
        owner_packages(state, owner, request).await
    } else {
        Ok(not_found())
    }
}

async fn owner_packages(
    State(pages): State<PackagePages>,
    Path(owner): Path<String>,
    request: Parts,
) -> Result<Response, PageError> {
    let Ok(owner) = Login::parse(&owner) else {
        return Ok(not_found());
    };
    if pages.store.account(&owner).await?.is_none() {
        return Ok(not_found());
    }
    let first = PageRequest::first(MAX_PACKAGES);
    let listed = pages
        .store
        .list_packages(&owner, PackageQuery::active(), &first)
        .await?;
    let mut visible = Vec::with_capacity(listed.items.len());
    for package in listed.items {
        // Settings may have changed since the listing: decide on a fresh read.
        if let Some(fresh) = pages.visible_package(&request, package.name()).await? {
            visible.push(fresh);
        }
    }
    Ok(html_response(
        StatusCode::OK,
        templates::owner_page(&owner, &visible, listed.next.is_some()),
    ))
}

/// The style sheet: the same for every viewer and every page, so shared
/// caches may keep it (pages link it with a `?v=` of its content hash).
async fn style_sheet() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
            (
                http::header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        STYLE,
    )
        .into_response()
}

fn html_response(status: StatusCode, body: Markup) -> Response {
    (
        status,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            // The page may differ per viewer: never keep it in a shared cache.
            (CACHE_CONTROL, HeaderValue::from_static("private, no-cache")),
            (
                http::header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                http::header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                http::header::REFERRER_POLICY,
                HeaderValue::from_static("same-origin"),
            ),
        ],
        body.into_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    html_response(StatusCode::NOT_FOUND, templates::not_found())
}

/// A generic error page; the cause is logged.
impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "package page: the package store failed");
        // A database out of reach is worth a retry: 503, not 500.
        let status = match &self {
            PageError::Store(store) if store.is_unavailable() => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        html_response(status, templates::internal_error())
    }
}
