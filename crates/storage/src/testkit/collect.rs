//! The cases of garbage collection (see [the protocol](crate::collect)):
//! link times and the removal of links unused since a cutoff, link counts,
//! condemned blobs and their verdicts, and the races between a collection
//! and new references to the blobs it collects.
//!
//! The races are played as sequences: what a collector does, step by
//! step, with a reference taken concurrently at the step where it hurts.
//! A backend may take a condemned blob back at once (a filesystem rename)
//! or wait for the verdict (an object store), so a reference is always
//! taken in a task of its own while the collector goes on, and only the
//! outcome is checked: never a link to a blob that is gone.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

#[allow(unused_imports)]
use super::*;
use crate::ArchiveKey;

/// Long enough between a cutoff and what is compared with it that a
/// backend keeping times to the second still orders them.
const CLOCK_STEP: Duration = Duration::from_millis(1100);

/// How long a reference taken in a task of its own is given to reach the
/// backend before the collector's next step.
const HEAD_START: Duration = Duration::from_millis(50);

async fn clock_step() {
    tokio::time::sleep(CLOCK_STEP).await;
}

/// `SystemTime::now()`, one clock step after the last thing done and one
/// before the next.
async fn cutoff_between() -> SystemTime {
    clock_step().await;
    let cutoff = SystemTime::now();
    clock_step().await;
    cutoff
}

fn key(name: &str) -> ArchiveKey {
    name.parse().expect("valid archive key in the testkit")
}

/// Every live blob's entry, in one page.
async fn entries(storage: &dyn Storage) -> Vec<crate::BlobEntry> {
    everything(storage.list_blob_entries(&PageRequest::all()).await)
}

/// The digests of every live blob's entry.
async fn entry_digests(storage: &dyn Storage) -> Vec<Digest> {
    entries(storage)
        .await
        .into_iter()
        .map(|e| e.digest)
        .collect()
}

/// Every condemned blob, in one page.
async fn condemned(storage: &dyn Storage) -> Vec<Digest> {
    everything(storage.condemned_blobs(&PageRequest::all()).await)
}

/// Removes `repository`'s link to `digest` if it was not made or used
/// since `cutoff`; whether it went.
async fn unlink_if_unused(
    storage: &dyn Storage,
    repository: &RepositoryName,
    digest: &Digest,
    cutoff: SystemTime,
) -> bool {
    storage
        .unlink_blob_unused_since(repository, digest, cutoff)
        .await
        .expect("unlink if unused")
}

async fn counts(storage: &dyn Storage, digests: &[Digest]) -> HashMap<Digest, u64> {
    storage.link_counts(digests).await.expect("link counts")
}

/// `digests`, sorted as listings order them (by their string form).
fn sorted(mut digests: Vec<Digest>) -> Vec<Digest> {
    digests.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    digests
}

/// A link goes only if it was neither made nor confirmed (by
/// `confirm_link`, or by linking again) at or after the cutoff; a link
/// gone is neither confirmed nor removed again, and the blob stays
/// stored. Each repository's link is its own.
pub async fn links_unused_since_the_cutoff_are_removed(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let (a, b) = (repo("octo/a"), repo("octo/b"));
    let content = b"a layer with a link in time";
    let unknown = Digest::sha256(b"never stored");

    let before = SystemTime::now();
    clock_step().await;
    let digest = upload(&*s, &a, content, 7).await;
    s.link_blob(&b, &digest).await.expect("mount into b");
    assert!(
        !unlink_if_unused(&*s, &a, &digest, before).await,
        "a link made after the cutoff is kept"
    );
    assert!(s.is_blob_linked(&a, &digest).await.expect("linked"));

    let made = cutoff_between().await;
    assert!(s.confirm_link(&a, &digest).await.expect("confirm"));
    assert!(
        !unlink_if_unused(&*s, &a, &digest, made).await,
        "a link confirmed after the cutoff is kept"
    );
    assert!(s.is_blob_linked(&a, &digest).await.expect("linked"));

    let confirmed = cutoff_between().await;
    assert!(
        unlink_if_unused(&*s, &a, &digest, confirmed).await,
        "a link unused since the cutoff goes"
    );
    assert!(!s.is_blob_linked(&a, &digest).await.expect("linked"));
    assert!(
        !everything(s.linked_blobs(&a, &PageRequest::all()).await).contains(&digest),
        "a removed link is not listed"
    );
    assert!(
        !s.confirm_link(&a, &digest).await.expect("confirm"),
        "a removed link cannot be confirmed"
    );
    assert!(
        !unlink_if_unused(&*s, &a, &digest, SystemTime::now()).await,
        "a removed link is not removed twice"
    );
    assert!(
        s.is_blob_linked(&b, &digest).await.expect("linked"),
        "another repository's link to the blob stays"
    );
    assert_eq!(
        s.blob_size(&digest).await.expect("still stored"),
        content.len() as u64
    );

    // Linked again: made now. Linked once more later: used now.
    s.link_blob(&a, &digest).await.expect("link again");
    assert!(!unlink_if_unused(&*s, &a, &digest, confirmed).await);
    let relinked = cutoff_between().await;
    s.link_blob(&a, &digest).await.expect("link once more");
    assert!(
        !unlink_if_unused(&*s, &a, &digest, relinked).await,
        "linking an existing link again counts as using it"
    );
    assert!(s.is_blob_linked(&a, &digest).await.expect("linked"));

    for (r, d) in [(&a, &unknown), (&repo("octo/none"), &digest)] {
        assert!(!s.confirm_link(r, d).await.expect("confirm"), "{r} {d}");
        assert!(
            !unlink_if_unused(&*s, r, d, SystemTime::now()).await,
            "{r} {d}"
        );
    }
}

/// A manifest push confirms links while a collection removes them as
/// unused since a cutoff they are older than: for each link exactly one
/// wins. A confirmed link stays; a removed one was not confirmed.
pub async fn a_confirm_racing_a_removal_has_one_winner(fixture: Arc<dyn Fixture>) {
    const LINKS: usize = 24;
    let s = fixture.storage().await;
    let digest = put_unlinked(&*s, b"a layer pushed and collected at once").await;
    let repositories: Vec<RepositoryName> =
        (0..LINKS).map(|i| repo(&format!("octo/race{i}"))).collect();
    for r in &repositories {
        s.link_blob(r, &digest).await.expect("link");
    }
    let cutoff = cutoff_between().await;
    let mut races = Vec::new();
    for r in &repositories {
        let confirm = {
            let (s, r, d) = (Arc::clone(&s), r.clone(), digest.clone());
            tokio::spawn(async move { s.confirm_link(&r, &d).await })
        };
        let remove = {
            let (s, r, d) = (Arc::clone(&s), r.clone(), digest.clone());
            tokio::spawn(async move { s.unlink_blob_unused_since(&r, &d, cutoff).await })
        };
        races.push((r, confirm, remove));
    }
    for (r, confirm, remove) in races {
        let confirmed = confirm.await.expect("task").expect("confirm");
        let removed = remove.await.expect("task").expect("remove");
        let linked = s.is_blob_linked(r, &digest).await.expect("linked");
        assert!(
            confirmed != removed,
            "{r}: confirmed {confirmed}, removed {removed}"
        );
        assert_eq!(linked, confirmed, "{r}: a confirmed link stays");
    }
}

/// `link_counts` counts the repositories that link each blob, live and
/// archived alike, and leaves out the blobs nobody links.
pub async fn link_counts_count_live_and_archived_repositories(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let (a, b, c) = (repo("octo/a"), repo("octo/b"), repo("octo/nested/c"));
    let shared = upload(&*s, &a, b"shared layer", 5).await;
    s.link_blob(&b, &shared).await.expect("mount into b");
    let own = upload(&*s, &c, b"c's own layer", 5).await;
    let loose = put_unlinked(&*s, b"nobody's layer").await;
    let never = Digest::sha256(b"never stored");
    let all = [shared.clone(), own.clone(), loose.clone(), never.clone()];

    let expected = HashMap::from([(shared.clone(), 2), (own.clone(), 1)]);
    assert_eq!(counts(&*s, &all).await, expected);
    assert!(counts(&*s, &[]).await.is_empty());

    s.archive_repository(&b, &key("gc-b"))
        .await
        .expect("archive b");
    assert_eq!(
        counts(&*s, &all).await,
        expected,
        "an archived repository's links count"
    );

    s.unlink_blob(&a, &shared).await.expect("unlink");
    assert_eq!(
        counts(&*s, &all).await,
        HashMap::from([(shared.clone(), 1), (own.clone(), 1)])
    );
    s.delete_archive(&key("gc-b"))
        .await
        .expect("delete archive");
    assert_eq!(
        counts(&*s, &all).await,
        HashMap::from([(own.clone(), 1)]),
        "a deleted archive's links do not count"
    );
}

/// A condemned blob is not listed among the live ones, and is listed as
/// condemned until its verdict: pardoned, it is back whole; executed, it
/// is gone. A verdict on a blob that is not condemned does nothing, and
/// executing it answers false.
pub async fn condemned_blobs_wait_for_their_verdict(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let started = SystemTime::now();
    let contents: [&[u8]; 3] = [b"first blob", b"second, longer blob", b"3"];
    let mut digests = Vec::new();
    for content in contents {
        digests.push(put_unlinked(&*s, content).await);
    }
    let sizes: HashMap<Digest, u64> = digests
        .iter()
        .cloned()
        .zip(contents.iter().map(|c| c.len() as u64))
        .collect();
    let all = sorted(digests.clone());
    let [x, y, z] = [&digests[0], &digests[1], &digests[2]];

    let listed = entries(&*s).await;
    assert_eq!(
        listed.iter().map(|e| e.digest.clone()).collect::<Vec<_>>(),
        all,
        "entries in digest order"
    );
    let slack = Duration::from_secs(60);
    for entry in &listed {
        assert_eq!(entry.size, sizes[&entry.digest], "{}", entry.digest);
        assert!(
            entry.modified + slack >= started && entry.modified <= SystemTime::now() + slack,
            "{} was stored at {:?}, not around now",
            entry.digest,
            entry.modified
        );
    }
    let first = s
        .list_blob_entries(&PageRequest::first(2))
        .await
        .expect("first page");
    assert_eq!(
        first.items.iter().map(|e| &e.digest).collect::<Vec<_>>(),
        all[..2].iter().collect::<Vec<_>>()
    );
    let last = first.next_last.expect("more follow").digest.to_string();
    let rest = s
        .list_blob_entries(&PageRequest::after(last, Some(2)))
        .await
        .expect("second page");
    assert_eq!(
        rest.items.into_iter().map(|e| e.digest).collect::<Vec<_>>(),
        all[2..].to_vec()
    );
    assert!(rest.next_last.is_none());

    assert!(condemned(&*s).await.is_empty());
    assert!(s.condemn_blob(x).await.expect("condemn"));
    assert!(
        s.condemn_blob(x).await.expect("condemn again"),
        "still condemned"
    );
    assert!(
        !s.condemn_blob(&Digest::sha256(b"never stored"))
            .await
            .expect("condemn"),
        "a blob not stored is not condemned"
    );
    assert_eq!(condemned(&*s).await, vec![x.clone()]);
    assert_eq!(entry_digests(&*s).await, sorted(vec![y.clone(), z.clone()]));

    s.pardon_blob(x).await.expect("pardon");
    assert!(condemned(&*s).await.is_empty());
    assert_eq!(entry_digests(&*s).await, all);
    assert_eq!(read_all(&*s, x, None).await.expect("read"), contents[0]);
    s.pardon_blob(x)
        .await
        .expect("a pardon of a live blob does nothing");
    assert!(
        !s.execute_blob(x).await.expect("execute"),
        "a blob not condemned is not executed"
    );
    assert_eq!(read_all(&*s, x, None).await.expect("read"), contents[0]);

    assert!(s.condemn_blob(x).await.expect("condemn"));
    assert!(s.execute_blob(x).await.expect("execute"));
    assert_err!(s.blob_size(x).await, Error::BlobNotFound(_));
    assert_err!(s.read_blob(x, None).await, Error::BlobNotFound(_));
    assert!(condemned(&*s).await.is_empty());
    assert_eq!(entry_digests(&*s).await, sorted(vec![y.clone(), z.clone()]));
    assert!(!s.execute_blob(x).await.expect("execute again"));
    s.pardon_blob(x)
        .await
        .expect("a pardon of a gone blob does nothing");
    assert_err!(s.blob_size(x).await, Error::BlobNotFound(_));

    for digest in [z, y] {
        assert!(s.condemn_blob(digest).await.expect("condemn"));
    }
    let both = sorted(vec![y.clone(), z.clone()]);
    let first = s
        .condemned_blobs(&PageRequest::first(1))
        .await
        .expect("first page");
    assert_eq!(first.items, both[..1].to_vec());
    let last = first.next_last.expect("more follow").to_string();
    let rest = s
        .condemned_blobs(&PageRequest::after(last, Some(1)))
        .await
        .expect("second page");
    assert_eq!(rest.items, both[1..].to_vec());
    assert!(entries(&*s).await.is_empty());
}

/// A blob is condemned, then another repository links it (a mount) while
/// the collector recounts and gives its verdict: the link either takes
/// the blob back (it is pardoned, or was taken back before the
/// execution) or fails as an unknown blob and leaves no link. Never a
/// link to a blob that is gone.
pub async fn a_link_made_while_a_blob_is_condemned_never_outlives_it(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let content = b"a layer mounted while it is collected".to_vec();
    let digest = put_unlinked(&*s, &content).await;
    let b = repo("octo/b");

    assert!(s.condemn_blob(&digest).await.expect("condemn"));
    let mount = {
        let (s, b, digest) = (Arc::clone(&s), b.clone(), digest.clone());
        tokio::spawn(async move { s.link_blob(&b, &digest).await })
    };
    tokio::time::sleep(HEAD_START).await;
    let recount = counts(&*s, std::slice::from_ref(&digest)).await;
    let pardoned = recount.contains_key(&digest);
    if pardoned {
        s.pardon_blob(&digest).await.expect("pardon");
    } else {
        s.execute_blob(&digest).await.expect("execute");
    }
    let mounted = mount.await.expect("mount task");
    match &mounted {
        Ok(()) => assert!(s.is_blob_linked(&b, &digest).await.expect("linked")),
        Err(Error::BlobNotFound(_)) => assert!(
            !s.is_blob_linked(&b, &digest).await.expect("linked"),
            "a mount that failed leaves no link"
        ),
        Err(e) => panic!("the mount failed otherwise: {e}"),
    }
    if pardoned || s.is_blob_linked(&b, &digest).await.expect("linked") {
        assert_eq!(
            read_all(&*s, &digest, None)
                .await
                .expect("the linked blob reads"),
            content,
            "pardoned: {pardoned}, mounted: {mounted:?}"
        );
    }
    assert!(condemned(&*s).await.is_empty(), "the verdict is final");
}

/// A blob is condemned and its recount finds no link; an upload of the
/// same content into a repository runs while the blob is executed. The
/// upload succeeds and, afterwards, the blob reads back whole and is
/// linked: the upload's own bytes are stored again whatever the verdict.
pub async fn an_upload_while_its_blob_is_executed_stores_it_again(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let content = pattern(300_000, 21);
    let digest = put_unlinked(&*s, &content).await;
    let r = repo("octo/pushed-again");

    assert!(s.condemn_blob(&digest).await.expect("condemn"));
    assert!(
        counts(&*s, std::slice::from_ref(&digest)).await.is_empty(),
        "nothing links the condemned blob"
    );
    let push = {
        let (s, r, content) = (Arc::clone(&s), r.clone(), content.clone());
        tokio::spawn(async move { upload(&*s, &r, &content, 64 * 1024).await })
    };
    tokio::time::sleep(HEAD_START).await;
    s.execute_blob(&digest).await.expect("execute");
    assert_eq!(push.await.expect("upload task"), digest);

    assert!(s.is_blob_linked(&r, &digest).await.expect("linked"));
    assert_eq!(
        s.blob_size(&digest).await.expect("stored"),
        content.len() as u64
    );
    assert!(read_all(&*s, &digest, None).await.expect("read") == content);
    assert!(entry_digests(&*s).await.contains(&digest));
    assert!(condemned(&*s).await.is_empty());
}

/// A collection interrupted after condemning leaves its condemned blobs
/// listed (after a restart too, for a backend that persists), for the
/// next collection to give their verdicts: a pardoned blob reads back
/// whole and is listed again, an executed one is gone.
pub async fn an_interrupted_collection_leaves_condemned_blobs_to_judge(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let kept = b"condemned, then pardoned by the next collection".to_vec();
    let dropped = b"condemned, then executed by the next collection".to_vec();
    let (kept, dropped) = (
        (put_unlinked(&*s, &kept).await, kept),
        (put_unlinked(&*s, &dropped).await, dropped),
    );
    for (digest, _) in [&kept, &dropped] {
        assert!(s.condemn_blob(digest).await.expect("condemn"));
    }
    // The collector stops here.
    let s = fixture.reopen().await.unwrap_or(s);

    assert_eq!(
        condemned(&*s).await,
        sorted(vec![kept.0.clone(), dropped.0.clone()])
    );
    assert!(entries(&*s).await.is_empty());
    s.pardon_blob(&kept.0).await.expect("pardon");
    assert!(s.execute_blob(&dropped.0).await.expect("execute"));

    assert_eq!(read_all(&*s, &kept.0, None).await.expect("read"), kept.1);
    assert_eq!(entry_digests(&*s).await, vec![kept.0.clone()]);
    assert_err!(s.blob_size(&dropped.0).await, Error::BlobNotFound(_));
    assert!(condemned(&*s).await.is_empty());
}
