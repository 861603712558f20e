//! Tags moved while the manifest they are moved to is deleted.

use std::sync::Arc;

use wharf_reference::{Digest, RepositoryName, Tag};

use crate::prelude::*;
use crate::testkit::{everything, put_manifest, repo, tag, Fixture};
use crate::{Error, PageRequest};

/// How many times the race is run, each time with a new manifest.
const ROUNDS: usize = 24;
/// The tags pointed at each round's manifest at once.
const TAGS: usize = 4;
/// How many times each tag is set per round, at most.
const ATTEMPTS: usize = 8;

/// `set_tag` racing `delete_manifest` on the same digest never leaves a
/// tag pointing at a deleted manifest: every tag is either moved before
/// the delete (and deleted with the manifest) or refused with
/// `ManifestNotFound` after it. Afterwards every listed tag resolves to a
/// manifest that `get_manifest` returns, and the delete returned exactly
/// the tags that had been moved onto the manifest.
pub async fn tags_set_while_their_manifest_is_deleted_never_dangle(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/race");
    let tags: Vec<Tag> = (0..TAGS).map(|i| tag(&format!("t{i}"))).collect();
    // A manifest that stays, so that every tag has somewhere to be.
    let keeper = put_manifest(&*s, &r, 0).await;
    for t in &tags {
        s.set_tag(&r, t, &keeper).await.expect("tag the keeper");
    }
    for round in 1..=ROUNDS {
        let doomed = put_manifest(&*s, &r, round).await;
        let mut setters = Vec::new();
        for t in &tags {
            let (s, r, t, doomed) = (Arc::clone(&s), r.clone(), t.clone(), doomed.clone());
            setters.push(tokio::spawn(async move {
                set_until_refused(&*s, &r, &t, &doomed).await
            }));
        }
        let deleter = {
            let (s, r, doomed) = (Arc::clone(&s), r.clone(), doomed.clone());
            tokio::spawn(async move {
                // Let the setters start, so the delete lands among them.
                tokio::task::yield_now().await;
                s.delete_manifest(&r, &doomed).await
            })
        };
        // Each tag is only ever moved onto the doomed manifest in this
        // round, so the tags moved at least once are exactly those the
        // delete found on it.
        let mut moved = Vec::new();
        for (t, setter) in tags.iter().zip(setters) {
            if setter.await.expect("setter task") {
                moved.push(t.clone());
            }
        }
        let deleted = deleter.await.expect("deleter task").expect("delete");
        assert_no_dangling_tag(&*s, &r, round).await;
        assert_eq!(
            deleted, moved,
            "round {round}: delete_manifest returns the tags it deleted, in order"
        );
        assert_err!(
            s.set_tag(&r, &tags[0], &doomed).await,
            Error::ManifestNotFound { .. }
        );
    }
}

/// Sets `t` to `target` until the target is gone (or a few times);
/// whether it was set at least once.
async fn set_until_refused(s: &dyn Storage, r: &RepositoryName, t: &Tag, target: &Digest) -> bool {
    let mut set = false;
    for _ in 0..ATTEMPTS {
        match s.set_tag(r, t, target).await {
            Ok(()) => set = true,
            Err(Error::ManifestNotFound { .. }) => break,
            Err(e) => panic!("set_tag {t} failed: {e}"),
        }
        tokio::task::yield_now().await;
    }
    set
}

/// Every listed tag resolves to a manifest that is stored.
async fn assert_no_dangling_tag(s: &dyn Storage, r: &RepositoryName, round: usize) {
    for t in everything(s.list_tags(r, &PageRequest::all()).await) {
        let target = match s.resolve_tag(r, &t).await {
            Ok(target) => target,
            Err(e) => panic!("round {round}: listed tag {t} does not resolve: {e}"),
        };
        if let Err(e) = s.get_manifest(r, &target).await {
            panic!("round {round}: tag {t} points at {target}, which is gone: {e}");
        }
    }
}
