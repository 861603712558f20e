//! Source repository collaborators and the access context.

#[allow(unused_imports)]
use super::*;

/// Repository collaborators are set, replaced and removed.
pub async fn repository_collaborators_round_trip(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    let app = repo("acme/app");
    let alice: Collaborator = "user:alice".parse().expect("collaborator");
    let devs: Collaborator = "team:devs".parse().expect("collaborator");
    store
        .set_collaborator(&app, &alice, RepositoryRole::Read)
        .await
        .expect("set");
    store
        .set_collaborator(&app, &devs, RepositoryRole::Maintain)
        .await
        .expect("set");
    store
        .set_collaborator(&app, &alice, RepositoryRole::Admin)
        .await
        .expect("replace");
    store
        .set_collaborator(&repo("acme/other"), &alice, RepositoryRole::Triage)
        .await
        .expect("set elsewhere");
    let access = store.repository_access(&app).await.expect("access");
    assert_eq!(access.repository, app);
    assert_eq!(
        access.users,
        BTreeMap::from([(login("alice"), RepositoryRole::Admin)])
    );
    assert_eq!(
        access.teams,
        BTreeMap::from([(team("devs"), RepositoryRole::Maintain)])
    );
    store
        .remove_collaborator(&app, &alice)
        .await
        .expect("remove");
    expect_error(
        Expected::NotFound,
        store.remove_collaborator(&app, &alice).await,
        "removing twice",
    );
    let access = store.repository_access(&app).await.expect("access");
    assert!(access.users.is_empty(), "alice was removed");
    let none = store
        .repository_access(&repo("acme/none"))
        .await
        .expect("access");
    assert!(none.users.is_empty() && none.teams.is_empty());
}

/// One lookup gives the owner kind, the caller's membership, the package
/// and the linked repository's collaborators, enough for `authorize`.
pub async fn access_context_gathers_what_authorize_needs(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let acme = login("acme");
    add_team(&store, &acme, &team("devs"), T0).await;
    store
        .add_team_member(&acme, &team("devs"), &login("alice"))
        .await
        .expect("join");
    let app = name("acme/app");
    publish(&store, "acme/app", "bob", T0).await;
    store
        .update_package(&app, &PackageChanges::new().link(repo("acme/app")), T0)
        .await
        .expect("link");
    for (who, role) in [
        ("user:alice", RepositoryRole::Write),
        ("user:carol", RepositoryRole::Admin),
        ("team:devs", RepositoryRole::Read),
    ] {
        store
            .set_collaborator(&repo("acme/app"), &who.parse().expect("collaborator"), role)
            .await
            .expect("collaborator");
    }

    let context = active_context(&store, &app, Some(&login("alice"))).await;
    assert_eq!(context.name, app);
    assert_eq!(context.owner, Some(OwnerKind::organization()));
    assert_eq!(context.membership.role, Some(OrgRole::Member));
    assert_eq!(context.membership.teams, BTreeSet::from([team("devs")]));
    let package = context.package.as_ref().expect("the package");
    assert_eq!(package.linked_repository(), Some(&repo("acme/app")));
    let access = context
        .repository_access
        .as_ref()
        .expect("the linked repository's collaborators");
    assert_eq!(
        access.users.keys().collect::<Vec<_>>(),
        [&login("alice")],
        "only the caller's own entry among users"
    );
    assert_eq!(access.teams.get(&team("devs")), Some(&RepositoryRole::Read));

    let alice = Principal::User {
        login: login("alice"),
        scopes: "write:packages".parse().expect("scopes"),
    };
    let state = context.state().expect("the namespace exists");
    assert!(
        authorize(&alice, PackageAction::Push, &state).is_allowed(),
        "write on the repository gives write"
    );
    assert_eq!(
        authorize(&Principal::Anonymous, PackageAction::Pull, &state).deny_kind(),
        Some(DenyKind::NeedsAuthentication)
    );

    let anonymous = active_context(&store, &app, None).await;
    assert_eq!(anonymous.membership, wharf_auth::Membership::none());
    assert!(anonymous
        .repository_access
        .as_ref()
        .is_some_and(|a| a.users.is_empty()));

    let in_user_namespace = active_context(&store, &name("alice/app"), Some(&login("bob"))).await;
    assert_eq!(in_user_namespace.owner, Some(OwnerKind::User));
    assert_eq!(in_user_namespace.membership, wharf_auth::Membership::none());
    assert!(in_user_namespace.package.is_some());
    assert!(
        in_user_namespace.repository_access.is_none(),
        "no linked repository"
    );

    let first_push = active_context(&store, &name("acme/new"), Some(&login("alice"))).await;
    assert!(first_push.package.is_none());
    assert_eq!(first_push.membership.role, Some(OrgRole::Member));
}

/// A name in a namespace nobody owns has a context without owner, and no
/// state to authorize against.
pub async fn access_context_of_an_unknown_namespace_has_no_owner(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let context = active_context(&store, &name("nobody/app"), Some(&login("alice"))).await;
    assert_eq!(context.owner, None);
    assert!(context.package.is_none());
    assert!(context.state().is_none());
}
