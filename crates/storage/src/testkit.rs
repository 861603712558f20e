//! The conformance suite every implementation of [`Storage`] must pass,
//! ours and a downstream user's, unchanged.
//!
//! Implement [`Fixture`] for your backend (a fresh, empty storage per case,
//! and optionally the same storage reopened as after a restart), then either
//! generate one `#[tokio::test]` per case:
//!
//! ```ignore
//! wharf_storage::conformance_tests!(|| wharf_storage::testkit::MemoryFixture::default());
//! ```
//!
//! or run them all in one test with [`run_all`]. The generated tests use
//! tokio's multi-threaded runtime, so the crate running them needs `tokio`
//! with the `macros` and `rt-multi-thread` features.
//!
//! Each case is a plain `async fn` in this module, named for the behaviour
//! it checks, so a failure names the rule that broke.

use std::collections::BTreeSet;
use std::io;
#[cfg(feature = "fs")]
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{stream, StreamExt, TryStreamExt};
use wharf_reference::{Digest, RepositoryName, Tag};

#[cfg(feature = "fs")]
use crate::FsStorage;
use crate::{
    ByteRange, ChunkStream, Error, ManifestPut, MemoryStorage, PageRequest, Storage, UploadId,
};

mod archive;

pub use archive::{
    archives_are_listed_and_deleted_by_key, archives_survive_reopen,
    archiving_hides_everything_of_the_repository, restoring_brings_the_content_back,
    restoring_onto_content_is_refused,
};

/// A backend under test.
#[async_trait]
pub trait Fixture: Send + Sync + 'static {
    /// The storage under test; empty when the fixture is new. Calling it
    /// again returns the same storage.
    async fn storage(&self) -> Arc<dyn Storage>;

    /// The same storage as a new instance, as after a process restart, for
    /// backends that persist. `None` (the default) skips the restart cases.
    async fn reopen(&self) -> Option<Arc<dyn Storage>> {
        None
    }
}

/// A [`MemoryStorage`] fixture.
#[derive(Debug, Default)]
pub struct MemoryFixture {
    storage: Arc<MemoryStorage>,
}

#[async_trait]
impl Fixture for MemoryFixture {
    async fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }
}

#[cfg(feature = "fs")]
/// An [`FsStorage`] fixture in a fresh temporary directory, removed on drop.
#[derive(Debug)]
pub struct FsFixture {
    root: PathBuf,
    storage: FsStorage,
}

#[cfg(feature = "fs")]
impl FsFixture {
    /// Opens storage in a new directory under the system's temporary
    /// directory.
    pub fn new() -> Self {
        let root = std::env::temp_dir().join(format!("wharf-storage-{}", UploadId::random()));
        let storage =
            FsStorage::open(&root).expect("open filesystem storage in a temporary directory");
        FsFixture { root, storage }
    }

    /// The storage root.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(feature = "fs")]
impl Default for FsFixture {
    fn default() -> Self {
        FsFixture::new()
    }
}

#[cfg(feature = "fs")]
impl Drop for FsFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[cfg(feature = "fs")]
#[async_trait]
impl Fixture for FsFixture {
    async fn storage(&self) -> Arc<dyn Storage> {
        Arc::new(self.storage.clone())
    }

    async fn reopen(&self) -> Option<Arc<dyn Storage>> {
        Some(Arc::new(
            FsStorage::open(&self.root).expect("reopen filesystem storage"),
        ))
    }
}

/// One conformance case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The behaviour it checks, as a test name.
    pub name: &'static str,
    /// Runs it; panics on failure.
    pub run: fn(Arc<dyn Fixture>) -> BoxFuture<'static, ()>,
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        /// Every case, in a stable order.
        pub const CASES: &[Case] = &[
            $(Case { name: stringify!($name), run: |f| Box::pin($name(f)) },)*
        ];

        /// Generates one `#[tokio::test]` per conformance case, each with a
        /// fresh fixture from `$make` (an expression that evaluates to a
        /// closure returning a [`Fixture`](crate::testkit::Fixture)).
        #[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
        #[macro_export]
        macro_rules! conformance_tests {
            ($make:expr) => {
                $(
                    #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        let fixture = ($make)();
                        $crate::testkit::$name(::std::sync::Arc::new(fixture)).await;
                    }
                )*
            };
        }
    };
}

cases![
    upload_round_trip_reads_back_the_same_bytes,
    put_blob_round_trip_and_delete,
    ranges_select_the_right_bytes,
    ranges_past_the_end_are_not_satisfiable,
    empty_blob_round_trips,
    digest_mismatch_leaves_nothing_behind,
    chunk_at_wrong_offset_reports_current_offset,
    interrupted_body_keeps_received_bytes_and_resumes,
    dropped_append_leaves_a_resumable_session,
    sha512_digests_verify,
    unsupported_algorithm_is_rejected_and_session_kept,
    sessions_are_found_only_through_their_repository,
    cancelled_session_is_gone,
    abandoned_sessions_expire,
    session_resumes_after_reopen,
    metadata_survives_reopen,
    concurrent_commits_of_one_digest_keep_one_copy,
    concurrent_tag_moves_leave_one_written_value,
    links_isolate_repositories_until_mounted,
    manifests_round_trip_with_their_media_type,
    invalid_manifests_are_rejected,
    tags_move_resolve_and_delete,
    deleting_a_manifest_deletes_its_tags,
    tag_pagination_edge_cases,
    catalog_lists_repositories_in_lexical_pages,
    referrers_are_indexed_and_filtered_by_artifact_type,
    archiving_hides_everything_of_the_repository,
    restoring_brings_the_content_back,
    restoring_onto_content_is_refused,
    archives_are_listed_and_deleted_by_key,
    archives_survive_reopen,
];

/// Runs every case against fresh fixtures from `make`, panicking with the
/// name of the first case that fails.
pub async fn run_all<F: Fixture>(make: impl Fn() -> F) {
    for case in CASES {
        let fixture: Arc<dyn Fixture> = Arc::new(make());
        let run = tokio::spawn((case.run)(fixture));
        if let Err(e) = run.await {
            panic!("conformance case `{}` failed: {e}", case.name);
        }
    }
}

// ---------------------------------------------------------------- helpers

fn repo(name: &str) -> RepositoryName {
    name.parse().expect("valid repository name in the testkit")
}

fn tag(name: &str) -> Tag {
    name.parse().expect("valid tag in the testkit")
}

/// A body yielding `chunks` in order.
pub fn body<I, B>(chunks: I) -> ChunkStream
where
    I: IntoIterator<Item = B>,
    B: Into<Bytes>,
{
    let chunks: Vec<io::Result<Bytes>> = chunks.into_iter().map(|c| Ok(c.into())).collect();
    stream::iter(chunks).boxed()
}

/// A body yielding `chunks` and then failing, as a disconnecting client's.
pub fn failing_body<I, B>(chunks: I) -> ChunkStream
where
    I: IntoIterator<Item = B>,
    B: Into<Bytes>,
{
    let mut items: Vec<io::Result<Bytes>> = chunks.into_iter().map(|c| Ok(c.into())).collect();
    items.push(Err(io::Error::new(
        io::ErrorKind::ConnectionReset,
        "client went away",
    )));
    stream::iter(items).boxed()
}

/// `len` bytes of a deterministic, non-repeating-looking pattern.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u64).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

/// Reads a blob (or part of it) into memory.
pub async fn read_all(
    storage: &dyn Storage,
    digest: &Digest,
    range: Option<ByteRange>,
) -> Result<Vec<u8>, Error> {
    let content = storage.read_blob(digest, range).await?;
    let expected_len = content.range.end - content.range.start;
    let chunks: Vec<Bytes> = content.stream.try_collect().await?;
    let bytes = chunks.concat();
    assert_eq!(
        bytes.len() as u64,
        expected_len,
        "the stream yields exactly the announced range"
    );
    Ok(bytes)
}

/// Uploads `content` in `chunk`-sized pieces through one session and
/// finishes it.
pub async fn upload(
    storage: &dyn Storage,
    repository: &RepositoryName,
    content: &[u8],
    chunk: usize,
) -> Digest {
    let digest = Digest::sha256(content);
    let session = storage
        .start_upload(repository)
        .await
        .expect("start upload");
    let pieces: Vec<Vec<u8>> = content.chunks(chunk.max(1)).map(<[u8]>::to_vec).collect();
    let status = storage
        .append_upload(repository, &session.id, 0, body(pieces))
        .await
        .expect("append");
    assert_eq!(status.offset, content.len() as u64);
    let size = storage
        .finish_upload(repository, &session.id, &digest)
        .await
        .expect("finish upload");
    assert_eq!(size, content.len() as u64);
    digest
}

/// Sends the rest of `content` from `offset` to an upload session and
/// finishes it, which must verify as `content` (`finished` says why).
async fn resume_and_finish(
    storage: &dyn Storage,
    repository: &RepositoryName,
    session: &UploadId,
    content: &[u8],
    offset: u64,
    finished: &str,
) {
    storage
        .append_upload(
            repository,
            session,
            offset,
            body([content[offset as usize..].to_vec()]),
        )
        .await
        .expect("resume");
    storage
        .finish_upload(repository, session, &Digest::sha256(content))
        .await
        .expect(finished);
}

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn manifest_bytes(n: usize) -> Vec<u8> {
    format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","n":{n}}}"#).into_bytes()
}

async fn put_manifest(storage: &dyn Storage, repository: &RepositoryName, n: usize) -> Digest {
    let bytes = manifest_bytes(n);
    let digest = Digest::sha256(&bytes);
    storage
        .put_manifest(
            repository,
            ManifestPut::new(digest.clone(), OCI_MANIFEST, bytes),
        )
        .await
        .expect("put manifest");
    digest
}

fn ids(referrers: &[crate::Referrer]) -> Vec<Digest> {
    referrers.iter().map(|r| r.digest.clone()).collect()
}

// ---------------------------------------------------------------- cases

/// Chunks appended in several calls are read back byte for byte, and the
/// finished blob is linked to the session's repository.
pub async fn upload_round_trip_reads_back_the_same_bytes(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let content = pattern(3 * 1024 * 1024 + 17, 1);
    let digest = Digest::sha256(&content);
    let session = s.start_upload(&r).await.expect("start");
    assert_eq!(session.offset, 0);
    assert_eq!(session.repository, r);

    let (first, second) = content.split_at(1_500_000);
    let st = s
        .append_upload(
            &r,
            &session.id,
            0,
            body(first.chunks(65_536).map(<[u8]>::to_vec)),
        )
        .await
        .expect("first append");
    assert_eq!(st.offset, first.len() as u64);
    let st = s
        .append_upload(&r, &session.id, st.offset, body([second.to_vec()]))
        .await
        .expect("second append");
    assert_eq!(st.offset, content.len() as u64);
    let status = s.upload_status(&r, &session.id).await.expect("status");
    assert_eq!(status.offset, content.len() as u64);
    assert_eq!(status.started, session.started);

    assert!(!s.is_blob_linked(&r, &digest).await.expect("linked?"));
    let size = s
        .finish_upload(&r, &session.id, &digest)
        .await
        .expect("finish");
    assert_eq!(size, content.len() as u64);
    assert_eq!(s.blob_size(&digest).await.expect("stat"), size);
    assert!(s.is_blob_linked(&r, &digest).await.expect("linked?"));
    assert_eq!(read_all(&*s, &digest, None).await.expect("read"), content);
    assert!(
        matches!(
            s.upload_status(&r, &session.id).await,
            Err(Error::UploadNotFound { .. })
        ),
        "a finished session is gone"
    );
}

/// `put_blob` stores verified content in one step; `delete_blob` removes it.
pub async fn put_blob_round_trip_and_delete(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let content = pattern(200_000, 2);
    let digest = Digest::sha256(&content);
    assert!(matches!(
        s.blob_size(&digest).await,
        Err(Error::BlobNotFound(_))
    ));
    let size = s
        .put_blob(&digest, body(content.chunks(7_000).map(<[u8]>::to_vec)))
        .await
        .expect("put");
    assert_eq!(size, content.len() as u64);
    assert_eq!(read_all(&*s, &digest, None).await.expect("read"), content);
    assert_eq!(s.list_blobs().await.expect("list"), vec![digest.clone()]);

    s.delete_blob(&digest).await.expect("delete");
    assert!(matches!(
        s.blob_size(&digest).await,
        Err(Error::BlobNotFound(_))
    ));
    assert!(matches!(
        s.read_blob(&digest, None).await,
        Err(Error::BlobNotFound(_))
    ));
    assert!(matches!(
        s.delete_blob(&digest).await,
        Err(Error::BlobNotFound(_))
    ));
    assert!(s.list_blobs().await.expect("list").is_empty());
}

/// Ranges return exactly the bytes asked for, across internal chunk
/// boundaries.
pub async fn ranges_select_the_right_bytes(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let content = pattern(2 * 1024 * 1024 + 1000, 3);
    let len = content.len() as u64;
    let digest = upload(&*s, &repo("octo/ranges"), &content, 300_000).await;
    let cases: Vec<(&str, ByteRange, std::ops::Range<u64>)> = vec![
        ("first byte", ByteRange::inclusive(0, 0), 0..1),
        (
            "last byte",
            ByteRange::inclusive(len - 1, len - 1),
            len - 1..len,
        ),
        ("suffix of one", ByteRange::Last(1), len - 1..len),
        (
            "across a chunk boundary",
            ByteRange::Within(299_990..300_010),
            299_990..300_010,
        ),
        (
            "across 1 MiB",
            ByteRange::Within(1_048_000..1_049_000),
            1_048_000..1_049_000,
        ),
        ("open-ended", ByteRange::From(len - 5000), len - 5000..len),
        (
            "end clipped",
            ByteRange::inclusive(len - 10, len + 1000),
            len - 10..len,
        ),
        ("suffix longer than blob", ByteRange::Last(len + 1), 0..len),
        ("everything", ByteRange::From(0), 0..len),
    ];
    for (what, range, expected) in cases {
        let content_range = s
            .read_blob(&digest, Some(range.clone()))
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(content_range.range, expected, "{what}");
        assert_eq!(content_range.size, len, "{what}");
        let got = read_all(&*s, &digest, Some(range)).await.expect("read");
        let want = &content[expected.start as usize..expected.end as usize];
        assert!(got == want, "{what}: wrong bytes");
    }
}

/// A range that starts at or past the end, or is empty, is not satisfiable
/// and reports the blob's size.
pub async fn ranges_past_the_end_are_not_satisfiable(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let digest = upload(&*s, &repo("octo/ranges"), b"0123456789", 4).await;
    let cases = [
        ("start at size", ByteRange::From(10)),
        ("start past size", ByteRange::inclusive(11, 20)),
        ("empty range", ByteRange::Within(3..3)),
        (
            "reversed range",
            ByteRange::Within(std::ops::Range { start: 5, end: 2 }),
        ),
        ("empty suffix", ByteRange::Last(0)),
    ];
    for (what, range) in cases {
        match s.read_blob(&digest, Some(range)).await {
            Err(Error::RangeNotSatisfiable { size, .. }) => assert_eq!(size, 10, "{what}"),
            other => panic!("{what}: expected RangeNotSatisfiable, got {other:?}"),
        }
    }
}

/// A zero-byte blob uploads, reads back empty, and has no satisfiable range.
pub async fn empty_blob_round_trips(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/empty");
    let session = s.start_upload(&r).await.expect("start");
    let digest = Digest::sha256(b"");
    assert_eq!(
        s.finish_upload(&r, &session.id, &digest)
            .await
            .expect("finish"),
        0
    );
    assert_eq!(s.blob_size(&digest).await.expect("stat"), 0);
    assert!(read_all(&*s, &digest, None).await.expect("read").is_empty());
    assert!(matches!(
        s.read_blob(&digest, Some(ByteRange::From(0))).await,
        Err(Error::RangeNotSatisfiable { size: 0, .. })
    ));
}

/// Finishing with the wrong digest stores nothing, links nothing, reports
/// both digests and ends the session.
pub async fn digest_mismatch_leaves_nothing_behind(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let claimed = Digest::sha256(b"what the client claimed");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([&b"what was sent"[..]]))
        .await
        .expect("append");
    match s.finish_upload(&r, &session.id, &claimed).await {
        Err(Error::DigestMismatch { expected, actual }) => {
            assert_eq!(expected, claimed);
            assert_eq!(actual, Digest::sha256(b"what was sent"));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert!(s.list_blobs().await.expect("list").is_empty());
    assert!(!s.is_blob_linked(&r, &claimed).await.expect("linked?"));
    assert!(matches!(
        s.upload_status(&r, &session.id).await,
        Err(Error::UploadNotFound { .. })
    ));

    let put = s.put_blob(&claimed, body([&b"not it"[..]])).await;
    assert!(matches!(put, Err(Error::DigestMismatch { .. })), "{put:?}");
    assert!(s.list_blobs().await.expect("list").is_empty());
}

/// A chunk whose offset is not the session's size is refused with the
/// current size, and changes nothing.
pub async fn chunk_at_wrong_offset_reports_current_offset(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([&b"hello"[..]]))
        .await
        .expect("append");
    for requested in [0, 3, 6, 1000] {
        match s
            .append_upload(&r, &session.id, requested, body([&b"XXXX"[..]]))
            .await
        {
            Err(Error::WrongOffset {
                requested: got,
                current,
            }) => {
                assert_eq!((got, current), (requested, 5));
            }
            other => panic!("offset {requested}: expected WrongOffset, got {other:?}"),
        }
    }
    s.append_upload(&r, &session.id, 5, body([&b" world"[..]]))
        .await
        .expect("append at the right offset");
    s.finish_upload(&r, &session.id, &Digest::sha256(b"hello world"))
        .await
        .expect("the refused chunks left no trace");
}

/// A body that fails midway keeps what arrived; the upload resumes from the
/// reported offset and verifies.
pub async fn interrupted_body_keeps_received_bytes_and_resumes(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let content = pattern(3_000_000, 4);
    let session = s.start_upload(&r).await.expect("start");
    let sent = &content[..1_234_567];
    let offset = match s
        .append_upload(
            &r,
            &session.id,
            0,
            failing_body(sent.chunks(100_000).map(<[u8]>::to_vec)),
        )
        .await
    {
        Err(Error::BodyInterrupted { offset, .. }) => offset,
        other => panic!("expected BodyInterrupted, got {other:?}"),
    };
    assert_eq!(offset, sent.len() as u64);
    let status = s.upload_status(&r, &session.id).await.expect("status");
    assert_eq!(status.offset, offset);
    resume_and_finish(&*s, &r, &session.id, &content, offset, "finish").await;
}

/// An append whose request is dropped midway (the server cancelled the
/// handler) leaves a session whose reported offset is a prefix of what was
/// sent, from which the upload resumes and verifies.
pub async fn dropped_append_leaves_a_resumable_session(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let content = pattern(3_000_000, 7);
    let session = s.start_upload(&r).await.expect("start");
    let sent = content[..2_600_000]
        .chunks(200_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)));
    let never_ends = stream::iter(sent.collect::<Vec<io::Result<Bytes>>>())
        .chain(stream::pending())
        .boxed();
    let task = {
        let (s, r, id) = (Arc::clone(&s), r.clone(), session.id);
        tokio::spawn(async move { s.append_upload(&r, &id, 0, never_ends).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    task.abort();
    assert!(
        task.await.is_err(),
        "the append was still waiting for the body"
    );

    let offset = s
        .upload_status(&r, &session.id)
        .await
        .expect("status")
        .offset;
    assert!(
        offset <= 2_600_000,
        "offset {offset} is at most what was sent"
    );
    resume_and_finish(
        &*s,
        &r,
        &session.id,
        &content,
        offset,
        "the kept bytes are exactly a prefix of the content",
    )
    .await;
}

/// Uploads and blobs verify against sha512 digests too.
pub async fn sha512_digests_verify(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let content = pattern(1_200_000, 8);
    let digest = Digest::compute(wharf_reference::Algorithm::Sha512, &content).expect("sha512");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(
        &r,
        &session.id,
        0,
        body(content.chunks(100_000).map(<[u8]>::to_vec)),
    )
    .await
    .expect("append");
    s.finish_upload(&r, &session.id, &digest)
        .await
        .expect("finish");
    assert_eq!(read_all(&*s, &digest, None).await.expect("read"), content);
    assert!(s.is_blob_linked(&r, &digest).await.expect("linked"));

    let other = pattern(1000, 9);
    let other_digest = Digest::compute(wharf_reference::Algorithm::Sha512, &other).expect("sha512");
    s.put_blob(&other_digest, body([other])).await.expect("put");
    assert_eq!(s.blob_size(&other_digest).await.expect("stat"), 1000);
}

/// A digest of an algorithm that cannot be computed is refused before the
/// session is touched.
pub async fn unsupported_algorithm_is_rejected_and_session_kept(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([&b"data"[..]]))
        .await
        .expect("append");
    let odd: Digest = "blake9:0123456789abcdef"
        .parse()
        .expect("well-formed digest");
    assert!(matches!(
        s.finish_upload(&r, &session.id, &odd).await,
        Err(Error::UnsupportedAlgorithm(_))
    ));
    assert!(matches!(
        s.put_blob(&odd, body([&b"data"[..]])).await,
        Err(Error::UnsupportedAlgorithm(_))
    ));
    assert_eq!(
        s.upload_status(&r, &session.id)
            .await
            .expect("status")
            .offset,
        4
    );
    s.finish_upload(&r, &session.id, &Digest::sha256(b"data"))
        .await
        .expect("finish");
}

/// A session id is only valid in the repository that started it.
pub async fn sessions_are_found_only_through_their_repository(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let (a, b) = (repo("octo/a"), repo("octo/b"));
    let session = s.start_upload(&a).await.expect("start");
    let unknown = UploadId::random();
    for (what, r, id) in [
        ("other repository", &b, session.id),
        ("unknown id", &a, unknown),
    ] {
        let not_found = |res: Result<(), Error>| matches!(res, Err(Error::UploadNotFound { .. }));
        assert!(
            not_found(s.upload_status(r, &id).await.map(drop)),
            "{what}: status"
        );
        assert!(
            not_found(
                s.append_upload(r, &id, 0, body([&b"x"[..]]))
                    .await
                    .map(drop)
            ),
            "{what}: append"
        );
        assert!(
            not_found(
                s.finish_upload(r, &id, &Digest::sha256(b""))
                    .await
                    .map(drop)
            ),
            "{what}: finish"
        );
        assert!(not_found(s.cancel_upload(r, &id).await), "{what}: cancel");
    }
    assert_eq!(
        s.upload_status(&a, &session.id)
            .await
            .expect("status")
            .offset,
        0
    );
}

/// Cancelling ends the session.
pub async fn cancelled_session_is_gone(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([&b"abc"[..]]))
        .await
        .expect("append");
    s.cancel_upload(&r, &session.id).await.expect("cancel");
    assert!(matches!(
        s.upload_status(&r, &session.id).await,
        Err(Error::UploadNotFound { .. })
    ));
    assert!(matches!(
        s.append_upload(&r, &session.id, 3, body([&b"d"[..]])).await,
        Err(Error::UploadNotFound { .. })
    ));
    assert!(s.list_blobs().await.expect("list").is_empty());
}

/// Sessions idle for longer than the maximum age are purged; recent ones
/// are kept.
pub async fn abandoned_sessions_expire(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let old = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &old.id, 0, body([&b"abc"[..]]))
        .await
        .expect("append");
    assert_eq!(
        s.purge_expired_uploads(Duration::from_secs(3600))
            .await
            .expect("purge"),
        0
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh = s.start_upload(&r).await.expect("start");
    assert_eq!(
        s.purge_expired_uploads(Duration::from_millis(150))
            .await
            .expect("purge"),
        1
    );
    assert!(matches!(
        s.upload_status(&r, &old.id).await,
        Err(Error::UploadNotFound { .. })
    ));
    s.upload_status(&r, &fresh.id)
        .await
        .expect("fresh session kept");
}

/// A persistent backend resumes a session after a restart from the offset
/// it reports, and verifies the whole content at the end.
pub async fn session_resumes_after_reopen(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let content = pattern(2_500_000, 5);
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([content[..1_000_000].to_vec()]))
        .await
        .expect("append");
    let Some(s) = fixture.reopen().await else {
        return;
    };
    let status = s
        .upload_status(&r, &session.id)
        .await
        .expect("status after reopen");
    assert_eq!(status.offset, 1_000_000);
    assert_eq!(status.started, session.started);
    s.append_upload(
        &r,
        &session.id,
        1_000_000,
        body([content[1_000_000..].to_vec()]),
    )
    .await
    .expect("append after reopen");
    s.finish_upload(&r, &session.id, &Digest::sha256(&content))
        .await
        .expect("finish after reopen");
    assert_eq!(
        read_all(&*s, &Digest::sha256(&content), None)
            .await
            .expect("read"),
        content
    );
}

/// Links, manifests, tags and referrers of a persistent backend survive a
/// restart.
pub async fn metadata_survives_reopen(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let blob = upload(&*s, &r, b"layer", 5).await;
    let m = put_manifest(&*s, &r, 1).await;
    s.set_tag(&r, &tag("v1"), &m).await.expect("tag");
    let sig = manifest_bytes(2);
    let sig_digest = Digest::sha256(&sig);
    s.put_manifest(
        &r,
        ManifestPut::new(sig_digest.clone(), OCI_MANIFEST, sig).with_subject(
            m.clone(),
            Some("application/example".into()),
            Default::default(),
        ),
    )
    .await
    .expect("put referrer");
    let Some(s) = fixture.reopen().await else {
        return;
    };
    assert!(s.is_blob_linked(&r, &blob).await.expect("linked"));
    assert_eq!(s.resolve_tag(&r, &tag("v1")).await.expect("tag"), m);
    assert_eq!(
        s.get_manifest(&r, &m).await.expect("manifest").bytes,
        manifest_bytes(1)
    );
    assert_eq!(
        ids(&s.list_referrers(&r, &m, None).await.expect("referrers")),
        vec![sig_digest]
    );
    assert_eq!(
        s.list_repositories(&PageRequest::all())
            .await
            .expect("catalog")
            .items,
        vec![r]
    );
}

/// Many sessions committing the same content at once all succeed and leave
/// exactly one stored blob.
pub async fn concurrent_commits_of_one_digest_keep_one_copy(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let content = Bytes::from(pattern(1_500_000, 6));
    let digest = Digest::sha256(&content);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (s, content, digest) = (Arc::clone(&s), content.clone(), digest.clone());
        tasks.push(tokio::spawn(async move {
            let r = repo(&format!("octo/app{i}"));
            if i % 2 == 0 {
                let session = s.start_upload(&r).await?;
                s.append_upload(&r, &session.id, 0, body([content])).await?;
                s.finish_upload(&r, &session.id, &digest).await
            } else {
                s.put_blob(&digest, body([content])).await
            }
        }));
    }
    for task in tasks {
        let size = task.await.expect("task").expect("every commit succeeds");
        assert_eq!(size, 1_500_000);
    }
    assert_eq!(s.list_blobs().await.expect("list"), vec![digest.clone()]);
    assert_eq!(read_all(&*s, &digest, None).await.expect("read"), content);
    for i in (0..8).step_by(2) {
        assert!(s
            .is_blob_linked(&repo(&format!("octo/app{i}")), &digest)
            .await
            .expect("linked"));
    }
}

/// Concurrent moves of one tag leave it pointing at one of the values
/// written, readable and listed once.
pub async fn concurrent_tag_moves_leave_one_written_value(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let mut written = BTreeSet::new();
    for n in 0..6 {
        written.insert(put_manifest(&*s, &r, n).await);
    }
    let latest = tag("latest");
    let mut tasks = Vec::new();
    for digest in &written {
        let digest = digest.clone();
        let (s, r, latest) = (Arc::clone(&s), r.clone(), latest.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..15 {
                s.set_tag(&r, &latest, &digest).await?;
                // Every read during the race sees a complete value.
                s.resolve_tag(&r, &latest).await?;
            }
            Ok::<(), Error>(())
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("tag moves succeed");
    }
    let target = s.resolve_tag(&r, &latest).await.expect("resolve");
    assert!(written.contains(&target));
    let page = s.list_tags(&r, &PageRequest::all()).await.expect("list");
    assert_eq!(page.items, vec![latest]);
}

/// A blob committed in one repository is not linked in another until it is
/// mounted there; unlinking affects only that repository.
pub async fn links_isolate_repositories_until_mounted(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let (a, b) = (repo("octo/a"), repo("other/b"));
    let digest = upload(&*s, &a, b"private layer", 4).await;
    assert!(s.is_blob_linked(&a, &digest).await.expect("linked"));
    assert!(!s.is_blob_linked(&b, &digest).await.expect("linked"));
    assert!(s.linked_blobs(&b).await.expect("links").is_empty());

    s.link_blob(&b, &digest).await.expect("mount");
    s.link_blob(&b, &digest)
        .await
        .expect("mounting twice is harmless");
    assert!(s.is_blob_linked(&b, &digest).await.expect("linked"));
    assert_eq!(
        s.linked_blobs(&b).await.expect("links"),
        vec![digest.clone()]
    );

    s.unlink_blob(&a, &digest).await.expect("unlink");
    assert!(!s.is_blob_linked(&a, &digest).await.expect("linked"));
    assert!(s.is_blob_linked(&b, &digest).await.expect("linked"));
    assert_eq!(s.blob_size(&digest).await.expect("blob stays stored"), 13);
    assert!(matches!(
        s.unlink_blob(&a, &digest).await,
        Err(Error::BlobNotLinked { .. })
    ));
    assert!(matches!(
        s.link_blob(&a, &Digest::sha256(b"never stored")).await,
        Err(Error::BlobNotFound(_))
    ));
}

/// A manifest is served back with its exact bytes and media type, only in
/// the repository it was stored in.
pub async fn manifests_round_trip_with_their_media_type(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    // Not re-serialized: odd whitespace survives.
    let bytes = b"{ \"schemaVersion\" : 2 ,\n \"layers\": [] }\n".to_vec();
    let digest = Digest::sha256(&bytes);
    let docker = "application/vnd.docker.distribution.manifest.v2+json";
    s.put_manifest(&r, ManifestPut::new(digest.clone(), docker, bytes.clone()))
        .await
        .expect("put");
    let got = s.get_manifest(&r, &digest).await.expect("get");
    assert_eq!(
        (got.digest.clone(), got.media_type.as_str(), &got.bytes[..]),
        (digest.clone(), docker, &bytes[..])
    );
    let info = s.stat_manifest(&r, &digest).await.expect("stat");
    assert_eq!(
        (info.media_type.as_str(), info.size),
        (docker, bytes.len() as u64)
    );
    assert_eq!(
        s.list_manifests(&r).await.expect("list"),
        vec![digest.clone()]
    );
    assert!(matches!(
        s.get_manifest(&repo("octo/other"), &digest).await,
        Err(Error::ManifestNotFound { .. })
    ));
    s.delete_manifest(&r, &digest).await.expect("delete");
    assert!(matches!(
        s.get_manifest(&r, &digest).await,
        Err(Error::ManifestNotFound { .. })
    ));
    assert!(matches!(
        s.delete_manifest(&r, &digest).await,
        Err(Error::ManifestNotFound { .. })
    ));
}

/// Manifests whose bytes do not match their digest, or whose media type
/// cannot be a header, are refused and store nothing.
pub async fn invalid_manifests_are_rejected(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let bytes = manifest_bytes(1);
    let wrong = Digest::sha256(b"something else");
    assert!(matches!(
        s.put_manifest(&r, ManifestPut::new(wrong, OCI_MANIFEST, bytes.clone()))
            .await,
        Err(Error::DigestMismatch { .. })
    ));
    for media_type in ["", "text/plain\r\nX-Evil: 1"] {
        assert!(matches!(
            s.put_manifest(
                &r,
                ManifestPut::new(Digest::sha256(&bytes), media_type, bytes.clone())
            )
            .await,
            Err(Error::InvalidMediaType(_))
        ));
    }
    assert!(s.list_manifests(&r).await.expect("list").is_empty());
}

/// Tags point at stored manifests, move, resolve and delete.
pub async fn tags_move_resolve_and_delete(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let (one, two) = (
        put_manifest(&*s, &r, 1).await,
        put_manifest(&*s, &r, 2).await,
    );
    let v = tag("v1");
    assert!(matches!(
        s.set_tag(&r, &v, &Digest::sha256(b"no such manifest"))
            .await,
        Err(Error::ManifestNotFound { .. })
    ));
    assert!(matches!(
        s.resolve_tag(&r, &v).await,
        Err(Error::TagNotFound { .. })
    ));
    s.set_tag(&r, &v, &one).await.expect("tag");
    assert_eq!(s.resolve_tag(&r, &v).await.expect("resolve"), one);
    s.set_tag(&r, &v, &two).await.expect("move");
    s.set_tag(&r, &tag("stable"), &two).await.expect("tag");
    assert_eq!(s.resolve_tag(&r, &v).await.expect("resolve"), two);
    assert_eq!(
        s.tags_of(&r, &two).await.expect("tags"),
        vec![tag("stable"), v.clone()]
    );
    assert!(s.tags_of(&r, &one).await.expect("tags").is_empty());
    assert_eq!(s.delete_tag(&r, &v).await.expect("delete"), two);
    assert!(matches!(
        s.resolve_tag(&r, &v).await,
        Err(Error::TagNotFound { .. })
    ));
    assert!(matches!(
        s.delete_tag(&r, &v).await,
        Err(Error::TagNotFound { .. })
    ));
    s.get_manifest(&r, &two)
        .await
        .expect("deleting a tag keeps the manifest");
}

/// Deleting a manifest deletes exactly the tags pointing at it.
pub async fn deleting_a_manifest_deletes_its_tags(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let (one, two) = (
        put_manifest(&*s, &r, 1).await,
        put_manifest(&*s, &r, 2).await,
    );
    for (t, d) in [("a", &one), ("b", &two), ("c", &one)] {
        s.set_tag(&r, &tag(t), d).await.expect("tag");
    }
    assert_eq!(
        s.delete_manifest(&r, &one).await.expect("delete"),
        vec![tag("a"), tag("c")]
    );
    let left = s.list_tags(&r, &PageRequest::all()).await.expect("list");
    assert_eq!(left.items, vec![tag("b")]);
}

/// Tag pages follow `n` and `last` exactly, including the edge cases.
pub async fn tag_pagination_edge_cases(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    assert!(matches!(
        s.list_tags(&r, &PageRequest::all()).await,
        Err(Error::RepositoryNotFound(_))
    ));
    let m = put_manifest(&*s, &r, 1).await;
    let empty = s.list_tags(&r, &PageRequest::all()).await.expect("list");
    assert_eq!(
        (empty.items.len(), empty.next_last),
        (0, None),
        "no tags yet"
    );
    // Byte order: upper case before lower case, digits before letters.
    let names = ["B", "a", "a1", "b", "latest", "v1.0", "v1.10", "v1.9"];
    for name in names {
        s.set_tag(&r, &tag(name), &m).await.expect("tag");
    }
    let t = |v: &[&str]| v.iter().map(|n| tag(n)).collect::<Vec<_>>();
    let cases: Vec<(&str, PageRequest, Vec<Tag>, Option<Tag>)> = vec![
        ("all", PageRequest::all(), t(&names), None),
        ("n = 0", PageRequest::first(0), vec![], None),
        (
            "first 3",
            PageRequest::first(3),
            t(&["B", "a", "a1"]),
            Some(tag("a1")),
        ),
        (
            "next 3",
            PageRequest::after("a1", Some(3)),
            t(&["b", "latest", "v1.0"]),
            Some(tag("v1.0")),
        ),
        (
            "last page exactly full",
            PageRequest::after("v1.0", Some(2)),
            t(&["v1.10", "v1.9"]),
            None,
        ),
        (
            "n larger than the rest",
            PageRequest::after("latest", Some(100)),
            t(&["v1.0", "v1.10", "v1.9"]),
            None,
        ),
        (
            "last not a tag",
            PageRequest::after("aa", None),
            t(&["b", "latest", "v1.0", "v1.10", "v1.9"]),
            None,
        ),
        (
            "last past the end",
            PageRequest::after("zzz", Some(5)),
            vec![],
            None,
        ),
        (
            "last before the start",
            PageRequest::after("0", Some(1)),
            t(&["B"]),
            Some(tag("B")),
        ),
    ];
    for (what, request, items, next_last) in cases {
        let page = s.list_tags(&r, &request).await.expect("list");
        assert_eq!(page.items, items, "{what}");
        assert_eq!(page.next_last, next_last, "{what}");
    }
}

/// The catalog lists every repository that holds something, nested names
/// included, in lexical pages.
pub async fn catalog_lists_repositories_in_lexical_pages(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let empty = s
        .list_repositories(&PageRequest::all())
        .await
        .expect("catalog");
    assert!(empty.items.is_empty() && empty.next_last.is_none());
    let blob = upload(&*s, &repo("zeta/app"), b"x", 1).await;
    s.link_blob(&repo("octo/app"), &blob).await.expect("mount");
    put_manifest(&*s, &repo("octo/app/release"), 1).await;
    put_manifest(&*s, &repo("octo"), 2).await;
    // A session alone does not make a repository.
    s.start_upload(&repo("ghost/town")).await.expect("start");

    let all = ["octo", "octo/app", "octo/app/release", "zeta/app"]
        .map(repo)
        .to_vec();
    let page = s
        .list_repositories(&PageRequest::all())
        .await
        .expect("catalog");
    assert_eq!(page.items, all);
    let first = s
        .list_repositories(&PageRequest::first(2))
        .await
        .expect("catalog");
    assert_eq!(first.items, all[..2]);
    assert_eq!(first.next_last, Some(repo("octo/app")));
    let rest = s
        .list_repositories(&PageRequest::after("octo/app", Some(2)))
        .await
        .expect("catalog");
    assert_eq!(rest.items, all[2..]);
    assert_eq!(rest.next_last, None);
    let none = s
        .list_repositories(&PageRequest::first(0))
        .await
        .expect("catalog");
    assert!(none.items.is_empty() && none.next_last.is_none());
}

/// Manifests with a subject appear in its referrers, filterable by
/// artifact type, until they are deleted or re-stored without it.
pub async fn referrers_are_indexed_and_filtered_by_artifact_type(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    // The subject need not be stored (it may be pushed later).
    let subject = Digest::sha256(b"the image");
    assert!(s
        .list_referrers(&r, &subject, None)
        .await
        .expect("referrers")
        .is_empty());

    let mut referrers = Vec::new();
    for (n, artifact_type) in [
        (1, "application/vnd.example.sig"),
        (2, "application/vnd.example.sbom"),
        (3, "application/vnd.example.sig"),
    ] {
        let bytes = manifest_bytes(n);
        let digest = Digest::sha256(&bytes);
        let annotations = [("org.example.n".to_owned(), n.to_string())]
            .into_iter()
            .collect();
        s.put_manifest(
            &r,
            ManifestPut::new(digest.clone(), OCI_MANIFEST, bytes.clone()).with_subject(
                subject.clone(),
                Some(artifact_type.into()),
                annotations,
            ),
        )
        .await
        .expect("put referrer");
        referrers.push((digest, artifact_type, bytes.len() as u64));
    }
    let mut all: Vec<Digest> = referrers.iter().map(|(d, _, _)| d.clone()).collect();
    all.sort();
    let listed = s
        .list_referrers(&r, &subject, None)
        .await
        .expect("referrers");
    assert_eq!(ids(&listed), all);
    let one = listed
        .iter()
        .find(|e| e.digest == referrers[1].0)
        .expect("listed");
    assert_eq!(one.media_type, OCI_MANIFEST);
    assert_eq!(one.size, referrers[1].2);
    assert_eq!(
        one.artifact_type.as_deref(),
        Some("application/vnd.example.sbom")
    );
    assert_eq!(
        one.annotations.get("org.example.n").map(String::as_str),
        Some("2")
    );

    let sbom = s
        .list_referrers(&r, &subject, Some("application/vnd.example.sbom"))
        .await
        .expect("filtered");
    assert_eq!(ids(&sbom), vec![referrers[1].0.clone()]);
    assert!(s
        .list_referrers(&r, &subject, Some("application/none"))
        .await
        .expect("filtered")
        .is_empty());
    assert!(s
        .list_referrers(&repo("octo/other"), &subject, None)
        .await
        .expect("other repository")
        .is_empty());

    s.delete_manifest(&r, &referrers[0].0)
        .await
        .expect("delete");
    let sigs = s
        .list_referrers(&r, &subject, Some("application/vnd.example.sig"))
        .await
        .expect("filtered");
    assert_eq!(ids(&sigs), vec![referrers[2].0.clone()]);

    // Re-storing without a subject drops the entry.
    let bytes = manifest_bytes(3);
    s.put_manifest(
        &r,
        ManifestPut::new(referrers[2].0.clone(), OCI_MANIFEST, bytes),
    )
    .await
    .expect("re-put");
    assert_eq!(
        ids(&s
            .list_referrers(&r, &subject, None)
            .await
            .expect("referrers")),
        vec![referrers[1].0.clone()]
    );
}
