//! Concurrent first publishes and pushes.

#[allow(unused_imports)]
use super::*;

/// Concurrent first publishes of one name create exactly one package.
pub async fn concurrent_first_publishes_create_one_package(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
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
    let store = seeded(&fixture).await;
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
    assert_eq!(version_count(&store, &app).await, 10);
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
