//! `ObjectStorage`: the conformance suite over a real S3 server (moto) and
//! over object_store's local filesystem, and what only an object store
//! shows: multipart blobs, sessions shared by replicas, races between
//! replicas, stores that fail midway or are not there.
//!
//! The S3 cases need moto (`pip install 'moto[server]'`); without it
//! `wharf_test_servers::s3()` says loudly that they are skipped (or fails
//! under `WHARF_REQUIRE_TEST_SERVERS=1`), and the `object_s3` suite runs
//! over an in-memory bucket instead, so that it still checks something.

#![cfg(feature = "object-store")]

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
#[cfg(feature = "aws")]
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{stream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use wharf_reference::Digest;
use wharf_storage::prelude::*;
use wharf_storage::testkit::{body, noise, read_all, stamp, stored_blobs, Fixture, ObjectFixture};
use wharf_storage::{
    ByteRange, Composite, Error, ListingOrder, MemoryStorage, ObjectStorage, PageRequest,
    MIN_PART_SIZE,
};

mod servers;

use servers::{moto_bucket, repo};

/// A bucket in a fresh temporary directory, through `LocalFileSystem`,
/// and the directory (removed when dropped).
fn local_bucket() -> (Arc<dyn ObjectStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = LocalFileSystem::new_with_prefix(dir.path()).expect("local object store");
    (Arc::new(store), dir)
}

/// The conformance fixture over moto, with the smallest parts S3 allows
/// so that the suite's multi-megabyte blobs take the multipart path.
fn s3_fixture() -> ObjectFixture {
    match moto_bucket() {
        Some(bucket) => ObjectFixture::new(bucket, |b| b.part_size(MIN_PART_SIZE)),
        None => ObjectFixture::new(Arc::new(InMemory::new()), |b| b.part_size(MIN_PART_SIZE)),
    }
}

fn local_fixture() -> ObjectFixture {
    let (bucket, dir) = local_bucket();
    ObjectFixture::new(bucket, |b| {
        b.part_size(MIN_PART_SIZE)
            .listing_order(ListingOrder::Unordered)
    })
    .keeping(dir)
}

fn memory_fixture() -> ObjectFixture {
    ObjectFixture::new(Arc::new(InMemory::new()), |b| b)
}

wharf_storage::storage_tests!(object_s3, s3_fixture);
wharf_storage::storage_tests!(object_local, local_fixture);
wharf_storage::storage_tests!(object_memory, memory_fixture);

/// The buckets the cases below run on: moto's when it is there, and a
/// local directory always.
/// A bucket to run a case on: its name, the store, its listing order.
type Bucket = (&'static str, Arc<dyn ObjectStore>, ListingOrder);

/// (The local directory goes when the returned guard is dropped.)
fn buckets() -> (Vec<Bucket>, tempfile::TempDir) {
    let (local, dir) = local_bucket();
    let mut buckets = vec![("local", local, ListingOrder::Unordered)];
    if let Some(bucket) = moto_bucket() {
        buckets.push(("s3", bucket, ListingOrder::Lexical));
    }
    (buckets, dir)
}

/// `count` chunks of `size` bytes each, all different.
fn chunks(count: usize, size: usize) -> Vec<Bytes> {
    let block = noise(size);
    (0..count).map(|i| stamp(&block, i as u64)).collect()
}

/// The bytes of `range` of blob `digest` (all of it for `None`).
async fn read_range(storage: &ObjectStorage, digest: &Digest, range: Option<ByteRange>) -> Vec<u8> {
    let chunks: Vec<Bytes> = storage
        .read_blob(digest, range)
        .await
        .expect("read")
        .stream
        .try_collect()
        .await
        .expect("stream");
    chunks.concat()
}

/// A blob of more than two multipart parts is stored whole and verified,
/// by `put_blob` and by an upload of large chunks; one with the wrong
/// digest leaves nothing under its key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_of_several_multipart_parts_round_trip() {
    let (buckets, _dir) = buckets();
    for (name, bucket, order) in buckets {
        let storage = ObjectStorage::builder(bucket)
            .prefix("large")
            .part_size(MIN_PART_SIZE)
            .listing_order(order)
            .build();
        // 2.6 parts in 1 MiB chunks.
        let pieces = chunks(13, 1 << 20);
        let content: Bytes = pieces.concat().into();
        let digest = Digest::sha256(&content);
        let size = storage
            .put_blob(&digest, body(pieces.clone()))
            .await
            .unwrap_or_else(|e| panic!("{name}: put: {e}"));
        assert_eq!(size, content.len() as u64, "{name}");
        let read = read_range(&storage, &digest, None).await;
        assert!(read == content, "{name}: same bytes back");
        let tail = read_range(&storage, &digest, Some(ByteRange::Last(3_000_000))).await;
        assert!(tail == content[content.len() - 3_000_000..], "{name}");

        // Wrong digest: the multipart upload is abandoned.
        let claimed = Digest::sha256(b"something else");
        let put = storage.put_blob(&claimed, body(pieces.clone())).await;
        assert!(
            matches!(put, Err(Error::DigestMismatch { .. })),
            "{name}: {put:?}"
        );
        assert!(matches!(
            storage.blob_size(&claimed).await,
            Err(Error::BlobNotFound(_))
        ));

        // The same content as an upload of three appends of 4.3 MiB, which
        // finishing assembles into a multipart upload; and a sha512 one.
        storage.delete_blob(&digest).await.expect("delete");
        let r = repo("octo/large");
        let session = storage.start_upload(&r).await.expect("start");
        let mut offset = 0;
        for part in pieces.chunks(5) {
            let status = storage
                .append_upload(&r, &session.id, offset, body(part.to_vec()))
                .await
                .expect("append");
            offset = status.offset;
        }
        assert_eq!(
            storage
                .finish_upload(&r, &session.id, &digest)
                .await
                .unwrap_or_else(|e| panic!("{name}: finish: {e}")),
            content.len() as u64
        );
        let read = read_range(
            &storage,
            &digest,
            Some(ByteRange::Within(5_000_000..8_000_000)),
        )
        .await;
        assert!(read == content[5_000_000..8_000_000], "{name}");
    }
}

/// A session started on one replica takes its chunks alternately on two
/// others and finishes on a third: every replica sees the same offset,
/// and the blob verifies and is linked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_moves_between_replicas_chunk_by_chunk() {
    let (buckets, _dir) = buckets();
    for (name, bucket, order) in buckets {
        let metadata = Arc::new(MemoryStorage::new().with_external_blobs());
        let replica = || {
            let blobs = ObjectStorage::builder(bucket.clone())
                .prefix("replicas")
                .listing_order(order)
                .build();
            Composite::new(blobs, Arc::clone(&metadata))
        };
        let (a, b, c) = (replica(), replica(), replica());
        let r = repo("octo/replicated");
        let pieces = chunks(6, 300_001);
        let content = pieces.concat();
        let session = a.start_upload_for(&r, "user:7").await.expect("start on a");
        let mut offset = 0;
        for (i, piece) in pieces.iter().enumerate() {
            let (this, other) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
            let status = this
                .append_upload(&r, &session.id, offset, body([piece.clone()]))
                .await
                .unwrap_or_else(|e| panic!("{name}: chunk {i}: {e}"));
            offset = status.offset;
            assert_eq!(
                other
                    .upload_status(&r, &session.id)
                    .await
                    .expect("status")
                    .offset,
                offset,
                "{name}: the other replica sees chunk {i}"
            );
        }
        let listed = c
            .upload_sessions(&PageRequest::all())
            .await
            .expect("sessions");
        assert_eq!(listed.items.len(), 1, "{name}");
        assert_eq!(listed.items[0].owner.as_deref(), Some("user:7"));
        let digest = Digest::sha256(&content);
        c.finish_upload(&r, &session.id, &digest)
            .await
            .unwrap_or_else(|e| panic!("{name}: finish on c: {e}"));
        assert!(a.is_blob_linked(&r, &digest).await.expect("linked"));
        assert_eq!(read_all(&b, &digest, None).await.expect("read"), content);
        assert!(matches!(
            a.upload_status(&r, &session.id).await,
            Err(Error::UploadNotFound { .. })
        ));
    }
}

/// A body that yields `first`, then waits for the other racer's body to
/// have started too, then ends: both appends have read the session before
/// either records its chunk.
fn gated_body(first: Bytes, gate: Arc<tokio::sync::Barrier>) -> wharf_storage::ChunkStream {
    stream::once(async move { Ok(first) })
        .chain(
            stream::once(async move {
                gate.wait().await;
                None
            })
            .filter_map(|never: Option<std::io::Result<Bytes>>| async move { never }),
        )
        .boxed()
}

/// Two replicas appending at one offset at once: exactly one wins, the
/// other gets `WrongOffset` with the winner's end, and the session holds
/// the winner's bytes alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_racing_at_one_offset_leave_one_winner() {
    let (buckets, _dir) = buckets();
    for (name, bucket, order) in buckets {
        let replica = || {
            ObjectStorage::builder(bucket.clone())
                .prefix("race")
                .listing_order(order)
                .build()
        };
        let (a, b) = (replica(), replica());
        let r = repo("octo/race");
        for round in 0..4 {
            let session = a.start_upload(&r).await.expect("start");
            a.append_upload(&r, &session.id, 0, body([&b"head-"[..]]))
                .await
                .expect("first chunk");
            let gate = Arc::new(tokio::sync::Barrier::new(2));
            let mine = Bytes::from(format!("from a, round {round}"));
            let theirs = Bytes::from(format!("from replica b, round {round}"));
            let (ra, rb) = tokio::join!(
                a.append_upload(&r, &session.id, 5, gated_body(mine.clone(), gate.clone())),
                b.append_upload(&r, &session.id, 5, gated_body(theirs.clone(), gate)),
            );
            let winner = match (&ra, &rb) {
                (
                    Ok(_),
                    Err(Error::WrongOffset {
                        requested: 5,
                        current,
                    }),
                ) => {
                    assert_eq!(*current, 5 + mine.len() as u64, "{name}");
                    mine
                }
                (
                    Err(Error::WrongOffset {
                        requested: 5,
                        current,
                    }),
                    Ok(_),
                ) => {
                    assert_eq!(*current, 5 + theirs.len() as u64, "{name}");
                    theirs
                }
                other => panic!("{name}: one winner expected, got {other:?}"),
            };
            let content = [&b"head-"[..], &winner].concat();
            let status = b.upload_status(&r, &session.id).await.expect("status");
            assert_eq!(status.offset, content.len() as u64, "{name}");
            b.finish_upload(&r, &session.id, &Digest::sha256(&content))
                .await
                .unwrap_or_else(|e| panic!("{name}: the winner's bytes verify: {e}"));
        }
    }
}

/// Finishing seals the session: an append that arrives after the seal is
/// refused (the session is ending), never acknowledged and then lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_after_the_finish_began_is_refused() {
    let fixture = memory_fixture();
    let storage = fixture.replica();
    let r = repo("octo/sealed");
    let session = storage.start_upload(&r).await.expect("start");
    storage
        .append_upload(&r, &session.id, 0, body([&b"abc"[..]]))
        .await
        .expect("append");
    storage
        .finish_upload(&r, &session.id, &Digest::sha256(b"abc"))
        .await
        .expect("finish");
    let late = fixture
        .replica()
        .append_upload(&r, &session.id, 3, body([&b"d"[..]]))
        .await;
    assert!(
        matches!(late, Err(Error::UploadNotFound { .. })),
        "{late:?}"
    );
}

/// How a [`Faulty`] store fails.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Reads fail after this many bytes: a network cut or a store that
    /// dies while a blob is being served.
    FailAfter(u64),
    /// Reads end, without an error, after this many bytes.
    EndAfter(u64),
    /// Every create-only put is done but its answer lost, as a client
    /// whose retry of a landed put meets its own object (S3 answers the
    /// retry 412).
    LoseCreateAnswers,
}

/// An in-memory store that fails as `fault` says.
#[derive(Debug)]
struct Faulty {
    inner: InMemory,
    fault: Fault,
    reads: AtomicU64,
}

impl Faulty {
    fn new(fault: Fault) -> Self {
        Faulty {
            inner: InMemory::new(),
            fault,
            reads: AtomicU64::new(0),
        }
    }
}

impl fmt::Display for Faulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Faulty({:?})", self.fault)
    }
}

#[async_trait]
impl ObjectStore for Faulty {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let lost = matches!(self.fault, Fault::LoseCreateAnswers)
            && opts.mode == object_store::PutMode::Create;
        let put = self.inner.put_opts(location, payload, opts).await?;
        if lost {
            return Err(object_store::Error::Precondition {
                path: location.to_string(),
                source: "the retry found the object its first attempt wrote".into(),
            });
        }
        Ok(put)
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let (limit, fail) = match self.fault {
            Fault::FailAfter(n) => (n, true),
            Fault::EndAfter(n) => (n, false),
            Fault::LoseCreateAnswers => return self.inner.get_opts(location, options).await,
        };
        let mut result = self.inner.get_opts(location, options).await?;
        self.reads.fetch_add(1, Ordering::Relaxed);
        let mut left = limit;
        let cut = take_stream(&mut result).flat_map(move |item| {
            let items: Vec<object_store::Result<Bytes>> = match item {
                Ok(mut bytes) if bytes.len() as u64 >= left => {
                    bytes.truncate(left as usize);
                    left = 0;
                    let mut items = vec![Ok(bytes)];
                    if fail {
                        items.push(Err(object_store::Error::Generic {
                            store: "Faulty",
                            source: "connection reset by peer".into(),
                        }));
                    }
                    items
                }
                Ok(bytes) => {
                    left -= bytes.len() as u64;
                    vec![Ok(bytes)]
                }
                Err(e) => vec![Err(e)],
            };
            stream::iter(items)
        });
        let cut = cut
            .scan(false, |ended, item| {
                // Nothing after the cut.
                if *ended {
                    return futures::future::ready(None);
                }
                if item.is_err() {
                    *ended = true;
                }
                futures::future::ready(Some(item))
            })
            .boxed();
        result.payload = object_store::GetResultPayload::Stream(cut);
        Ok(result)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

/// Takes a `GetResult`'s payload as a stream (the payload is replaced
/// afterwards).
fn take_stream(result: &mut GetResult) -> BoxStream<'static, object_store::Result<Bytes>> {
    let payload = std::mem::replace(
        &mut result.payload,
        object_store::GetResultPayload::Stream(stream::empty().boxed()),
    );
    match payload {
        object_store::GetResultPayload::Stream(s) => s,
        other => panic!("an in-memory store streams, got {other:?}"),
    }
}

/// A create-only put that landed but whose answer was lost is recognised
/// as ours (the record names our part, the start record is ours): the
/// session starts, takes its chunks and finishes as if nothing happened.
#[tokio::test]
async fn a_put_whose_answer_was_lost_is_recognised_as_ours() {
    let storage = ObjectStorage::new(Arc::new(Faulty::new(Fault::LoseCreateAnswers)), "lost");
    let r = repo("octo/lost");
    let session = storage.start_upload(&r).await.expect("start");
    let mut offset = 0;
    for piece in [&b"lost "[..], &b"answers"[..]] {
        offset = storage
            .append_upload(&r, &session.id, offset, body([piece]))
            .await
            .expect("append")
            .offset;
    }
    assert_eq!(offset, 12);
    storage
        .finish_upload(&r, &session.id, &Digest::sha256(b"lost answers"))
        .await
        .expect("finish");
    let digest = Digest::sha256(b"lost answers");
    assert_eq!(storage.blob_size(&digest).await.expect("stored"), 12);
}

/// A read that the store breaks midway ends with `Unavailable` after the
/// bytes that came, whether the store's stream fails or just stops: a
/// reader never takes a cut body for the whole blob.
#[tokio::test]
async fn a_read_cut_midway_ends_with_an_error_not_a_short_body() {
    let content = noise(100_000);
    let digest = Digest::sha256(&content);
    for how in [Fault::FailAfter(40_000), Fault::EndAfter(40_000)] {
        let flaky = Arc::new(Faulty::new(how));
        let storage = ObjectStorage::new(flaky.clone(), "");
        storage
            .put_blob(&digest, body([content.clone()]))
            .await
            .expect("put");
        let ranges: [Option<ByteRange>; 2] = [None, Some(ByteRange::From(1000))];
        for range in ranges {
            let read = storage
                .read_blob(&digest, range.clone())
                .await
                .expect("the read starts");
            let items: Vec<wharf_storage::Result<Bytes>> = read.stream.collect().await;
            let (last, kept) = items.split_last().expect("something came");
            let received: usize = kept
                .iter()
                .map(|item| item.as_ref().expect("bytes before the cut").len())
                .sum();
            assert_eq!(received, 40_000, "{how:?} {range:?}");
            assert!(
                matches!(
                    last,
                    Err(Error::Unavailable {
                        service: "object store",
                        ..
                    })
                ),
                "{how:?} {range:?}: {last:?}"
            );
        }
        assert!(flaky.reads.load(Ordering::Relaxed) >= 2);
    }
}

/// A store nobody answers at is `Unavailable` for every operation, after
/// the client's retries: never a missing blob or session.
#[cfg(feature = "aws")]
#[tokio::test]
async fn a_dead_endpoint_is_unavailable_not_unknown() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let store =
        wharf_storage::testkit::s3_test_client(format!("http://127.0.0.1:{port}"), "nowhere")
            .with_retry(object_store::RetryConfig {
                max_retries: 1,
                retry_timeout: Duration::from_secs(2),
                ..Default::default()
            })
            .build()
            .expect("client");
    let storage = ObjectStorage::new(Arc::new(store), "dead");
    let r = repo("octo/dead");
    let digest = Digest::sha256(b"x");
    let unavailable = |what: &str, result: Result<(), Error>| {
        assert!(
            matches!(
                result,
                Err(Error::Unavailable {
                    service: "object store",
                    ..
                })
            ),
            "{what}: {result:?}"
        );
    };
    unavailable("blob_size", storage.blob_size(&digest).await.map(drop));
    unavailable(
        "read_blob",
        storage.read_blob(&digest, None).await.map(drop),
    );
    unavailable(
        "put_blob",
        storage.put_blob(&digest, body([&b"x"[..]])).await.map(drop),
    );
    unavailable("delete_blob", storage.delete_blob(&digest).await);
    unavailable(
        "list_blobs",
        storage.list_blobs(&PageRequest::all()).await.map(drop),
    );
    unavailable("start_upload", storage.start_upload(&r).await.map(drop));
    let id = wharf_storage::UploadId::random();
    unavailable(
        "upload_status",
        storage.upload_status(&r, &id).await.map(drop),
    );
    unavailable(
        "purge",
        storage
            .purge_expired_uploads(Duration::from_secs(1))
            .await
            .map(drop),
    );
}

/// Presigned URLs fetch the blob straight from the store (moto), and a
/// storage without a signer has none.
#[cfg(feature = "aws")]
#[tokio::test]
async fn presigned_urls_fetch_the_blob_from_the_store() {
    let Some(s3) = wharf_test_servers::s3() else {
        return;
    };
    let store = Arc::new(
        wharf_storage::testkit::s3_test_client(s3.endpoint(), s3.fresh_bucket())
            .build()
            .expect("client"),
    );
    let unsigned = ObjectStorage::new(store.clone(), "signed");
    let storage = ObjectStorage::builder(store.clone())
        .prefix("signed")
        .signer(store)
        .build();
    let content = noise(70_000);
    let digest = Digest::sha256(&content);
    storage
        .put_blob(&digest, body([content.clone()]))
        .await
        .expect("put");
    assert!(unsigned
        .presigned_blob_url(&digest, Duration::from_secs(60))
        .await
        .expect("no signer")
        .is_none());
    let url = storage
        .presigned_blob_url(&digest, Duration::from_secs(60))
        .await
        .expect("sign")
        .expect("a signer");
    assert!(
        url.query().is_some_and(|q| q.contains("X-Amz-Expires=60")),
        "{url}"
    );
    assert_eq!(http_get(&url), content);
}

/// The body of a plain HTTP/1.1 GET of `url` (which must answer 200).
#[cfg(feature = "aws")]
fn http_get(url: &url::Url) -> Vec<u8> {
    use std::io::{Read, Write};
    let host = url.host_str().expect("host");
    let port = url.port().expect("port");
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target = format!("{target}?{query}");
    }
    let mut stream = std::net::TcpStream::connect((host, port)).expect("connect");
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("response");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&response[..split]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    response[split + 4..].to_vec()
}

/// `from_url` opens local, in-memory and (with the environment's
/// settings) S3 storage, and refuses what it cannot open.
#[tokio::test]
async fn from_url_opens_what_the_url_names() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let local = format!("file://{}", dir.path().join("nested/registry").display());
    let r = repo("octo/url");
    for url in [local.as_str(), "memory:///wharf"] {
        let storage = ObjectStorage::from_url(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        let digest = Digest::sha256(b"by url");
        storage
            .put_blob(&digest, body([&b"by url"[..]]))
            .await
            .expect("put");
        assert_eq!(
            stored_blobs(&Composite::new(storage.clone(), MemoryStorage::new())).await,
            vec![digest.clone()]
        );
        let session = storage.start_upload(&r).await.expect("start");
        storage
            .cancel_upload(&r, &session.id)
            .await
            .expect("cancel");
    }
    assert!(dir.path().join("nested/registry/blobs/sha256").is_dir());
    for bad in ["ftp://example.com/x", "not a url"] {
        assert!(ObjectStorage::from_url(bad).is_err(), "{bad}");
    }
    #[cfg(not(feature = "gcp"))]
    assert!(ObjectStorage::from_url("gs://bucket").is_err());
}

/// Finishing a session of one part copies it into place; of several,
/// reads them back once. Both leave no object of the session behind.
#[tokio::test]
async fn finishing_leaves_nothing_of_the_session() {
    let bucket: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let storage = ObjectStorage::new(bucket.clone(), "p");
    let r = repo("octo/clean");
    for appends in [1usize, 3] {
        let pieces = chunks(appends, 1000 + appends);
        let session = storage.start_upload(&r).await.expect("start");
        let mut offset = 0;
        for piece in &pieces {
            offset = storage
                .append_upload(&r, &session.id, offset, body([piece.clone()]))
                .await
                .expect("append")
                .offset;
        }
        storage
            .finish_upload(&r, &session.id, &Digest::sha256(&pieces.concat()))
            .await
            .expect("finish");
        let left: Vec<ObjectMeta> = bucket
            .list(Some(&Path::from("p/uploads")))
            .try_collect()
            .await
            .expect("list");
        assert!(left.is_empty(), "{appends} appends: {left:?}");
    }
    assert_eq!(
        storage
            .list_blobs(&PageRequest::all())
            .await
            .expect("list")
            .items
            .len(),
        2
    );
}

/// The fixture's replicas share the bucket: what one stores another sees.
#[tokio::test]
async fn fixture_replicas_share_the_bucket() {
    let fixture = memory_fixture();
    let storage = fixture.storage().await;
    let digest = Digest::sha256(b"shared");
    storage
        .put_blob(&digest, body([&b"shared"[..]]))
        .await
        .expect("put");
    assert_eq!(fixture.replica().blob_size(&digest).await.expect("size"), 6);
}
