//! Package pages: the HTML a person sees at
//! `/{owner}/packages/container/{name}`, as GitHub shows a container
//! package, and the list of an owner's packages at `/{owner}/packages`
//! (or `/{owner}?tab=packages`).
//!
//! A package page shows the name and visibility, the description (plain
//! text, escaped, line breaks kept), the licence with its SPDX verdict, a
//! link to the source repository, the other `org.opencontainers.image.*`
//! values, the `docker pull` commands by tag and by digest, and the tagged
//! versions newest first with their digests, platforms and dates. It has
//! no JavaScript and its `Content-Security-Policy` forbids any.
//!
//! Who sees what follows the registry's pull permission exactly: a
//! [`PageAccess`] says whether the request may pull the package (by
//! default [`StoreCredentials`]: a personal access or workflow token sent
//! as Basic credentials, decided by [`wharf_auth::authorize`]; in a
//! registry with accounts, the registry's own rules). A page the caller
//! may not see is answered `404`, like a page that does not exist, so that
//! a private package's name is not revealed.
//!
//! ```
//! use std::sync::Arc;
//! use axum::body::Body;
//! use http::Request;
//! use tower::ServiceExt;
//! use wharf_auth::{Identity, Package, Timestamp, Visibility};
//! use wharf_packages::prelude::*;
//! use wharf_packages::{NewVersion, PackageChanges, SqlitePackageStore};
//! use wharf_reference::Digest;
//! use wharf_server::ghcr::web::PackagePages;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let store = Arc::new(SqlitePackageStore::in_memory()?);
//! let now = Timestamp::from_unix_seconds(1_700_000_000);
//! let alice = "alice".parse()?;
//! store.create_user(&alice, now).await?;
//! let name: wharf_reference::RepositoryName = "alice/app".parse()?;
//! store.create_package(&Package::first_publish(name.clone(), &Identity::User(alice)), now).await?;
//! let version = NewVersion::new(Digest::sha256(b"{}"), "application/vnd.oci.image.manifest.v1+json", 2)
//!     .with_tag("1.0".parse()?);
//! store.record_version(&name, &version, now).await?;
//!
//! let router = PackagePages::new(store.clone()).public_host("registry.example").router();
//! let page = || Request::get("/alice/packages/container/app").body(Body::empty());
//!
//! // First publish is private: anonymous visitors are told it does not exist.
//! assert_eq!(router.clone().oneshot(page()?).await?.status(), 404);
//!
//! // Once public, anyone sees the page with its pull command.
//! store.update_package(&name, &PackageChanges::new().visibility(Visibility::Public), now).await?;
//! let response = router.oneshot(page()?).await?;
//! assert_eq!(response.status(), 200);
//! let html = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
//! let html = String::from_utf8(html.to_vec())?;
//! assert!(html.contains("docker pull registry.example/alice/app:1.0"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use http::header::{HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HOST};
use http::request::Parts;
use http::StatusCode;
use wharf_annotations::{Field, Licenses};
use wharf_auth::{authorize, Credentials, Login, PackageAction, Principal, Timestamp, TokenHash};
use wharf_packages::{
    PackageLookup, PackageQuery, PackageRecord, PackageStore, PageRequest, VersionQuery,
    VersionRecord,
};
use wharf_reference::RepositoryName;

use crate::ghcr::accounts::{AuthnError, Caller};

/// How many versions a package page reads (newest first); older ones are
/// summarised as "N more".
const MAX_VERSIONS: usize = 100;
/// How many packages an owner's list page shows.
const MAX_PACKAGES: usize = 100;

/// Why a page could not be rendered: the package store, or the access
/// check, failed. Answered with a generic 500 page; the cause is logged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PageError {
    /// The package store failed.
    #[error(transparent)]
    Store(#[from] wharf_packages::Error),
    /// Deciding who may see the page failed.
    #[error("checking access to a package page failed: {0}")]
    Access(String),
}

/// Decides whether a request may see the page of a package: exactly when
/// it may pull the package.
///
/// [`StoreCredentials`] is the default; a registry with
/// [accounts](crate::RegistryBuilder::accounts) uses its own
/// [`Accounts`](crate::Accounts) rules (bearer tokens from `/token`
/// included). Credentials that are missing, malformed, unknown, revoked
/// or expired count as anonymous: a page shows what anyone may see.
#[async_trait]
pub trait PageAccess: Send + Sync + 'static {
    /// Whether the request may see the page of `name` (which may not
    /// exist: then the answer does not matter).
    async fn may_view(&self, request: &Parts, name: &RepositoryName) -> Result<bool, PageError>;
}

/// Page access from Basic credentials whose password is a token in the
/// [`PackageStore`] (a personal access token: a user with the token's
/// scopes; or a workflow token), decided by [`wharf_auth::authorize`] for
/// [`PackageAction::Pull`]. The username is not checked, as `docker login` users
/// of GitHub's registry are used to. Other credentials count as anonymous.
#[derive(Clone)]
pub struct StoreCredentials {
    store: Arc<dyn PackageStore>,
}

impl StoreCredentials {
    /// Credentials checked against `store`'s tokens.
    pub fn new(store: Arc<dyn PackageStore>) -> StoreCredentials {
        StoreCredentials { store }
    }

    /// The principal of a request's Basic credentials.
    async fn principal(&self, request: &Parts) -> Result<Principal, PageError> {
        let Some(header) = request
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(Principal::Anonymous);
        };
        let Ok(Credentials::Basic { password, .. }) = Credentials::parse_authorization(header)
        else {
            return Ok(Principal::Anonymous);
        };
        let secret = password.expose_secret();
        Ok(match self.store.find_token(&TokenHash::of(secret)).await? {
            Some(record) => record
                .authenticate(secret, Timestamp::from_system_time(SystemTime::now()))
                .unwrap_or(Principal::Anonymous),
            None => Principal::Anonymous,
        })
    }
}

impl std::fmt::Debug for StoreCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreCredentials").finish_non_exhaustive()
    }
}

#[async_trait]
impl PageAccess for StoreCredentials {
    async fn may_view(&self, request: &Parts, name: &RepositoryName) -> Result<bool, PageError> {
        let principal = self.principal(request).await?;
        let context = self
            .store
            .access_context(name, principal.login(), PackageLookup::Active)
            .await?;
        Ok(context
            .state()
            .is_some_and(|state| authorize(&principal, PackageAction::Pull, &state).is_allowed()))
    }
}

#[async_trait]
impl PageAccess for crate::Accounts {
    /// The registry's own pull rule (see [`Accounts`](crate::Accounts)),
    /// with bad credentials counted as none.
    async fn may_view(&self, request: &Parts, name: &RepositoryName) -> Result<bool, PageError> {
        let caller = match self.authenticate(request).await {
            Ok(caller) => caller,
            Err(AuthnError::Bad(_)) => Caller::Anonymous,
            Err(AuthnError::Internal(err)) => return Err(PageError::Access(err.to_string())),
        };
        self.may_pull(&caller, name)
            .await
            .map_err(|err| PageError::Access(err.to_string()))
    }
}

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
    ///
    /// Static routes of a router this is merged into (`/v2/`, `/token`,
    /// `/metrics`, ...) take precedence over `/{owner}`.
    pub fn router(&self) -> Router {
        Router::new()
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
fn is_plausible_host(host: &str) -> bool {
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
) -> Response {
    let full = format!("{}/{}", owner, name.trim_end_matches('/')).to_ascii_lowercase();
    let Ok(name) = RepositoryName::parse(&full) else {
        return not_found();
    };
    let package = match pages.visible_package(&request, &name).await {
        Ok(Some(package)) => package,
        Ok(None) => return not_found(),
        Err(err) => return internal_error(&err),
    };
    let versions = match pages
        .store
        .list_versions(
            &name,
            VersionQuery::active(),
            &PageRequest::first(MAX_VERSIONS),
        )
        .await
    {
        Ok(page) => page,
        Err(err) if err.is_not_found() => return not_found(),
        Err(err) => return internal_error(&err.into()),
    };
    let host = pages.host_for(&request);
    html_response(
        StatusCode::OK,
        render_package_page(&PackageView {
            package: &package,
            versions: &versions.items,
            more_versions: versions.next.is_some(),
            host: &host,
        }),
    )
}

async fn owner_tab(
    state: State<PackagePages>,
    owner: Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request: Parts,
) -> Response {
    if query.get("tab").map(String::as_str) == Some("packages") {
        owner_packages(state, owner, request).await
    } else {
        not_found()
    }
}

async fn owner_packages(
    State(pages): State<PackagePages>,
    Path(owner): Path<String>,
    request: Parts,
) -> Response {
    let Ok(owner) = Login::parse(&owner) else {
        return not_found();
    };
    match pages.store.account(&owner).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(),
        Err(err) => return internal_error(&err.into()),
    }
    let listed = match pages
        .store
        .list_packages(
            &owner,
            PackageQuery::active(),
            &PageRequest::first(MAX_PACKAGES),
        )
        .await
    {
        Ok(page) => page,
        Err(err) => return internal_error(&err.into()),
    };
    let mut visible = Vec::with_capacity(listed.items.len());
    for package in listed.items {
        // Settings may have changed since the listing: decide on a fresh read.
        match pages.visible_package(&request, package.name()).await {
            Ok(Some(fresh)) => visible.push(fresh),
            Ok(None) => {}
            Err(err) => return internal_error(&err),
        }
    }
    html_response(
        StatusCode::OK,
        render_owner_page(&owner, &visible, listed.next.is_some()),
    )
}

fn html_response(status: StatusCode, body: String) -> Response {
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
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                ),
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
        body,
    )
        .into_response()
}

fn not_found() -> Response {
    let mut page = Html::new();
    page.open_document("Not found");
    page.raw(r#"<main class="narrow"><h1>404: not found</h1><p class="muted">This package does not exist, or you need to sign in with a token that may read it. Private packages are not shown to visitors who may not pull them.</p></main>"#);
    page.close_document();
    html_response(StatusCode::NOT_FOUND, page.finish())
}

fn internal_error(err: &PageError) -> Response {
    tracing::error!(error = %err, "package page: the package store failed");
    let mut page = Html::new();
    page.open_document("Error");
    page.raw(r#"<main class="narrow"><h1>Something went wrong</h1><p class="muted">The registry could not read its package records. Try again shortly.</p></main>"#);
    page.close_document();
    html_response(StatusCode::INTERNAL_SERVER_ERROR, page.finish())
}

// ------------------------------------------------------------- rendering

/// What a package page shows.
#[derive(Debug, Clone, Copy)]
pub struct PackageView<'a> {
    /// The package, with its metadata.
    pub package: &'a PackageRecord,
    /// Its live versions, newest first (as
    /// [`PackageRecords::list_versions`](wharf_packages::PackageRecords::list_versions) gives them).
    pub versions: &'a [VersionRecord],
    /// Whether older versions exist beyond `versions`.
    pub more_versions: bool,
    /// The registry host pull commands name (`registry.example:5000`).
    pub host: &'a str,
}

/// The HTML of a package page. Every value from the package (name,
/// metadata, tags) is escaped; the page holds no script.
pub fn render_package_page(view: &PackageView<'_>) -> String {
    let package = view.package;
    let name = package.name().as_str();
    let owner = package.owner.as_str();
    let short = name
        .strip_prefix(owner)
        .map_or(name, |rest| rest.trim_start_matches('/'));
    let meta = &package.metadata;

    let mut tagged: Vec<&VersionRecord> = view
        .versions
        .iter()
        .filter(|v| !v.tags.is_empty())
        .collect();
    // Newest first by when the version last changed (a tag moving to it
    // changes it); the store's id order breaks ties.
    tagged.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
    let untagged: Vec<&VersionRecord> =
        view.versions.iter().filter(|v| v.tags.is_empty()).collect();

    // The tag a pull command names: `latest` when there is one, else the
    // most recently moved tag.
    let latest: Option<(&VersionRecord, &str)> = tagged
        .iter()
        .find_map(|v| {
            v.tags
                .iter()
                .find(|t| t.as_str() == "latest")
                .map(|t| (*v, t.as_str()))
        })
        .or_else(|| {
            tagged.first().and_then(|v| {
                v.tags
                    .iter()
                    .max_by(|a, b| a.as_str().cmp(b.as_str()))
                    .map(|t| (*v, t.as_str()))
            })
        });
    let pull_version = latest.map(|(v, _)| v).or_else(|| view.versions.first());

    let mut page = Html::new();
    page.open_document(name);

    // Title row.
    page.raw(r#"<main><div class="title"><svg class="icon" viewBox="0 0 16 16" width="28" height="28" aria-hidden="true"><path fill="currentColor" d="M8.9 1.1a1.7 1.7 0 0 0-1.8 0L2 4a1.7 1.7 0 0 0-.9 1.5v5a1.7 1.7 0 0 0 .9 1.5l5.1 2.9a1.7 1.7 0 0 0 1.8 0L14 12a1.7 1.7 0 0 0 .9-1.5v-5A1.7 1.7 0 0 0 14 4ZM8 2.4l4.6 2.6L8 7.6 3.4 5Zm-5.4 3.9L7.3 9v4.9l-4.7-2.7Zm6.1 7.6V9l4.7-2.7v4.9Z"/></svg><h1><a class="owner" href="/"#);
    page.text(owner);
    page.raw(r#"/packages">"#);
    page.text(owner);
    page.raw(r#"</a><span class="slash">/</span><span class="name">"#);
    page.text(short);
    page.raw("</span></h1>");
    page.visibility_badge(package.visibility().as_str());
    page.raw("</div>");

    page.raw(r#"<div class="layout"><div class="content">"#);

    // Description.
    match &meta.description {
        Some(description) => {
            page.raw(r#"<section class="description"><p>"#);
            page.text(&description.value);
            page.raw("</p></section>");
        }
        None => page.raw(r#"<section class="description empty"><p>No description provided. Add an <code>org.opencontainers.image.description</code> label or annotation to the image to show one here.</p></section>"#),
    }

    // Pull commands.
    page.raw(r#"<section class="card"><h2>Install from the command line</h2>"#);
    match (latest, pull_version) {
        (Some((version, tag)), _) => {
            page.command(&format!("docker pull {}/{name}:{tag}", view.host));
            page.raw(r#"<h3>Pull by digest</h3><p class="muted small hint">Always the same image, whatever the tags do later.</p>"#);
            page.command(&format!(
                "docker pull {}/{name}@{}",
                view.host, version.digest
            ));
        }
        (None, Some(version)) => {
            page.raw(r#"<p class="muted small">This package has no tags: pull it by digest.</p>"#);
            page.command(&format!(
                "docker pull {}/{name}@{}",
                view.host, version.digest
            ));
        }
        (None, None) => page.raw(r#"<p class="muted">This package has no versions yet.</p>"#),
    }
    page.raw("</section>");

    // Tags.
    page.raw(r#"<section class="card"><h2>Tags</h2>"#);
    if tagged.is_empty() {
        page.raw(r#"<p class="muted">No tagged versions.</p>"#);
    } else {
        page.raw(r#"<table><thead><tr><th>Tag</th><th>Digest</th><th>Platforms</th><th>Published</th></tr></thead><tbody>"#);
        for version in &tagged {
            page.version_row(version);
        }
        page.raw("</tbody></table>");
    }
    if !untagged.is_empty() {
        let _ = write!(
            page.out,
            r#"<details><summary>{} untagged version{}</summary><table><tbody>"#,
            untagged.len(),
            if untagged.len() == 1 { "" } else { "s" }
        );
        for version in &untagged {
            page.version_row(version);
        }
        page.raw("</tbody></table></details>");
    }
    if view.more_versions {
        let _ = write!(
            page.out,
            r#"<p class="muted small">Showing the {} newest versions of {}.</p>"#,
            view.versions.len(),
            package.version_count
        );
    }
    page.raw("</section></div>");

    // Details sidebar.
    page.raw(r#"<aside class="details"><h2>Details</h2><dl>"#);
    if let Some(licenses) = &meta.licenses {
        page.licence(licenses);
    }
    if let Some(source) = &meta.source {
        page.raw("<dt>Source repository</dt><dd>");
        page.link(source.value.as_str(), display_url(source.value.as_str()));
        if let Some(repository) = package.linked_repository() {
            page.raw(r#"<div class="muted small">Linked to "#);
            page.text(repository.as_str());
            page.raw("</div>");
        }
        page.raw("</dd>");
    } else if let Some(repository) = package.linked_repository() {
        page.raw("<dt>Linked repository</dt><dd>");
        page.text(repository.as_str());
        page.raw("</dd>");
    }
    page.optional_text("Title", &meta.title);
    page.optional_text("Version", &meta.version);
    page.optional_text("Revision", &meta.revision);
    page.optional_text("Vendor", &meta.vendor);
    page.optional_text("Authors", &meta.authors);
    for (label, url) in [
        ("Homepage", &meta.url),
        ("Documentation", &meta.documentation),
    ] {
        if let Some(url) = url {
            page.raw("<dt>");
            page.text(label);
            page.raw("</dt><dd>");
            page.link(url.value.as_str(), display_url(url.value.as_str()));
            page.raw("</dd>");
        }
    }
    if let Some(created) = &meta.created {
        page.raw("<dt>Image created</dt><dd>");
        page.text(&created.value.raw);
        page.raw("</dd>");
    }
    page.optional_text("Base image", &meta.base_name);
    let _ = write!(
        page.out,
        "<dt>Versions</dt><dd>{}</dd>",
        package.version_count
    );
    page.raw("<dt>Published</dt><dd>");
    page.time(package.created_at);
    page.raw("</dd><dt>Last updated</dt><dd>");
    page.time(package.updated_at);
    page.raw("</dd></dl></aside></div></main>");
    page.close_document();
    page.finish()
}

/// The HTML of an owner's package list: `packages` are those the viewer
/// may see, in name order.
pub fn render_owner_page(owner: &Login, packages: &[PackageRecord], more: bool) -> String {
    let mut page = Html::new();
    let title = format!("{owner}: packages");
    page.open_document(&title);
    page.raw(r#"<main class="narrow"><div class="title"><h1>"#);
    page.text(owner.as_str());
    page.raw(r#"<span class="slash">/</span><span class="name">packages</span></h1></div>"#);
    if packages.is_empty() {
        page.raw(r#"<p class="muted">No packages you can see.</p>"#);
    }
    page.raw(r#"<ul class="packages">"#);
    for package in packages {
        let name = package.name().as_str();
        let short = name
            .strip_prefix(owner.as_str())
            .map_or(name, |rest| rest.trim_start_matches('/'));
        page.raw(r#"<li><div class="row"><a class="package" href=""#);
        page.text(&package_path(owner.as_str(), short));
        page.raw(r#"">"#);
        page.text(short);
        page.raw("</a>");
        page.visibility_badge(package.visibility().as_str());
        page.raw("</div>");
        if let Some(description) = &package.metadata.description {
            page.raw(r#"<p class="summary">"#);
            page.text(&first_line(&description.value, 160));
            page.raw("</p>");
        }
        let _ = write!(
            page.out,
            r#"<p class="muted small">{} version{} · updated "#,
            package.version_count,
            if package.version_count == 1 { "" } else { "s" }
        );
        page.time(package.updated_at);
        page.raw("</p></li>");
    }
    page.raw("</ul>");
    if more {
        let _ = write!(
            page.out,
            r#"<p class="muted small">Showing the first {MAX_PACKAGES} packages.</p>"#
        );
    }
    page.raw("</main>");
    page.close_document();
    page.finish()
}

/// The page path of a package: nested names have their `/` encoded, so
/// the path has exactly one segment after `container/`.
fn package_path(owner: &str, short_name: &str) -> String {
    format!(
        "/{owner}/packages/container/{}",
        short_name.replace('/', "%2F")
    )
}

/// The first line of `text`, cut to `max` characters with an ellipsis.
fn first_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > max {
        let cut: String = line.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    } else {
        line.to_owned()
    }
}

/// A URL as shown: without its scheme and trailing slash.
fn display_url(url: &str) -> &str {
    url.trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
}

/// `sha256:` and the first 12 hex digits.
fn short_digest(digest: &wharf_reference::Digest) -> String {
    let encoded = digest.encoded();
    format!(
        "{}:{}",
        digest.algorithm().as_str(),
        encoded.get(..12).unwrap_or(encoded)
    )
}

/// Escapes `text` for an HTML text node or a double-quoted attribute.
///
/// ```
/// assert_eq!(
///     wharf_server::ghcr::web::escape_html(r#"<a href="x">'&'</a>"#),
///     "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
/// );
/// ```
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A UTC calendar date and time from Unix seconds: `(RFC 3339, display)`.
fn format_time(at: Timestamp) -> (String, String) {
    let utc = at.to_utc();
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month_name = MONTHS
        .get(usize::from(utc.month.saturating_sub(1)))
        .copied()
        .unwrap_or("?");
    (
        utc.to_string(),
        format!(
            "{month_name} {}, {} {:02}:{:02} UTC",
            utc.day, utc.year, utc.hour, utc.minute
        ),
    )
}

/// An HTML document being written. Text goes through [`Html::text`]
/// (escaped); only literal markup goes through [`Html::raw`].
struct Html {
    out: String,
}

impl Html {
    fn new() -> Html {
        Html {
            out: String::with_capacity(8 * 1024),
        }
    }

    fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    fn text(&mut self, text: &str) {
        push_escaped(&mut self.out, text);
    }

    fn finish(self) -> String {
        self.out
    }

    fn open_document(&mut self, title: &str) {
        self.raw(r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>"#);
        self.text(title);
        self.raw(" · Wharf</title><style>");
        self.raw(STYLE);
        self.raw(r#"</style></head><body><header class="top"><span class="brand">Wharf</span><span class="muted">Container registry</span></header>"#);
    }

    fn close_document(&mut self) {
        self.raw("</body></html>\n");
    }

    fn visibility_badge(&mut self, visibility: &str) {
        self.raw(r#"<span class="badge "#);
        self.text(visibility);
        self.raw(r#"">"#);
        self.text(visibility);
        self.raw("</span>");
    }

    fn command(&mut self, command: &str) {
        self.raw(r#"<pre class="command"><code>"#);
        self.text(command);
        self.raw("</code></pre>");
    }

    fn time(&mut self, at: Timestamp) {
        let (iso, display) = format_time(at);
        self.raw(r#"<time datetime=""#);
        self.text(&iso);
        self.raw(r#"">"#);
        self.text(&display);
        self.raw("</time>");
    }

    /// A link to an http(s) URL; anything else is shown as text.
    fn link(&mut self, href: &str, label: &str) {
        if href.starts_with("https://") || href.starts_with("http://") {
            self.raw(r#"<a href=""#);
            self.text(href);
            self.raw(r#"" rel="nofollow noopener noreferrer">"#);
            self.text(label);
            self.raw("</a>");
        } else {
            self.text(label);
        }
    }

    fn optional_text(&mut self, label: &str, field: &Option<Field<String>>) {
        if let Some(field) = field {
            self.raw("<dt>");
            self.text(label);
            self.raw("</dt><dd>");
            self.text(&field.value);
            self.raw("</dd>");
        }
    }

    fn licence(&mut self, licenses: &Field<Licenses>) {
        let licenses = &licenses.value;
        self.raw("<dt>License</dt><dd>");
        let single_identifier = licenses
            .raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'+'));
        if licenses.is_valid_spdx() && single_identifier {
            let url = format!(
                "https://spdx.org/licenses/{}.html",
                licenses.raw.trim_end_matches('+')
            );
            self.link(&url, &licenses.raw);
        } else {
            self.text(&licenses.raw);
        }
        if licenses.is_valid_spdx() {
            self.raw(r#" <span class="spdx" title="A valid SPDX license expression">SPDX</span>"#);
        } else {
            self.raw(r#"<div class="muted small">Not an SPDX license expression"#);
            if let Some(suggestion) = &licenses.suggestion {
                self.raw(" (did you mean <code>");
                self.text(suggestion);
                self.raw("</code>?)");
            }
            self.raw("</div>");
        }
        self.raw("</dd>");
    }

    fn version_row(&mut self, version: &VersionRecord) {
        self.raw("<tr><td>");
        if version.tags.is_empty() {
            self.raw(r#"<span class="muted">untagged</span>"#);
        }
        for tag in &version.tags {
            self.raw(r#"<span class="tag">"#);
            self.text(tag.as_str());
            self.raw("</span>");
        }
        self.raw(r#"</td><td><code class="digest" title=""#);
        self.text(version.digest.as_str());
        self.raw(r#"">"#);
        self.text(&short_digest(&version.digest));
        self.raw("</code></td><td>");
        if version.platforms.is_empty() {
            self.raw(r#"<span class="muted">—</span>"#);
        }
        for platform in &version.platforms {
            self.raw(r#"<span class="platform">"#);
            self.text(platform);
            self.raw("</span>");
        }
        self.raw("</td><td>");
        self.time(version.updated_at);
        self.raw("</td></tr>");
    }
}

const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI","Noto Sans",Helvetica,Arial,sans-serif;color:#1f2328;background:#fff}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
code,pre{font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:12px}
.top{display:flex;gap:12px;align-items:baseline;padding:14px 32px;background:#24292f;color:#fff}
.top .brand{font-weight:600;font-size:16px}.top .muted{color:#9198a1}
main{max-width:1180px;margin:0 auto;padding:24px 32px}
main.narrow{max-width:860px}
.title{display:flex;align-items:center;gap:10px;flex-wrap:wrap;padding-bottom:16px;border-bottom:1px solid #d1d9e0;margin-bottom:24px}
.title .icon{color:#59636e}
h1{font-size:24px;font-weight:400;margin:0;word-break:break-all}
h1 .name{font-weight:600}h1 .slash{color:#59636e;margin:0 4px}
h2{font-size:16px;font-weight:600;margin:0 0 12px}
h3{font-size:14px;font-weight:600;margin:16px 0 4px}
.badge{display:inline-block;padding:0 8px;border:1px solid #d1d9e0;border-radius:2em;font-size:12px;font-weight:500;line-height:20px;color:#59636e}
.badge.public{color:#1a7f37;border-color:#4ac26b}
.badge.private{color:#9a6700;border-color:#d4a72c}
.badge.internal{color:#8250df;border-color:#c297ff}
.layout{display:grid;grid-template-columns:minmax(0,3fr) minmax(220px,1fr);gap:32px}
@media (max-width:800px){.layout{grid-template-columns:1fr}}
.description p{margin:0 0 24px;font-size:16px;white-space:pre-wrap;overflow-wrap:anywhere}
.description.empty p{font-size:14px;color:#59636e}
.card{border:1px solid #d1d9e0;border-radius:6px;padding:16px;margin-bottom:24px}
pre.command{margin:8px 0 0;padding:10px 12px;background:#f6f8fa;border:1px solid #d1d9e0;border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere;user-select:all}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-weight:600;color:#59636e;font-size:12px;border-bottom:1px solid #d1d9e0;padding:6px 8px}
td{border-bottom:1px solid #eff2f5;padding:8px;vertical-align:top}
tr:last-child td{border-bottom:0}
.tag{display:inline-block;margin:0 4px 4px 0;padding:0 7px;border-radius:2em;background:#ddf4ff;color:#0969da;font-weight:500;font-size:12px;line-height:20px}
.platform{display:inline-block;margin:0 4px 4px 0;padding:0 6px;border-radius:4px;background:#f6f8fa;border:1px solid #d1d9e0;font-size:12px}
code.digest{color:#59636e}
details{margin-top:12px}summary{cursor:pointer;color:#59636e}
.details h2{font-size:14px}
.details dl{margin:0}
.details dt{font-size:12px;font-weight:600;color:#59636e;margin-top:14px}
.details dd{margin:2px 0 0;overflow-wrap:anywhere}
.spdx{display:inline-block;margin-left:4px;padding:0 5px;border-radius:4px;background:#dafbe1;color:#1a7f37;font-size:11px;font-weight:600;vertical-align:1px}
.muted{color:#59636e}.small{font-size:12px}
p.hint{margin:0}
ul.packages{list-style:none;margin:0;padding:0}
ul.packages li{padding:16px 0;border-bottom:1px solid #d1d9e0}
ul.packages .row{display:flex;gap:8px;align-items:center}
ul.packages a.package{font-size:16px;font-weight:600}
ul.packages p{margin:4px 0 0}
"#;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use wharf_annotations::{Origin, PackageMetadata};
    use wharf_auth::{Package, Visibility};
    use wharf_packages::{PackageId, VersionId};
    use wharf_reference::Digest;

    fn record(name: &str, visibility: Visibility, metadata: PackageMetadata) -> PackageRecord {
        let name: RepositoryName = name.parse().unwrap();
        let mut package = Package::new(name.clone());
        package.visibility = visibility;
        let mut record = PackageRecord::new(
            PackageId::new(1),
            name.namespace().parse().unwrap(),
            package,
            Timestamp::from_unix_seconds(1_700_000_000),
        );
        record.metadata = metadata;
        record.version_count = 2;
        record.updated_at = Timestamp::from_unix_seconds(1_700_086_400);
        record
    }

    fn version(id: i64, body: &[u8], tags: &[&str], platforms: &[&str], at: u64) -> VersionRecord {
        let mut version = VersionRecord::new(
            VersionId::new(id),
            Digest::sha256(body),
            "application/vnd.oci.image.manifest.v1+json",
            body.len() as u64,
            Timestamp::from_unix_seconds(at),
        );
        version.tags = tags.iter().map(|t| t.parse().unwrap()).collect();
        version.platforms = platforms.iter().map(|p| (*p).to_owned()).collect();
        version
    }

    fn described(description: &str) -> PackageMetadata {
        {
            let mut metadata = PackageMetadata::default();
            metadata.description = Some(Field::new(description.to_owned(), Origin::ConfigLabel));
            metadata
        }
    }

    fn render(package: &PackageRecord, versions: &[VersionRecord]) -> String {
        render_package_page(&PackageView {
            package,
            versions,
            more_versions: false,
            host: "registry.example:5000",
        })
    }

    #[test]
    fn escape_html_escapes_the_five_special_characters_and_nothing_else() {
        let cases = [
            ("plain text", "plain text"),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            ("a & b", "a &amp; b"),
            (r#"" onmouseover="x"#, "&quot; onmouseover=&quot;x"),
            ("it's", "it&#39;s"),
            ("&amp;", "&amp;amp;"),
            ("é ✓ 日本", "é ✓ 日本"),
            ("line\nbreak", "line\nbreak"),
        ];
        for (input, expected) in cases {
            assert_eq!(escape_html(input), expected, "{input:?}");
        }
    }

    #[test]
    fn a_description_with_markup_is_shown_as_text_with_its_line_breaks() {
        let package = record(
            "alice/app",
            Visibility::Public,
            described("First line <script>alert('x')</script>\nSecond <b>line</b>"),
        );
        let html = render(&package, &[]);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains(
            "First line &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;\nSecond &lt;b&gt;line&lt;/b&gt;"
        ));
        assert!(html.contains("white-space:pre-wrap"));
    }

    #[test]
    fn the_page_holds_no_script_at_all() {
        let package = record("alice/app", Visibility::Public, described("x"));
        let html = render(&package, &[version(1, b"a", &["1.0"], &[], 1_700_000_000)]);
        assert!(!html.to_ascii_lowercase().contains("<script"));
        assert!(!html.contains("javascript:"));
    }

    #[test]
    fn pull_commands_name_the_host_the_latest_tag_and_its_digest() {
        let package = record("alice/app", Visibility::Public, PackageMetadata::default());
        let versions = [
            version(2, b"new", &["2.0"], &[], 1_700_000_200),
            version(1, b"old", &["1.0", "latest"], &[], 1_700_000_100),
        ];
        let html = render(&package, &versions);
        assert!(
            html.contains("docker pull registry.example:5000/alice/app:latest"),
            "{html}"
        );
        assert!(html.contains(&format!(
            "docker pull registry.example:5000/alice/app@{}",
            Digest::sha256(b"old")
        )));
    }

    #[test]
    fn without_latest_the_pull_command_names_the_most_recent_tag() {
        let package = record(
            "acme/tools/cli",
            Visibility::Public,
            PackageMetadata::default(),
        );
        let versions = [
            version(1, b"old", &["1.0"], &[], 1_700_000_100),
            version(2, b"new", &["2.0"], &[], 1_700_000_200),
        ];
        let html = render(&package, &versions);
        assert!(html.contains("docker pull registry.example:5000/acme/tools/cli:2.0"));
        assert!(html.contains(&format!("acme/tools/cli@{}", Digest::sha256(b"new"))));
    }

    #[test]
    fn an_untagged_package_is_pulled_by_digest() {
        let package = record("alice/app", Visibility::Public, PackageMetadata::default());
        let html = render(&package, &[version(1, b"x", &[], &[], 1_700_000_000)]);
        assert!(html.contains(&format!(
            "docker pull registry.example:5000/alice/app@{}",
            Digest::sha256(b"x")
        )));
        assert!(html.contains("1 untagged version<"));
        assert!(!html.contains("alice/app:"));
    }

    #[test]
    fn tags_are_listed_newest_first_with_digests_platforms_and_dates() {
        let package = record("alice/app", Visibility::Public, PackageMetadata::default());
        let versions = [
            version(1, b"old", &["1.0"], &[], 1_700_000_000),
            version(
                3,
                b"index",
                &["2.0"],
                &["linux/amd64", "linux/arm64/v8"],
                1_700_172_800,
            ),
            version(2, b"mid", &["1.5"], &[], 1_700_086_400),
        ];
        let html = render(&package, &versions);
        let at = |needle: &str| {
            html.find(needle)
                .unwrap_or_else(|| panic!("{needle} missing"))
        };
        assert!(at(">2.0<") < at(">1.5<") && at(">1.5<") < at(">1.0<"));
        assert!(html.contains(">linux/amd64<") && html.contains(">linux/arm64/v8<"));
        assert!(html.contains(&short_digest(&Digest::sha256(b"index"))));
        assert!(html.contains("Nov 16, 2023"), "{html}");
        assert!(html.contains(r#"datetime="2023-11-16T22:13:20Z""#));
    }

    #[test]
    fn licences_show_an_spdx_note_only_when_valid() {
        let cases = [
            ("MIT", true, Some("https://spdx.org/licenses/MIT.html")),
            ("MIT OR Apache-2.0", true, None),
            ("MIT/Apache-2.0", false, None),
        ];
        for (raw, valid, link) in cases {
            let metadata = {
                let mut metadata = PackageMetadata::default();
                metadata.licenses = Some(Field::new(Licenses::new(raw), Origin::ConfigLabel));
                metadata
            };
            let html = render(&record("alice/app", Visibility::Public, metadata), &[]);
            assert_eq!(html.contains(r#"class="spdx""#), valid, "{raw}");
            assert_eq!(
                html.contains("Not an SPDX license expression"),
                !valid,
                "{raw}"
            );
            if let Some(link) = link {
                assert!(html.contains(link), "{raw}");
            }
        }
        let metadata = {
            let mut metadata = PackageMetadata::default();
            metadata.licenses = Some(Field::new(
                Licenses::new("MIT/Apache-2.0"),
                Origin::ConfigLabel,
            ));
            metadata
        };
        let html = render(&record("alice/app", Visibility::Public, metadata), &[]);
        assert!(html.contains("did you mean <code>MIT OR Apache-2.0</code>"));
    }

    #[test]
    fn the_source_url_is_a_link() {
        let metadata = {
            let mut metadata = PackageMetadata::default();
            metadata.source = Some(Field::new(
                "https://code.example/alice/app".parse().unwrap(),
                Origin::ConfigLabel,
            ));
            metadata
        };
        let html = render(&record("alice/app", Visibility::Public, metadata), &[]);
        assert!(html.contains(r#"<a href="https://code.example/alice/app" rel="nofollow noopener noreferrer">code.example/alice/app</a>"#), "{html}");
    }

    #[test]
    fn only_http_urls_become_links() {
        let mut page = Html::new();
        page.link("javascript:alert(1)", "click");
        page.link("https://ok.example/", "ok");
        let html = page.finish();
        assert_eq!(
            html,
            r#"click<a href="https://ok.example/" rel="nofollow noopener noreferrer">ok</a>"#
        );
    }

    #[test]
    fn the_visibility_badge_names_the_visibility() {
        for visibility in [
            Visibility::Public,
            Visibility::Private,
            Visibility::Internal,
        ] {
            let html = render(
                &record("alice/app", visibility, PackageMetadata::default()),
                &[],
            );
            assert!(html.contains(&format!(
                r#"<span class="badge {visibility}">{visibility}</span>"#
            )));
        }
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        let cases = [
            (0, "1970-01-01T00:00:00Z", "Jan 1, 1970 00:00 UTC"),
            (
                951_782_400,
                "2000-02-29T00:00:00Z",
                "Feb 29, 2000 00:00 UTC",
            ),
            (
                1_709_251_199,
                "2024-02-29T23:59:59Z",
                "Feb 29, 2024 23:59 UTC",
            ),
            (
                4_102_444_800,
                "2100-01-01T00:00:00Z",
                "Jan 1, 2100 00:00 UTC",
            ),
        ];
        for (secs, iso, display) in cases {
            let (got_iso, got_display) = format_time(Timestamp::from_unix_seconds(secs));
            assert_eq!(
                (got_iso.as_str(), got_display.as_str()),
                (iso, display),
                "{secs}"
            );
        }
    }

    #[test]
    fn nested_package_links_encode_their_slashes() {
        assert_eq!(package_path("acme", "app"), "/acme/packages/container/app");
        assert_eq!(
            package_path("acme", "app/release"),
            "/acme/packages/container/app%2Frelease"
        );
    }

    #[test]
    fn hosts_from_requests_are_accepted_only_when_plausible() {
        for (host, ok) in [
            ("registry.example", true),
            ("127.0.0.1:5000", true),
            ("[::1]:5000", true),
            ("", false),
            ("evil.example/<script>", false),
            ("a b", false),
        ] {
            assert_eq!(is_plausible_host(host), ok, "{host:?}");
        }
    }
}
