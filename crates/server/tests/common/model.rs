//! What the isolation tests expect, kept beside the server: a model of the
//! accounts, packages, grants and repository collaborators a test set up,
//! and the answer [`wharf_auth::authorize`] gives for them.
//!
//! The model never reads the server's store: it is written from what the
//! test did (who published what, which grants it gave, which package it
//! deleted), so a server that decides on anything else (a stale bearer
//! token, a deleted package's leftovers, a label it should have ignored)
//! disagrees with it.

use std::collections::{BTreeMap, BTreeSet};

use wharf_auth::{
    authorize, CodeRepository, Decision, DenyKind, Grantee, Identity, Login, Membership, OrgRole,
    OwnerKind, Package, PackageAction, PackageState, Principal, RepositoryAccess, RepositoryRole,
    Role, TeamSlug, Visibility,
};
use wharf_reference::RepositoryName;

/// The registry as a test set it up.
#[derive(Debug, Clone, Default)]
pub struct World {
    users: BTreeSet<String>,
    /// Organization → member login → membership (role and teams).
    orgs: BTreeMap<String, BTreeMap<String, Membership>>,
    /// Live packages by name.
    pub live: BTreeMap<String, Package>,
    /// The most recently deleted package of each name.
    pub deleted: BTreeMap<String, Package>,
    /// Source repository → its collaborators.
    collaborators: BTreeMap<String, RepositoryAccess>,
}

pub fn login(s: &str) -> Login {
    s.parse().expect("login")
}

pub fn repo_name(s: &str) -> RepositoryName {
    s.parse().expect("repository name")
}

pub fn source(s: &str) -> CodeRepository {
    s.parse().expect("source repository")
}

pub fn team(s: &str) -> TeamSlug {
    s.parse().expect("team")
}

impl World {
    pub fn add_user(&mut self, user: &str) {
        self.users.insert(user.to_owned());
    }

    pub fn add_org(&mut self, org: &str) {
        self.orgs.entry(org.to_owned()).or_default();
    }

    pub fn add_member(&mut self, org: &str, user: &str, role: OrgRole) {
        let members = self.orgs.entry(org.to_owned()).or_default();
        members.entry(user.to_owned()).or_default().role = Some(role);
    }

    pub fn add_team_member(&mut self, org: &str, slug: &str, user: &str) {
        let members = self.orgs.entry(org.to_owned()).or_default();
        members
            .entry(user.to_owned())
            .or_default()
            .teams
            .insert(team(slug));
    }

    pub fn set_collaborator(&mut self, repository: &str, who: &str, role: RepositoryRole) {
        let access = self
            .collaborators
            .entry(repository.to_owned())
            .or_insert_with(|| RepositoryAccess::new(source(repository)));
        match who.split_once(':') {
            Some(("team", slug)) => {
                access.teams.insert(team(slug), role);
            }
            _ => {
                access
                    .users
                    .insert(login(who.trim_start_matches("user:")), role);
            }
        }
    }

    /// A first publish of `name` by `creator`: a new private package.
    pub fn publish(&mut self, name: &str, creator: &Identity) {
        let package = Package::first_publish(repo_name(name), creator);
        self.live.insert(name.to_owned(), package);
    }

    pub fn package_mut(&mut self, name: &str) -> &mut Package {
        self.live
            .get_mut(name)
            .expect("a live package in the model")
    }

    pub fn set_visibility(&mut self, name: &str, visibility: Visibility) {
        self.package_mut(name).visibility = visibility;
    }

    pub fn grant(&mut self, name: &str, grantee: &str, role: Role) {
        let grantee: Grantee = grantee.parse().expect("grantee");
        self.package_mut(name).grant(grantee, role);
    }

    pub fn revoke(&mut self, name: &str, grantee: &str) {
        let grantee: Grantee = grantee.parse().expect("grantee");
        self.package_mut(name).revoke(&grantee);
    }

    pub fn link(&mut self, name: &str, repository: &str, inherit: bool) {
        let package = self.package_mut(name);
        package.link(source(repository));
        package.inherit_access = inherit;
    }

    /// Deletes the live package `name` (restorable).
    pub fn delete(&mut self, name: &str) {
        let package = self.live.remove(name).expect("a live package to delete");
        self.deleted.insert(name.to_owned(), package);
    }

    /// Restores the deleted package `name`; the name must be free.
    pub fn restore(&mut self, name: &str) {
        assert!(!self.live.contains_key(name), "{name} is taken");
        let package = self.deleted.remove(name).expect("a deleted package");
        self.live.insert(name.to_owned(), package);
    }

    /// The kind of account owning the namespace of `name`, if any.
    pub fn owner_kind(&self, name: &str) -> Option<OwnerKind> {
        let namespace = name.split('/').next().unwrap_or_default();
        if self.users.contains(namespace) {
            Some(OwnerKind::User)
        } else if self.orgs.contains_key(namespace) {
            Some(OwnerKind::organization())
        } else {
            None
        }
    }

    /// What the registry must decide for `principal` doing `action` to the
    /// repository `name`: [`authorize`] over the model's state (the live
    /// package, or for [`PackageAction::Restore`] the latest deleted one). A
    /// namespace no account owns is not visible (authenticated callers)
    /// or needs authentication (anonymous ones).
    pub fn decide(&self, principal: &Principal, action: PackageAction, name: &str) -> Decision {
        let Some(owner) = self.owner_kind(name) else {
            let kind = if principal.is_authenticated() {
                DenyKind::NotVisible
            } else {
                DenyKind::NeedsAuthentication
            };
            return Decision::Deny {
                kind,
                reason: format!("no account owns the namespace of {name}"),
            };
        };
        let repository = repo_name(name);
        let namespace = repository.namespace().to_owned();
        let membership = match principal {
            Principal::User { login, .. } => self
                .orgs
                .get(&namespace)
                .and_then(|members| members.get(login.as_str()))
                .cloned()
                .unwrap_or_default(),
            _ => Membership::none(),
        };
        let package = if action == PackageAction::Restore {
            self.deleted.get(name)
        } else {
            self.live.get(name)
        };
        let access = package
            .and_then(|p| p.linked_repository.as_ref())
            .map(|linked| {
                self.collaborators
                    .get(linked.as_str())
                    .cloned()
                    .unwrap_or_else(|| RepositoryAccess::new(linked.clone()))
            });
        let mut state = PackageState::new(&repository, owner).with_membership(&membership);
        if let Some(package) = package {
            state = state.with_package(package);
        }
        if let Some(access) = &access {
            state = state.with_repository_access(access);
        }
        authorize(principal, action, &state)
    }

    pub fn allows(&self, principal: &Principal, action: PackageAction, name: &str) -> bool {
        self.decide(principal, action, name).is_allowed()
    }

    /// The live packages `principal` may pull, by name.
    pub fn visible(&self, principal: &Principal) -> Vec<String> {
        self.live
            .keys()
            .filter(|name| self.allows(principal, PackageAction::Pull, name))
            .cloned()
            .collect()
    }

    /// The registry token actions (`pull`, `push`, `delete`) the token
    /// endpoint grants `principal` on `name`, of those asked.
    pub fn permitted(
        &self,
        principal: &Principal,
        name: &str,
        asked: &[PackageAction],
    ) -> Vec<PackageAction> {
        asked
            .iter()
            .copied()
            .filter(|action| self.allows(principal, *action, name))
            .collect()
    }
}

/// The status (and OCI error code, when the body carries one) a request
/// must get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub code: Option<String>,
}

impl Answer {
    pub fn ok(status: u16) -> Answer {
        Answer { status, code: None }
    }

    pub fn error(status: u16, code: &str) -> Answer {
        Answer {
            status,
            code: Some(code.to_owned()),
        }
    }

    /// The answer of the distribution API (`/v2/`) to a denial.
    pub fn registry_denial(kind: DenyKind) -> Answer {
        match kind {
            DenyKind::NeedsAuthentication => Answer::error(401, "UNAUTHORIZED"),
            DenyKind::InsufficientScope | DenyKind::Forbidden => Answer::error(403, "DENIED"),
            DenyKind::NotVisible => Answer::error(404, "NAME_UNKNOWN"),
        }
    }

    /// The distribution API's answer to `decision`: `success` when allowed.
    pub fn registry(decision: &Decision, success: Answer) -> Answer {
        match decision.deny_kind() {
            None => success,
            Some(kind) => Answer::registry_denial(kind),
        }
    }

    /// The package REST API's answer to `decision` (which always needs a
    /// token: anonymous callers get 401 whatever the package).
    pub fn rest(principal: &Principal, decision: &Decision, success: u16) -> Answer {
        if !principal.is_authenticated() {
            return Answer::ok(401);
        }
        Answer::ok(match decision.deny_kind() {
            None => success,
            Some(DenyKind::NeedsAuthentication) => 401,
            Some(DenyKind::InsufficientScope | DenyKind::Forbidden) => 403,
            Some(DenyKind::NotVisible) => 404,
        })
    }

    /// A package page: shown exactly to those who may pull the package.
    pub fn page(decision: &Decision) -> Answer {
        Answer::ok(if decision.is_allowed() { 200 } else { 404 })
    }
}
