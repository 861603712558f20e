//! [`PackageState`]: what the caller knows about the package a request is
//! about.

use std::collections::BTreeSet;

use wharf_reference::RepositoryName;

use super::super::identity::TeamSlug;
use super::super::owner::{Membership, OwnerKind};
use super::super::package::{Package, RepositoryAccess};

static NO_MEMBERSHIP: Membership = Membership::none();
static NO_TEAMS: BTreeSet<TeamSlug> = BTreeSet::new();

/// What the caller knows about the package a request is about.
///
/// ```
/// use wharf_auth::{Membership, OwnerKind, Package, PackageState};
///
/// let name = "acme/app".parse()?;
/// let package = Package::new("acme/app".parse()?);
/// let alice_in_acme = Membership::member();
/// let state = PackageState::new(&name, OwnerKind::organization())
///     .with_package(&package)
///     .with_membership(&alice_in_acme);
/// assert!(state.package.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PackageState<'a> {
    /// The repository name the request is about.
    pub name: &'a RepositoryName,
    /// The kind of account that owns the namespace (`name.namespace()`).
    pub owner: OwnerKind,
    /// The package record: `None` when no package of that name exists yet
    /// (a push is then a first publish). For [`PackageAction::Restore`](super::PackageAction::Restore), the
    /// deleted package's record. Its `name` must be `name`.
    pub package: Option<&'a Package>,
    /// The principal's membership in the owning organization (ignored for
    /// user namespaces and for principals that are not users).
    pub membership: &'a Membership,
    /// The collaborators of the package's linked repository, used when the
    /// package inherits access from it.
    pub repository_access: Option<&'a RepositoryAccess>,
}

impl<'a> PackageState<'a> {
    /// The state of a package that does not exist yet, in a namespace
    /// owned by an account of kind `owner`, for a principal that is not a
    /// member of it.
    pub fn new(name: &'a RepositoryName, owner: OwnerKind) -> PackageState<'a> {
        PackageState {
            name,
            owner,
            package: None,
            membership: &NO_MEMBERSHIP,
            repository_access: None,
        }
    }

    /// With the package record.
    #[must_use]
    pub fn with_package(mut self, package: &'a Package) -> PackageState<'a> {
        self.package = Some(package);
        self
    }

    /// With the principal's membership in the owning organization.
    #[must_use]
    pub fn with_membership(mut self, membership: &'a Membership) -> PackageState<'a> {
        self.membership = membership;
        self
    }

    /// With the collaborators of the linked repository.
    #[must_use]
    pub fn with_repository_access(mut self, access: &'a RepositoryAccess) -> PackageState<'a> {
        self.repository_access = Some(access);
        self
    }

    /// The teams that count: the membership's, in an organization
    /// namespace only.
    pub(super) fn teams(&self) -> &'a BTreeSet<TeamSlug> {
        match self.owner {
            OwnerKind::Organization(_) => &self.membership.teams,
            OwnerKind::User => &NO_TEAMS,
        }
    }
}
