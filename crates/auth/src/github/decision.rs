//! The permission decision: may this principal do this to this package?
//!
//! [`authorize`] is a pure function over plain data: the caller looks up
//! what it knows (the package record, the namespace's owner kind, the
//! principal's membership in the owning organization, the collaborators of
//! the linked repository) and passes it in a [`PackageState`].

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use wharf_reference::RepositoryName;

use super::identity::{CodeRepository, Login, Principal, TeamSlug, WorkflowPermission};
use super::owner::{Membership, OrgRole, OwnerKind};
use super::package::{Grantee, Package, RepositoryAccess, Role, Visibility};
use super::token_scope::TokenScopes;
use crate::error::{excerpt, Error};
use crate::protocol::{BearerChallenge, ChallengeError, ScopeActions};

/// Something a principal wants to do to a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PackageAction {
    /// Pull manifests and blobs, read metadata.
    Pull,
    /// Push manifests and blobs (creating the package on first publish).
    Push,
    /// Delete the package, a version, a tag or a manifest.
    Delete,
    /// Restore a deleted package or version.
    Restore,
    /// Change visibility, grants, the linked repository or access
    /// inheritance.
    ChangeSettings,
}

impl PackageAction {
    /// Every action.
    pub const ALL: [PackageAction; 5] = [
        PackageAction::Pull,
        PackageAction::Push,
        PackageAction::Delete,
        PackageAction::Restore,
        PackageAction::ChangeSettings,
    ];

    /// The keyword (`pull`, `push`, `delete`, `restore`,
    /// `change-settings`).
    pub const fn as_str(self) -> &'static str {
        match self {
            PackageAction::Pull => "pull",
            PackageAction::Push => "push",
            PackageAction::Delete => "delete",
            PackageAction::Restore => "restore",
            PackageAction::ChangeSettings => "change-settings",
        }
    }

    /// The package role the action needs (public and internal packages
    /// are also readable without a role).
    pub const fn required_role(self) -> Role {
        match self {
            PackageAction::Pull => Role::Read,
            PackageAction::Push => Role::Write,
            PackageAction::Delete | PackageAction::Restore | PackageAction::ChangeSettings => {
                Role::Admin
            }
        }
    }

    /// The registry token action that stands for this action: `pull`,
    /// `push` or `delete`; none for the package-API-only actions.
    pub const fn scope_actions(self) -> ScopeActions {
        match self {
            PackageAction::Pull => ScopeActions::PULL,
            PackageAction::Push => ScopeActions::PUSH,
            PackageAction::Delete => ScopeActions::DELETE,
            PackageAction::Restore | PackageAction::ChangeSettings => ScopeActions::NONE,
        }
    }

    /// The phrase for messages: "pull", "push to", "delete", "restore",
    /// "change the settings of".
    const fn verb(self) -> &'static str {
        match self {
            PackageAction::Pull => "pull",
            PackageAction::Push => "push to",
            PackageAction::Delete => "delete",
            PackageAction::Restore => "restore",
            PackageAction::ChangeSettings => "change the settings of",
        }
    }
}

impl fmt::Display for PackageAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PackageAction {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        PackageAction::ALL
            .into_iter()
            .find(|action| action.as_str() == s)
            .ok_or_else(|| Error::UnknownKeyword {
                what: "action",
                input: excerpt(s),
                expected: "pull, push, delete, restore or change-settings",
            })
    }
}

/// Why a request was denied, which decides the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DenyKind {
    /// No credentials were presented: answer 401 with a
    /// `WWW-Authenticate` challenge (`UNAUTHORIZED`).
    NeedsAuthentication,
    /// Credentials were presented but their scopes (or a workflow token's
    /// `packages` permission) do not cover the action: answer 403
    /// (`DENIED`), with `error="insufficient_scope"` in a bearer challenge.
    InsufficientScope,
    /// The principal can see the package (or namespace) but may not do
    /// this: answer 403 (`DENIED`).
    Forbidden,
    /// The package does not exist, or the principal may not know it exists:
    /// answer 404 (`NAME_UNKNOWN`). The two cases are deliberately the same
    /// answer, so a private package's existence is never revealed.
    NotVisible,
}

impl DenyKind {
    /// The `error` of the Bearer challenge that fits this denial:
    /// `insufficient_scope` for [`DenyKind::InsufficientScope`] (a token
    /// was presented but lacked scope), none otherwise.
    pub const fn challenge_error(self) -> Option<ChallengeError> {
        match self {
            DenyKind::InsufficientScope => Some(ChallengeError::InsufficientScope),
            _ => None,
        }
    }
}

/// GitHub policy meets the token protocol here, so that
/// [`crate::protocol`] needs nothing from [`crate::github`].
impl BearerChallenge {
    /// With the `error` that fits a denial
    /// ([`DenyKind::challenge_error`]): `insufficient_scope` for
    /// [`DenyKind::InsufficientScope`] (a token was presented but lacked
    /// scope), none otherwise.
    #[must_use]
    pub fn for_denial(self, kind: DenyKind) -> BearerChallenge {
        match kind.challenge_error() {
            Some(error) => self.with_error(error),
            None => self,
        }
    }
}

/// The outcome of [`authorize`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused.
    Deny {
        /// Which response to give.
        kind: DenyKind,
        /// What went wrong and what the user can do about it. For
        /// [`DenyKind::NotVisible`] it never says whether the package
        /// exists.
        reason: String,
    },
}

impl Decision {
    /// Whether the request may go ahead.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// Why it was denied, if it was.
    pub fn deny_kind(&self) -> Option<DenyKind> {
        match self {
            Decision::Allow => None,
            Decision::Deny { kind, .. } => Some(*kind),
        }
    }

    /// The reason it was denied, if it was.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Decision::Allow => None,
            Decision::Deny { reason, .. } => Some(reason),
        }
    }

    fn deny(kind: DenyKind, reason: String) -> Decision {
        Decision::Deny { kind, reason }
    }
}

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
    /// (a push is then a first publish). For [`PackageAction::Restore`], the
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
    fn teams(&self) -> &'a BTreeSet<TeamSlug> {
        match self.owner {
            OwnerKind::Organization(_) => &self.membership.teams,
            OwnerKind::User => &NO_TEAMS,
        }
    }
}

/// The highest role `principal` has on the package (or, for a package that
/// does not exist yet, on the namespace), from every source: owning the
/// user namespace, owning the organization, grants, the linked repository
/// (for a workflow of it), and access inherited from the linked repository.
///
/// Token scopes do not enter here; they cap what a role allows in
/// [`authorize`].
pub fn effective_role(principal: &Principal, state: &PackageState<'_>) -> Option<Role> {
    match principal {
        Principal::Anonymous => None,
        Principal::User { login, .. } => {
            let owner = match state.owner {
                OwnerKind::User => login.as_str() == state.name.namespace(),
                OwnerKind::Organization(_) => state.membership.role == Some(OrgRole::Admin),
            };
            let owner_role = owner.then_some(Role::Admin);
            let package_role = state
                .package
                .and_then(|package| user_package_role(package, state, login));
            owner_role.max(package_role)
        }
        Principal::Workflow { repository, .. } => state
            .package
            .and_then(|package| workflow_package_role(package, repository)),
    }
}

/// A user's role from the package's grants and inherited access.
fn user_package_role(package: &Package, state: &PackageState<'_>, login: &Login) -> Option<Role> {
    let teams = state.teams();
    let granted = package.role_of_any(login, teams);
    let inherited = match (&package.linked_repository, state.repository_access) {
        (Some(linked), Some(access)) if package.inherit_access && &access.repository == linked => {
            access.role_of(login, teams).map(|role| role.package_role())
        }
        _ => None,
    };
    granted.max(inherited)
}

/// A workflow's role: admin of packages linked to its repository, plus
/// what grants give its repository.
fn workflow_package_role(package: &Package, repository: &CodeRepository) -> Option<Role> {
    let linked = (package.linked_repository.as_ref() == Some(repository)).then_some(Role::Admin);
    let granted = package
        .grants
        .iter()
        .filter(|grant| matches!(&grant.grantee, Grantee::Repository(r) if r == repository))
        .map(|grant| grant.role)
        .max();
    linked.max(granted)
}

/// Decides whether `principal` may do `action` to the package described by
/// `state`.
///
/// The rules, in the order they are applied:
///
/// 1. Anyone, anonymous callers included, may pull a public package.
/// 2. Anonymous callers may do nothing else: [`DenyKind::NeedsAuthentication`].
/// 3. Credentials cap what a role allows ([`DenyKind::InsufficientScope`]):
///    a personal access token needs `read:packages` to pull,
///    `write:packages` to push, `read:packages` and `delete:packages` to
///    delete, `write:packages` to restore (as GitHub's REST API asks) and
///    to change settings; `repo` grants nothing. A workflow token needs
///    `packages: read` to pull and `packages: write` for everything else.
/// 4. A package that does not exist yet can only be pushed (first
///    publish), and only into a namespace the principal may create
///    packages in: a user into their own namespace; an organization owner
///    into the organization's; a member too when the organization's
///    policy lets members create packages; a workflow into its
///    repository's owner namespace. Any other action is
///    [`DenyKind::NotVisible`].
/// 5. An existing package the principal has no role on is visible when it
///    is public, or internal and the principal is a user; otherwise
///    [`DenyKind::NotVisible`], except for a push, which gets the answer a
///    first publish would get (so a push reveals a private package's
///    existence only to those who could create it, who then get
///    [`DenyKind::Forbidden`]: the name is taken).
/// 6. A visible package can be pulled; pushing needs the write role;
///    deleting, restoring and changing settings need admin. Short of
///    that: [`DenyKind::Forbidden`].
///
/// ```
/// use wharf_auth::{authorize, PackageAction, DenyKind, OwnerKind, Package, PackageState, Principal, Visibility};
///
/// let name = "octocat/app".parse()?;
/// let mut package = Package::new("octocat/app".parse()?);
/// let state = PackageState::new(&name, OwnerKind::User).with_package(&package);
///
/// // A private package is invisible to others, even anonymous ones get no hint.
/// let bob = Principal::User { login: "bob".parse()?, scopes: "read:packages".parse()? };
/// assert_eq!(authorize(&bob, PackageAction::Pull, &state).deny_kind(), Some(DenyKind::NotVisible));
/// assert_eq!(
///     authorize(&Principal::Anonymous, PackageAction::Pull, &state).deny_kind(),
///     Some(DenyKind::NeedsAuthentication)
/// );
///
/// // The owner can, with the right token scope.
/// let octocat = Principal::User { login: "octocat".parse()?, scopes: "write:packages".parse()? };
/// assert!(authorize(&octocat, PackageAction::Push, &state).is_allowed());
/// assert_eq!(
///     authorize(&octocat, PackageAction::Delete, &state).deny_kind(),
///     Some(DenyKind::InsufficientScope)
/// );
///
/// // Once public, anyone pulls it.
/// package.visibility = Visibility::Public;
/// let state = PackageState::new(&name, OwnerKind::User).with_package(&package);
/// assert!(authorize(&Principal::Anonymous, PackageAction::Pull, &state).is_allowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn authorize(
    principal: &Principal,
    action: PackageAction,
    state: &PackageState<'_>,
) -> Decision {
    let name = state.name;
    if let Some(package) = state.package {
        if &package.name != name {
            // A caller bug; fail closed rather than decide about the wrong package.
            return Decision::deny(
                DenyKind::Forbidden,
                format!(
                    "internal error: the package record is for {}, not {name}",
                    package.name
                ),
            );
        }
    }
    let visibility = state.package.map(|package| package.visibility);
    if action == PackageAction::Pull && visibility == Some(Visibility::Public) {
        return Decision::Allow;
    }
    if !principal.is_authenticated() {
        return Decision::deny(
            DenyKind::NeedsAuthentication,
            format!(
                "authentication required to {} {name}: log in with your username and a personal access token with {}",
                action.verb(),
                token_scopes_needed(action)
            ),
        );
    }
    if let Some(denied) = credential_limit(principal, action, name) {
        return denied;
    }
    let role = effective_role(principal, state);
    let Some(visibility) = visibility else {
        return match action {
            PackageAction::Push => may_create(principal, state, role),
            _ => not_visible(name),
        };
    };
    let visible = role.is_some()
        || match visibility {
            Visibility::Public => true,
            Visibility::Internal => matches!(principal, Principal::User { .. }),
            Visibility::Private => false,
        };
    if !visible {
        if action == PackageAction::Push {
            // Answer as for a first publish, so that a push does not tell
            // outsiders whether a private package exists. Only those who
            // could create the package learn that its name is taken.
            return match may_create(principal, state, role) {
                Decision::Allow => Decision::deny(
                    DenyKind::Forbidden,
                    forbidden_reason(principal, action, state, role),
                ),
                denied => denied,
            };
        }
        return not_visible(name);
    }
    let required = action.required_role();
    if action == PackageAction::Pull || role >= Some(required) {
        return Decision::Allow;
    }
    Decision::deny(
        DenyKind::Forbidden,
        forbidden_reason(principal, action, state, role),
    )
}

/// Which registry token actions `principal` may take on the repository of
/// `state`: what a token endpoint intersects a client's requested scope
/// with.
///
/// ```
/// use wharf_auth::{permitted_actions, OwnerKind, PackageState, Principal, Scope, ScopeActions};
///
/// let name = "octocat/app".parse()?;
/// let state = PackageState::new(&name, OwnerKind::User); // not published yet
/// let octocat = Principal::User { login: "octocat".parse()?, scopes: "write:packages".parse()? };
/// let allowed = permitted_actions(&octocat, &state);
/// assert_eq!(allowed, ScopeActions::PUSH); // first publish; nothing to pull yet
///
/// let asked: Scope = "repository:octocat/app:pull,push".parse()?;
/// let granted = asked.intersect(&Scope::repository(name.clone(), allowed));
/// assert_eq!(granted.map(|s| s.to_string()).as_deref(), Some("repository:octocat/app:push"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn permitted_actions(principal: &Principal, state: &PackageState<'_>) -> ScopeActions {
    [
        PackageAction::Pull,
        PackageAction::Push,
        PackageAction::Delete,
    ]
    .into_iter()
    .filter(|action| authorize(principal, *action, state).is_allowed())
    .fold(ScopeActions::NONE, |acc, action| {
        acc | action.scope_actions()
    })
}

/// The personal access token scopes `action` needs, in words.
fn token_scopes_needed(action: PackageAction) -> &'static str {
    match action {
        PackageAction::Pull => "read:packages",
        PackageAction::Push | PackageAction::Restore | PackageAction::ChangeSettings => {
            "write:packages"
        }
        PackageAction::Delete => "read:packages and delete:packages",
    }
}

/// Whether the token's scopes allow `action`.
fn token_allows(scopes: TokenScopes, action: PackageAction) -> bool {
    match action {
        PackageAction::Pull => scopes.can_read_packages(),
        PackageAction::Push | PackageAction::Restore | PackageAction::ChangeSettings => {
            scopes.can_write_packages()
        }
        PackageAction::Delete => scopes.can_delete_packages(),
    }
}

/// The denial when the credentials themselves do not cover `action`,
/// whatever the principal's role.
fn credential_limit(
    principal: &Principal,
    action: PackageAction,
    name: &RepositoryName,
) -> Option<Decision> {
    match principal {
        Principal::Anonymous => None,
        Principal::User { scopes, .. } => (!token_allows(*scopes, action)).then(|| {
            let needed = token_scopes_needed(action);
            let has = if scopes.is_empty() {
                "no scopes".to_owned()
            } else {
                format!("only {scopes}")
            };
            Decision::deny(
                DenyKind::InsufficientScope,
                format!(
                    "your personal access token has {has}; to {} {name} it needs {needed}: create a token with {needed}",
                    action.verb()
                ),
            )
        }),
        Principal::Workflow { packages, .. } => {
            let needed = if action == PackageAction::Pull {
                WorkflowPermission::Read
            } else {
                WorkflowPermission::Write
            };
            (*packages < needed).then(|| {
                Decision::deny(
                    DenyKind::InsufficientScope,
                    format!(
                        "the workflow token has `packages: {packages}`; to {} {name} it needs `packages: {needed}`: set it in the workflow's `permissions`",
                        action.verb()
                    ),
                )
            })
        }
    }
}

fn not_visible(name: &RepositoryName) -> Decision {
    Decision::deny(
        DenyKind::NotVisible,
        format!("package {name} does not exist, or you do not have access to it"),
    )
}

/// A first publish: may the principal create a package in this namespace?
fn may_create(principal: &Principal, state: &PackageState<'_>, role: Option<Role>) -> Decision {
    let name = state.name;
    let namespace = name.namespace();
    if role >= Some(Role::Write) {
        return Decision::Allow;
    }
    let reason = match (principal, state.owner) {
        (Principal::User { .. }, OwnerKind::User) => format!(
            "you cannot create {name}: {namespace} is another user's namespace; push to your own namespace instead"
        ),
        (Principal::User { .. }, OwnerKind::Organization(policy)) => match state.membership.role {
            Some(OrgRole::Member) if policy.members_can_create_packages => return Decision::Allow,
            Some(OrgRole::Member) => format!(
                "you cannot create {name}: organization {namespace} does not let members create packages; ask an organization owner to create it or to change that setting"
            ),
            _ => format!(
                "you cannot create {name}: you are not a member of organization {namespace}"
            ),
        },
        (Principal::Workflow { repository, .. }, _) if repository.owner() == namespace => {
            return Decision::Allow
        }
        (Principal::Workflow { repository, .. }, _) => format!(
            "a workflow token of {repository} cannot create {name}: it can only create packages in the {} namespace",
            repository.owner()
        ),
        (Principal::Anonymous, _) => format!("authentication required to create {name}"),
    };
    Decision::deny(DenyKind::Forbidden, reason)
}

/// Why a principal who can see the package may not do `action` to it.
fn forbidden_reason(
    principal: &Principal,
    action: PackageAction,
    state: &PackageState<'_>,
    role: Option<Role>,
) -> String {
    let name = state.name;
    let required = action.required_role();
    if let (Principal::Workflow { repository, .. }, Some(package)) = (principal, state.package) {
        if package.linked_repository.as_ref() != Some(repository) {
            return format!(
                "package {name} is not linked to repository {repository}, so its workflow token may not {} it: link the package to {repository}, or give {repository} the {required} role in the package's Actions access settings",
                action.verb()
            );
        }
    }
    let has = match role {
        Some(role) => format!("the {role} role"),
        None => "no role".to_owned(),
    };
    format!(
        "you have {has} on package {name}; to {} it you need the {required} role: ask a package admin",
        action.verb()
    )
}
