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
//! | `/metrics` | `GET`, Prometheus text format, when enabled |
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
//! # Limits and observability
//!
//! [`Limits`] bound manifest sizes, request time, idle request bodies and
//! concurrent uploads. Each request produces one access-log line (`tracing`
//! target `wharf_server::access`: method, path, route, status, bytes in and
//! out, duration) and one record in [`Metrics`]. [`serve`] runs a router with
//! a request-head timeout and a graceful shutdown bounded by a grace period.

mod accounts;
pub mod auth;
mod blobs;
mod body;
mod clock;
mod error;
mod headers;
mod listing;
mod manifests;
mod metrics;
mod observe;
mod packages_api;
pub mod page;
mod range;
mod records;
mod registry;
mod route;
mod serve;
mod token;
mod uploads;

pub use accounts::{Accounts, AccountsConfig, AccountsError, AnnotationPolicy};
pub use auth::{Access, Action, AllowAll, Authorizer};
pub use clock::Clock;
pub use error::{ApiError, ErrorCode};
pub use metrics::Metrics;
pub use registry::{Limits, Registry, RegistryBuilder};
pub use route::{ManifestRef, RouteKind};
pub use serve::{serve, ServeOptions, Shutdown};
