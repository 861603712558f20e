//! Versions and their tags: pushing, tagging, listing, deleting and restoring.

#[allow(unused_imports)]
use super::*;

/// Pushing a digest again updates its version instead of adding one.
pub async fn versions_upsert_by_digest(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    let index = NewVersion::new(digest(1), MediaType::OCI_IMAGE_INDEX, 500)
        .with_platform("linux/arm64/v8")
        .with_platform("linux/amd64")
        .with_platform("linux/amd64");
    let first = push(&store, &app, &index, at(1)).await;
    assert_eq!(first.digest, digest(1));
    assert_eq!(first.media_type, MediaType::OCI_IMAGE_INDEX);
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

    let again = push(&store, &app, &index.clone().with_tag(tag("v1")), at(5)).await;
    assert_eq!(again.id, first.id);
    assert_eq!(again.created_at, at(1));
    assert_eq!(again.updated_at, at(5));
    assert_eq!(again.tags, [tag("v1")]);
    let package = store.package(&app).await.expect("get").expect("exists");
    assert_eq!(package.version_count, 1);
    assert_eq!(package.updated_at, at(5), "a push updates the package");
    assert_eq!(
        version_with_digest(&store, &app, &digest(1)).await,
        Some(again.clone())
    );
    assert_eq!(
        store.version(&app, again.id).await.expect("get"),
        Some(again)
    );
    assert_eq!(version_with_digest(&store, &app, &digest(9)).await, None);
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
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    let v1 = push(&store, &app, &tagged(1, &["latest", "1.0", "1"]), at(1)).await;
    assert_eq!(
        v1.tags,
        tags(&["1", "1.0", "latest"]),
        "tags in lexical order"
    );
    let v2 = push(&store, &app, &tagged(2, &["latest", "1", "1.1"]), at(2)).await;
    assert_eq!(v2.tags, tags(&["1", "1.1", "latest"]));
    let v1 = version_of(&store, &app, v1.id).await.expect("exists");
    assert_eq!(v1.tags, tags(&["1.0"]), "moved tags leave the old version");
    assert_eq!(v1.updated_at, at(2), "losing a tag updates the version");
    let latest = tagged_version(&store, &app, &tag("latest"))
        .await
        .expect("tagged");
    assert_eq!(latest.id, v2.id);
    assert_eq!(tagged_version(&store, &app, &tag("nope")).await, None);

    // Tagging a version with a tag it has changes nothing else.
    let same = push(&store, &app, &manifest(2).with_tag(tag("latest")), at(3)).await;
    assert_eq!(same.tags, tags(&["1", "1.1", "latest"]));
    assert_eq!(version_count(&store, &app).await, 2);
}

/// Removing a tag keeps the version it pointed at.
pub async fn removing_a_tag_leaves_the_version(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    let v1 = push(&store, &app, &tagged(1, &["latest", "1.0"]), at(1)).await;
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
    let bare = version_of(&store, &app, v1.id)
        .await
        .expect("the version stays");
    assert!(bare.tags.is_empty());
    assert_eq!(version_count(&store, &app).await, 1);
}

/// Versions are listed newest first, a page at a time, live or deleted.
pub async fn versions_list_newest_first_across_pages(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
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
    expect_listing_refusals(
        ["alice/none", "alice/app"],
        "x",
        move |package, page| async move {
            store_ref
                .list_versions(&name(package), VersionQuery::active(), &page)
                .await
        },
    )
    .await;
}

/// A deleted version leaves the count and tag lookups, and comes back with
/// the tags that did not move meanwhile.
pub async fn deleted_versions_are_restorable_with_their_tags(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    let v1 = push(&store, &app, &tagged(1, &["latest", "1.0"]), at(1)).await;
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
    assert_eq!(version_count(&store, &app).await, 0);
    assert_eq!(tagged_version(&store, &app, &tag("latest")).await, None);
    expect_error(
        Expected::NotFound,
        store.delete_version(&app, v1.id, at(3)).await,
        "deleting a version twice",
    );

    push(&store, &app, &manifest(2).with_tag(tag("latest")), at(4)).await;
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
    assert_eq!(version_count(&store, &app).await, 2);
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
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    let v1 = push(&store, &app, &manifest(1), at(1)).await;
    store
        .delete_version(&app, v1.id, at(2))
        .await
        .expect("delete");
    let again = push(&store, &app, &manifest(1).with_tag(tag("back")), at(3)).await;
    assert_eq!(again.id, v1.id);
    assert_eq!(again.deleted_at, None);
    assert_eq!(again.tags, tags(&["back"]));
    assert_eq!(version_count(&store, &app).await, 1);
}

/// Versions are reached through the live package only.
pub async fn versions_of_a_deleted_package_are_not_addressable(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let app = name("alice/app");
    let v1 = push(&store, &app, &manifest(1).with_tag(tag("latest")), at(1)).await;
    store.delete_package(&app, at(2)).await.expect("delete");
    assert_eq!(store.version(&app, v1.id).await.expect("get"), None);
    assert_eq!(version_with_digest(&store, &app, &digest(1)).await, None);
    assert_eq!(tagged_version(&store, &app, &tag("latest")).await, None);
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
    publish(&store, "alice/other", "alice", at(4)).await;
    assert_eq!(version_of(&store, &name("alice/other"), v1.id).await, None);
}
