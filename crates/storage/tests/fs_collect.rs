//! Garbage collection on the filesystem backend, where the collector may
//! be another process: two `FsStorage` values over one root stand for the
//! server and a `minimal-registry gc`, and each race is run many times.

use std::fs::{self, FileTimes};
use std::path::Path;
use std::time::{Duration, SystemTime};

use wharf_reference::Digest;
use wharf_storage::prelude::*;
use wharf_storage::testkit::{everything, put_unlinked};
use wharf_storage::{Error, FsStorage, PageRequest};

mod servers;

use servers::repo;

const ROUNDS: usize = 100;

fn link_path(root: &Path, repository: &str, digest: &Digest) -> std::path::PathBuf {
    root.join("repositories")
        .join(repository)
        .join("_links/sha256")
        .join(digest.encoded())
}

/// Two instances over one root, as two processes would have.
fn two(root: &Path) -> (FsStorage, FsStorage) {
    (
        FsStorage::open(root).expect("open the server's"),
        FsStorage::open(root).expect("open the collector's"),
    )
}

/// A manifest push confirms a link while a collector in another process
/// removes it as unused: exactly one wins. A confirmed link stays; a
/// removed one was not confirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_confirm_racing_a_removal_has_one_winner() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, collector) = two(dir.path());
    let digest = put_unlinked(&server, b"layer").await;
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let cutoff = SystemTime::now() - Duration::from_secs(1800);
    let (mut confirmed, mut removed) = (0, 0);
    for round in 0..ROUNDS {
        let r = repo(&format!("octo/app{round}"));
        server.link_blob(&r, &digest).await.expect("link");
        // Made an hour ago: older than the cutoff unless confirmed.
        let path = link_path(dir.path(), r.as_ref(), &digest);
        fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_times(FileTimes::new().set_modified(hour_ago)))
            .expect("age the link");
        let confirm = {
            let (s, r, d) = (server.clone(), r.clone(), digest.clone());
            tokio::spawn(async move { s.confirm_link(&r, &d).await })
        };
        let remove = {
            let (s, r, d) = (collector.clone(), r.clone(), digest.clone());
            tokio::spawn(async move { s.unlink_blob_unused_since(&r, &d, cutoff).await })
        };
        let confirm = confirm.await.expect("task").expect("confirm");
        let remove = remove.await.expect("task").expect("remove");
        let linked = server.is_blob_linked(&r, &digest).await.expect("linked");
        assert!(
            confirm != remove,
            "round {round}: confirmed {confirm}, removed {remove}"
        );
        assert_eq!(linked, confirm, "round {round}: a confirmed link stays");
        confirmed += usize::from(confirm);
        removed += usize::from(remove);
    }
    eprintln!("{confirmed} confirmed first, {removed} removed first");
}

/// A mount takes a condemned blob back while a collector in another
/// process executes it: exactly one wins, and a link is left only to a
/// blob that is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_mount_racing_an_execution_has_one_winner() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, collector) = two(dir.path());
    let (mut mounted, mut executed) = (0, 0);
    for round in 0..ROUNDS {
        let content = format!("layer {round}");
        let digest = put_unlinked(&server, content.as_bytes()).await;
        assert!(collector.condemn_blob(&digest).await.expect("condemn"));
        let r = repo("octo/mounts");
        let mount = {
            let (s, r, d) = (server.clone(), r.clone(), digest.clone());
            tokio::spawn(async move { s.link_blob(&r, &d).await })
        };
        let execute = {
            let (s, d) = (collector.clone(), digest.clone());
            tokio::spawn(async move { s.execute_blob(&d).await })
        };
        let mount = mount.await.expect("task");
        let execute = execute.await.expect("task").expect("execute");
        let linked = server.is_blob_linked(&r, &digest).await.expect("linked");
        let stored = server.blob_size(&digest).await;
        match mount {
            Ok(()) => {
                assert!(!execute, "round {round}: taken back, not executed");
                assert!(linked, "round {round}");
                assert_eq!(stored.expect("stored") as usize, content.len());
            }
            Err(Error::BlobNotFound(_)) => {
                assert!(execute, "round {round}: executed, so not taken back");
                assert!(!linked, "round {round}: the failed mount's link went");
                assert!(matches!(stored, Err(Error::BlobNotFound(_))));
            }
            Err(e) => panic!("round {round}: {e}"),
        }
        mounted += usize::from(!execute);
        executed += usize::from(execute);
        assert!(everything(collector.condemned_blobs(&PageRequest::all()).await).is_empty());
    }
    eprintln!("{mounted} taken back, {executed} executed");
}

/// Condemned blobs live under `blobs/.condemned/<algorithm>/<encoded>`,
/// out of every listing of live blobs; a link to a blob that is neither
/// stored nor condemned makes nothing, not even the repository.
#[tokio::test]
async fn condemned_blobs_are_renamed_out_of_the_listings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = FsStorage::open(dir.path()).expect("open");
    let kept = put_unlinked(&storage, b"kept").await;
    let condemned = put_unlinked(&storage, b"condemned").await;
    assert!(storage.condemn_blob(&condemned).await.expect("condemn"));
    let hex = condemned.encoded();
    assert!(dir
        .path()
        .join("blobs/.condemned/sha256")
        .join(hex)
        .is_file());
    assert!(!dir
        .path()
        .join("blobs/sha256")
        .join(&hex[..2])
        .join(hex)
        .exists());
    let storage = FsStorage::open(dir.path()).expect("reopen");
    let all = PageRequest::all();
    assert_eq!(
        everything(storage.list_blobs(&all).await),
        vec![kept.clone()]
    );
    let entries = everything(storage.list_blob_entries(&all).await);
    assert_eq!(
        entries.into_iter().map(|e| e.digest).collect::<Vec<_>>(),
        [kept]
    );
    assert_eq!(
        everything(storage.condemned_blobs(&all).await),
        vec![condemned.clone()]
    );

    let r = repo("octo/nothing");
    assert!(matches!(
        storage
            .link_blob(&r, &Digest::sha256(b"never stored"))
            .await,
        Err(Error::BlobNotFound(_))
    ));
    assert!(!dir.path().join("repositories/octo/nothing").exists());
    assert!(everything(storage.list_repositories(&all).await).is_empty());

    // `claim_blob` takes a condemned blob back too.
    assert_eq!(storage.claim_blob(&condemned).await.expect("claim"), 9);
    assert!(everything(storage.condemned_blobs(&all).await).is_empty());
}
