//! The cases of [`PackageRecords`]: packages,
//! grants, metadata, versions and tags, deletion, restoring and purging,
//! source repository collaborators, the access context, concurrency.

#[allow(unused_imports)]
use super::*;

/// The first publish creates a private package with its creator as admin;
/// its name is then taken.
pub async fn first_publish_creates_a_private_package(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let created = store
        .create_package(&first_publish("acme/tools/cli", "alice"), at(5))
        .await
        .expect("create");
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
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let changed = store
        .update_package(
            &app,
            &PackageChanges::new()
                .visibility(Visibility::Public)
                .link(repo("alice/app")),
            at(10),
        )
        .await
        .expect("change");
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
    let store = fixture.store().await;
    seed(store.as_ref()).await;
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
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    store
        .create_team(&login("acme"), &team("devs"), T0)
        .await
        .expect("team");
    let lib = name("acme/lib");
    store
        .create_package(&first_publish("acme/lib", "alice"), T0)
        .await
        .expect("create");
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
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    store
        .create_package(&first_publish("acme/lib", "alice"), T0)
        .await
        .expect("create");
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
    let store = fixture.store().await;
    seed(store.as_ref()).await;
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
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    for package in [
        "acme/web",
        "acme/api",
        "acme/db/postgres",
        "acme/cli",
        "acme/db",
    ] {
        store
            .create_package(&first_publish(package, "bob"), T0)
            .await
            .expect("create");
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
        store.as_ref(),
        "acme",
        PackageQuery::active().with_visibility(Visibility::Public),
    )
    .await;
    let public: Vec<String> = public.items.iter().map(|p| p.name().to_string()).collect();
    assert_eq!(public, ["acme/cli", "acme/web"]);

    let alices = first_packages(store.as_ref(), "alice", PackageQuery::active()).await;
    assert_eq!(alices.items.len(), 1);
    assert!(
        first_packages(store.as_ref(), "carol", PackageQuery::active())
            .await
            .items
            .is_empty()
    );
    let none = store
        .list_packages(
            &login("acme"),
            PackageQuery::active(),
            &PageRequest::first(0),
        )
        .await
        .expect("limit 0");
    assert!(none.items.is_empty() && none.next.is_none());
    expect_error(
        Expected::NotFound,
        store
            .list_packages(
                &login("nobody"),
                PackageQuery::active(),
                &PageRequest::first(10),
            )
            .await,
        "packages of an unknown owner",
    );
    expect_error(
        Expected::InvalidCursor,
        store
            .list_packages(
                &login("acme"),
                PackageQuery::active(),
                &PageRequest::after(crate::Cursor::new("garbage"), 2),
            )
            .await,
        "a forged cursor",
    );
}

/// A deleted package disappears from lookups by name and active listings,
/// shows in deleted listings, and comes back whole when restored.
pub async fn deleted_packages_are_hidden_and_restorable(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    store
        .set_grant(&app, &grantee("user:bob"), Role::Write, T0)
        .await
        .expect("grant");
    store
        .record_version(&app, &manifest(1).with_tag(tag("latest")), T0)
        .await
        .expect("push");
    let before = store.package(&app).await.expect("get").expect("exists");

    let deleted = store.delete_package(&app, at(100)).await.expect("delete");
    assert_eq!(deleted.deleted_at, Some(at(100)));
    assert_eq!(store.package(&app).await.expect("get"), None);
    assert_eq!(
        store.package_by_id(before.id).await.expect("by id"),
        Some(deleted.clone())
    );
    expect_error(
        Expected::NotFound,
        store.delete_package(&app, at(101)).await,
        "deleting twice",
    );
    let active = first_packages(store.as_ref(), "alice", PackageQuery::active()).await;
    assert!(active.items.is_empty());
    let gone = first_packages(store.as_ref(), "alice", PackageQuery::deleted()).await;
    assert_eq!(gone.items, std::slice::from_ref(&deleted));
    let context = store
        .access_context(&app, Some(&login("alice")), PackageLookup::LatestDeleted)
        .await
        .expect("context");
    assert_eq!(context.package, Some(deleted));
    assert_eq!(
        store
            .access_context(&app, Some(&login("alice")), PackageLookup::Active)
            .await
            .expect("context")
            .package,
        None
    );

    let restored = store.restore_package(&app, at(200)).await.expect("restore");
    assert_eq!(restored.id, before.id);
    assert_eq!(restored.deleted_at, None);
    assert_eq!(
        restored.package, before.package,
        "settings and grants come back"
    );
    assert_eq!(restored.version_count, 1);
    let version = store
        .version_by_tag(&app, &tag("latest"))
        .await
        .expect("by tag")
        .expect("versions come back");
    assert_eq!(version.digest, digest(1));
    expect_error(
        Expected::NotFound,
        store.restore_package(&app, at(201)).await,
        "restoring a live package with nothing deleted",
    );
}

/// A name is free again once its package is deleted; the old package can
/// then only be restored once the name is free again.
pub async fn a_republished_name_blocks_restoring_the_old_package(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let old = store.delete_package(&app, at(10)).await.expect("delete");
    let new = store
        .create_package(&first_publish("alice/app", "alice"), at(20))
        .await
        .expect("republish");
    assert_ne!(new.id, old.id);
    expect_error(
        Expected::Conflict,
        store.restore_package(&app, at(30)).await,
        "restoring over a live package",
    );
    store
        .delete_package(&app, at(40))
        .await
        .expect("delete the new one");
    let restored = store.restore_package(&app, at(50)).await.expect("restore");
    assert_eq!(
        restored.id, new.id,
        "the most recently deleted package is restored"
    );
    let deleted = first_packages(store.as_ref(), "alice", PackageQuery::deleted()).await;
    assert_eq!(
        deleted.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        [old.id]
    );
}

/// Deleted packages and versions are restorable for thirty days, not one
/// second more.
pub async fn restore_window_is_thirty_days(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let window = RESTORE_WINDOW.as_secs();
    store.delete_package(&app, at(0)).await.expect("delete");
    store
        .restore_package(&app, at(window - 1))
        .await
        .expect("restore on the last second");
    store
        .delete_package(&app, at(window))
        .await
        .expect("delete again");
    match store.restore_package(&app, at(2 * window)).await {
        Err(Error::RestoreWindowPassed { deleted_at, .. }) => assert_eq!(deleted_at, at(window)),
        other => panic!("restoring after 30 days: expected RestoreWindowPassed, got {other:?}"),
    }

    store
        .create_package(&first_publish("alice/tool", "alice"), T0)
        .await
        .expect("create");
    let tool = name("alice/tool");
    let version = store
        .record_version(&tool, &manifest(1), T0)
        .await
        .expect("push");
    store
        .delete_version(&tool, version.id, at(100))
        .await
        .expect("delete version");
    match store
        .restore_version(&tool, version.id, at(100 + window))
        .await
    {
        Err(Error::RestoreWindowPassed { .. }) => {}
        other => {
            panic!("restoring a version after 30 days: expected RestoreWindowPassed, got {other:?}")
        }
    }
    store
        .restore_version(&tool, version.id, at(99 + window))
        .await
        .expect("restore on the last second");
}

/// A purge removes what was deleted thirty days ago or more, and nothing
/// else.
pub async fn purge_removes_only_expired_deletions(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let window = RESTORE_WINDOW.as_secs();
    for package in ["alice/old", "alice/recent", "alice/live"] {
        store
            .create_package(&first_publish(package, "alice"), T0)
            .await
            .expect("create");
        store
            .record_version(&name(package), &manifest(1), T0)
            .await
            .expect("push");
    }
    let old_version = store
        .record_version(&name("alice/live"), &manifest(2), T0)
        .await
        .expect("push");
    let recent_version = store
        .record_version(&name("alice/live"), &manifest(3), T0)
        .await
        .expect("push");
    let old = store
        .delete_package(&name("alice/old"), at(0))
        .await
        .expect("delete");
    store
        .delete_package(&name("alice/recent"), at(10))
        .await
        .expect("delete");
    store
        .delete_version(&name("alice/live"), old_version.id, at(0))
        .await
        .expect("delete");
    store
        .delete_version(&name("alice/live"), recent_version.id, at(10))
        .await
        .expect("delete");

    let early = store.purge_expired(at(window - 1)).await.expect("purge");
    assert!(
        early.is_empty(),
        "nothing is purged within the window: {early:?}"
    );

    let report = store.purge_expired(at(window)).await.expect("purge");
    assert_eq!(
        report.packages.iter().map(|p| p.id).collect::<Vec<_>>(),
        [old.id]
    );
    let mut purged: Vec<(String, Digest)> = report
        .versions
        .iter()
        .map(|v| (v.name.to_string(), v.digest.clone()))
        .collect();
    purged.sort();
    assert_eq!(
        purged,
        [
            ("alice/live".to_owned(), digest(2)),
            ("alice/old".to_owned(), digest(1))
        ]
    );
    assert_eq!(store.package_by_id(old.id).await.expect("by id"), None);
    expect_error(
        Expected::NotFound,
        store.restore_package(&name("alice/old"), at(window)).await,
        "restoring a purged package",
    );
    assert_eq!(
        store
            .version(&name("alice/live"), old_version.id)
            .await
            .expect("get"),
        None
    );
    assert!(store
        .version(&name("alice/live"), recent_version.id)
        .await
        .expect("get")
        .is_some());
    store
        .restore_package(&name("alice/recent"), at(window))
        .await
        .expect("still restorable");
    let live = store
        .package(&name("alice/live"))
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        live.version_count, 1,
        "purging deleted versions leaves the live count"
    );
    assert!(store
        .purge_expired(at(window))
        .await
        .expect("purge again")
        .is_empty());
}

/// The purge tells which manifests nothing references any more under their
/// name, leaving out those a newer package of the same name still holds.
pub async fn purge_reports_manifests_no_longer_referenced(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    store
        .record_version(&app, &manifest(1), T0)
        .await
        .expect("push");
    store
        .record_version(&app, &manifest(2), T0)
        .await
        .expect("push");
    store.delete_package(&app, at(1)).await.expect("delete");
    store
        .create_package(&first_publish("alice/app", "alice"), at(2))
        .await
        .expect("republish");
    store
        .record_version(&app, &manifest(2), at(2))
        .await
        .expect("push the same manifest again");

    let report = store
        .purge_expired(at(1 + RESTORE_WINDOW.as_secs()))
        .await
        .expect("purge");
    assert_eq!(report.packages.len(), 1);
    assert_eq!(report.versions.len(), 2);
    assert_eq!(report.unreferenced, [(app.clone(), digest(1))]);
}

// ---------------------------------------------------------------- versions

/// Pushing a digest again updates its version instead of adding one.
pub async fn versions_upsert_by_digest(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let index = NewVersion::new(digest(1), "application/vnd.oci.image.index.v1+json", 500)
        .with_platform("linux/arm64/v8")
        .with_platform("linux/amd64")
        .with_platform("linux/amd64");
    let first = store
        .record_version(&app, &index, at(1))
        .await
        .expect("push");
    assert_eq!(first.digest, digest(1));
    assert_eq!(first.media_type, "application/vnd.oci.image.index.v1+json");
    assert_eq!(first.size, 500);
    assert_eq!(
        first.platforms,
        ["linux/amd64", "linux/arm64/v8"],
        "sorted, without repeats"
    );
    assert!(first.tags.is_empty());
    assert_eq!(
        (first.created_at, first.updated_at, first.deleted_at),
        (at(1), at(1), None)
    );

    let again = store
        .record_version(&app, &index.clone().with_tag(tag("v1")), at(5))
        .await
        .expect("push again");
    assert_eq!(again.id, first.id);
    assert_eq!(again.created_at, at(1));
    assert_eq!(again.updated_at, at(5));
    assert_eq!(again.tags, [tag("v1")]);
    let package = store.package(&app).await.expect("get").expect("exists");
    assert_eq!(package.version_count, 1);
    assert_eq!(package.updated_at, at(5), "a push updates the package");
    assert_eq!(
        store
            .version_by_digest(&app, &digest(1))
            .await
            .expect("get"),
        Some(again.clone())
    );
    assert_eq!(
        store.version(&app, again.id).await.expect("get"),
        Some(again)
    );
    assert_eq!(
        store
            .version_by_digest(&app, &digest(9))
            .await
            .expect("get"),
        None
    );
    expect_error(
        Expected::NotFound,
        store
            .record_version(&name("alice/none"), &manifest(1), T0)
            .await,
        "a push to no package",
    );
}

/// A tag points at one version: tagging another version moves it.
pub async fn tags_move_between_versions(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let v1 = store
        .record_version(&app, &tagged(1, &["latest", "1.0", "1"]), at(1))
        .await
        .expect("push v1");
    assert_eq!(
        v1.tags,
        tags(&["1", "1.0", "latest"]),
        "tags in lexical order"
    );
    let v2 = store
        .record_version(&app, &tagged(2, &["latest", "1", "1.1"]), at(2))
        .await
        .expect("push v2");
    assert_eq!(v2.tags, tags(&["1", "1.1", "latest"]));
    let v1 = store
        .version(&app, v1.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(v1.tags, tags(&["1.0"]), "moved tags leave the old version");
    assert_eq!(v1.updated_at, at(2), "losing a tag updates the version");
    let latest = store
        .version_by_tag(&app, &tag("latest"))
        .await
        .expect("by tag")
        .expect("tagged");
    assert_eq!(latest.id, v2.id);
    assert_eq!(
        store
            .version_by_tag(&app, &tag("nope"))
            .await
            .expect("by tag"),
        None
    );

    // Tagging a version with a tag it has changes nothing else.
    let same = store
        .record_version(&app, &manifest(2).with_tag(tag("latest")), at(3))
        .await
        .expect("push");
    assert_eq!(same.tags, tags(&["1", "1.1", "latest"]));
    assert_eq!(version_count(store.as_ref(), &app).await, 2);
}

/// Removing a tag keeps the version it pointed at.
pub async fn removing_a_tag_leaves_the_version(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let v1 = store
        .record_version(&app, &tagged(1, &["latest", "1.0"]), at(1))
        .await
        .expect("push");
    let untagged = store
        .remove_tag(&app, &tag("1.0"), at(2))
        .await
        .expect("untag");
    assert_eq!(untagged.id, v1.id);
    assert_eq!(untagged.tags, tags(&["latest"]));
    assert_eq!(untagged.updated_at, at(2));
    expect_error(
        Expected::NotFound,
        store.remove_tag(&app, &tag("1.0"), at(3)).await,
        "removing a tag twice",
    );
    store
        .remove_tag(&app, &tag("latest"), at(3))
        .await
        .expect("untag");
    let bare = store
        .version(&app, v1.id)
        .await
        .expect("get")
        .expect("the version stays");
    assert!(bare.tags.is_empty());
    assert_eq!(version_count(store.as_ref(), &app).await, 1);
}

/// Versions are listed newest first, a page at a time, live or deleted.
pub async fn versions_list_newest_first_across_pages(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(
            store
                .record_version(&app, &manifest(n), at(u64::from(n)))
                .await
                .expect("push")
                .id,
        );
    }
    store
        .delete_version(&app, ids[1], at(10))
        .await
        .expect("delete");
    let (store_ref, app_ref) = (&store, &app);
    let seen: Vec<_> = all_pages(2, move |page| async move {
        store_ref
            .list_versions(app_ref, VersionQuery::active(), &page)
            .await
    })
    .await
    .iter()
    .map(|v| v.id)
    .collect();
    assert_eq!(seen, [ids[4], ids[3], ids[2], ids[0]]);
    let deleted = store
        .list_versions(&app, VersionQuery::deleted(), &PageRequest::first(10))
        .await
        .expect("list");
    assert_eq!(
        deleted.items.iter().map(|v| v.id).collect::<Vec<_>>(),
        [ids[1]]
    );
    assert!(deleted.next.is_none());
    expect_error(
        Expected::NotFound,
        store
            .list_versions(
                &name("alice/none"),
                VersionQuery::active(),
                &PageRequest::first(10),
            )
            .await,
        "versions of no package",
    );
    expect_error(
        Expected::InvalidCursor,
        store
            .list_versions(
                &app,
                VersionQuery::active(),
                &PageRequest::after(crate::Cursor::new("x"), 2),
            )
            .await,
        "a forged cursor",
    );
}

/// A deleted version leaves the count and tag lookups, and comes back with
/// the tags that did not move meanwhile.
pub async fn deleted_versions_are_restorable_with_their_tags(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let v1 = store
        .record_version(&app, &tagged(1, &["latest", "1.0"]), at(1))
        .await
        .expect("push");
    let deleted = store
        .delete_version(&app, v1.id, at(2))
        .await
        .expect("delete");
    assert_eq!(deleted.deleted_at, Some(at(2)));
    assert_eq!(
        deleted.tags,
        tags(&["1.0", "latest"]),
        "a deleted version keeps its tags"
    );
    assert_eq!(version_count(store.as_ref(), &app).await, 0);
    assert_eq!(
        store
            .version_by_tag(&app, &tag("latest"))
            .await
            .expect("by tag"),
        None
    );
    expect_error(
        Expected::NotFound,
        store.delete_version(&app, v1.id, at(3)).await,
        "deleting a version twice",
    );

    store
        .record_version(&app, &manifest(2).with_tag(tag("latest")), at(4))
        .await
        .expect("push v2");
    let restored = store
        .restore_version(&app, v1.id, at(5))
        .await
        .expect("restore");
    assert_eq!(restored.deleted_at, None);
    assert_eq!(
        restored.tags,
        tags(&["1.0"]),
        "the tag that moved stays where it went"
    );
    assert_eq!(version_count(store.as_ref(), &app).await, 2);
    expect_error(
        Expected::Conflict,
        store.restore_version(&app, v1.id, at(6)).await,
        "restoring a live version",
    );
    expect_error(
        Expected::NotFound,
        store
            .restore_version(&app, crate::VersionId::new(987_654), at(6))
            .await,
        "restoring an unknown version",
    );
}

/// Pushing the digest of a deleted version makes it live again.
pub async fn pushing_a_deleted_digest_makes_it_live_again(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let v1 = store
        .record_version(&app, &manifest(1), at(1))
        .await
        .expect("push");
    store
        .delete_version(&app, v1.id, at(2))
        .await
        .expect("delete");
    let again = store
        .record_version(&app, &manifest(1).with_tag(tag("back")), at(3))
        .await
        .expect("push again");
    assert_eq!(again.id, v1.id);
    assert_eq!(again.deleted_at, None);
    assert_eq!(again.tags, tags(&["back"]));
    assert_eq!(version_count(store.as_ref(), &app).await, 1);
}

/// Versions are reached through the live package only.
pub async fn versions_of_a_deleted_package_are_not_addressable(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let v1 = store
        .record_version(&app, &manifest(1).with_tag(tag("latest")), at(1))
        .await
        .expect("push");
    store.delete_package(&app, at(2)).await.expect("delete");
    assert_eq!(store.version(&app, v1.id).await.expect("get"), None);
    assert_eq!(
        store
            .version_by_digest(&app, &digest(1))
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .version_by_tag(&app, &tag("latest"))
            .await
            .expect("get"),
        None
    );
    expect_error(
        Expected::NotFound,
        store.record_version(&app, &manifest(2), at(3)).await,
        "a push to a deleted package",
    );
    expect_error(
        Expected::NotFound,
        store.delete_version(&app, v1.id, at(3)).await,
        "deleting through a deleted package",
    );

    // A version id of one package is not found through another.
    store
        .create_package(&first_publish("alice/other", "alice"), at(4))
        .await
        .expect("create");
    assert_eq!(
        store
            .version(&name("alice/other"), v1.id)
            .await
            .expect("get"),
        None
    );
}

// -------------------------------------------------- repositories and access

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
    assert!(store
        .repository_access(&app)
        .await
        .expect("access")
        .users
        .is_empty());
    assert!(store
        .repository_access(&repo("acme/none"))
        .await
        .expect("access")
        .teams
        .is_empty());
}

/// One lookup gives the owner kind, the caller's membership, the package
/// and the linked repository's collaborators, enough for `authorize`.
pub async fn access_context_gathers_what_authorize_needs(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let acme = login("acme");
    store
        .create_team(&acme, &team("devs"), T0)
        .await
        .expect("team");
    store
        .add_team_member(&acme, &team("devs"), &login("alice"))
        .await
        .expect("join");
    let app = name("acme/app");
    store
        .create_package(&first_publish("acme/app", "bob"), T0)
        .await
        .expect("create");
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

    let context = store
        .access_context(&app, Some(&login("alice")), PackageLookup::Active)
        .await
        .expect("context");
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

    let anonymous = store
        .access_context(&app, None, PackageLookup::Active)
        .await
        .expect("context");
    assert_eq!(anonymous.membership, wharf_auth::Membership::none());
    assert!(anonymous
        .repository_access
        .as_ref()
        .is_some_and(|a| a.users.is_empty()));

    let in_user_namespace = store
        .access_context(
            &name("alice/app"),
            Some(&login("bob")),
            PackageLookup::Active,
        )
        .await
        .expect("context");
    assert_eq!(in_user_namespace.owner, Some(OwnerKind::User));
    assert_eq!(in_user_namespace.membership, wharf_auth::Membership::none());
    assert!(in_user_namespace.package.is_some());
    assert!(
        in_user_namespace.repository_access.is_none(),
        "no linked repository"
    );

    let first_push = store
        .access_context(
            &name("acme/new"),
            Some(&login("alice")),
            PackageLookup::Active,
        )
        .await
        .expect("context");
    assert!(first_push.package.is_none());
    assert_eq!(first_push.membership.role, Some(OrgRole::Member));
}

/// A name in a namespace nobody owns has a context without owner, and no
/// state to authorize against.
pub async fn access_context_of_an_unknown_namespace_has_no_owner(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let context = store
        .access_context(
            &name("nobody/app"),
            Some(&login("alice")),
            PackageLookup::Active,
        )
        .await
        .expect("context");
    assert_eq!(context.owner, None);
    assert!(context.package.is_none());
    assert!(context.state().is_none());
}

/// Concurrent first publishes of one name create exactly one package.
pub async fn concurrent_first_publishes_create_one_package(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_package(&first_publish("acme/race", "bob"), T0)
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            Ok(_) => created += 1,
            Err(Error::AlreadyExists { .. }) => {}
            Err(e) => panic!("a concurrent first publish failed: {e}"),
        }
    }
    assert_eq!(created, 1);
}

/// Concurrent pushes of different digests with the same tag keep the count
/// exact and leave the tag on exactly one version.
pub async fn concurrent_pushes_keep_counts_and_tags_consistent(fixture: Arc<dyn Fixture>) {
    let store = fixture.store().await;
    seed(store.as_ref()).await;
    let app = name("alice/app");
    let pushes: Vec<_> = (0..10)
        .map(|n| {
            let (store, app) = (store.clone(), app.clone());
            tokio::spawn(async move {
                store
                    .record_version(&app, &manifest(n).with_tag(tag("latest")), T0)
                    .await
            })
        })
        .collect();
    for push in pushes {
        push.await.expect("task").expect("push");
    }
    assert_eq!(version_count(store.as_ref(), &app).await, 10);
    let versions = store
        .list_versions(&app, VersionQuery::active(), &PageRequest::first(100))
        .await
        .expect("list");
    let tagged = versions
        .items
        .iter()
        .filter(|v| v.tags.contains(&tag("latest")))
        .count();
    assert_eq!(tagged, 1);
}
