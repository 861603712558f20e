//! Retention policies: a package's own and an organization's default, and
//! the packages a policy is in force for.

#[allow(unused_imports)]
use super::*;

use crate::{RetentionPolicy, TagPattern};

fn pattern(s: &str) -> TagPattern {
    s.parse().expect("valid tag pattern in the testkit")
}

/// A package's own policy and an organization's default are read back as
/// set, replaced, and removed, each apart from the other; unknown packages
/// and organizations (or a user named as one) are refused.
pub async fn retention_policies_round_trip(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let (app, acme) = (name("alice/app"), login("acme"));
    let policy = RetentionPolicy {
        keep_latest: Some(3),
        delete_untagged_after_days: Some(7),
        protected_tags: vec![pattern("v*"), pattern("latest")],
    };
    let replaced = RetentionPolicy {
        keep_latest: Some(1),
        ..RetentionPolicy::default()
    };
    let read = || async {
        let own = store.retention_policy(&app).await.expect("read");
        let default = store
            .organization_retention_policy(&acme)
            .await
            .expect("read the default");
        (own, default)
    };
    assert_eq!(read().await, (None, None), "none at first");
    for (own, default) in [
        (Some(&policy), None),
        (Some(&replaced), Some(&policy)),
        (None, Some(&replaced)),
        (None, None),
    ] {
        store.set_retention_policy(&app, own).await.expect("set");
        store
            .set_organization_retention_policy(&acme, default)
            .await
            .expect("set the default");
        assert_eq!(
            read().await,
            (own.cloned(), default.cloned()),
            "after setting {own:?} and {default:?}"
        );
    }

    let (unknown, user, nobody) = (name("alice/nothing"), login("alice"), login("nobody"));
    let refused = [
        (
            store.set_retention_policy(&unknown, Some(&policy)).await,
            "a policy on an unknown package",
        ),
        (
            store.retention_policy(&unknown).await.map(drop),
            "the policy of an unknown package",
        ),
        (
            store
                .set_organization_retention_policy(&user, Some(&policy))
                .await,
            "a user is no organization",
        ),
        (
            store.organization_retention_policy(&nobody).await.map(drop),
            "an unknown organization",
        ),
    ];
    for (result, context) in refused {
        expect_error(Expected::NotFound, result, context);
    }
}

/// The packages a policy is in force for: those with their own, and the
/// packages of an organization with a default that have none of their own;
/// never a deleted package, nor a new package of a deleted one's name.
pub async fn retained_packages_follow_their_own_policy_or_their_organizations(
    fixture: Arc<dyn Fixture>,
) {
    let store = seeded(&fixture).await;
    let own = RetentionPolicy {
        keep_latest: Some(2),
        ..RetentionPolicy::default()
    };
    let default = RetentionPolicy {
        delete_untagged_after_days: Some(30),
        ..RetentionPolicy::default()
    };
    let nothing = RetentionPolicy::default();
    for package in ["acme/a", "acme/b", "acme/c"] {
        publish(&store, package, "bob", T0).await;
    }
    publish(&store, "carol/x", "carol", T0).await;
    let listed = |store: Arc<dyn PackageStore>| async move {
        all_pages(2, |page| {
            let store = store.clone();
            async move { store.retained_packages(&page).await }
        })
        .await
        .into_iter()
        .map(|p| (p.name.to_string(), p.policy, p.inherited))
        .collect::<Vec<_>>()
    };
    assert!(listed(store.clone()).await.is_empty());

    store
        .set_retention_policy(&name("alice/app"), Some(&own))
        .await
        .expect("set");
    store
        .set_retention_policy(&name("acme/b"), Some(&nothing))
        .await
        .expect("set");
    store
        .set_organization_retention_policy(&login("acme"), Some(&default))
        .await
        .expect("set the default");
    assert_eq!(
        listed(store.clone()).await,
        [
            ("alice/app".to_owned(), own.clone(), false),
            ("acme/a".to_owned(), default.clone(), true),
            ("acme/b".to_owned(), nothing.clone(), false),
            ("acme/c".to_owned(), default.clone(), true),
        ],
        "own policies, even one without rules, replace the default"
    );

    store
        .delete_package(&name("alice/app"), at(1))
        .await
        .expect("delete");
    publish(&store, "alice/app", "alice", at(2)).await;
    store
        .delete_package(&name("acme/a"), at(1))
        .await
        .expect("delete");
    assert_eq!(
        listed(store.clone())
            .await
            .into_iter()
            .map(|(n, ..)| n)
            .collect::<Vec<_>>(),
        ["acme/b", "acme/c"],
        "deleted packages are not retained, and a new package of the name starts without"
    );
    assert_eq!(
        store
            .retention_policy(&name("alice/app"))
            .await
            .expect("read"),
        None
    );
    let x = name("carol/x");
    store
        .set_retention_policy(&x, Some(&own))
        .await
        .expect("set");
    store.delete_package(&x, at(3)).await.expect("delete");
    store.restore_package(&x, at(4)).await.expect("restore");
    assert_eq!(
        store.retention_policy(&x).await.expect("read"),
        Some(own),
        "a restored package has its policy back"
    );
}
