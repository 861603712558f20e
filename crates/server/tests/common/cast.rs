//! The people, teams, repository collaborators and tokens the isolation
//! tests call the registry as, added to a [`Ghcr`] and to its [`World`].
//!
//! | caller | who | credentials |
//! |---|---|---|
//! | `anonymous` | nobody | none |
//! | `alice[SCOPES]` | owner (admin) of org acme | a personal access token per scope set below |
//! | `carol` | member of acme, no role | read, write |
//! | `dave` / `erin` / `frank` | members of acme | read, write, delete |
//! | `erin-read` | erin | read:packages |
//! | `grace` | not a member (granted a role directly: an outside collaborator) | read, write, delete |
//! | `heidi` | member of acme, in team `devs` | read, write, delete |
//! | `ivan` | not a member; collaborator (write) on repository acme/vault-src | read, write, delete |
//! | `judy` | member of acme, in team `ops` (collaborator, read, on acme/vault-src) | read, write, delete |
//! | `bob` | in no organization | read, write, delete |
//! | `vault-ci` / `vault-ci-read` | workflow of acme/vault-src | packages: write / read |
//! | `deploy-ci` | workflow of acme/deploy | packages: write |
//! | `site-ci` / `site-ci-read` | workflow of alice/site | packages: write / read |
//!
//! Which package roles dave, erin, frank, grace, the teams and acme/deploy
//! get is up to each test (see `grant_roles`).

use wharf_auth::{OrgRole, Principal, RepositoryRole, Role, TokenScopes, WorkflowPermission};
use wharf_packages::Collaborator;

use super::ghcr::{basic, store_personal_token, Ghcr};
use super::model::{login, source, team, World};

/// The scope sets alice's tokens are made with: every combination a
/// decision can tell apart.
pub const ALICE_SCOPES: [&str; 7] = [
    "",
    "repo",
    "read:packages",
    "write:packages",
    "delete:packages",
    "read:packages delete:packages",
    "read:packages write:packages delete:packages",
];

const FULL: &str = "read:packages write:packages delete:packages";

/// Someone the tests call the registry as.
#[derive(Debug, Clone)]
pub struct Caller {
    pub label: String,
    pub principal: Principal,
    /// `Basic base64(login:secret)`; `None` for the anonymous caller.
    pub basic: Option<String>,
    /// The token itself (sent as `Bearer <secret>` to the REST API).
    pub secret: Option<String>,
}

impl Caller {
    /// The repository this caller may create packages in, for mounts:
    /// its own namespace, or its workflow repository's owner's.
    pub fn own_repository(&self) -> String {
        match &self.principal {
            Principal::Anonymous => "bob/mnt-anonymous".to_owned(),
            Principal::User { login, .. } => format!("{login}/mnt"),
            Principal::Workflow { repository, .. } => {
                format!("{}/mnt-{}", repository.owner(), repository.name())
            }
        }
    }
}

fn user_caller(label: &str, user: &str, scopes: &str, secret: String) -> Caller {
    Caller {
        label: label.to_owned(),
        principal: Principal::User {
            login: login(user),
            scopes: scopes.parse::<TokenScopes>().expect("scopes"),
        },
        basic: Some(basic(user, &secret)),
        secret: Some(secret),
    }
}

fn workflow_caller(
    label: &str,
    repository: &str,
    permission: WorkflowPermission,
    secret: String,
) -> Caller {
    Caller {
        label: label.to_owned(),
        principal: Principal::Workflow {
            repository: source(repository),
            packages: permission,
        },
        basic: Some(basic("github-actions", &secret)),
        secret: Some(secret),
    }
}

async fn personal_token(ghcr: &Ghcr, user: &str, scopes: &str) -> String {
    store_personal_token(&*ghcr.store, user, scopes, None, ghcr.now())
        .await
        .1
}

async fn workflow_token(ghcr: &Ghcr, repository: &str, permission: WorkflowPermission) -> String {
    ghcr.workflow_token(repository, permission).await.1
}

/// Adds the cast to `ghcr` (which has alice, bob, carol and org acme
/// already) and to `world`, and returns every caller.
pub async fn seed(ghcr: &Ghcr, world: &mut World) -> Vec<Caller> {
    let store = &ghcr.store;
    let now = ghcr.now();
    let acme = login("acme");
    for user in ["alice", "bob", "carol"] {
        world.add_user(user);
    }
    world.add_org("acme");
    world.add_member("acme", "alice", OrgRole::Admin);
    world.add_member("acme", "carol", OrgRole::Member);
    for user in ["dave", "erin", "frank", "grace", "heidi", "ivan", "judy"] {
        store.create_user(&login(user), now).await.expect("user");
        world.add_user(user);
    }
    for user in ["dave", "erin", "frank", "heidi", "judy"] {
        store
            .add_member(&acme, &login(user), OrgRole::Member, now)
            .await
            .expect("member");
        world.add_member("acme", user, OrgRole::Member);
    }
    for (slug, user) in [("devs", "heidi"), ("ops", "judy")] {
        store
            .create_team(&acme, &team(slug), now)
            .await
            .expect("team");
        store
            .add_team_member(&acme, &team(slug), &login(user))
            .await
            .expect("team member");
        world.add_team_member("acme", slug, user);
    }
    let vault_src = source("acme/vault-src");
    for (collaborator, role) in [
        ("user:ivan", RepositoryRole::Write),
        ("team:ops", RepositoryRole::Read),
    ] {
        let parsed: Collaborator = collaborator.parse().expect("collaborator");
        store
            .set_collaborator(&vault_src, &parsed, role)
            .await
            .expect("collaborator");
        world.set_collaborator("acme/vault-src", collaborator, role);
    }

    let mut callers = vec![Caller {
        label: "anonymous".to_owned(),
        principal: Principal::Anonymous,
        basic: None,
        secret: None,
    }];
    for scopes in ALICE_SCOPES {
        let secret = personal_token(ghcr, "alice", scopes).await;
        callers.push(user_caller(
            &format!("alice[{scopes}]"),
            "alice",
            scopes,
            secret,
        ));
    }
    callers.push(user_caller(
        "carol",
        "carol",
        "read:packages write:packages",
        ghcr.secret("carol").to_owned(),
    ));
    callers.push(user_caller(
        "bob",
        "bob",
        FULL,
        ghcr.secret("bob").to_owned(),
    ));
    for user in ["dave", "erin", "frank", "grace", "heidi", "ivan", "judy"] {
        let secret = personal_token(ghcr, user, FULL).await;
        callers.push(user_caller(user, user, FULL, secret));
    }
    let secret = personal_token(ghcr, "erin", "read:packages").await;
    callers.push(user_caller("erin-read", "erin", "read:packages", secret));
    for (label, repository, permission) in [
        ("vault-ci", "acme/vault-src", WorkflowPermission::Write),
        ("vault-ci-read", "acme/vault-src", WorkflowPermission::Read),
        ("deploy-ci", "acme/deploy", WorkflowPermission::Write),
    ] {
        let secret = workflow_token(ghcr, repository, permission).await;
        callers.push(workflow_caller(label, repository, permission, secret));
    }
    callers.push(workflow_caller(
        "site-ci",
        "alice/site",
        WorkflowPermission::Write,
        ghcr.secret("site-ci").to_owned(),
    ));
    callers.push(workflow_caller(
        "site-ci-read",
        "alice/site",
        WorkflowPermission::Read,
        ghcr.secret("site-ci-read").to_owned(),
    ));
    callers
}

/// The roles the matrix gives on a package of acme: dave read, erin
/// write, frank admin, grace (an outside collaborator) read, team devs
/// write, the workflows of acme/deploy read.
pub const ROLES: [(&str, Role); 6] = [
    ("user:dave", Role::Read),
    ("user:erin", Role::Write),
    ("user:frank", Role::Admin),
    ("user:grace", Role::Read),
    ("team:devs", Role::Write),
    ("repository:acme/deploy", Role::Read),
];

/// Gives [`ROLES`] on `name`, in the registry and in the model.
pub async fn grant_roles(ghcr: &Ghcr, world: &mut World, name: &str) {
    for (grantee, role) in ROLES {
        ghcr.store
            .set_grant(
                &super::model::repo_name(name),
                &grantee.parse().expect("grantee"),
                role,
                ghcr.now(),
            )
            .await
            .expect("grant");
        world.grant(name, grantee, role);
    }
}
