//! Accounts (users and organizations), organization members and teams.

use std::collections::BTreeSet;

use wharf_auth::{Login, Membership, OrgRole, OwnerKind, TeamSlug, Timestamp};

use crate::id::AccountId;

/// A user or an organization: an owner of a namespace.
///
/// Users and organizations share one namespace of logins, as on GitHub:
/// `acme` is either a user or an organization, never both.
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// builds it with [`Account::new`] and sets the other public fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// The store's id.
    pub id: AccountId,
    /// The login, lowercase.
    pub login: Login,
    /// A user, or an organization with its package policy.
    pub kind: OwnerKind,
    /// When it was created.
    pub created_at: Timestamp,
}

impl Account {
    /// Account `id`, named `login`, of `kind`, created at `created_at`.
    pub fn new(id: AccountId, login: Login, kind: OwnerKind, created_at: Timestamp) -> Account {
        Account {
            id,
            login,
            kind,
            created_at,
        }
    }

    /// Whether this is a user.
    pub fn is_user(&self) -> bool {
        matches!(self.kind, OwnerKind::User)
    }

    /// Whether this is an organization.
    pub fn is_organization(&self) -> bool {
        matches!(self.kind, OwnerKind::Organization(_))
    }
}

/// A member of an organization, with the teams they belong to.
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// builds it with [`Member::new`] and sets the other public fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Member {
    /// The user.
    pub login: Login,
    /// Their role in the organization.
    pub role: OrgRole,
    /// The organization's teams they belong to.
    pub teams: BTreeSet<TeamSlug>,
    /// When they joined.
    pub joined_at: Timestamp,
}

impl Member {
    /// `login`, with `role` and `teams`, a member since `joined_at`.
    pub fn new(
        login: Login,
        role: OrgRole,
        teams: BTreeSet<TeamSlug>,
        joined_at: Timestamp,
    ) -> Member {
        Member {
            login,
            role,
            teams,
            joined_at,
        }
    }

    /// The membership [`wharf_auth::authorize`] takes.
    pub fn membership(&self) -> Membership {
        Membership {
            role: Some(self.role),
            teams: self.teams.clone(),
        }
    }
}

/// One organization a user belongs to.
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// builds it with [`OrganizationMembership::new`] and sets the other public fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct OrganizationMembership {
    /// The organization.
    pub organization: Login,
    /// The user's role in it.
    pub role: OrgRole,
}

impl OrganizationMembership {
    /// Membership of `organization` with `role`.
    pub fn new(organization: Login, role: OrgRole) -> OrganizationMembership {
        OrganizationMembership { organization, role }
    }
}
