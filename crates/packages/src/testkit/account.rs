//! The cases of [`AccountStore`]: users and
//! organizations, members, teams.

#[allow(unused_imports)]
use super::*;

/// A login is a user or an organization, never both; creating either twice
/// is refused.
pub async fn users_and_organizations_share_one_namespace(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    let alice = store
        .create_user(&login("alice"), T0)
        .await
        .expect("create alice");
    assert_eq!(alice.login, login("alice"));
    assert_eq!(alice.kind, OwnerKind::User);
    assert_eq!(alice.created_at, T0);
    let acme = store
        .create_organization(&login("acme"), OrganizationPolicy::default(), at(1))
        .await
        .expect("create acme");
    assert!(acme.is_organization());
    assert_ne!(alice.id, acme.id);

    expect_error(
        Expected::AlreadyExists,
        store.create_user(&login("alice"), T0).await,
        "a second user alice",
    );
    expect_error(
        Expected::AlreadyExists,
        store
            .create_organization(&login("alice"), OrganizationPolicy::default(), T0)
            .await,
        "an organization named like a user",
    );
    expect_error(
        Expected::AlreadyExists,
        store.create_user(&login("acme"), T0).await,
        "a user named like an organization",
    );
    // Logins are case-insensitive: `Alice` parses to `alice`.
    expect_error(
        Expected::AlreadyExists,
        store.create_user(&login("Alice"), T0).await,
        "a user differing in case",
    );

    assert_eq!(
        store.account(&login("alice")).await.expect("get"),
        Some(alice)
    );
    assert_eq!(
        store.account(&login("acme")).await.expect("get"),
        Some(acme)
    );
    assert_eq!(store.account(&login("nobody")).await.expect("get"), None);
    assert_eq!(
        store.owner_kind(&login("alice")).await.expect("kind"),
        Some(OwnerKind::User)
    );
    assert_eq!(
        store.owner_kind(&login("acme")).await.expect("kind"),
        Some(OwnerKind::organization())
    );
    assert_eq!(
        store.owner_kind(&login("nobody")).await.expect("kind"),
        None
    );
}

/// An organization's package policy is stored and can change.
pub async fn organization_policy_round_trips(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    let closed = OrganizationPolicy {
        members_can_create_packages: false,
    };
    store
        .create_organization(&login("acme"), closed, T0)
        .await
        .expect("create acme");
    assert_eq!(
        store.owner_kind(&login("acme")).await.expect("kind"),
        Some(OwnerKind::Organization(closed))
    );
    let open = store
        .set_organization_policy(&login("acme"), OrganizationPolicy::default())
        .await
        .expect("change policy");
    assert_eq!(open.kind, OwnerKind::organization());
    assert_eq!(
        store.owner_kind(&login("acme")).await.expect("kind"),
        Some(OwnerKind::organization())
    );

    store
        .create_user(&login("alice"), T0)
        .await
        .expect("create alice");
    expect_error(
        Expected::NotFound,
        store.set_organization_policy(&login("alice"), closed).await,
        "a user has no organization policy",
    );
}

/// Accounts are listed in login order, a page at a time, without gaps or
/// repeats.
pub async fn accounts_list_in_login_order_across_pages(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    create_accounts(&store, &["dave", "alice", "carol", "erin", "bob"], "acme").await;
    let store_ref = &store;
    let seen: Vec<String> = all_pages(2, move |page| async move {
        store_ref.list_accounts(&page).await
    })
    .await
    .iter()
    .map(|account| account.login.to_string())
    .collect();
    assert_eq!(seen, ["acme", "alice", "bob", "carol", "dave", "erin"]);
    let empty = store
        .list_accounts(&PageRequest::first(0))
        .await
        .expect("limit 0");
    assert!(empty.items.is_empty() && empty.next.is_none());
    let all = store
        .list_accounts(&PageRequest::first(100))
        .await
        .expect("one page");
    assert_eq!(all.items.len(), 6);
    assert!(all.next.is_none(), "the last page has no next cursor");
}

/// Members have a role, which can change; removing a member removes them
/// from the organization's teams too.
pub async fn membership_roles_change_and_removal_leaves_teams(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let (acme, alice, bob, carol) = (login("acme"), login("alice"), login("bob"), login("carol"));

    let membership = store.membership(&acme, &alice).await.expect("membership");
    assert_eq!(membership.role, Some(OrgRole::Member));
    assert!(membership.teams.is_empty());
    assert_eq!(
        store
            .membership(&acme, &bob)
            .await
            .expect("membership")
            .role,
        Some(OrgRole::Admin)
    );
    assert_eq!(
        store.membership(&acme, &carol).await.expect("membership"),
        wharf_auth::Membership::none()
    );
    assert_eq!(
        store
            .membership(&alice, &bob)
            .await
            .expect("membership in a user account"),
        wharf_auth::Membership::none()
    );

    add_team(&store, &acme, &team("devs"), T0).await;
    store
        .add_team_member(&acme, &team("devs"), &alice)
        .await
        .expect("join team");
    let promoted = store
        .add_member(&acme, &alice, OrgRole::Admin, at(5))
        .await
        .expect("promote");
    assert_eq!(promoted.role, OrgRole::Admin);
    assert_eq!(
        promoted.joined_at, T0,
        "changing the role keeps the join time"
    );
    assert!(
        promoted.teams.contains(&team("devs")),
        "changing the role keeps the teams"
    );
    assert_eq!(promoted.membership().role, Some(OrgRole::Admin));

    let members = store.members(&acme).await.expect("members");
    let roles: Vec<(String, OrgRole)> = members
        .iter()
        .map(|m| (m.login.to_string(), m.role))
        .collect();
    assert_eq!(
        roles,
        [
            ("alice".to_owned(), OrgRole::Admin),
            ("bob".to_owned(), OrgRole::Admin)
        ]
    );

    store
        .remove_member(&acme, &alice)
        .await
        .expect("remove alice");
    assert_eq!(
        store.membership(&acme, &alice).await.expect("membership"),
        wharf_auth::Membership::none()
    );
    expect_error(
        Expected::NotFound,
        store.remove_member(&acme, &alice).await,
        "removing a non-member",
    );
    store
        .add_member(&acme, &alice, OrgRole::Member, at(9))
        .await
        .expect("re-add alice");
    let again = store.membership(&acme, &alice).await.expect("membership");
    assert_eq!(again.role, Some(OrgRole::Member));
    assert!(
        again.teams.is_empty(),
        "leaving the organization left its teams"
    );

    for (organization, member, context) in [
        ("alice", "bob", "members of a user account"),
        ("acme", "acme", "an organization as a member"),
        ("acme", "nobody", "an unknown user"),
    ] {
        let added = store
            .add_member(&login(organization), &login(member), OrgRole::Member, T0)
            .await;
        expect_error(Expected::NotFound, added, context);
    }
    let orgs = store
        .organizations_of(&bob)
        .await
        .expect("bob's organizations");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].organization, acme);
    assert_eq!(orgs[0].role, OrgRole::Admin);
    assert!(store
        .organizations_of(&carol)
        .await
        .expect("carol's")
        .is_empty());
}

/// Only members of an organization can join its teams.
pub async fn team_members_must_be_organization_members(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let acme = login("acme");
    add_team(&store, &acme, &team("devs"), T0).await;
    let (conflict, not_found) = (Some(Expected::Conflict), Some(Expected::NotFound));
    for (slug, user, outcome, context) in [
        ("devs", "carol", conflict, "a non-member joining a team"),
        ("devs", "alice", None, "alice joins"),
        ("devs", "alice", None, "joining twice is harmless"),
        ("ops", "alice", not_found, "an unknown team"),
    ] {
        let joined = store
            .add_team_member(&acme, &team(slug), &login(user))
            .await;
        expect_outcome(outcome, joined, context);
    }
    let alice = login("alice");
    let membership = store.membership(&acme, &alice).await.expect("membership");
    assert_eq!(membership.teams, BTreeSet::from([team("devs")]));
    for (outcome, context) in [(None, "leave team"), (not_found, "leaving a team twice")] {
        let left = store.remove_team_member(&acme, &team("devs"), &alice).await;
        expect_outcome(outcome, left, context);
    }
    let membership = store.membership(&acme, &alice).await.expect("membership");
    assert!(membership.teams.is_empty());
}

/// Teams are unique per organization, listed in slug order, and deletable.
pub async fn teams_are_created_listed_and_deleted(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let acme = login("acme");
    for slug in ["ops", "devs", "qa"] {
        add_team(&store, &acme, &team(slug), T0).await;
    }
    expect_error(
        Expected::AlreadyExists,
        store.create_team(&acme, &team("devs"), T0).await,
        "a second team devs",
    );
    expect_error(
        Expected::NotFound,
        store.create_team(&login("alice"), &team("devs"), T0).await,
        "a team of a user",
    );
    assert_eq!(
        store.teams(&acme).await.expect("teams"),
        [team("devs"), team("ops"), team("qa")]
    );
    store
        .add_team_member(&acme, &team("ops"), &login("bob"))
        .await
        .expect("bob joins ops");
    store
        .delete_team(&acme, &team("ops"))
        .await
        .expect("delete ops");
    expect_error(
        Expected::NotFound,
        store.delete_team(&acme, &team("ops")).await,
        "deleting a team twice",
    );
    assert_eq!(
        store.teams(&acme).await.expect("teams"),
        [team("devs"), team("qa")]
    );
    let bob = store
        .membership(&acme, &login("bob"))
        .await
        .expect("membership");
    assert_eq!(
        bob.role,
        Some(OrgRole::Admin),
        "deleting a team keeps its members in the organization"
    );
    assert!(bob.teams.is_empty());
}

// ------------------------------------------------------------------ tokens

/// Timestamps come back exactly as given, far-future ones included.
pub async fn timestamps_round_trip_exactly(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    // 31 December 9999, 23:59:59.
    let far = Timestamp::from_unix_seconds(253_402_300_799);
    let user = store
        .create_user(&login("alice"), far)
        .await
        .expect("create");
    assert_eq!(user.created_at, far);
    assert_eq!(
        store
            .account(&login("alice"))
            .await
            .expect("get")
            .map(|a| a.created_at),
        Some(far)
    );
    let epoch = store
        .create_user(&login("bob"), Timestamp::EPOCH)
        .await
        .expect("create");
    assert_eq!(epoch.created_at, Timestamp::EPOCH);
}
