//! The [`PackageStore`] trait: everything the registry keeps about
//! accounts, tokens, packages and versions, in three parts:
//! [`AccountStore`], [`TokenStore`] and [`PackageRecords`].

mod account;
mod package;
mod token;

pub use account::AccountStore;
pub use package::{PackageRecords, PurgeReport, PurgedPackage, PurgedVersion};
pub use token::{Revision, TokenStore, LAST_USED_GRANULARITY};

/// The registry's persistent records: accounts (users and organizations),
/// organization members and teams, personal access and workflow tokens,
/// packages with their settings and metadata, package versions with their
/// tags, and the collaborators of source repositories.
///
/// # Conventions
///
/// - **Time is passed in.** Every change takes `now`; the store reads no
///   clock, so tests can move time (deleted records are restorable for
///   the store's [restore window](PackageRecords::restore_window),
///   [`RESTORE_WINDOW`](crate::RESTORE_WINDOW) by default, then purged).
/// - **Names are parsed.** Methods take [`Login`](wharf_auth::Login),
///   [`RepositoryName`](wharf_reference::RepositoryName),
///   [`Tag`](wharf_reference::Tag), [`Digest`](wharf_reference::Digest): never unchecked strings.
/// - **Packages by name are live packages.** A name addresses the live
///   (not deleted) package of that name; a deleted package is addressed by
///   [`restore_package`](PackageRecords::restore_package), by id, or in a
///   [`PackageQuery::deleted`](crate::PackageQuery::deleted) listing. Version methods act on versions of
///   the live package.
/// - **Errors** are [`Error::NotFound`](crate::Error::NotFound) (the named account, package,
///   version, tag or token does not exist), [`Error::AlreadyExists`](crate::Error::AlreadyExists),
///   [`Error::Conflict`](crate::Error::Conflict) (with a reason), and the store's own failures.
///   Lookups answer `Ok(None)` rather than `NotFound`.
/// - **Every change is atomic**: it happens whole or not at all.
///
/// # The parts
///
/// - [`AccountStore`]: users, organizations, members and teams.
/// - [`TokenStore`]: personal access and workflow tokens, and their use.
/// - [`PackageRecords`]: packages, versions and tags, grants, source
///   repository collaborators, purging, and
///   [`access_context`](PackageRecords::access_context).
///
/// `PackageStore` is implemented for every type that implements the
/// three, so a backend implements those (as `wharf-storage`'s `Storage`
/// is over its parts). Object safe: share it as `Arc<dyn PackageStore>`.
/// Calling a method needs its trait in scope:
/// `use wharf_packages::prelude::*;`. Implementations check their
/// behaviour with the [`testkit`](crate#testkit) suite.
pub trait PackageStore: AccountStore + TokenStore + PackageRecords {}

impl<T: AccountStore + TokenStore + PackageRecords + ?Sized> PackageStore for T {}
