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
//! no JavaScript and its `Content-Security-Policy` forbids any; its style
//! is the static sheet at `/_wharf/style.css` (no inline style either).
//!
//! The markup is written with [maud](https://docs.rs/maud) templates,
//! which escape every interpolated value by construction.
//!
//! | module | holds |
//! |---|---|
//! | `routes` | [`PackagePages`]: the routes, handlers and responses |
//! | `access` | [`PageAccess`], [`StoreCredentials`] |
//! | `view` | [`PackageView`] and what pages derive from records |
//! | `templates` | the maud markup |
//! | `style.css` | the style sheet |
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
//! let version = NewVersion::new(Digest::sha256(b"{}"), wharf_reference::MediaType::OCI_IMAGE_MANIFEST, 2)
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

mod access;
mod routes;
mod templates;
mod view;

#[cfg(test)]
mod tests;

use std::sync::LazyLock;

use wharf_auth::Login;
use wharf_packages::PackageRecord;

pub use access::{PageAccess, StoreCredentials};
pub use routes::PackagePages;
pub use view::PackageView;

/// How many versions a package page reads (newest first); older ones are
/// summarised as "N more".
const MAX_VERSIONS: usize = 100;
/// How many packages an owner's list page shows.
const MAX_PACKAGES: usize = 100;

/// The style sheet of every page, served at [`STYLE_PATH`].
const STYLE: &str = include_str!("style.css");
/// Where the style sheet is served.
const STYLE_PATH: &str = "/_wharf/style.css";

/// The style sheet's URL as pages link it: [`STYLE_PATH`] with a hash of
/// its content, so that a new sheet is a new URL for caches.
fn style_href() -> &'static str {
    static HREF: LazyLock<String> =
        LazyLock::new(|| format!("{STYLE_PATH}?v={:016x}", fnv1a(STYLE.as_bytes())));
    &HREF
}

/// FNV-1a, 64 bits: a cache-busting tag, not a security measure.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

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

/// The HTML of a package page. Every value from the package (name,
/// metadata, tags) is escaped; the page holds no script.
pub fn render_package_page(view: &PackageView<'_>) -> String {
    templates::package_page(view).into_string()
}

/// The HTML of an owner's package list: `packages` are those the viewer
/// may see, in name order.
pub fn render_owner_page(owner: &Login, packages: &[PackageRecord], more: bool) -> String {
    templates::owner_page(owner, packages, more).into_string()
}
