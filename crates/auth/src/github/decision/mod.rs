//! The permission decision: may this principal do this to this package?
//!
//! [`authorize`] is a pure function over plain data: the caller looks up
//! what it knows (the package record, the namespace's owner kind, the
//! principal's membership in the owning organization, the collaborators of
//! the linked repository) and passes it in a [`PackageState`].

mod action;
mod outcome;
mod state;

pub use action::PackageAction;
pub use outcome::{Decision, DenyKind};
pub use state::PackageState;

use wharf_reference::RepositoryName;

use super::identity::{CodeRepository, Login, Principal, WorkflowPermission};
use super::owner::{OrgRole, OwnerKind};
use super::package::{Grantee, Package, Role, Visibility};
use super::token_scope::TokenScopes;
use crate::protocol::ScopeActions;

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
