//! Deleting and restoring packages, the restore window, and purging what outlived it.

#[allow(unused_imports)]
use super::*;

/// A deleted package disappears from lookups by name and active listings,
/// shows in deleted listings, and comes back whole when restored.
pub async fn deleted_packages_are_hidden_and_restorable(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    store
        .set_grant(&app, &grantee("user:bob"), Role::Write, T0)
        .await
        .expect("grant");
    push(&store, &app, &manifest(1).with_tag(tag("latest")), T0).await;
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
    let active = first_packages(&store, "alice", PackageQuery::active()).await;
    assert!(active.items.is_empty());
    let gone = first_packages(&store, "alice", PackageQuery::deleted()).await;
    assert_eq!(gone.items, std::slice::from_ref(&deleted));
    let context = store
        .access_context(&app, Some(&login("alice")), PackageLookup::LatestDeleted)
        .await
        .expect("context");
    assert_eq!(context.package, Some(deleted));
    assert_eq!(
        active_context(&store, &app, Some(&login("alice")))
            .await
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
    let version = tagged_version(&store, &app, &tag("latest"))
        .await
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
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    let old = store.delete_package(&app, at(10)).await.expect("delete");
    let new = publish(&store, "alice/app", "alice", at(20)).await;
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
    let deleted = first_packages(&store, "alice", PackageQuery::deleted()).await;
    assert_eq!(
        deleted.items.iter().map(|p| p.id).collect::<Vec<_>>(),
        [old.id]
    );
}

/// Deleted packages and versions are restorable for thirty days, not one
/// second more.
pub async fn restore_window_is_thirty_days(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
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

    publish(&store, "alice/tool", "alice", T0).await;
    let tool = name("alice/tool");
    let version = push(&store, &tool, &manifest(1), T0).await;
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
    let store = seeded(&fixture).await;
    let window = RESTORE_WINDOW.as_secs();
    for package in ["alice/old", "alice/recent", "alice/live"] {
        publish(&store, package, "alice", T0).await;
        push(&store, &name(package), &manifest(1), T0).await;
    }
    let old_version = push(&store, &name("alice/live"), &manifest(2), T0).await;
    let recent_version = push(&store, &name("alice/live"), &manifest(3), T0).await;
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

    let early = purge_all(&store, at(window - 1)).await;
    assert!(
        early.is_empty() && !early.more,
        "nothing is purged within the window: {early:?}"
    );

    let report = purge_all(&store, at(window)).await;
    assert!(!report.more, "one call within its limit purges everything");
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
        version_of(&store, &name("alice/live"), old_version.id).await,
        None
    );
    assert!(version_of(&store, &name("alice/live"), recent_version.id)
        .await
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
    assert!(purge_all(&store, at(window)).await.is_empty());
}

/// The purge tells which manifests nothing references any more under their
/// name, leaving out those a newer package of the same name still holds.
pub async fn purge_reports_manifests_no_longer_referenced(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    push(&store, &app, &manifest(1), T0).await;
    push(&store, &app, &manifest(2), T0).await;
    store.delete_package(&app, at(1)).await.expect("delete");
    publish(&store, "alice/app", "alice", at(2)).await;
    push(&store, &app, &manifest(2), at(2)).await;

    let report = purge_all(&store, at(1 + RESTORE_WINDOW.as_secs())).await;
    assert_eq!(report.packages.len(), 1);
    assert_eq!(report.versions.len(), 2);
    assert_eq!(report.unreferenced, [(app.clone(), digest(1))]);
}

/// A purge of more than its limit removes at most the limit per call,
/// says more remain until none does, and over its calls removes and
/// reports every expired package and version exactly once, each package
/// after its versions.
pub async fn purge_in_batches_loses_nothing(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let window = RESTORE_WINDOW.as_secs();
    let app = name("alice/app");
    let mut expired_packages = BTreeSet::new();
    let mut expired_versions = BTreeSet::new();
    for (n, package) in ["alice/a", "alice/b", "alice/c"].into_iter().enumerate() {
        publish(&store, package, "alice", T0).await;
        for m in 0..3 {
            let version = push(&store, &name(package), &manifest(10 * n as u32 + m), T0).await;
            expired_versions.insert(version.id);
        }
        let deleted = store
            .delete_package(&name(package), at(0))
            .await
            .expect("delete");
        expired_packages.insert(deleted.id);
    }
    for n in 100..104 {
        let version = push(&store, &app, &manifest(n), T0).await;
        store
            .delete_version(&app, version.id, at(0))
            .await
            .expect("delete");
        expired_versions.insert(version.id);
    }
    let kept = push(&store, &app, &manifest(200), T0).await;

    let limit = 5;
    let (mut calls, mut total) = (0, PurgeReport::default());
    loop {
        let report = store.purge_expired(at(window), limit).await.expect("purge");
        calls += 1;
        assert!(
            report.packages.len() + report.versions.len() <= limit,
            "call {calls} purged more than its limit: {report:?}"
        );
        assert!(!report.is_empty(), "call {calls} purged nothing");
        for package in &report.packages {
            let versions_gone = total
                .versions
                .iter()
                .chain(&report.versions)
                .filter(|v| v.package_id == package.id)
                .count();
            assert_eq!(
                versions_gone, 3,
                "package {} went before its versions",
                package.name
            );
        }
        let more = report.more;
        total.merge(report);
        if !more {
            break;
        }
        assert!(calls < 10, "the purge does not end");
    }
    assert!(calls >= 4, "16 records at 5 a call take at least 4 calls");
    assert!(!total.more);
    let packages: BTreeSet<_> = total.packages.iter().map(|p| p.id).collect();
    let versions: BTreeSet<_> = total.versions.iter().map(|v| v.id).collect();
    assert_eq!(packages, expired_packages);
    assert_eq!(total.packages.len(), packages.len(), "no package twice");
    assert_eq!(versions, expired_versions);
    assert_eq!(total.versions.len(), versions.len(), "no version twice");
    assert_eq!(
        total.unreferenced.len(),
        versions.len(),
        "every purged manifest is reported unreferenced once"
    );
    for package in &expired_packages {
        assert_eq!(store.package_by_id(*package).await.expect("by id"), None);
    }
    assert!(total
        .versions
        .iter()
        .all(|v| v.package_expired == packages.contains(&v.package_id)));
    assert_eq!(store.version(&app, kept.id).await.expect("get"), Some(kept));
    assert_eq!(version_count(&store, &app).await, 1);
    let after = store
        .purge_expired(at(window), limit)
        .await
        .expect("purge again");
    assert!(after.is_empty() && !after.more);
}

/// A store given a shorter restore window uses it throughout: it says so,
/// restores until the window's last second and refuses after, and its
/// purge removes what the window has passed for, and nothing younger.
pub async fn a_shorter_restore_window_refuses_restores_and_purges_after_it(
    fixture: Arc<dyn Fixture>,
) {
    let window = DAY;
    let Some(store) = fixture.with_restore_window(window).await else {
        return;
    };
    assert_eq!(store.restore_window(), window);
    seed(&store).await;
    let w = window.as_secs();
    let app = name("alice/app");
    let old = push(&store, &app, &manifest(1), T0).await;
    let recent = push(&store, &app, &manifest(2), T0).await;
    push(&store, &app, &manifest(3), T0).await;
    store
        .delete_version(&app, old.id, at(0))
        .await
        .expect("delete");
    store
        .delete_version(&app, recent.id, at(10))
        .await
        .expect("delete");

    store
        .restore_version(&app, old.id, at(w - 1))
        .await
        .expect("restore on the window's last second");
    store
        .delete_version(&app, old.id, at(w))
        .await
        .expect("delete again");
    match store.restore_version(&app, recent.id, at(10 + w)).await {
        Err(Error::RestoreWindowPassed { deleted_at, .. }) => assert_eq!(deleted_at, at(10)),
        other => panic!("restoring after the window: expected RestoreWindowPassed, got {other:?}"),
    }

    publish(&store, "alice/tool", "alice", T0).await;
    let tool = name("alice/tool");
    store.delete_package(&tool, at(20)).await.expect("delete");
    match store.restore_package(&tool, at(20 + w)).await {
        Err(Error::RestoreWindowPassed { .. }) => {}
        other => panic!(
            "restoring a package after the window: expected RestoreWindowPassed, got {other:?}"
        ),
    }

    let early = purge_all(&store, at(10 + w - 1)).await;
    assert!(
        early.is_empty(),
        "only what the window has passed for goes: {early:?}"
    );
    let report = purge_all(&store, at(20 + w)).await;
    assert_eq!(
        report.versions.iter().map(|v| v.id).collect::<Vec<_>>(),
        [recent.id],
        "the version deleted at 10 goes, the one deleted again at the window does not yet"
    );
    assert_eq!(
        report
            .packages
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>(),
        [tool]
    );
    assert!(!report.more);
    let later = purge_all(&store, at(2 * w)).await;
    assert_eq!(
        later.versions.iter().map(|v| v.id).collect::<Vec<_>>(),
        [old.id]
    );
}
