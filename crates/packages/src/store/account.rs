//! [`AccountStore`]: users, organizations, their members and teams.

use async_trait::async_trait;
use wharf_auth::{Login, Membership, OrgRole, OrganizationPolicy, OwnerKind, TeamSlug, Timestamp};

use crate::account::{Account, Member, OrganizationMembership};
use crate::error::Error;
use crate::page::{Page, PageRequest};

/// The accounts of a registry: users and organizations, which share one
/// namespace of logins, and the members and teams of organizations.
///
/// One of the three parts of a [`PackageStore`](crate::PackageStore); the
/// [conventions](crate::PackageStore#conventions) of the whole apply.
/// Object safe (`Arc<dyn AccountStore>`).
#[async_trait]
pub trait AccountStore: Send + Sync {
    // ------------------------------------------------------------ accounts

    /// Creates a user. [`Error::AlreadyExists`] when the login is taken by
    /// a user or an organization.
    async fn create_user(&self, login: &Login, now: Timestamp) -> Result<Account, Error>;

    /// Creates an organization with `policy`. [`Error::AlreadyExists`] when
    /// the login is taken.
    async fn create_organization(
        &self,
        login: &Login,
        policy: OrganizationPolicy,
        now: Timestamp,
    ) -> Result<Account, Error>;

    /// The account with this login.
    async fn account(&self, login: &Login) -> Result<Option<Account>, Error>;

    /// The kind of account with this login: whether a namespace exists and
    /// who owns it.
    async fn owner_kind(&self, login: &Login) -> Result<Option<OwnerKind>, Error> {
        Ok(self.account(login).await?.map(|account| account.kind))
    }

    /// Changes an organization's package policy.
    async fn set_organization_policy(
        &self,
        organization: &Login,
        policy: OrganizationPolicy,
    ) -> Result<Account, Error>;

    /// Accounts in login order.
    async fn list_accounts(&self, page: &PageRequest) -> Result<Page<Account>, Error>;

    // ------------------------------------------------- members and teams

    /// Makes `user` a member of `organization` with `role`, or changes the
    /// role of a member (keeping their teams).
    async fn add_member(
        &self,
        organization: &Login,
        user: &Login,
        role: OrgRole,
        now: Timestamp,
    ) -> Result<Member, Error>;

    /// Removes `user` from `organization` and from all its teams.
    /// [`Error::NotFound`] when they were not a member.
    async fn remove_member(&self, organization: &Login, user: &Login) -> Result<(), Error>;

    /// `user`'s membership in `organization`: role and teams, or
    /// [`Membership::none`] for a non-member (or an account that is not an
    /// organization).
    async fn membership(&self, organization: &Login, user: &Login) -> Result<Membership, Error>;

    /// The members of `organization`, in login order.
    async fn members(&self, organization: &Login) -> Result<Vec<Member>, Error>;

    /// The organizations `user` belongs to, in login order.
    async fn organizations_of(&self, user: &Login) -> Result<Vec<OrganizationMembership>, Error>;

    /// Creates a team in `organization`.
    async fn create_team(
        &self,
        organization: &Login,
        team: &TeamSlug,
        now: Timestamp,
    ) -> Result<(), Error>;

    /// Deletes a team (its members stay in the organization).
    async fn delete_team(&self, organization: &Login, team: &TeamSlug) -> Result<(), Error>;

    /// The teams of `organization`, in slug order.
    async fn teams(&self, organization: &Login) -> Result<Vec<TeamSlug>, Error>;

    /// Adds a member of `organization` to one of its teams.
    /// [`Error::Conflict`] when `user` is not a member of the organization.
    async fn add_team_member(
        &self,
        organization: &Login,
        team: &TeamSlug,
        user: &Login,
    ) -> Result<(), Error>;

    /// Removes `user` from a team.
    async fn remove_team_member(
        &self,
        organization: &Login,
        team: &TeamSlug,
        user: &Login,
    ) -> Result<(), Error>;
}
