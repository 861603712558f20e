//! Creating packages, changing their settings, grants and metadata, and listing them.

#[allow(unused_imports)]
use super::*;

/// The first publish creates a private package with its creator as admin;
/// its name is then taken.
pub async fn first_publish_creates_a_private_package(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let created = publish(&store, "acme/tools/cli", "alice", at(5)).await;
    assert_eq!(created.name(), &name("acme/tools/cli"));
    assert_eq!(created.owner, login("acme"));
    assert_eq!(created.visibility(), Visibility::Private);
    assert_eq!(
        created.package.role_of(&grantee("user:alice")),
        Some(Role::Admin)
    );
    assert_eq!(created.version_count, 0);
    assert_eq!(
        (created.created_at, created.updated_at, created.deleted_at),
        (at(5), at(5), None)
    );
    assert!(created.metadata.is_empty());

    assert_eq!(
        store.package(&name("acme/tools/cli")).await.expect("get"),
        Some(created.clone())
    );
    assert_eq!(
        store.package_by_id(created.id).await.expect("by id"),
        Some(created.clone())
    );
    assert_eq!(store.package(&name("acme/tools")).await.expect("get"), None);
    expect_error(
        Expected::AlreadyExists,
        store
            .create_package(&first_publish("acme/tools/cli", "bob"), at(6))
            .await,
        "a second package of the same name",
    );
    expect_error(
        Expected::NotFound,
        store
            .create_package(&first_publish("nobody/app", "alice"), T0)
            .await,
        "a package in a namespace nobody owns",
    );

    // A workflow's first publish links the package to its repository.
    let by_workflow =
        Package::first_publish(name("acme/app"), &Identity::Workflow(repo("acme/app")));
    let linked = store
        .create_package(&by_workflow, T0)
        .await
        .expect("create by workflow");
    assert_eq!(linked.linked_repository(), Some(&repo("acme/app")));
    assert!(linked.package.inherit_access);
}

/// Visibility, link, access inheritance and metadata change in one step;
/// fields not given are kept.
pub async fn package_changes_apply_together(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    let changed = make_public_and_linked(&store, &app, at(10)).await;
    assert_eq!(changed.visibility(), Visibility::Public);
    assert_eq!(changed.linked_repository(), Some(&repo("alice/app")));
    assert!(changed.package.inherit_access);
    assert_eq!(changed.updated_at, at(10));
    assert_eq!(changed.created_at, T0);

    let kept = store
        .update_package(&app, &PackageChanges::new().inherit_access(false), at(11))
        .await
        .expect("change");
    assert_eq!(kept.visibility(), Visibility::Public, "visibility kept");
    assert_eq!(
        kept.linked_repository(),
        Some(&repo("alice/app")),
        "link kept"
    );
    assert!(!kept.package.inherit_access);

    let unlinked = store
        .update_package(&app, &PackageChanges::new().unlink(), at(12))
        .await
        .expect("unlink");
    assert_eq!(unlinked.linked_repository(), None);
    assert!(!unlinked.package.inherit_access);
    assert_eq!(store.package(&app).await.expect("get"), Some(unlinked));
    expect_error(
        Expected::NotFound,
        store
            .update_package(&name("alice/nothing"), &PackageChanges::new(), T0)
            .await,
        "changing an unknown package",
    );
}

/// Removing a package's link records when, and linking it again keeps
/// that record: a push must not link what an admin unlinked.
pub async fn an_unlink_is_remembered(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    let linked = store
        .update_package(&app, &PackageChanges::new().link(repo("alice/app")), at(10))
        .await
        .expect("link");
    assert_eq!(linked.unlinked_at, None, "never unlinked");
    assert!(!linked.was_unlinked());

    let unlinked = store
        .update_package(&app, &PackageChanges::new().unlink(), at(12))
        .await
        .expect("unlink");
    assert_eq!(unlinked.unlinked_at, Some(at(12)));
    assert_eq!(store.package(&app).await.expect("get"), Some(unlinked));

    let relinked = store
        .update_package(&app, &PackageChanges::new().link(repo("alice/app")), at(14))
        .await
        .expect("link again");
    assert_eq!(relinked.linked_repository(), Some(&repo("alice/app")));
    assert_eq!(
        relinked.unlinked_at,
        Some(at(12)),
        "the unlink is remembered"
    );
    let other = store
        .update_package(&app, &PackageChanges::new().inherit_access(false), at(15))
        .await
        .expect("change");
    assert_eq!(other.unlinked_at, Some(at(12)), "other changes keep it");
}

/// A grant gives one role per grantee: setting again replaces it, and it
/// can be removed.
pub async fn grants_are_set_replaced_and_removed(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    add_team(&store, &login("acme"), &team("devs"), T0).await;
    let lib = name("acme/lib");
    publish(&store, "acme/lib", "alice", T0).await;
    for (who, role) in [
        ("user:bob", Role::Read),
        ("team:devs", Role::Write),
        ("repository:acme/ci", Role::Admin),
        ("user:bob", Role::Write),
    ] {
        store
            .set_grant(&lib, &grantee(who), role, at(1))
            .await
            .expect("grant");
    }
    let package = store.package(&lib).await.expect("get").expect("exists");
    assert_eq!(
        package.package.role_of(&grantee("user:bob")),
        Some(Role::Write),
        "replaced, not added"
    );
    assert_eq!(
        package.package.role_of(&grantee("team:devs")),
        Some(Role::Write)
    );
    assert_eq!(
        package.package.role_of(&grantee("repository:acme/ci")),
        Some(Role::Admin)
    );
    assert_eq!(
        package.package.role_of(&grantee("user:alice")),
        Some(Role::Admin)
    );
    assert_eq!(package.package.grants.len(), 4);
    assert_eq!(package.updated_at, at(1));

    let removed = store
        .remove_grant(&lib, &grantee("user:bob"), at(2))
        .await
        .expect("remove");
    assert_eq!(removed.package.role_of(&grantee("user:bob")), None);
    expect_error(
        Expected::NotFound,
        store.remove_grant(&lib, &grantee("user:bob"), at(3)).await,
        "removing twice",
    );
}

/// Grants name a user that exists, or a team of the owning organization.
pub async fn grantees_must_exist(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    publish(&store, "acme/lib", "alice", T0).await;
    let (not_found, conflict) = (Expected::NotFound, Expected::Conflict);
    for (package, who, expected, context) in [
        ("acme/lib", "user:nobody", not_found, "an unknown user"),
        (
            "acme/lib",
            "user:acme",
            not_found,
            "an organization as a user grantee",
        ),
        ("acme/lib", "team:ghosts", not_found, "an unknown team"),
        (
            "alice/app",
            "team:devs",
            conflict,
            "a team grant on a user's package",
        ),
        (
            "acme/none",
            "user:bob",
            not_found,
            "a grant on an unknown package",
        ),
    ] {
        expect_error(
            expected,
            store
                .set_grant(&name(package), &grantee(who), Role::Read, T0)
                .await,
            context,
        );
    }
}

/// The metadata extracted from annotations is stored as given.
pub async fn metadata_round_trips(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let annotations: BTreeMap<String, String> = [
        (
            "org.opencontainers.image.source",
            "https://github.com/alice/app",
        ),
        (
            "org.opencontainers.image.description",
            "An app — with ünïcode and \"quotes\"",
        ),
        ("org.opencontainers.image.licenses", "MIT OR Apache-2.0"),
        ("org.opencontainers.image.title", "App"),
        ("org.opencontainers.image.created", "2023-11-14T22:13:20Z"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let metadata = Sources::new()
        .annotations(Origin::IndexAnnotation, &annotations)
        .extract(&Policy::default())
        .metadata;
    assert!(
        metadata.description.is_some() && metadata.licenses.is_some() && metadata.source.is_some()
    );
    let changed = store
        .update_package(
            &name("alice/app"),
            &PackageChanges::new().metadata(metadata.clone()),
            at(1),
        )
        .await
        .expect("set metadata");
    assert_eq!(changed.metadata, metadata);
    let read = store
        .package(&name("alice/app"))
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(read.metadata, metadata);
    let cleared = store
        .update_package(
            &name("alice/app"),
            &PackageChanges::new().metadata(PackageMetadata::default()),
            at(2),
        )
        .await
        .expect("clear metadata");
    assert!(cleared.metadata.is_empty());
}

/// An owner's packages are listed in name order, a page at a time,
/// filtered by visibility; another owner's never appear.
pub async fn packages_list_in_name_order_across_pages(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    for package in [
        "acme/web",
        "acme/api",
        "acme/db/postgres",
        "acme/cli",
        "acme/db",
    ] {
        publish(&store, package, "bob", T0).await;
    }
    for public in ["acme/web", "acme/cli"] {
        store
            .update_package(
                &name(public),
                &PackageChanges::new().visibility(Visibility::Public),
                T0,
            )
            .await
            .expect("make public");
    }
    let (store_ref, acme) = (&store, &login("acme"));
    let seen: Vec<String> = all_pages(2, move |page| async move {
        store_ref
            .list_packages(acme, PackageQuery::active(), &page)
            .await
    })
    .await
    .iter()
    .map(|p| p.name().to_string())
    .collect();
    assert_eq!(
        seen,
        [
            "acme/api",
            "acme/cli",
            "acme/db",
            "acme/db/postgres",
            "acme/web"
        ]
    );

    let public = first_packages(
        &store,
        "acme",
        PackageQuery::active().with_visibility(Visibility::Public),
    )
    .await;
    let public: Vec<String> = public.items.iter().map(|p| p.name().to_string()).collect();
    assert_eq!(public, ["acme/cli", "acme/web"]);

    let alices = first_packages(&store, "alice", PackageQuery::active()).await;
    assert_eq!(alices.items.len(), 1);
    assert!(first_packages(&store, "carol", PackageQuery::active())
        .await
        .items
        .is_empty());
    let none = store
        .list_packages(
            &login("acme"),
            PackageQuery::active(),
            &PageRequest::first(0),
        )
        .await
        .expect("limit 0");
    assert!(none.items.is_empty() && none.next.is_none());
    expect_listing_refusals(
        ["nobody", "acme"],
        "garbage",
        move |owner, page| async move {
            store_ref
                .list_packages(&login(owner), PackageQuery::active(), &page)
                .await
        },
    )
    .await;
}
