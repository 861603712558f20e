//! Namespace owners: users and organizations, and a principal's membership
//! in an organization.

use std::collections::BTreeSet;

use super::identity::TeamSlug;
use super::keyword::keywords;

/// What kind of account owns a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind")]
pub enum OwnerKind {
    /// A personal account: only that user creates packages in it, and is
    /// admin of all of them.
    User,
    /// An organization: its owners are admin of all its packages; its
    /// members create packages as its policy allows.
    Organization(OrganizationPolicy),
}

impl OwnerKind {
    /// An organization with the default policy.
    pub fn organization() -> OwnerKind {
        OwnerKind::Organization(OrganizationPolicy::default())
    }
}

/// An organization's package settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct OrganizationPolicy {
    /// Whether members (not only owners) may create packages in the
    /// organization's namespace by publishing them. On by default, as on
    /// GitHub.
    pub members_can_create_packages: bool,
}

impl Default for OrganizationPolicy {
    fn default() -> Self {
        OrganizationPolicy {
            members_can_create_packages: true,
        }
    }
}

/// A user's role in an organization: `member`, or `admin` (also spelled
/// `owner` when parsed).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    /// A member.
    Member,
    /// An owner (administrator) of the organization: admin of every package
    /// in its namespace.
    Admin,
}

keywords!(OrgRole, "organization role", expected "member or admin", {
    Member => "member",
    Admin => "admin" | "owner",
});

/// A user's membership in the organization that owns the namespace being
/// accessed, as the caller knows it. Empty for a user namespace, for
/// non-members and for principals that are not users.
///
/// ```
/// use wharf_auth::{Membership, OrgRole};
///
/// let alice = Membership::member().with_team("devs".parse()?);
/// assert_eq!(alice.role, Some(OrgRole::Member));
/// assert!(alice.teams.iter().any(|t| t.as_str() == "devs"));
/// assert_eq!(Membership::none().role, None);
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Membership {
    /// The user's role, or `None` when not a member.
    pub role: Option<OrgRole>,
    /// The organization's teams the user belongs to.
    #[serde(default)]
    pub teams: BTreeSet<TeamSlug>,
}

impl Membership {
    /// Not a member.
    pub const fn none() -> Membership {
        Membership {
            role: None,
            teams: BTreeSet::new(),
        }
    }

    /// A member with no team.
    pub const fn member() -> Membership {
        Membership {
            role: Some(OrgRole::Member),
            teams: BTreeSet::new(),
        }
    }

    /// An organization owner with no team.
    pub const fn admin() -> Membership {
        Membership {
            role: Some(OrgRole::Admin),
            teams: BTreeSet::new(),
        }
    }

    /// This membership, also in `team`.
    #[must_use]
    pub fn with_team(mut self, team: TeamSlug) -> Membership {
        self.teams.insert(team);
        self
    }
}
