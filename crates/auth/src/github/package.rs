//! Packages and who may do what with them: visibility, roles, grants, and
//! access inherited from a linked source repository.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use wharf_reference::RepositoryName;

use super::identity::{serde_as_string, CodeRepository, Identity, Login, TeamSlug};
use super::keyword::keywords;
use crate::error::{excerpt, Error};

/// Who can see a package.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Only people (and workflows) with a role on the package. What a
    /// package is when first published.
    #[default]
    Private,
    /// Every authenticated user of this registry (the enterprise's
    /// members); workflows only with a role.
    Internal,
    /// Everyone, anonymous callers included.
    Public,
}

keywords!(Visibility, "visibility", expected "private, internal or public", {
    Private => "private",
    Internal => "internal",
    Public => "public",
});

/// A role on a package. Each includes the ones before it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Pull, and read metadata.
    Read,
    /// Also push, and write metadata.
    Write,
    /// Also delete and restore the package and its versions, and change
    /// its settings (visibility, grants, linked repository).
    Admin,
}

keywords!(Role, "role", expected "read, write or admin", {
    Read => "read",
    Write => "write",
    Admin => "admin",
});

/// Who a package grants a role to.
///
/// Written `user:LOGIN`, `team:SLUG` (a team of the owning organization) or
/// `repository:OWNER/REPO` (the workflows of that repository: GitHub's
/// "Manage Actions access").
///
/// ```
/// use wharf_auth::Grantee;
///
/// for s in ["user:alice", "team:devs", "repository:acme/app"] {
///     assert_eq!(s.parse::<Grantee>()?.to_string(), s);
/// }
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grantee {
    /// A user.
    User(Login),
    /// A team of the organization that owns the package.
    Team(TeamSlug),
    /// The workflows of a source repository.
    Repository(CodeRepository),
}

impl fmt::Display for Grantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grantee::User(login) => write!(f, "user:{login}"),
            Grantee::Team(team) => write!(f, "team:{team}"),
            Grantee::Repository(repo) => write!(f, "repository:{repo}"),
        }
    }
}

impl FromStr for Grantee {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.split_once(':') {
            Some(("user", login)) => login.parse().map(Grantee::User),
            Some(("team", team)) => team.parse().map(Grantee::Team),
            Some(("repository", repo)) => repo.parse().map(Grantee::Repository),
            _ => Err(Error::UnknownKeyword {
                what: "grantee",
                input: excerpt(s),
                expected: "user:LOGIN, team:SLUG or repository:OWNER/REPO",
            }),
        }
    }
}

serde_as_string!(
    Grantee,
    "a grantee such as `user:alice`, `team:devs` or `repository:acme/app`"
);

/// A role a package gives to a user, a team or a repository's workflows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Grant {
    /// Who gets the role.
    pub grantee: Grantee,
    /// The role.
    pub role: Role,
}

/// A collaborator's role on a source repository, as GitHub names them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RepositoryRole {
    /// Read.
    Read,
    /// Triage: read, and manage issues.
    Triage,
    /// Write.
    Write,
    /// Maintain: write, and manage the repository without admin rights.
    Maintain,
    /// Admin.
    Admin,
}

keywords!(
    RepositoryRole,
    "repository role",
    expected "read, triage, write, maintain or admin",
    {
        Read => "read",
        Triage => "triage",
        Write => "write",
        Maintain => "maintain",
        Admin => "admin",
    }
);

impl RepositoryRole {
    /// The package role a repository role gives when a package inherits
    /// access from the repository: read and triage read, write and maintain
    /// write, admin administers.
    pub const fn package_role(self) -> Role {
        match self {
            RepositoryRole::Read | RepositoryRole::Triage => Role::Read,
            RepositoryRole::Write | RepositoryRole::Maintain => Role::Write,
            RepositoryRole::Admin => Role::Admin,
        }
    }
}

/// The collaborators of a source repository and their roles, filled in by
/// the caller for the repository a package is linked to. It only needs the
/// entries that can concern the principal being authorized (its login and
/// its teams).
///
/// ```
/// use wharf_auth::{RepositoryAccess, RepositoryRole};
///
/// let access = RepositoryAccess::new("acme/app".parse()?)
///     .with_user("alice".parse()?, RepositoryRole::Write)
///     .with_team("devs".parse()?, RepositoryRole::Read);
/// let alice = "alice".parse()?;
/// assert_eq!(access.role_of(&alice, []), Some(RepositoryRole::Write));
/// let bob = "bob".parse()?;
/// let devs = "devs".parse()?;
/// assert_eq!(access.role_of(&bob, [&devs]), Some(RepositoryRole::Read));
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RepositoryAccess {
    /// The repository these roles are on. Ignored by [`crate::authorize`]
    /// unless it is the package's linked repository.
    pub repository: CodeRepository,
    /// Users' roles.
    #[serde(default)]
    pub users: BTreeMap<Login, RepositoryRole>,
    /// Teams' roles.
    #[serde(default)]
    pub teams: BTreeMap<TeamSlug, RepositoryRole>,
}

impl RepositoryAccess {
    /// No collaborator on `repository` yet.
    pub fn new(repository: CodeRepository) -> RepositoryAccess {
        RepositoryAccess {
            repository,
            users: BTreeMap::new(),
            teams: BTreeMap::new(),
        }
    }

    /// This access, with `login` as a collaborator in `role`.
    #[must_use]
    pub fn with_user(mut self, login: Login, role: RepositoryRole) -> RepositoryAccess {
        self.users.insert(login, role);
        self
    }

    /// This access, with `team` as a collaborator in `role`.
    #[must_use]
    pub fn with_team(mut self, team: TeamSlug, role: RepositoryRole) -> RepositoryAccess {
        self.teams.insert(team, role);
        self
    }

    /// The highest role of `login`, directly or through one of `teams`.
    pub fn role_of<'a, I>(&self, login: &Login, teams: I) -> Option<RepositoryRole>
    where
        I: IntoIterator<Item = &'a TeamSlug>,
    {
        let direct = self.users.get(login).copied();
        let through_teams = teams
            .into_iter()
            .filter_map(|team| self.teams.get(team).copied())
            .max();
        direct.max(through_teams)
    }
}

/// A package: a repository name in an owner's namespace (`OWNER/IMAGE`,
/// `OWNER/IMAGE/release`), with its visibility and who may do what with it.
///
/// ```
/// use wharf_auth::{Identity, Package, Role, Visibility, Grantee};
///
/// let mut package = Package::first_publish("acme/app".parse()?, &Identity::User("alice".parse()?));
/// assert_eq!(package.visibility, Visibility::Private);
/// assert_eq!(package.owner(), "acme");
/// assert_eq!(package.package_name(), Some("app"));
/// assert_eq!(package.role_of(&"user:alice".parse()?), Some(Role::Admin));
///
/// package.grant("team:devs".parse()?, Role::Write);
/// assert_eq!(package.role_of(&"team:devs".parse()?), Some(Role::Write));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Package {
    /// The repository name; its namespace is the owner's login.
    pub name: RepositoryName,
    /// Who can see it.
    #[serde(default)]
    pub visibility: Visibility,
    /// The source repository it is linked to, if any.
    #[serde(default)]
    pub linked_repository: Option<CodeRepository>,
    /// Whether the linked repository's collaborators get the matching
    /// package roles (see [`RepositoryRole::package_role`]). Grants apply in
    /// addition.
    #[serde(default)]
    pub inherit_access: bool,
    /// Roles given on this package.
    #[serde(default)]
    pub grants: Vec<Grant>,
}

impl Package {
    /// A private package with no link and no grant.
    pub fn new(name: RepositoryName) -> Package {
        Package {
            name,
            visibility: Visibility::Private,
            linked_repository: None,
            inherit_access: false,
            grants: Vec::new(),
        }
    }

    /// The package a first publish by `creator` creates: private; a user
    /// creator is granted admin; a workflow's repository is linked and its
    /// access inherited (which makes the workflow admin of it).
    pub fn first_publish(name: RepositoryName, creator: &Identity) -> Package {
        let mut package = Package::new(name);
        match creator {
            Identity::User(login) => package.grant(Grantee::User(login.clone()), Role::Admin),
            Identity::Workflow(repo) => package.link(repo.clone()),
            Identity::Anonymous => {}
        }
        package
    }

    /// The owner's login: the namespace.
    pub fn owner(&self) -> &str {
        self.name.namespace()
    }

    /// The name within the namespace (`app`, `app/release`).
    pub fn package_name(&self) -> Option<&str> {
        self.name.package()
    }

    /// Links the package to `repository` and inherits its access, as
    /// GitHub does by default when a package is connected to a repository.
    pub fn link(&mut self, repository: CodeRepository) {
        self.linked_repository = Some(repository);
        self.inherit_access = true;
    }

    /// Gives `role` to `grantee`, replacing any role it had.
    pub fn grant(&mut self, grantee: Grantee, role: Role) {
        self.revoke(&grantee);
        self.grants.push(Grant { grantee, role });
    }

    /// Takes away any role `grantee` was given.
    pub fn revoke(&mut self, grantee: &Grantee) {
        self.grants.retain(|grant| &grant.grantee != grantee);
    }

    /// The highest role given to `grantee` by a grant (inherited access not
    /// included).
    pub fn role_of(&self, grantee: &Grantee) -> Option<Role> {
        self.grants
            .iter()
            .filter(|grant| &grant.grantee == grantee)
            .map(|grant| grant.role)
            .max()
    }

    /// The highest role grants give the user `login` directly or through
    /// one of `teams` (repository grants are for workflows, not users).
    pub(crate) fn role_of_any(&self, login: &Login, teams: &BTreeSet<TeamSlug>) -> Option<Role> {
        self.grants
            .iter()
            .filter(|grant| match &grant.grantee {
                Grantee::User(user) => user == login,
                Grantee::Team(team) => teams.contains(team),
                Grantee::Repository(_) => false,
            })
            .map(|grant| grant.role)
            .max()
    }
}
