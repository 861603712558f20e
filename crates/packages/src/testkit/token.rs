//! The cases of [`TokenStore`]: personal access and
//! workflow tokens, revocation, expiry, use.

#[allow(unused_imports)]
use super::*;

/// A personal access token is stored by hash and found by it; the record
/// authenticates the secret it was made from.
pub async fn personal_tokens_are_found_by_hash(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let (secret, mut stored) = stored_token("alice", "read:packages, write:packages");
    stored.note = "CI pushes".to_owned();
    let record = insert_token(&store, &stored, at(3)).await;
    assert_eq!(record.personal(), Some(&stored));
    assert_eq!(record.created_at, at(3));
    assert_eq!(record.last_used_at, None);
    assert_eq!(record.revoked_at, None);

    let found = store
        .find_token(&secret.hash())
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(found, record);
    let principal = found
        .authenticate(secret.expose_secret(), at(4))
        .expect("authenticates");
    assert_eq!(principal.login(), Some(&login("alice")));
    assert_eq!(
        store.token(record.id).await.expect("by id"),
        Some(record.clone())
    );

    assert_eq!(
        store
            .find_token(&TokenHash::of("wharf_pat_other"))
            .await
            .expect("find"),
        None
    );
    let (_, for_org) = stored_token("acme", "read:packages");
    let (_, for_nobody) = stored_token("nobody", "read:packages");
    for (token, expected, context) in [
        (&stored, Expected::AlreadyExists, "the same hash twice"),
        (
            &for_org,
            Expected::NotFound,
            "a token owned by an organization",
        ),
        (
            &for_nobody,
            Expected::NotFound,
            "a token of an unknown user",
        ),
    ] {
        expect_error(
            expected,
            store.insert_personal_token(token, T0).await,
            context,
        );
    }
}

/// Revoking is permanent, keeps the first revocation time, and makes the
/// token fail authentication.
pub async fn token_revocation_keeps_the_first_time(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let (secret, stored) = stored_token("alice", "read:packages");
    let record = insert_token(&store, &stored, T0).await;
    // Looked up once, so a cache in front would hold it.
    assert_eq!(token_revoked(&*store, &secret).await, Some(false));

    let revoked = store.revoke_token(record.id, at(10)).await.expect("revoke");
    assert_eq!(revoked.revoked_at, Some(at(10)));
    assert!(revoked.credential.is_revoked());
    let again = store
        .revoke_token(record.id, at(20))
        .await
        .expect("revoke again");
    assert_eq!(
        again.revoked_at,
        Some(at(10)),
        "the first revocation time stays"
    );

    expect_revoked(&*store, &secret, at(30)).await;
    expect_error(
        Expected::NotFound,
        store.revoke_token(crate::TokenId::new(987_654), T0).await,
        "an unknown token",
    );
}

/// A token's expiry is stored and enforced by its record.
pub async fn token_expiry_is_kept_and_enforced(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let (secret, mut stored) = stored_token("bob", "read:packages");
    stored.expires_at = Some(T0.saturating_add(30 * DAY));
    insert_token(&store, &stored, T0).await;
    let found = store
        .find_token(&secret.hash())
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(
        found.personal().and_then(|t| t.expires_at),
        stored.expires_at
    );
    assert!(found
        .authenticate(secret.expose_secret(), T0.saturating_add(29 * DAY))
        .is_ok());
    assert!(matches!(
        found.authenticate(secret.expose_secret(), T0.saturating_add(30 * DAY)),
        Err(wharf_auth::Error::TokenExpired { .. })
    ));
}

/// A user's tokens are listed oldest first, revoked ones included, and
/// nobody else's.
pub async fn tokens_list_per_owner_oldest_first(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let mut ids = Vec::new();
    for (i, scopes) in [
        "read:packages",
        "write:packages",
        "delete:packages read:packages",
    ]
    .iter()
    .enumerate()
    {
        let (_, stored) = stored_token("alice", scopes);
        let seconds = u64::try_from(i).expect("small index");
        ids.push(insert_token(&store, &stored, at(seconds)).await.id);
    }
    let (_, bobs) = stored_token("bob", "read:packages");
    insert_token(&store, &bobs, T0).await;
    store.revoke_token(ids[1], at(50)).await.expect("revoke");

    let listed = store.personal_tokens(&login("alice")).await.expect("list");
    assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), ids);
    assert_eq!(listed[1].revoked_at, Some(at(50)));
    assert_eq!(
        listed[2].personal().map(|t| t.scopes.to_string()),
        Some("read:packages, delete:packages".to_owned())
    );
    assert!(store
        .personal_tokens(&login("carol"))
        .await
        .expect("list")
        .is_empty());
    expect_error(
        Expected::NotFound,
        store.personal_tokens(&login("nobody")).await,
        "tokens of an unknown user",
    );
}

/// A workflow token authenticates as the workflow of its repository.
pub async fn workflow_tokens_authenticate_as_their_repository(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let secret = PersonalAccessToken::generate().expect("generate");
    let token = WorkflowToken::new(
        secret.hash(),
        repo("acme/app"),
        WorkflowPermission::Write,
        None,
    );
    let record = store
        .insert_workflow_token(&token, T0)
        .await
        .expect("insert");
    assert_eq!(record.workflow(), Some(&token));
    assert_eq!(record.personal(), None);

    let found = store
        .find_token(&secret.hash())
        .await
        .expect("find")
        .expect("stored");
    let principal = found
        .authenticate(secret.expose_secret(), at(1))
        .expect("authenticates");
    assert_eq!(
        principal,
        Principal::Workflow {
            repository: repo("acme/app"),
            packages: WorkflowPermission::Write,
        }
    );
    let listed = store
        .workflow_tokens(&repo("acme/app"))
        .await
        .expect("list");
    assert_eq!(listed, std::slice::from_ref(&record));
    assert!(store
        .workflow_tokens(&repo("acme/other"))
        .await
        .expect("list")
        .is_empty());
    store.revoke_token(record.id, at(2)).await.expect("revoke");
    expect_revoked(&*store, &secret, at(3)).await;
    expect_error(
        Expected::AlreadyExists,
        store.insert_workflow_token(&token, T0).await,
        "the same hash twice",
    );
}

/// `last_used_at` follows use to within the granularity, and never goes
/// backwards.
pub async fn token_use_is_recorded_coarsely(fixture: Arc<dyn Fixture>) {
    let store = seeded(&fixture).await;
    let (_, stored) = stored_token("alice", "read:packages");
    let id = insert_token(&store, &stored, T0).await.id;
    let granularity = LAST_USED_GRANULARITY.as_secs();

    let last_used = |store: Arc<dyn PackageStore>| async move {
        store
            .token(id)
            .await
            .expect("get")
            .expect("stored")
            .last_used_at
    };
    // (when used, the last use recorded after it, what it shows)
    for (used, recorded, context) in [
        (100, 100, "the first use is written"),
        (101, 100, "a use within the granularity is not written"),
        (
            100 + granularity,
            100 + granularity,
            "a later use is written",
        ),
        (50, 100 + granularity, "never backwards"),
    ] {
        store
            .record_token_use(id, at(used))
            .await
            .unwrap_or_else(|e| panic!("a use at {used}: {e:?}"));
        assert_eq!(
            last_used(store.clone()).await,
            Some(at(recorded)),
            "{context}"
        );
    }
    expect_error(
        Expected::NotFound,
        store
            .record_token_use(crate::TokenId::new(987_654), T0)
            .await,
        "an unknown token",
    );
}

// ---------------------------------------------------------------- packages
