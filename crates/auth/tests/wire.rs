//! The stored and wire forms (serde JSON) of the plain-data types.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use wharf_auth::{
    Grantee, Identity, Membership, OrgRole, OrganizationPolicy, OwnerKind, Package,
    RepositoryAccess, RepositoryRole, Role, TokenScopes, Visibility, WorkflowPermission,
};

/// `value` serializes to `expected`, and back to `value`.
fn round_trip<T>(value: &T, expected: serde_json::Value)
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_value(value).expect("serializes");
    assert_eq!(json, expected);
    let back: T = serde_json::from_value(json).expect("deserializes");
    assert_eq!(&back, value);
}

#[test]
fn a_package_is_stored_as_plain_json() {
    let mut package = Package::first_publish(
        "acme/app/release".parse().expect("name"),
        &Identity::User("alice".parse().expect("login")),
    );
    package.visibility = Visibility::Internal;
    package.link("acme/app".parse().expect("repository"));
    package.grant("team:devs".parse().expect("grantee"), Role::Write);
    package.grant("repository:acme/ci".parse().expect("grantee"), Role::Read);
    round_trip(
        &package,
        json!({
            "name": "acme/app/release",
            "visibility": "internal",
            "linked_repository": "acme/app",
            "inherit_access": true,
            "grants": [
                {"grantee": "user:alice", "role": "admin"},
                {"grantee": "team:devs", "role": "write"},
                {"grantee": "repository:acme/ci", "role": "read"},
            ],
        }),
    );
}

#[test]
fn a_minimal_package_record_gets_the_defaults() {
    let package: Package =
        serde_json::from_value(json!({"name": "octocat/app"})).expect("deserializes");
    assert_eq!(package, Package::new("octocat/app".parse().expect("name")));
    assert_eq!(package.visibility, Visibility::Private);
}

#[test]
fn invalid_records_are_refused_on_the_way_in() {
    let cases = [
        json!({"name": "Octocat/App"}),
        json!({"name": "octocat/app", "visibility": "secret"}),
        json!({"name": "octocat/app", "grants": [{"grantee": "group:x", "role": "read"}]}),
        json!({"name": "octocat/app", "grants": [{"grantee": "user:x", "role": "owner"}]}),
        json!({"name": "octocat/app", "linked_repository": "no-slash"}),
    ];
    for case in cases {
        assert!(
            serde_json::from_value::<Package>(case.clone()).is_err(),
            "{case}"
        );
    }
}

#[test]
fn owners_memberships_and_repository_access_are_plain_json() {
    round_trip(&OwnerKind::User, json!({"kind": "user"}));
    round_trip(
        &OwnerKind::Organization(OrganizationPolicy {
            members_can_create_packages: false,
        }),
        json!({"kind": "organization", "members_can_create_packages": false}),
    );
    round_trip(
        &Membership::member().with_team("devs".parse().expect("team")),
        json!({"role": "member", "teams": ["devs"]}),
    );
    round_trip(&Membership::none(), json!({"role": null, "teams": []}));
    round_trip(&OrgRole::Admin, json!("admin"));
    round_trip(
        &RepositoryAccess::new("acme/app".parse().expect("repository"))
            .with_user("carol".parse().expect("login"), RepositoryRole::Maintain)
            .with_team("devs".parse().expect("team"), RepositoryRole::Triage),
        json!({
            "repository": "acme/app",
            "users": {"carol": "maintain"},
            "teams": {"devs": "triage"},
        }),
    );
}

#[test]
fn small_values_travel_as_keywords() {
    round_trip(&Visibility::Public, json!("public"));
    round_trip(&Role::Admin, json!("admin"));
    round_trip(&WorkflowPermission::Write, json!("write"));
    round_trip(&RepositoryRole::Admin, json!("admin"));
    round_trip(
        &"user:alice".parse::<Grantee>().expect("grantee"),
        json!("user:alice"),
    );
    round_trip(
        &"read:packages repo".parse::<TokenScopes>().expect("scopes"),
        json!(["read:packages", "repo"]),
    );
    round_trip(&Identity::Anonymous, json!(""));
    round_trip(
        &Identity::Workflow("acme/app".parse().expect("repository")),
        json!("repo:acme/app"),
    );
}

#[test]
fn keywords_parse_from_and_display_as_themselves() {
    for s in ["private", "internal", "public"] {
        assert_eq!(s.parse::<Visibility>().expect("visibility").to_string(), s);
    }
    for s in ["read", "write", "admin"] {
        assert_eq!(s.parse::<Role>().expect("role").to_string(), s);
    }
    for s in ["none", "read", "write"] {
        assert_eq!(
            s.parse::<WorkflowPermission>()
                .expect("permission")
                .to_string(),
            s
        );
    }
    for s in ["pull", "push", "delete", "restore", "change-settings"] {
        assert_eq!(
            s.parse::<wharf_auth::PackageAction>()
                .expect("action")
                .to_string(),
            s
        );
    }
    for s in ["member", "admin"] {
        assert_eq!(s.parse::<OrgRole>().expect("org role").to_string(), s);
    }
    for s in ["read", "triage", "write", "maintain", "admin"] {
        let role = s.parse::<RepositoryRole>().expect("repository role");
        assert_eq!(role.to_string(), s);
        assert_eq!(
            serde_json::to_value(role).expect("json"),
            json!(s),
            "serde agrees"
        );
    }
    assert_eq!("owner".parse::<OrgRole>(), Ok(OrgRole::Admin));
    let error = "owner"
        .parse::<RepositoryRole>()
        .expect_err("not a repository role");
    assert!(
        error
            .to_string()
            .contains("read, triage, write, maintain or admin"),
        "{error}"
    );
    let error = "secret".parse::<Visibility>().expect_err("unknown");
    assert!(
        error.to_string().contains("private, internal or public"),
        "{error}"
    );
}
