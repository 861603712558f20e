//! Shared setup: user octocat with a package or a token.

#![allow(dead_code)] // each test file uses a different subset

use wharf_auth::{Identity, Login, Package, PersonalAccessToken, StoredToken, Timestamp};
use wharf_packages::prelude::*;
use wharf_packages::{
    AccessContext, NewVersion, PackageLookup, PackageRecord, TokenRecord, VersionRecord,
};
use wharf_reference::RepositoryName;

/// The tests' "now".
pub const NOW: Timestamp = Timestamp::from_unix_seconds(1_700_000_000);

/// Creates user `user` and its first package, `package`.
pub async fn user_with_package(
    store: &dyn PackageStore,
    user: &str,
    package: &str,
) -> PackageRecord {
    let login: Login = user.parse().expect("login");
    store.create_user(&login, NOW).await.expect("create user");
    store
        .create_package(
            &Package::first_publish(package.parse().expect("name"), &Identity::User(login)),
            NOW,
        )
        .await
        .expect("create package")
}

/// Creates user `octocat` and its first package, `octocat/app`.
pub async fn octocat_with_app(store: &dyn PackageStore) -> PackageRecord {
    user_with_package(store, "octocat", "octocat/app").await
}

/// Creates user `octocat` and a `read:packages` token of theirs: the
/// secret, and the stored record.
pub async fn octocat_with_a_token(store: &dyn PackageStore) -> (PersonalAccessToken, TokenRecord) {
    let octocat = "octocat".parse().expect("login");
    store.create_user(&octocat, NOW).await.expect("create user");
    let secret = PersonalAccessToken::generate().expect("token");
    let stored = StoredToken::new(
        &secret,
        octocat,
        "read:packages".parse().expect("scopes"),
        None,
    );
    let record = store
        .insert_personal_token(&stored, NOW)
        .await
        .expect("store the token");
    (secret, record)
}

/// The access context of the live package `name` for an anonymous caller.
pub async fn anonymous_context(store: &dyn PackageStore, name: &RepositoryName) -> AccessContext {
    store
        .access_context(name, None, PackageLookup::Active)
        .await
        .expect("access context")
}

/// Pushes `version` to the package `name` and deletes it again: the
/// version, as pushed.
pub async fn pushed_and_deleted(
    store: &dyn PackageStore,
    name: &RepositoryName,
    version: &NewVersion,
) -> VersionRecord {
    let pushed = store
        .record_version(name, version, NOW)
        .await
        .expect("push");
    store
        .delete_version(name, pushed.id, NOW)
        .await
        .expect("delete the version");
    pushed
}
