//! The OCI Distribution API (v1.1) over Wharf's storage traits, as an axum
//! [`Router`](axum::Router) built from a [`Registry`] value.
//!
//! ```
//! use std::sync::Arc;
//! use axum::body::Body;
//! use http::Request;
//! use tower::ServiceExt;
//! use wharf_server::Registry;
//! use wharf_storage::MemoryStorage;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let registry = Registry::builder(Arc::new(MemoryStorage::new())).build();
//! let router = registry.router();
//!
//! // Push a blob in one request, then read it back.
//! let digest = wharf_reference::Digest::sha256(b"hello");
//! let push = Request::post(format!("/v2/octocat/hello/blobs/uploads/?digest={digest}"))
//!     .body(Body::from("hello"))?;
//! let response = router.clone().oneshot(push).await?;
//! assert_eq!(response.status(), 201);
//! assert_eq!(response.headers()["location"], format!("/v2/octocat/hello/blobs/{digest}").as_str());
//!
//! let pull = Request::get(format!("/v2/octocat/hello/blobs/{digest}")).body(Body::empty())?;
//! let response = router.oneshot(pull).await?;
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.headers()["docker-content-digest"], digest.as_str());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//!
//! - [`distribution`]: the OCI Distribution API, knowing nothing of any
//!   account model: routes, errors, handlers, the [`Authorizer`] every
//!   request is checked with and the [`ManifestHooks`] a model plugs in
//!   through (before a manifest is stored, once it is stored, on a read by
//!   digest, on delete).
//! - [`http`]: serving connections with their limits, request bodies,
//!   ranges, headers, the access log and [`Metrics`].
//! - `ghcr` (cargo feature `ghcr`, default on): the GitHub Container
//!   registry model, an [`Authorizer`] and [`ManifestHooks`] with the
//!   token endpoint, the package REST API and the package pages. Without
//!   the feature the crate depends on neither SQLite nor `wharf-auth`,
//!   `wharf-packages` or `wharf-annotations`, and a registry embedder
//!   brings their own authorizer and hooks.
//! - [`gc`]: garbage collection, online: what nothing references goes,
//!   what something does never does.
//! - [`Registry`] composes them.
//!
//! # What it serves
//!
//! | endpoint | methods |
//! |---|---|
//! | `/v2/` | `GET` (`{}` and `Docker-Distribution-API-Version: registry/2.0`) |
//! | `/v2/<name>/blobs/<digest>` | `GET` (with `Range`), `HEAD`, `DELETE` |
//! | `/v2/<name>/blobs/uploads/` | `POST` (session, monolithic `?digest=`, `?mount=&from=`) |
//! | `/v2/<name>/blobs/uploads/<id>` | `PATCH` (chunk or stream), `PUT ?digest=`, `GET`, `DELETE` |
//! | `/v2/<name>/manifests/<tag or digest>` | `GET`, `HEAD`, `PUT`, `DELETE` |
//! | `/v2/<name>/tags/list` | `GET` with `n`, `last` and `Link` |
//! | `/v2/<name>/referrers/<digest>` | `GET` with `artifactType` |
//! | `/v2/_catalog` | `GET` with `n`, `last` and `Link` |
//! | `/metrics` | `GET`, Prometheus text format (OpenMetrics on request), when enabled |
//! | `/token` | `GET`, `POST` (password grant): registry bearer tokens, with [accounts](#accounts-the-github-container-registry-model) |
//! | `/user/packages`, `/users/<login>/packages`, `/orgs/<login>/packages` and below | the package REST API, with accounts |
//!
//! Repository names contain slashes, so every `/v2/...` path goes to one
//! handler that splits it at its last segments (see [`RouteKind`]).
//!
//! # Errors
//!
//! Every failure is an [`ApiError`] with an [`ErrorCode`]; errors of the
//! storage and manifest crates are converted in one place (`error.rs`).
//! Internal failures are logged and answered with a generic message.
//!
//! # Authorization
//!
//! Before touching storage, every handler asks the registry's
//! [`Authorizer`] whether the request may perform its [`Access`]. The
//! default [`AllowAll`] performs no authentication: it is for local and
//! development use only.
//!
//! # Accounts: the GitHub Container registry model
//!
//! [`RegistryBuilder::accounts`] turns on users and organizations,
//! personal access tokens and workflow tokens, private and public
//! packages, all kept in a [`wharf_packages::PackageStore`] and decided by
//! [`wharf_auth::authorize`] ([`Accounts`] is then the authorizer):
//!
//! - **The token dance.** Without credentials, `GET /v2/` and anything but
//!   a public pull answer 401 with `WWW-Authenticate: Bearer
//!   realm="<public URL>/token",service="<service>",scope="..."`. The token
//!   endpoint takes Basic credentials (a username and a personal access
//!   token, or a workflow token) and grants the requested scopes the
//!   caller may have. The registry verifies bearer tokens with one HMAC
//!   and re-reads, through the store's cache, the stored token each was
//!   minted from: a bearer token's claims are an upper bound, every
//!   request is decided against the current state, and revoking a token
//!   ends the bearer tokens minted from it within seconds. Clients may
//!   also send Basic credentials on every request, with the same answers.
//! - **Answers.** 403 `DENIED` for credentials that do not cover the action
//!   (`error="insufficient_scope"` in a bearer challenge), 404
//!   `NAME_UNKNOWN` for a package the caller may not see, exactly as for one
//!   that does not exist. The catalog lists only what the caller may pull.
//! - **A private package reads as a missing one** to whoever may not see
//!   it, on every endpoint: the registry API (status, error code, message,
//!   challenge), the token endpoint (nothing granted), the REST API
//!   (404 `Package not found.`) and the package pages. Which users and
//!   organizations exist is not hidden (as on GitHub: the REST API
//!   answers `Not Found` for an unknown owner, and a push into another
//!   namespace is refused by name), except from anonymous callers, who
//!   are asked to log in before anything is looked up. The one thing a
//!   caller may learn of a package they cannot see is that its name is
//!   taken, when they push to a name they could otherwise create.
//! - **Publishing.** A push creates the package on first publish (private,
//!   its pusher admin; a workflow token links its repository), records
//!   each manifest as a version with its tags, and reads the package's
//!   description, licenses and source from the image's annotations and
//!   labels (see `wharf-annotations`); a source on the configured code host
//!   links the package to that repository when its pusher may change the
//!   package's settings and no admin unlinked it: a push never changes
//!   who may access a package.
//! - **The package REST API**, shaped like GitHub's: list, read, delete and
//!   restore packages and versions (restorable for the package store's
//!   restore window, 30 days by default, then purged by
//!   [`Registry::purge_expired_packages`]), change visibility, grant roles,
//!   set retention policies (applied by
//!   [`Registry::apply_retention_policies`], on a schedule with
//!   [`Registry::spawn_retention`]).
//!   A deleted package's content is archived: a new package of the same
//!   name starts empty and reaches nothing of it, and the old one is
//!   restorable only while the name is free. Call
//!   [`Registry::reconcile_package_archives`] at startup.
//!
//! ```
//! use std::sync::Arc;
//! use axum::body::Body;
//! use base64::Engine as _;
//! use http::Request;
//! use tower::ServiceExt;
//! use wharf_auth::{PersonalAccessToken, SigningKey, StoredToken, Timestamp};
//! use wharf_packages::prelude::*;
//! use wharf_packages::SqlitePackageStore;
//! use wharf_server::{AccountsConfig, Registry};
//! use wharf_storage::MemoryStorage;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! // A user and a personal access token (what an admin CLI would do).
//! let store = Arc::new(SqlitePackageStore::in_memory()?);
//! let now = Timestamp::from_system_time(std::time::SystemTime::now());
//! store.create_user(&"octocat".parse()?, now).await?;
//! let pat = PersonalAccessToken::generate()?;
//! let scopes = "read:packages write:packages".parse()?;
//! store.insert_personal_token(&StoredToken::new(&pat, "octocat".parse()?, scopes, None), now).await?;
//!
//! let config = AccountsConfig::new(store, SigningKey::generate()?, "https://registry.example")?;
//! let router = Registry::builder(Arc::new(MemoryStorage::new())).accounts(config).build().router();
//!
//! // `docker login` first meets a challenge...
//! let response = router.clone().oneshot(Request::get("/v2/").body(Body::empty())?).await?;
//! assert_eq!(response.status(), 401);
//! assert_eq!(
//!     response.headers()["www-authenticate"],
//!     r#"Bearer realm="https://registry.example/token",service="registry.example""#
//! );
//!
//! // ...then asks the token endpoint, with the personal access token as password.
//! let basic = base64::engine::general_purpose::STANDARD.encode(format!("octocat:{}", pat.expose_secret()));
//! let ask = Request::get("/token?service=registry.example&scope=repository:octocat/app:pull,push")
//!     .header("authorization", format!("Basic {basic}"))
//!     .body(Body::empty())?;
//! let response = router.clone().oneshot(ask).await?;
//! assert_eq!(response.status(), 200);
//! let body = axum::body::to_bytes(response.into_body(), 1 << 16).await?;
//! let token: serde_json::Value = serde_json::from_slice(&body)?;
//!
//! // The bearer token lets it push into its own namespace.
//! let digest = wharf_reference::Digest::sha256(b"layer");
//! let push = Request::post(format!("/v2/octocat/app/blobs/uploads/?digest={digest}"))
//!     .header("authorization", format!("Bearer {}", token["token"].as_str().unwrap_or_default()))
//!     .body(Body::from("layer"))?;
//! assert_eq!(router.oneshot(push).await?.status(), 201);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Limits and observability
//!
//! [`Limits`] bound manifest sizes, request time, idle request bodies and
//! concurrent uploads. Each request produces one access-log line (`tracing`
//! target `wharf_server::access`: method, path, route, status, bytes in and
//! out, duration) and one record in [`Metrics`]. [`serve`] runs a router with
//! a request-head timeout and a graceful shutdown bounded by a grace period;
//! with the cargo feature `tls` (off by default), `serve_tls` does the same
//! over TLS, HTTP/2 through ALPN, with a certificate reloaded from its files
//! (`http::tls`).

mod builder;
pub mod distribution;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod gc;
#[cfg(feature = "ghcr")]
#[cfg_attr(docsrs, doc(cfg(feature = "ghcr")))]
pub mod ghcr;
pub mod http;
mod lease;
mod registry;

pub use builder::RegistryBuilder;
pub use distribution::auth::{Access, Action, AllowAll, Authorizer};
pub use distribution::error::{ApiError, ErrorCode};
pub use distribution::hooks::{ManifestHooks, PushedManifest};
pub use distribution::redirect::BlobRedirects;
pub use distribution::route::{ManifestRef, RouteKind};
#[cfg(feature = "ghcr")]
pub use ghcr::{
    Accounts, AccountsConfig, AccountsError, AnnotationPolicy, ArchiveRepairs, Clock,
    PackageContentError, PurgeTotals, RetainedDeletion, RetentionReport,
};
pub use http::metrics::Metrics;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use http::serve::serve_tls;
pub use http::serve::{serve, ServeOptions, Shutdown};
pub use lease::{SingleProcess, WorkLease};
/// The metrics library [`Metrics`] is built on, for a host application that
/// registers Wharf's metrics in its own registry ([`Metrics::register`]):
/// use this re-export to name the same version.
pub use prometheus_client;
pub use registry::{Limits, Registry};
