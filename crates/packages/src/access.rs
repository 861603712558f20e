//! What a permission decision needs to know, gathered in one lookup, and
//! the collaborators of source repositories.

use std::fmt;
use std::str::FromStr;

use wharf_auth::{Login, Membership, OwnerKind, PackageState, RepositoryAccess, TeamSlug};
use wharf_reference::RepositoryName;

use crate::package::PackageRecord;

/// Everything [`wharf_auth::authorize`] needs about one repository name
/// and one caller, read in one consistent snapshot by
/// [`PackageRecords::access_context`](crate::PackageRecords::access_context).
///
/// ```
/// use wharf_auth::{authorize, PackageAction, OwnerKind, Principal};
/// use wharf_packages::AccessContext;
///
/// let context = AccessContext::new("acme/app".parse()?).with_owner(OwnerKind::organization());
/// let state = context.state().expect("the namespace exists");
/// let decision = authorize(&Principal::Anonymous, PackageAction::Pull, &state);
/// assert!(!decision.is_allowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// builds it with [`AccessContext::new`] and sets the other public fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct AccessContext {
    /// The name asked about.
    pub name: RepositoryName,
    /// The kind of account owning the namespace; `None` when no account
    /// has that login.
    pub owner: Option<OwnerKind>,
    /// The caller's membership in the owning organization (empty for a
    /// user namespace, an anonymous caller or a non-member).
    pub membership: Membership,
    /// The package, when one exists (live, or the latest deleted one, as
    /// asked).
    pub package: Option<PackageRecord>,
    /// The collaborators of the package's linked repository that can
    /// concern the caller (the caller's own entry and every team entry);
    /// `None` without a linked repository.
    pub repository_access: Option<RepositoryAccess>,
}

impl AccessContext {
    /// A context for `name` with no owner, no package and no membership.
    pub fn new(name: RepositoryName) -> AccessContext {
        AccessContext {
            name,
            owner: None,
            membership: Membership::none(),
            package: None,
            repository_access: None,
        }
    }

    /// With the namespace owned by an account of kind `owner`.
    #[must_use]
    pub fn with_owner(mut self, owner: OwnerKind) -> AccessContext {
        self.owner = Some(owner);
        self
    }

    /// The state [`wharf_auth::authorize`] takes, borrowing from this
    /// context; `None` when the namespace has no owner (no one may do
    /// anything there: answer 404).
    pub fn state(&self) -> Option<PackageState<'_>> {
        let owner = self.owner?;
        let mut state = PackageState::new(&self.name, owner).with_membership(&self.membership);
        if let Some(record) = &self.package {
            state = state.with_package(&record.package);
        }
        if let Some(access) = &self.repository_access {
            state = state.with_repository_access(access);
        }
        Some(state)
    }
}

/// A collaborator on a source repository: a user or a team.
///
/// Written `user:LOGIN` or `team:SLUG`.
///
/// ```
/// use wharf_packages::Collaborator;
///
/// for s in ["user:alice", "team:devs"] {
///     assert_eq!(s.parse::<Collaborator>()?.to_string(), s);
/// }
/// assert!("repository:acme/app".parse::<Collaborator>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Collaborator {
    /// A user.
    User(Login),
    /// A team.
    Team(TeamSlug),
}

impl Collaborator {
    /// `user` or `team`: the kind column of the store.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Collaborator::User(_) => "user",
            Collaborator::Team(_) => "team",
        }
    }

    /// The login or slug.
    pub fn name(&self) -> &str {
        match self {
            Collaborator::User(login) => login.as_str(),
            Collaborator::Team(team) => team.as_str(),
        }
    }
}

impl fmt::Display for Collaborator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.name())
    }
}

/// Why a collaborator string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid collaborator `{input}`: expected `user:LOGIN` or `team:SLUG`")]
pub struct CollaboratorParseError {
    input: String,
}

impl FromStr for Collaborator {
    type Err = CollaboratorParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || CollaboratorParseError {
            input: s.chars().take(64).collect(),
        };
        match s.split_once(':') {
            Some(("user", login)) => login.parse().map(Collaborator::User).map_err(|_| invalid()),
            Some(("team", team)) => team.parse().map(Collaborator::Team).map_err(|_| invalid()),
            _ => Err(invalid()),
        }
    }
}

impl serde::Serialize for Collaborator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Collaborator {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
