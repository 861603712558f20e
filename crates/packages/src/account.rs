//! Accounts (users and organizations), organization members and teams.

use std::collections::BTreeSet;

use wharf_auth::{Login, Membership, OrgRole, OwnerKind, TeamSlug, Timestamp};

use crate::id::AccountId;

/// A user or an organization: an owner of a namespace.
///
/// Users and organizations share one namespace of logins, as on GitHub:
/// `acme` is either a user or an organization, never both.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// The membership [`wharf_auth::authorize`] takes.
    pub fn membership(&self) -> Membership {
        Membership {
            role: Some(self.role),
            teams: self.teams.clone(),
        }
    }
}

/// One organization a user belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrganizationMembership {
    /// The organization.
    pub organization: Login,
    /// The user's role in it.
    pub role: OrgRole,
}
