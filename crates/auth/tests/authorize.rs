//! `authorize` as a specification: one row per case, principal × token
//! scope × visibility × grant × action.
//!
//! The fixtures:
//! - user namespaces `alice` and `bob`;
//! - organization `acme` (members may create packages) and organization
//!   `closed` (they may not);
//! - the source repository `acme/app`, whose collaborators are carol
//!   (write), dave (admin) and team `devs` (read).
//!
//! A principal is written `anon`, `LOGIN[SCOPES]` or
//! `LOGIN@ROLE+TEAM[SCOPES]` (role and team in the package's organization),
//! or `wf:OWNER/REPO[PERMISSION]` for a workflow token. Scopes are `read`,
//! `write`, `delete` and `repo` joined by `+`.
//!
//! A package is written `NAME new` (not published yet) or `NAME
//! VISIBILITY` followed by any of `grant=GRANTEE:ROLE`, `linked=OWNER/REPO`
//! and `inherit`.

use wharf_auth::PackageAction::{ChangeSettings, Delete, Pull, Push, Restore};
use wharf_auth::{
    authorize, permitted_actions, DenyKind, Membership, OrgRole, OrganizationPolicy, OwnerKind,
    Package, PackageAction, PackageState, Principal, RepositoryAccess, RepositoryRole,
    ScopeActions, TokenScope, TokenScopes, Visibility, WorkflowPermission,
};
use wharf_reference::RepositoryName;

/// What a row expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allow,
    Deny(DenyKind),
}

const ALLOW: Expect = Expect::Allow;
/// 401 with a challenge.
const AUTH: Expect = Expect::Deny(DenyKind::NeedsAuthentication);
/// 403, the credentials' scopes fall short.
const SCOPE: Expect = Expect::Deny(DenyKind::InsufficientScope);
/// 403, the role falls short.
const FORBID: Expect = Expect::Deny(DenyKind::Forbidden);
/// 404, nothing revealed.
const HIDDEN: Expect = Expect::Deny(DenyKind::NotVisible);

#[rustfmt::skip]
const ROWS: &[(&str, &str, PackageAction, Expect)] = &[
    // who                          package                                              action           expect
    // Anonymous callers pull public packages, and nothing else.
    ("anon",                        "acme/app public",                                   Pull,            ALLOW),
    ("anon",                        "acme/app internal",                                 Pull,            AUTH),
    ("anon",                        "acme/app private",                                  Pull,            AUTH),
    ("anon",                        "acme/app new",                                      Pull,            AUTH),
    ("anon",                        "acme/app public",                                   Push,            AUTH),
    ("anon",                        "acme/app public",                                   Delete,          AUTH),
    ("anon",                        "acme/app public",                                   ChangeSettings,  AUTH),
    ("anon",                        "acme/app new",                                      Push,            AUTH),

    // A user owns their namespace; the token's scopes cap what that allows.
    ("alice[read]",                 "alice/app private",                                 Pull,            ALLOW),
    ("alice[read]",                 "alice/app private",                                 Push,            SCOPE),
    ("alice[write]",                "alice/app private",                                 Push,            ALLOW),
    ("alice[write]",                "alice/app new",                                     Push,            ALLOW),
    ("alice[write]",                "alice/app/release new",                             Push,            ALLOW),
    ("alice[read]",                 "alice/app new",                                     Push,            SCOPE),
    ("alice[read]",                 "alice/app new",                                     Pull,            HIDDEN),
    ("alice[write]",                "alice/app private",                                 Delete,          SCOPE),
    ("alice[delete]",               "alice/app private",                                 Delete,          SCOPE),
    ("alice[read+delete]",          "alice/app private",                                 Delete,          ALLOW),
    ("alice[write+delete]",         "alice/app private",                                 Delete,          ALLOW),
    ("alice[write]",                "alice/app private",                                 Restore,         ALLOW),
    ("alice[read+delete]",          "alice/app private",                                 Restore,         SCOPE),
    ("alice[write]",                "alice/app private",                                 ChangeSettings,  ALLOW),
    ("alice[read]",                 "alice/app private",                                 ChangeSettings,  SCOPE),
    ("alice[repo]",                 "alice/app private",                                 Pull,            SCOPE),
    ("alice[]",                     "alice/app public",                                  Pull,            ALLOW),
    ("alice[]",                     "alice/app internal",                                Pull,            SCOPE),
    ("alice[write+delete]",         "alice/app new",                                     Delete,          HIDDEN),
    ("alice[write]",                "alice/app new",                                     Restore,         HIDDEN),
    ("alice[write]",                "alice/app new",                                     ChangeSettings,  HIDDEN),

    // Another user's namespace: visibility, then grants.
    ("bob[read]",                   "alice/app private",                                 Pull,            HIDDEN),
    ("bob[read]",                   "alice/app internal",                                Pull,            ALLOW),
    ("bob[read]",                   "alice/app public",                                  Pull,            ALLOW),
    ("bob[write]",                  "alice/app public",                                  Push,            FORBID),
    ("bob[write]",                  "alice/app internal",                                Push,            FORBID),
    ("bob[write]",                  "alice/app private",                                 Push,            FORBID),
    ("bob[write]",                  "alice/app new",                                     Push,            FORBID),
    ("bob[read+delete]",            "alice/app internal",                                Delete,          FORBID),
    ("bob[read]",                   "alice/app private grant=user:bob:read",             Pull,            ALLOW),
    ("bob[write]",                  "alice/app private grant=user:bob:read",             Push,            FORBID),
    ("bob[write]",                  "alice/app private grant=user:bob:write",            Push,            ALLOW),
    ("bob[write]",                  "alice/app/release private grant=user:bob:write",    Push,            ALLOW),
    ("bob[write+delete]",           "alice/app private grant=user:bob:write",            Delete,          FORBID),
    ("bob[write+delete]",           "alice/app private grant=user:bob:admin",            Delete,          ALLOW),
    ("bob[write]",                  "alice/app private grant=user:bob:admin",            ChangeSettings,  ALLOW),
    ("bob[write]",                  "alice/app public grant=user:bob:write",             ChangeSettings,  FORBID),
    ("bob[read]",                   "alice/app private grant=user:carol:admin",          Pull,            HIDDEN),
    ("bob@member+devs[read]",       "alice/app private grant=team:devs:read",            Pull,            HIDDEN),

    // Organizations: members create packages as the policy allows; owners administer all.
    ("alice@member[write]",         "acme/app new",                                      Push,            ALLOW),
    ("alice@member[read]",          "acme/app new",                                      Push,            SCOPE),
    ("alice@member[write]",         "closed/app new",                                    Push,            FORBID),
    ("alice@admin[write]",          "closed/app new",                                    Push,            ALLOW),
    ("alice[write]",                "acme/app new",                                      Push,            FORBID),
    ("alice@member[read]",          "acme/app private",                                  Pull,            HIDDEN),
    ("alice@member[read]",          "acme/app internal",                                 Pull,            ALLOW),
    ("alice@member[write]",         "acme/app internal",                                 Push,            FORBID),
    ("alice@member[write]",         "acme/app public",                                   Push,            FORBID),
    ("alice@member[write]",         "acme/app private",                                  Push,            FORBID),
    ("alice[write]",                "acme/app private",                                  Push,            FORBID),
    ("alice@admin[read]",           "acme/app private",                                  Pull,            ALLOW),
    ("alice@admin[write]",          "acme/app private",                                  Push,            ALLOW),
    ("alice@admin[write+delete]",   "acme/app private",                                  Delete,          ALLOW),
    ("alice@admin[write]",          "acme/app private",                                  ChangeSettings,  ALLOW),
    ("alice@admin[read]",           "acme/app private",                                  Delete,          SCOPE),
    ("alice@member+devs[write]",    "acme/app private grant=team:devs:write",            Push,            ALLOW),
    ("alice@member+devs[read]",     "acme/app private grant=team:ops:write",             Pull,            HIDDEN),
    ("alice@member+devs[write+delete]", "acme/app private grant=team:devs:write",        Delete,          FORBID),
    ("alice@member[write]",         "acme/app private grant=user:alice:admin",           ChangeSettings,  ALLOW),
    ("alice@member[write+delete]",  "acme/app private grant=user:alice:admin",           Delete,          ALLOW),

    // Access inherited from the linked repository acme/app.
    ("carol@member[read]",          "acme/app private linked=acme/app inherit",          Pull,            ALLOW),
    ("carol@member[write]",         "acme/app private linked=acme/app inherit",          Push,            ALLOW),
    ("carol@member[write+delete]",  "acme/app private linked=acme/app inherit",          Delete,          FORBID),
    ("dave@member[write+delete]",   "acme/app private linked=acme/app inherit",          Delete,          ALLOW),
    ("dave@member[write]",          "acme/app private linked=acme/app inherit",          Restore,         ALLOW),
    ("carol@member[read]",          "acme/app private linked=acme/app",                  Pull,            HIDDEN),
    ("erin@member+devs[read]",      "acme/app private linked=acme/app inherit",          Pull,            ALLOW),
    ("erin@member+devs[write]",     "acme/app private linked=acme/app inherit",          Push,            FORBID),
    ("carol@member[write]",         "acme/app private linked=acme/app inherit grant=user:carol:admin", ChangeSettings, ALLOW),
    ("carol@member[read]",          "acme/tool private linked=acme/other inherit",       Pull,            HIDDEN),

    // Workflow tokens: publish into their repository's owner, admin of what is linked to it.
    ("wf:acme/app[write]",          "acme/app new",                                      Push,            ALLOW),
    ("wf:acme/app[write]",          "acme/app/release new",                              Push,            ALLOW),
    ("wf:acme/app[write]",          "bob/app new",                                       Push,            FORBID),
    ("wf:acme/app[read]",           "acme/app new",                                      Push,            SCOPE),
    ("wf:acme/app[write]",          "acme/app private linked=acme/app",                  Push,            ALLOW),
    ("wf:acme/app[write]",          "acme/app private linked=acme/app",                  Delete,          ALLOW),
    ("wf:acme/app[write]",          "acme/app private linked=acme/app",                  Restore,         ALLOW),
    ("wf:acme/app[write]",          "acme/app private linked=acme/app",                  ChangeSettings,  ALLOW),
    ("wf:acme/app[read]",           "acme/app private linked=acme/app",                  Pull,            ALLOW),
    ("wf:acme/app[read]",           "acme/app private linked=acme/app",                  Delete,          SCOPE),
    ("wf:acme/app[none]",           "acme/app private linked=acme/app",                  Pull,            SCOPE),
    ("wf:acme/app[none]",           "acme/app public",                                   Pull,            ALLOW),
    ("wf:acme/app[write]",          "acme/app private",                                  Push,            FORBID),
    ("wf:acme/app[write]",          "bob/app private",                                   Push,            FORBID),
    ("wf:acme/app[write]",          "acme/app public",                                   Push,            FORBID),
    ("wf:acme/app[write]",          "acme/app internal",                                 Pull,            HIDDEN),
    ("wf:acme/app[write]",          "acme/tool private linked=acme/other",               Pull,            HIDDEN),
    ("wf:acme/app[write]",          "acme/tool private grant=repository:acme/app:read",  Pull,            ALLOW),
    ("wf:acme/app[write]",          "acme/tool private grant=repository:acme/app:read",  Push,            FORBID),
    ("wf:acme/app[write]",          "acme/tool private grant=repository:acme/app:write", Push,            ALLOW),
    ("wf:acme/app[write]",          "acme/tool private grant=repository:acme/app:admin", Delete,          ALLOW),
    ("wf:acme/app[write]",          "acme/tool private grant=user:alice:admin",          Pull,            HIDDEN),
    ("alice@member[read]",          "acme/tool private grant=repository:acme/app:admin", Pull,            HIDDEN),
];

/// Everything one row describes, owned.
struct Case {
    principal: Principal,
    membership: Membership,
    name: RepositoryName,
    owner: OwnerKind,
    package: Option<Package>,
    access: RepositoryAccess,
}

impl Case {
    fn state(&self) -> PackageState<'_> {
        let state = PackageState::new(&self.name, self.owner)
            .with_membership(&self.membership)
            .with_repository_access(&self.access);
        match &self.package {
            Some(package) => state.with_package(package),
            None => state,
        }
    }
}

fn parse<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .unwrap_or_else(|e| panic!("fixture `{s}` does not parse: {e}"))
}

fn owner_of(namespace: &str) -> OwnerKind {
    match namespace {
        "acme" => OwnerKind::Organization(OrganizationPolicy {
            members_can_create_packages: true,
        }),
        "closed" => OwnerKind::Organization(OrganizationPolicy {
            members_can_create_packages: false,
        }),
        _ => OwnerKind::User,
    }
}

fn token_scopes(s: &str) -> TokenScopes {
    s.split('+')
        .filter(|s| !s.is_empty())
        .map(|s| match s {
            "read" => TokenScope::ReadPackages,
            "write" => TokenScope::WritePackages,
            "delete" => TokenScope::DeletePackages,
            "repo" => TokenScope::Repo,
            other => panic!("unknown scope abbreviation {other}"),
        })
        .collect()
}

fn principal(spec: &str) -> (Principal, Membership) {
    if spec == "anon" {
        return (Principal::Anonymous, Membership::none());
    }
    let (who, limits) = spec
        .strip_suffix(']')
        .and_then(|s| s.split_once('['))
        .unwrap_or_else(|| panic!("principal `{spec}` has no [..]"));
    if let Some(repository) = who.strip_prefix("wf:") {
        let packages: WorkflowPermission = parse(limits);
        let principal = Principal::Workflow {
            repository: parse(repository),
            packages,
        };
        return (principal, Membership::none());
    }
    let (login, membership) = match who.split_once('@') {
        None => (who, Membership::none()),
        Some((login, rest)) => {
            let mut parts = rest.split('+');
            let role: OrgRole = parse(parts.next().unwrap_or_default());
            let mut membership = Membership {
                role: Some(role),
                ..Membership::none()
            };
            for team in parts {
                membership = membership.with_team(parse(team));
            }
            (login, membership)
        }
    };
    let principal = Principal::User {
        login: parse(login),
        scopes: token_scopes(limits),
    };
    (principal, membership)
}

fn case(who: &str, package_spec: &str) -> Case {
    let (principal, membership) = principal(who);
    let mut words = package_spec.split(' ');
    let name: RepositoryName = parse(words.next().unwrap_or_default());
    let state = words.next().unwrap_or_default();
    let package = (state != "new").then(|| {
        let mut package = Package::new(name.clone());
        package.visibility = parse::<Visibility>(state);
        for word in words {
            if let Some(grant) = word.strip_prefix("grant=") {
                let (grantee, role) = grant.rsplit_once(':').unwrap_or_default();
                package.grant(parse(grantee), parse(role));
            } else if let Some(repo) = word.strip_prefix("linked=") {
                package.linked_repository = Some(parse(repo));
            } else if word == "inherit" {
                package.inherit_access = true;
            } else {
                panic!("unknown package word `{word}` in `{package_spec}`");
            }
        }
        package
    });
    let access = RepositoryAccess::new(parse("acme/app"))
        .with_user(parse("carol"), RepositoryRole::Write)
        .with_user(parse("dave"), RepositoryRole::Admin)
        .with_team(parse("devs"), RepositoryRole::Read);
    Case {
        owner: owner_of(name.namespace()),
        principal,
        membership,
        name,
        package,
        access,
    }
}

#[test]
fn authorize_follows_the_table() {
    let mut failures = Vec::new();
    for &(who, package, action, expected) in ROWS {
        let case = case(who, package);
        let decision = authorize(&case.principal, action, &case.state());
        let got = match decision.deny_kind() {
            None => Expect::Allow,
            Some(kind) => Expect::Deny(kind),
        };
        if got != expected {
            failures.push(format!(
                "{who:<24} {package:<50} {action:<16} expected {expected:?}, got {got:?} ({})",
                decision.reason().unwrap_or("allowed")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        ROWS.len(),
        failures.join("\n")
    );
}

#[test]
fn every_denial_has_a_reason_naming_the_package() {
    for &(who, package, action, _) in ROWS {
        let case = case(who, package);
        if let Some(reason) = authorize(&case.principal, action, &case.state()).reason() {
            assert!(
                reason.contains(case.name.as_str()),
                "{who} {package} {action}: {reason}"
            );
        }
    }
}

#[test]
fn a_private_package_is_denied_exactly_like_a_missing_one() {
    // Principals with no role on alice/app and no right to create it.
    for who in [
        "bob[read]",
        "bob[write]",
        "bob[read+delete]",
        "bob@admin[write+delete]",
        "wf:acme/app[write]",
        "wf:alice/other[read]",
    ] {
        for action in PackageAction::ALL {
            let private = case(who, "alice/app private");
            let missing = case(who, "alice/app new");
            assert_eq!(
                authorize(&private.principal, action, &private.state()),
                authorize(&missing.principal, action, &missing.state()),
                "{who} {action}"
            );
        }
    }
}

#[test]
fn denials_tell_the_user_what_to_do() {
    let cases = [
        ("anon", "acme/app private", Pull, "log in"),
        ("alice[read]", "alice/app private", Push, "write:packages"),
        (
            "alice[write]",
            "alice/app private",
            Delete,
            "read:packages and delete:packages",
        ),
        ("alice[]", "alice/app private", Pull, "has no scopes"),
        (
            "wf:acme/app[read]",
            "acme/app new",
            Push,
            "`packages: write`",
        ),
        (
            "wf:acme/app[write]",
            "acme/app public",
            Push,
            "not linked to repository acme/app",
        ),
        (
            "wf:acme/app[write]",
            "acme/app private",
            Push,
            "not linked to repository acme/app",
        ),
        (
            "alice@member[write]",
            "closed/app new",
            Push,
            "does not let members create packages",
        ),
        (
            "alice[write]",
            "acme/app new",
            Push,
            "not a member of organization acme",
        ),
        (
            "bob[write]",
            "alice/app new",
            Push,
            "another user's namespace",
        ),
        (
            "bob[write]",
            "alice/app private grant=user:bob:read",
            Push,
            "you have the read role",
        ),
        (
            "bob[read+delete]",
            "alice/app internal",
            Delete,
            "you need the admin role",
        ),
    ];
    for (who, package, action, expected) in cases {
        let case = case(who, package);
        let decision = authorize(&case.principal, action, &case.state());
        let reason = decision.reason().unwrap_or("allowed");
        assert!(
            reason.contains(expected),
            "{who} {package} {action}: {reason}"
        );
    }
}

#[test]
fn a_package_record_for_another_name_is_refused() {
    let name: RepositoryName = parse("alice/app");
    let other = Package::new(parse("alice/other"));
    let alice = principal("alice[write]").0;
    let state = PackageState::new(&name, OwnerKind::User).with_package(&other);
    assert_eq!(
        authorize(&alice, Pull, &state).deny_kind(),
        Some(DenyKind::Forbidden)
    );
}

#[test]
fn first_publish_makes_the_creator_able_to_administer_the_new_package() {
    for (who, name) in [
        ("alice@member[write+delete]", "acme/app"),
        ("alice[write+delete]", "alice/app"),
        ("wf:acme/app[write]", "acme/app"),
    ] {
        let mut case = case(who, &format!("{name} new"));
        assert!(authorize(&case.principal, Push, &case.state()).is_allowed());
        let package = Package::first_publish(case.name.clone(), &case.principal.identity());
        assert_eq!(package.visibility, Visibility::Private, "{who}");
        case.package = Some(package);
        for action in PackageAction::ALL {
            let decision = authorize(&case.principal, action, &case.state());
            assert!(decision.is_allowed(), "{who} {action}: {decision:?}");
        }
    }
}

#[test]
fn permitted_actions_are_what_a_token_endpoint_may_grant() {
    let pd = ScopeActions::PULL | ScopeActions::PUSH | ScopeActions::DELETE;
    let cases = [
        ("anon", "acme/app public", ScopeActions::PULL),
        ("anon", "acme/app private", ScopeActions::NONE),
        ("alice[write]", "alice/app new", ScopeActions::PUSH),
        (
            "alice[write]",
            "alice/app private",
            ScopeActions::PULL | ScopeActions::PUSH,
        ),
        ("alice[write+delete]", "alice/app private", pd),
        ("bob[write]", "alice/app public", ScopeActions::PULL),
        ("bob[write]", "alice/app private", ScopeActions::NONE),
        ("wf:acme/app[write]", "acme/app private linked=acme/app", pd),
    ];
    for (who, package, expected) in cases {
        let case = case(who, package);
        assert_eq!(
            permitted_actions(&case.principal, &case.state()),
            expected,
            "{who} {package}"
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_principal() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "anon",
            "alice[]",
            "alice[read]",
            "alice[write+delete]",
            "bob[read]",
            "bob[write+delete+repo]",
            "alice@member[write]",
            "alice@member+devs[write+delete]",
            "alice@admin[read]",
            "carol@member[write+delete]",
            "dave@member[read+delete]",
            "wf:acme/app[none]",
            "wf:acme/app[read]",
            "wf:acme/app[write]",
            "wf:alice/app[write]",
        ])
    }

    fn any_package() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec!["alice/app", "acme/app", "closed/app", "acme/tool"]);
        let state = prop::sample::select(vec!["new", "private", "internal", "public"]);
        let extras = prop::sample::subsequence(
            vec![
                "grant=user:bob:write",
                "grant=user:alice:read",
                "grant=team:devs:admin",
                "grant=repository:acme/app:read",
                "linked=acme/app",
                "inherit",
            ],
            0..=3,
        );
        (name, state, extras).prop_map(|(name, state, extras)| {
            if state == "new" {
                format!("{name} new")
            } else {
                format!("{name} {state} {}", extras.join(" "))
                    .trim_end()
                    .to_owned()
            }
        })
    }

    fn any_action() -> impl Strategy<Value = PackageAction> {
        prop::sample::select(PackageAction::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn more_token_scopes_never_take_a_permission_away(
            who in any_principal(), package in any_package(), action in any_action()
        ) {
            let narrow = case(who, &package);
            if let Principal::User { login, .. } = &narrow.principal {
                let wide = Principal::User { login: login.clone(), scopes: TokenScopes::all() };
                if authorize(&narrow.principal, action, &narrow.state()).is_allowed() {
                    prop_assert!(authorize(&wide, action, &narrow.state()).is_allowed());
                }
            }
        }

        #[test]
        fn making_a_package_public_never_takes_a_permission_away(
            who in any_principal(), package in any_package(), action in any_action()
        ) {
            let mut case = case(who, &package);
            let before = authorize(&case.principal, action, &case.state()).is_allowed();
            if let Some(package) = case.package.as_mut() {
                package.visibility = Visibility::Public;
                let after = authorize(&case.principal, action, &case.state()).is_allowed();
                prop_assert!(!before || after);
            }
        }

        #[test]
        fn anonymous_callers_only_ever_pull_public_packages(
            package in any_package(), action in any_action()
        ) {
            let case = case("anon", &package);
            let allowed = authorize(&case.principal, action, &case.state()).is_allowed();
            let public_pull = action == Pull
                && case.package.as_ref().is_some_and(|p| p.visibility == Visibility::Public);
            prop_assert_eq!(allowed, public_pull);
        }

        #[test]
        fn only_admins_delete_restore_or_change_settings(
            who in any_principal(), package in any_package(), action in any_action()
        ) {
            let case = case(who, &package);
            if action.required_role() == wharf_auth::Role::Admin
                && authorize(&case.principal, action, &case.state()).is_allowed()
            {
                prop_assert_eq!(
                    wharf_auth::effective_role(&case.principal, &case.state()),
                    Some(wharf_auth::Role::Admin)
                );
            }
        }
    }
}
