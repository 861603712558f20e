//! The cases that span the whole [`PackageStore`]:
//! every change is seen at once (what a cache must preserve), and
//! everything survives a restart.

#[allow(unused_imports)]
use super::*;

/// Every change is seen by the very next lookup (what a cache in front of
/// a store must preserve).
pub async fn lookups_see_changes_at_once(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let app = name("acme/app");
    let alice = login("alice");
    let lookup = |store: Arc<dyn PackageStore>| {
        let (app, alice) = (app.clone(), alice.clone());
        async move {
            let context = active_context(&store, &app, Some(&alice)).await;
            let package = store.package(&app).await.expect("package");
            assert_eq!(context.package, package, "both lookups agree");
            context
        }
    };
    assert!(lookup(store.clone()).await.package.is_none());
    publish(&store, "acme/app", "bob", at(1)).await;
    assert!(
        lookup(store.clone()).await.package.is_some(),
        "a created package is seen"
    );
    push(&store, &app, &manifest(1), at(2)).await;
    assert_eq!(
        lookup(store.clone()).await.package.map(|p| p.version_count),
        Some(1),
        "a push is seen"
    );
    store
        .update_package(
            &app,
            &PackageChanges::new().visibility(Visibility::Public),
            at(3),
        )
        .await
        .expect("publish");
    assert_eq!(
        lookup(store.clone()).await.package.map(|p| p.visibility()),
        Some(Visibility::Public)
    );
    store
        .set_grant(&app, &grantee("user:carol"), Role::Read, at(4))
        .await
        .expect("grant");
    assert!(lookup(store.clone())
        .await
        .package
        .is_some_and(|p| p.package.role_of(&grantee("user:carol")) == Some(Role::Read)));
    store
        .add_member(&login("acme"), &alice, OrgRole::Admin, at(5))
        .await
        .expect("promote");
    assert_eq!(
        lookup(store.clone()).await.membership.role,
        Some(OrgRole::Admin),
        "a role change is seen"
    );
    store
        .remove_member(&login("acme"), &alice)
        .await
        .expect("remove");
    assert_eq!(
        lookup(store.clone()).await.membership.role,
        None,
        "a removal is seen"
    );
    store.delete_package(&app, at(6)).await.expect("delete");
    assert!(
        lookup(store.clone()).await.package.is_none(),
        "a deletion is seen"
    );
    store.restore_package(&app, at(7)).await.expect("restore");
    assert!(
        lookup(store.clone()).await.package.is_some(),
        "a restore is seen"
    );

    let (secret, stored) = stored_token("alice", "read:packages");
    assert_eq!(token_revoked(&*store, &secret).await, None);
    let record = insert_token(&store, &stored, at(8)).await;
    assert_eq!(
        token_revoked(&*store, &secret).await,
        Some(false),
        "a new token is seen"
    );
    store.revoke_token(record.id, at(9)).await.expect("revoke");
    assert_eq!(
        token_revoked(&*store, &secret).await,
        Some(true),
        "a revocation is seen"
    );
}

/// Everything written is there after a restart.
pub async fn data_survives_reopen(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let (secret, stored) = stored_token("alice", "write:packages");
    let token = insert_token(&store, &stored, T0).await;
    add_team(&store, &login("acme"), &team("devs"), T0).await;
    store
        .add_team_member(&login("acme"), &team("devs"), &login("alice"))
        .await
        .expect("join");
    let app = name("alice/app");
    push(&store, &app, &manifest(1).with_tag(tag("latest")), at(1)).await;
    let package = make_public_and_linked(&store, &app, at(2)).await;
    store
        .set_collaborator(
            &repo("alice/app"),
            &"user:bob".parse().expect("collaborator"),
            RepositoryRole::Write,
        )
        .await
        .expect("collaborator");
    let versions = store
        .list_versions(&app, VersionQuery::active(), &PageRequest::first(10))
        .await
        .expect("list");
    drop(store);

    let Some(reopened) = fixture.reopen().await else {
        return;
    };
    assert_eq!(
        reopened.find_token(&secret.hash()).await.expect("find"),
        Some(token)
    );
    assert_eq!(reopened.package(&app).await.expect("get"), Some(package));
    assert_eq!(
        reopened
            .list_versions(&app, VersionQuery::active(), &PageRequest::first(10))
            .await
            .expect("list"),
        versions
    );
    let membership = reopened
        .membership(&login("acme"), &login("alice"))
        .await
        .expect("membership");
    assert_eq!(membership.role, Some(OrgRole::Member));
    assert_eq!(membership.teams, BTreeSet::from([team("devs")]));
    assert_eq!(
        reopened
            .repository_access(&repo("alice/app"))
            .await
            .expect("access")
            .users
            .get(&login("bob")),
        Some(&RepositoryRole::Write)
    );
}
