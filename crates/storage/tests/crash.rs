//! A process killed (SIGKILL) while committing a large blob leaves the blob
//! either absent or complete and verified, and its upload resumable or
//! cleanly restartable.
//!
//! The test binary re-invokes itself as the child: `crash_child` does the
//! work when `WHARF_CRASH_ROOT` is set and nothing otherwise.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{stream, StreamExt, TryStreamExt};
use wharf_reference::{Digest, Digester, RepositoryName};
use wharf_storage::testkit::{noise, stamp, stored_blobs};
use wharf_storage::{BlobStore, Error, FsStorage, RepositoryStore, UploadId, UploadStore};

const SIZE: u64 = 256 << 20;
const CHUNK: usize = 1 << 20;
const REPO: &str = "crash/test";
const PREFIX: &str = "crash-child: ";

/// The blob's 1 MiB chunk starting at `offset` (a multiple of 1 MiB): a
/// fixed pseudo-random block stamped with its offset, so any chunk is cheap
/// to regenerate and no two chunks are equal.
fn chunk_at(offset: u64, len: usize) -> Bytes {
    static BLOCK: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let block = BLOCK.get_or_init(|| noise(CHUNK));
    stamp(&block[..len], offset)
}

/// The blob's bytes from `from` to the end, in 1 MiB chunks.
fn body_from(from: u64, report: bool) -> wharf_storage::ChunkStream {
    let offsets = (from..SIZE).step_by(CHUNK);
    stream::iter(offsets)
        .map(move |offset| {
            if report && offset % (16 << 20) == 0 {
                println!("{PREFIX}offset {offset}");
            }
            let len = (SIZE - offset).min(CHUNK as u64) as usize;
            Ok(chunk_at(offset, len))
        })
        .boxed()
}

fn expected_digest() -> Digest {
    let mut d = Digester::sha256();
    let mut offset = 0;
    while offset < SIZE {
        let len = (SIZE - offset).min(CHUNK as u64) as usize;
        d.update(&chunk_at(offset, len));
        offset += len as u64;
    }
    d.finish()
}

/// The child's side: upload the whole blob through a session and finish it,
/// narrating progress on stdout.
#[test]
fn crash_child() {
    let Ok(root) = std::env::var("WHARF_CRASH_ROOT") else {
        return;
    };
    let digest: Digest = std::env::var("WHARF_CRASH_DIGEST")
        .expect("digest")
        .parse()
        .expect("valid digest");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let storage = FsStorage::open(&root).expect("open");
        let repo: RepositoryName = REPO.parse().expect("name");
        let session = storage.start_upload(&repo).await.expect("start");
        println!("{PREFIX}upload {}", session.id);
        storage
            .append_upload(&repo, &session.id, 0, body_from(0, true))
            .await
            .expect("append");
        println!("{PREFIX}finishing");
        storage
            .finish_upload(&repo, &session.id, &digest)
            .await
            .expect("finish");
        println!("{PREFIX}done");
    });
}

fn spawn_child(root: &Path, digest: &Digest) -> Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env("WHARF_CRASH_ROOT", root)
        .env("WHARF_CRASH_DIGEST", digest.as_str())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child")
}

/// Reads the child's narration until `stop` says to kill it; kills it with
/// SIGKILL. Returns the upload id it announced.
fn kill_when(child: &mut Child, mut stop: impl FnMut(&str) -> bool) -> Option<UploadId> {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut id = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("child output");
        // libtest may print `test crash_child ... ` on the same line.
        let Some(event) = line.find(PREFIX).map(|at| &line[at + PREFIX.len()..]) else {
            continue;
        };
        if let Some(announced) = event.strip_prefix("upload ") {
            id = Some(announced.parse().expect("upload id"));
        }
        if stop(event) {
            break;
        }
    }
    // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no cleanup.
    let _ = child.kill();
    let _ = child.wait();
    id
}

/// After a restart: the blob is absent or complete and verified; the upload
/// resumes from its reported offset (or restarts when the session is gone),
/// and ends with the blob stored, verified and linked.
async fn recover(root: &Path, id: Option<UploadId>, digest: &Digest) -> &'static str {
    let storage = Arc::new(FsStorage::open(root).expect("reopen"));
    let repo: RepositoryName = REPO.parse().expect("name");

    let committed = match storage.blob_size(digest).await {
        Ok(size) => {
            assert_eq!(size, SIZE, "a visible blob is complete");
            assert_eq!(&hash_blob(&storage, digest).await, digest, "and verified");
            true
        }
        Err(Error::BlobNotFound(_)) => false,
        Err(e) => panic!("unexpected error: {e}"),
    };
    let blobs = stored_blobs(&*storage).await;
    assert!(
        blobs.is_empty() || blobs == [digest.clone()],
        "nothing else is visible: {blobs:?}"
    );

    let status = match id {
        Some(id) => storage.upload_status(&repo, &id).await,
        None => Err(Error::UploadNotFound {
            repository: repo.clone(),
            id: UploadId::random(),
        }),
    };
    let outcome = match status {
        Ok(status) => {
            assert!(status.offset <= SIZE);
            let id = status.id;
            storage
                .append_upload(&repo, &id, status.offset, body_from(status.offset, false))
                .await
                .expect("resume");
            storage
                .finish_upload(&repo, &id, digest)
                .await
                .expect("finish resumed");
            if committed {
                "committed; session resumed"
            } else {
                "absent; session resumed"
            }
        }
        Err(Error::UploadNotFound { .. }) => {
            let session = storage.start_upload(&repo).await.expect("restart");
            storage
                .append_upload(&repo, &session.id, 0, body_from(0, false))
                .await
                .expect("upload again");
            storage
                .finish_upload(&repo, &session.id, digest)
                .await
                .expect("finish restarted");
            if committed {
                "committed; session gone, restarted"
            } else {
                "absent; session gone, restarted"
            }
        }
        Err(e) => panic!("unexpected error: {e}"),
    };
    assert_eq!(storage.blob_size(digest).await.expect("stored"), SIZE);
    assert!(storage.is_blob_linked(&repo, digest).await.expect("linked"));
    assert_eq!(stored_blobs(&*storage).await, vec![digest.clone()]);
    // Whatever temporary files the crash left are swept by the purge.
    storage
        .purge_expired_uploads(Duration::ZERO)
        .await
        .expect("purge");
    assert_eq!(std::fs::read_dir(root.join("tmp")).expect("tmp").count(), 0);
    outcome
}

async fn hash_blob(storage: &FsStorage, digest: &Digest) -> Digest {
    let content = storage.read_blob(digest, None).await.expect("read");
    let mut d = Digester::sha256();
    let mut chunks = content.stream;
    while let Some(chunk) = chunks.try_next().await.expect("chunk") {
        d.update(&chunk);
    }
    d.finish()
}

/// Decides, from the child's narration, when to kill it.
type KillPoint = Box<dyn FnMut(&str) -> bool>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_commit_leaves_blob_absent_or_complete_and_upload_recoverable() {
    let started = Instant::now();
    let digest = expected_digest();
    eprintln!("digest computed in {:?}", started.elapsed());
    // Kill points: while chunks stream in, and at several moments of the
    // finish (fsync of 256 MiB, rename, link, session removal). Which state
    // each one catches depends on the disk; every state must recover.
    let after_finishing = |delay_ms: u64| -> KillPoint {
        Box::new(move |event: &str| {
            let finishing = event == "finishing";
            if finishing {
                std::thread::sleep(Duration::from_millis(delay_ms));
            }
            finishing
        })
    };
    let scenarios: Vec<(&str, KillPoint)> = vec![
        (
            "mid-append at 96 MiB",
            Box::new(|e: &str| e == "offset 100663296"),
        ),
        ("as finish starts", after_finishing(0)),
        ("40 ms into finish", after_finishing(40)),
        ("120 ms into finish", after_finishing(120)),
        ("400 ms into finish", after_finishing(400)),
    ];
    for (when, stop) in scenarios {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = Instant::now();
        let mut child = spawn_child(dir.path(), &digest);
        let id = kill_when(&mut child, stop);
        let killed = t.elapsed();
        let outcome = recover(dir.path(), id, &digest).await;
        eprintln!(
            "killed {when} after {killed:?}: {outcome}; recovered in {:?}",
            t.elapsed() - killed
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}
