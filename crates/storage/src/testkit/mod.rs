//! The conformance suite every implementation of [`Storage`] must pass,
//! ours and a downstream user's, unchanged.
//!
//! The cases are grouped by the trait they check, one module per trait:
//! [`blob`] ([`BlobStore`]), [`upload`](mod@upload)
//! ([`UploadStore`]) and [`repository`]
//! ([`RepositoryStore`], archives included), and [`collect`](mod@collect)
//! for garbage collection, which spans them (see [the
//! protocol](crate::collect)). Each
//! case is a plain `pub async fn` named for the behaviour it checks, so a
//! failure names the rule that broke. Every case takes a whole
//! [`Storage`], since the traits work together (an upload ends in a blob
//! linked to a repository).
//!
//! # Running the suite against a backend
//!
//! Implement [`Fixture`] for your backend (a fresh, empty storage per
//! case, and optionally the same storage reopened as after a restart; a
//! backend that does not persist can use [`StorageFixture`]), then
//! generate one `#[tokio::test]` per case with [`storage_tests!`](crate::storage_tests), naming
//! the backend. In a test file of your own crate (with `wharf-storage` and
//! its `testkit` feature, and `tokio` with the `macros` and
//! `rt-multi-thread` features, as dev-dependencies):
//!
//! ```no_run
//! # // The backend under test; yours would be your own type.
//! # use wharf_storage::MemoryStorage as MyStorage;
//! use wharf_storage::testkit::StorageFixture;
//!
//! wharf_storage::storage_tests!(my_storage, || StorageFixture::new(MyStorage::new()));
//! # fn main() {}
//! ```
//!
//! This generates a module `my_storage` with one module per trait and one
//! test per case in it, so `cargo test` reports, say,
//! `my_storage::upload::cancelled_session_is_gone`: the backend and the
//! case that failed. Invoke the macro once per backend (or configuration)
//! with a different name. The fixture expression is evaluated inside the
//! generated modules, which import everything of the module the macro is
//! invoked in.
//!
//! A fixture whose backend needs a server that cannot be had on this
//! machine answers `false` from [`Fixture::available`], and every case
//! then returns at once: the fixture says loudly what it skipped.
//!
//! [`run_all`] runs every case in one test instead, for harnesses that
//! prefer it; [`CASES`] lists them.

use std::collections::BTreeSet;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{stream, StreamExt, TryStreamExt};
use wharf_reference::{Digest, MediaType, RepositoryName, Tag};

use crate::prelude::*;
use crate::{ByteRange, ChunkStream, Error, ManifestPut, Page, PageRequest, UploadId};

/// Asserts that `result` is an error matching `pattern`, showing what it
/// was otherwise.
macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {{
        let result = $result;
        assert!(
            matches!(result, Err($pattern)),
            "expected {}, got {result:?}",
            stringify!($pattern)
        );
    }};
}

pub mod blob;
pub mod collect;
mod fixture;
pub mod repository;
pub mod upload;

pub use fixture::*;

/// One conformance case.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The trait module it belongs to and the behaviour it checks, as a
    /// test path: `upload::cancelled_session_is_gone`.
    pub name: &'static str,
    /// Runs it; panics on failure.
    pub run: fn(Arc<dyn Fixture>) -> BoxFuture<'static, ()>,
}

macro_rules! cases {
    ($($module:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        /// Every case, module by module, in a stable order.
        pub const CASES: &[Case] = &[
            $($(Case {
                name: concat!(stringify!($module), "::", stringify!($name)),
                run: |f| Box::pin($module::$name(f)),
            },)*)*
        ];

        /// Generates, for one backend, one `#[tokio::test]` per conformance
        /// case, each with a fresh fixture.
        ///
        /// `storage_tests!(backend, make)` expands to a module `backend`
        /// holding one module per trait ([`blob`], [`upload`],
        /// [`repository`], and [`collect`] for garbage collection) and in
        /// each one test per case, named for it: a
        /// failure reads `backend::upload::cancelled_session_is_gone`.
        /// `make` is an expression that evaluates to a closure returning a
        /// [`Fixture`](crate::testkit::Fixture); it is evaluated inside the
        /// generated modules, which import everything of the module the
        /// macro is invoked in. See the [`testkit`](crate::testkit) module
        /// for an example.
        ///
        /// [`blob`]: crate::testkit::blob
        /// [`upload`]: mod@crate::testkit::upload
        /// [`repository`]: crate::testkit::repository
        /// [`collect`]: mod@crate::testkit::collect
        #[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
        #[macro_export]
        macro_rules! storage_tests {
            ($backend:ident, $make:expr) => {
                mod $backend {
                    #[allow(unused_imports)]
                    use super::*;
                    $(
                        mod $module {
                            #[allow(unused_imports)]
                            use super::*;
                            $(
                                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                                async fn $name() {
                                    let fixture = ($make)();
                                    if !$crate::testkit::Fixture::available(&fixture) {
                                        return;
                                    }
                                    $crate::testkit::$module::$name(::std::sync::Arc::new(fixture)).await;
                                }
                            )*
                        }
                    )*
                }
            };
        }
    };
}

cases! {
    blob: [
        put_blob_round_trip_and_delete,
        ranges_select_the_right_bytes,
        ranges_past_the_end_are_not_satisfiable,
        empty_blob_round_trips,
        concurrent_commits_of_one_digest_keep_one_copy,
        blobs_page_through_every_digest_once,
    ],
    upload: [
        upload_round_trip_reads_back_the_same_bytes,
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
        open_sessions_page_through_every_session_once,
    ],
    repository: [
        metadata_survives_reopen,
        concurrent_tag_moves_leave_one_written_value,
        links_isolate_repositories_until_mounted,
        manifests_round_trip_with_their_media_type,
        invalid_manifests_are_rejected,
        tags_move_resolve_and_delete,
        deleting_a_manifest_deletes_its_tags,
        tags_set_while_their_manifest_is_deleted_never_dangle,
        tag_pagination_edge_cases,
        catalog_lists_repositories_in_lexical_pages,
        referrers_are_indexed_and_filtered_by_artifact_type,
        linked_blobs_page_through_every_link_once,
        manifests_page_through_every_manifest_once,
        referrers_page_through_every_referrer_once,
        catalog_pages_through_nested_names_once,
        tags_of_page_through_every_tag_once,
        archives_page_through_every_archive_once,
        archiving_hides_everything_of_the_repository,
        restoring_brings_the_content_back,
        restoring_onto_content_is_refused,
        archives_are_listed_and_deleted_by_key,
        archives_survive_reopen,
    ],
    collect: [
        links_unused_since_the_cutoff_are_removed,
        a_confirm_racing_a_removal_has_one_winner,
        link_counts_count_live_and_archived_repositories,
        condemned_blobs_wait_for_their_verdict,
        a_link_made_while_a_blob_is_condemned_never_outlives_it,
        an_upload_while_its_blob_is_executed_stores_it_again,
        an_interrupted_collection_leaves_condemned_blobs_to_judge,
    ],
}

/// Runs every case against fresh fixtures from `make`, one after the
/// other in one test, panicking with the name of the first case that
/// fails. Prefer [`storage_tests!`](crate::storage_tests), which makes each case a test.
pub async fn run_all<F: Fixture>(make: impl Fn() -> F) {
    for case in CASES {
        let fixture: Arc<dyn Fixture> = Arc::new(make());
        if !fixture.available() {
            return;
        }
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

/// `len` pseudo-random bytes (xorshift), the same on every call: a block
/// that tests, examples and benchmarks of large blobs repeat, or
/// [`stamp`], to make content that is cheap to generate again.
pub fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A copy of `block` with the little-endian bytes of `n` XORed into its
/// first eight bytes, so that copies stamped with different `n` differ.
pub fn stamp(block: &[u8], n: u64) -> Bytes {
    let mut copy = block.to_vec();
    for (byte, stamp) in copy.iter_mut().zip(n.to_le_bytes()) {
        *byte ^= stamp;
    }
    copy.into()
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
pub async fn resume_and_finish(
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

const OCI_MANIFEST: MediaType = MediaType::OCI_IMAGE_MANIFEST;

/// `s` as a media type; the cases use valid ones.
fn media_type(s: &str) -> MediaType {
    MediaType::parse(s).expect("a valid media type")
}

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

/// Stores the manifests numbered `ns` (as [`put_manifest`] does), in
/// order.
async fn put_manifests<const N: usize>(
    storage: &dyn Storage,
    repository: &RepositoryName,
    ns: [usize; N],
) -> [Digest; N] {
    let mut digests = Vec::with_capacity(N);
    for n in ns {
        digests.push(put_manifest(storage, repository, n).await);
    }
    digests
        .try_into()
        .unwrap_or_else(|_| unreachable!("one digest per manifest"))
}

/// Stores manifest `n` (as [`put_manifest`] does) with `subject` as its
/// subject and `artifact_type`, without annotations.
async fn put_referrer(
    storage: &dyn Storage,
    repository: &RepositoryName,
    n: usize,
    subject: &Digest,
    artifact_type: &str,
) -> Digest {
    let bytes = manifest_bytes(n);
    let digest = Digest::sha256(&bytes);
    let put = ManifestPut::new(digest.clone(), OCI_MANIFEST, bytes).with_subject(
        subject.clone(),
        Some(media_type(artifact_type)),
        Default::default(),
    );
    storage
        .put_manifest(repository, put)
        .await
        .expect("put referrer");
    digest
}

/// Stores `content` as a blob that no repository links, and returns its
/// digest.
pub async fn put_unlinked<S: BlobStore + ?Sized>(storage: &S, content: &[u8]) -> Digest {
    let digest = Digest::sha256(content);
    storage
        .put_blob(&digest, body([content.to_vec()]))
        .await
        .expect("put blob");
    digest
}

/// Every blob `storage` lists, asked for in one
/// [`PageRequest::all`] page.
pub async fn stored_blobs(storage: &dyn Storage) -> Vec<Digest> {
    everything(storage.list_blobs(&PageRequest::all()).await)
}

/// Whether a listing (which must succeed) is an empty final page.
fn is_empty_page<T>(listing: Result<Page<T>, Error>) -> bool {
    let page = listing.expect("list");
    page.items.is_empty() && page.next_last.is_none()
}

/// The items of a listing asked for in one [`PageRequest::all`] page,
/// which must succeed.
///
/// ```no_run
/// # async fn f(storage: &dyn wharf_storage::Storage) {
/// use wharf_storage::testkit::everything;
/// use wharf_storage::PageRequest;
///
/// assert!(everything(storage.condemned_blobs(&PageRequest::all()).await).is_empty());
/// # }
/// ```
pub fn everything<T>(listing: Result<Page<T>, Error>) -> Vec<T> {
    listing.expect("list everything in one page").items
}

/// The whole catalog, asked for in one page.
async fn catalog(storage: &dyn Storage) -> Vec<RepositoryName> {
    everything(storage.list_repositories(&PageRequest::all()).await)
}

/// The digests of every referrer of `subject` in `repository` (of
/// `artifact_type` if given), in one page.
async fn referrer_ids(
    storage: &dyn Storage,
    repository: &RepositoryName,
    subject: &Digest,
    artifact_type: Option<&str>,
) -> Vec<Digest> {
    let all = PageRequest::all();
    let listing = storage.list_referrers(repository, subject, artifact_type, &all);
    let referrers = everything(listing.await);
    referrers.into_iter().map(|r| r.digest).collect()
}

/// Starts a session in `repository` and appends `first` to it.
async fn start_with(
    storage: &dyn Storage,
    repository: &RepositoryName,
    first: &[u8],
) -> crate::UploadStatus {
    let session = storage.start_upload(repository).await.expect("start");
    storage
        .append_upload(repository, &session.id, 0, body([first.to_vec()]))
        .await
        .expect("append");
    session
}

/// Asserts that `result` failed with `UploadNotFound` (`what` says which
/// call it was).
fn assert_upload_not_found<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    assert!(
        matches!(result, Err(Error::UploadNotFound { .. })),
        "{what}: expected UploadNotFound, got {result:?}"
    );
}

/// The keys of one page and its `next_last`.
type Listed = (Vec<String>, Option<String>);

/// The keys of a page listed by `listing` (which must succeed), `key`
/// naming an item.
fn listed<T>(listing: Result<Page<T>, Error>, key: impl Fn(&T) -> &str) -> Listed {
    let page = listing.expect("page");
    (
        page.items.iter().map(|item| key(item).to_owned()).collect(),
        page.next_last.as_ref().map(|item| key(item).to_owned()),
    )
}

/// `f` with `context` bound as its first argument (cloned for each call),
/// as the listing and adding closures [`walk_pages`] takes.
fn bind<C, A, R>(
    context: C,
    f: fn(C, A) -> BoxFuture<'static, R>,
) -> impl Fn(A) -> BoxFuture<'static, R>
where
    C: Clone,
{
    move |argument| f(context.clone(), argument)
}

/// Pages through a listing `n` items at a time with `list`, adding an item
/// with `add` between pages, and checks the walk: every page holds at most
/// `n` items and names its last one as `next_last` when more follow; the
/// keys come in strictly ascending order across pages (so none twice);
/// every key of `initial` appears, none of `hidden`; and an item added
/// between pages appears later exactly when it sorts after the page.
pub(crate) async fn walk_pages(
    n: usize,
    initial: Vec<String>,
    hidden: Vec<String>,
    list: impl Fn(PageRequest) -> BoxFuture<'static, Listed>,
    add: impl Fn(usize) -> BoxFuture<'static, String>,
) {
    let (empty, none) = list(PageRequest::first(0)).await;
    assert!(
        empty.is_empty() && none.is_none(),
        "n = 0 is an empty final page"
    );
    let mut must_see: BTreeSet<String> = initial.into_iter().collect();
    let mut must_not: BTreeSet<String> = hidden.into_iter().collect();
    let mut seen: Vec<String> = Vec::new();
    let mut request = PageRequest::first(n);
    let mut round = 0;
    loop {
        let (items, next_last) = list(request.clone()).await;
        assert!(items.len() <= n, "a page holds at most n items: {items:?}");
        if next_last.is_some() {
            assert_eq!(
                next_last.as_ref(),
                items.last(),
                "next_last is the page's last item"
            );
        }
        for item in items {
            if let Some(previous) = seen.last() {
                assert!(
                    item > *previous,
                    "pages come in strictly ascending order: {item} after {previous}"
                );
            }
            seen.push(item);
        }
        let Some(last) = next_last else {
            break;
        };
        let added = add(round).await;
        if added > last {
            must_see.insert(added);
        } else if !must_see.contains(&added) {
            must_not.insert(added);
        }
        round += 1;
        assert!(round < 1000, "the walk ends");
        request = PageRequest::after(last, Some(n));
    }
    for key in &must_see {
        assert!(seen.contains(key), "{key} is listed: {seen:?}");
    }
    for key in &must_not {
        assert!(!seen.contains(key), "{key} is not listed: {seen:?}");
    }
}
