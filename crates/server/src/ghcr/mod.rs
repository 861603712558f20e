//! The GitHub Container registry model, plugged into the
//! [distribution core](crate::distribution): users and organizations,
//! personal access and workflow tokens, private and public packages
//! ([`Accounts`], the authorizer and the [manifest hooks](crate::ManifestHooks)),
//! the token endpoint (`/token`), the package REST API and the package
//! pages ([`web`]). Turned on with [`RegistryBuilder::accounts`]; behind
//! the `ghcr` cargo feature (default on), which brings `wharf-auth`,
//! `wharf-packages` (SQLite) and `wharf-annotations`.
//!
//! [`ManifestHooks`]: crate::ManifestHooks
//! [`RegistryBuilder::accounts`]: crate::RegistryBuilder::accounts

pub(crate) mod accounts;
pub(crate) mod clock;
pub(crate) mod deleted_packages;
mod hooks;
pub(crate) mod records;
mod registry;
pub(crate) mod rest;
pub(crate) mod retention;
pub(crate) mod token;
pub mod web;

pub use accounts::{Accounts, AccountsConfig, AccountsError, AnnotationPolicy};
pub use clock::Clock;
pub use deleted_packages::{package_archive_key, ArchiveRepairs, PackageContentError, PurgeTotals};
pub use retention::{RetainedDeletion, RetentionReport};

use wharf_packages::{Cursor, PageRequest};

/// Records read from the package store per round trip.
pub(crate) const STORE_PAGE: usize = 100;

/// The request for the page after the one whose cursor is `next`; none
/// after the last page.
pub(crate) fn next_page(next: Option<Cursor>) -> Option<PageRequest> {
    next.map(|cursor| PageRequest::after(cursor, STORE_PAGE))
}
