//! [`MeteredStore`]: an object store that counts its requests, their
//! outcomes, their time and the bytes they move, for a host to publish as
//! its own metrics.

use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, UploadPart,
};

/// A kind of object-store request, as [`MeteredStore`] counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// A whole-object `GET`.
    Get,
    /// A `GET` of a byte range (or of several, through `get_ranges`).
    GetRange,
    /// A `HEAD`: an object's metadata.
    Head,
    /// A single-request put.
    Put,
    /// The start of a multipart upload.
    MultipartCreate,
    /// One part of a multipart upload.
    MultipartPart,
    /// The completion of a multipart upload.
    MultipartComplete,
    /// The abort of a multipart upload.
    MultipartAbort,
    /// A listing, however many pages the store fetched for it.
    List,
    /// The deletion of one object.
    Delete,
    /// A server-side copy.
    Copy,
    /// A rename (a copy and a delete on most stores).
    Rename,
}

impl Operation {
    /// Every operation, in the order of [`ObjectStoreSnapshot::operations`].
    pub const ALL: [Operation; 12] = [
        Operation::Get,
        Operation::GetRange,
        Operation::Head,
        Operation::Put,
        Operation::MultipartCreate,
        Operation::MultipartPart,
        Operation::MultipartComplete,
        Operation::MultipartAbort,
        Operation::List,
        Operation::Delete,
        Operation::Copy,
        Operation::Rename,
    ];

    /// A name for metric labels: `get`, `get_range`, `head`, `put`,
    /// `multipart_create`, `multipart_part`, `multipart_complete`,
    /// `multipart_abort`, `list`, `delete`, `copy`, `rename`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Get => "get",
            Operation::GetRange => "get_range",
            Operation::Head => "head",
            Operation::Put => "put",
            Operation::MultipartCreate => "multipart_create",
            Operation::MultipartPart => "multipart_part",
            Operation::MultipartComplete => "multipart_complete",
            Operation::MultipartAbort => "multipart_abort",
            Operation::List => "list",
            Operation::Delete => "delete",
            Operation::Copy => "copy",
            Operation::Rename => "rename",
        }
    }
}

/// How an object-store request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// It succeeded.
    Ok,
    /// The object does not exist.
    NotFound,
    /// A condition of the request did not hold: a create-only put found
    /// the object there, a precondition failed, or a conditional `GET`
    /// found the object unchanged. Registries meet these
    /// in normal operation (two replicas storing one blob).
    Conflict,
    /// Any other failure, after the store client's retries.
    Error,
}

impl Outcome {
    /// Every outcome, in the order [`OperationFigures::requests`] counts them.
    pub const ALL: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::NotFound,
        Outcome::Conflict,
        Outcome::Error,
    ];

    /// A name for metric labels: `ok`, `not_found`, `conflict`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::NotFound => "not_found",
            Outcome::Conflict => "conflict",
            Outcome::Error => "error",
        }
    }

    fn of<T>(result: &object_store::Result<T>) -> Outcome {
        result
            .as_ref()
            .map_or_else(Outcome::of_error, |_| Outcome::Ok)
    }

    fn of_error(error: &object_store::Error) -> Outcome {
        match error {
            object_store::Error::NotFound { .. } => Outcome::NotFound,
            object_store::Error::AlreadyExists { .. }
            | object_store::Error::Precondition { .. }
            | object_store::Error::NotModified { .. } => Outcome::Conflict,
            _ => Outcome::Error,
        }
    }
}

/// The upper bounds, in seconds, of the buckets of the request-time
/// histogram; a last bucket, with no upper bound, holds the slower ones.
pub const SECONDS_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

const BUCKETS: usize = SECONDS_BUCKETS.len() + 1;

#[derive(Default)]
struct OperationCounters {
    outcomes: [AtomicU64; Outcome::ALL.len()],
    buckets: [AtomicU64; BUCKETS],
    nanos: AtomicU64,
}

#[derive(Default)]
struct Counters {
    operations: [OperationCounters; Operation::ALL.len()],
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

/// The request figures of a [`MeteredStore`], kept in atomic counters: a
/// handle that clones cheaply and reads them with
/// [`snapshot`](ObjectStoreMetrics::snapshot).
#[derive(Clone, Default)]
pub struct ObjectStoreMetrics {
    counters: Arc<Counters>,
}

impl fmt::Debug for ObjectStoreMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStoreMetrics").finish_non_exhaustive()
    }
}

impl ObjectStoreMetrics {
    /// The figures now. Each counter is read on its own, so a snapshot
    /// taken while requests run may count a request in one figure and not
    /// yet in another.
    pub fn snapshot(&self) -> ObjectStoreSnapshot {
        let operations = Operation::ALL
            .iter()
            .zip(&self.counters.operations)
            .map(|(&operation, counters)| OperationFigures {
                operation,
                requests: counters.outcomes.each_ref().map(|n| n.load(Relaxed)),
                seconds_buckets: counters.buckets.each_ref().map(|n| n.load(Relaxed)),
                seconds_sum: Duration::from_nanos(counters.nanos.load(Relaxed)).as_secs_f64(),
            })
            .collect();
        ObjectStoreSnapshot {
            operations,
            bytes_sent: self.counters.bytes_sent.load(Relaxed),
            bytes_received: self.counters.bytes_received.load(Relaxed),
        }
    }

    fn record(&self, operation: Operation, outcome: Outcome, elapsed: Duration) {
        let counters = &self.counters.operations[operation as usize];
        counters.outcomes[outcome as usize].fetch_add(1, Relaxed);
        let seconds = elapsed.as_secs_f64();
        let bucket = SECONDS_BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(SECONDS_BUCKETS.len());
        counters.buckets[bucket].fetch_add(1, Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        counters.nanos.fetch_add(nanos, Relaxed);
    }

    fn sent(&self, bytes: usize) {
        self.counters.bytes_sent.fetch_add(bytes as u64, Relaxed);
    }

    fn received(&self, bytes: usize) {
        self.counters
            .bytes_received
            .fetch_add(bytes as u64, Relaxed);
    }

    /// Runs one request of `operation` and records it.
    async fn time<T>(
        &self,
        operation: Operation,
        request: impl Future<Output = object_store::Result<T>>,
    ) -> object_store::Result<T> {
        let started = Instant::now();
        let result = request.await;
        self.record(operation, Outcome::of(&result), started.elapsed());
        result
    }

    /// Runs one request of `operation` that sends `bytes`, and records it
    /// (the bytes only if it succeeds: a failed request's bytes may or may
    /// not have reached the store).
    async fn time_sending<T>(
        &self,
        operation: Operation,
        bytes: usize,
        request: impl Future<Output = object_store::Result<T>>,
    ) -> object_store::Result<T> {
        let result = self.time(operation, request).await;
        if result.is_ok() {
            self.sent(bytes);
        }
        result
    }
}

/// The figures of a [`MeteredStore`] at one moment: requests by operation
/// and outcome, their time, and the bytes moved.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ObjectStoreSnapshot {
    /// One entry per operation, in the order of [`Operation::ALL`].
    pub operations: Vec<OperationFigures>,
    /// Bytes sent to the store by successful puts and multipart parts.
    pub bytes_sent: u64,
    /// Bytes received from the store in `GET` bodies, counted as they
    /// stream to the reader.
    pub bytes_received: u64,
}

impl ObjectStoreSnapshot {
    /// The figures of `operation`.
    pub fn operation(&self, operation: Operation) -> &OperationFigures {
        &self.operations[operation as usize]
    }

    /// How many requests of `operation` ended with `outcome`.
    pub fn requests(&self, operation: Operation, outcome: Outcome) -> u64 {
        self.operation(operation).requests(outcome)
    }
}

/// The figures of one [`Operation`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OperationFigures {
    /// The operation.
    pub operation: Operation,
    requests: [u64; Outcome::ALL.len()],
    seconds_buckets: [u64; BUCKETS],
    /// The total time of the requests, in seconds: until the store's
    /// answer (a `GET`'s body streams afterwards, at the reader's pace), and
    /// for a listing until its last item.
    pub seconds_sum: f64,
}

impl OperationFigures {
    /// How many requests ended with `outcome`.
    pub fn requests(&self, outcome: Outcome) -> u64 {
        self.requests[outcome as usize]
    }

    /// How many requests there were, whatever their outcome.
    pub fn total(&self) -> u64 {
        self.requests.iter().sum()
    }

    /// The request-time histogram: for each bucket, its upper bound in
    /// seconds (those of [`SECONDS_BUCKETS`], then `f64::INFINITY`) and the
    /// requests that took longer than the previous bound and at most this
    /// one (counts per bucket, not cumulative).
    pub fn seconds_buckets(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        SECONDS_BUCKETS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(self.seconds_buckets.iter().copied())
    }
}

/// An [`ObjectStore`] that forwards every request to another and counts
/// it in its [`ObjectStoreMetrics`]: by [`Operation`] and [`Outcome`], its
/// time, and the bytes sent and received. Counting costs a few atomic
/// additions per request; bodies stream through as they come, never
/// buffered. `GET`s answered with a local file (object_store's
/// `LocalFileSystem`) are turned into a stream, so that their bytes are
/// counted too.
///
/// [`ObjectStorageBuilder::metered`](crate::ObjectStorageBuilder::metered)
/// wraps the store of an [`ObjectStorage`](crate::ObjectStorage) in one.
///
/// ```
/// use std::sync::Arc;
/// use object_store::memory::InMemory;
/// use object_store::path::Path;
/// use object_store::ObjectStoreExt;
/// use wharf_storage::metered::{MeteredStore, Operation, Outcome};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = MeteredStore::new(Arc::new(InMemory::new()));
/// store.put(&Path::from("a"), "hello".into()).await?;
/// let bytes = store.get(&Path::from("a")).await?.bytes().await?;
/// assert!(store.head(&Path::from("b")).await.is_err());
///
/// let figures = store.metrics().snapshot();
/// assert_eq!(figures.requests(Operation::Put, Outcome::Ok), 1);
/// assert_eq!(figures.requests(Operation::Head, Outcome::NotFound), 1);
/// assert_eq!((figures.bytes_sent, figures.bytes_received), (5, 5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MeteredStore {
    inner: Arc<dyn ObjectStore>,
    metrics: ObjectStoreMetrics,
}

impl MeteredStore {
    /// `inner`, counted in new metrics.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        MeteredStore {
            inner,
            metrics: ObjectStoreMetrics::default(),
        }
    }

    /// The figures of this store.
    pub fn metrics(&self) -> &ObjectStoreMetrics {
        &self.metrics
    }

    /// The store it forwards to.
    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }

    /// `result` with its body counted as it streams.
    fn counting_body(&self, mut result: GetResult) -> GetResult {
        let meta = result.meta.clone();
        let range = result.range.clone();
        let attributes = std::mem::take(&mut result.attributes);
        let extensions = std::mem::take(&mut result.extensions);
        let metrics = self.metrics.clone();
        let stream = result
            .into_stream()
            .inspect_ok(move |bytes| metrics.received(bytes.len()))
            .boxed();
        GetResult {
            payload: object_store::GetResultPayload::Stream(stream),
            meta,
            range,
            attributes,
            extensions,
        }
    }

    /// `items`, counted one request per item (a bulk delete is still one
    /// request per object for a host's figures).
    fn counting_items<T: Send + 'static>(
        &self,
        operation: Operation,
        items: BoxStream<'static, object_store::Result<T>>,
    ) -> BoxStream<'static, object_store::Result<T>> {
        Timed::new(items, self.metrics.clone(), operation, Counting::PerItem).boxed()
    }

    /// A listing, counted as one request when it ends (or is dropped).
    fn counting_listing(
        &self,
        listing: BoxStream<'static, object_store::Result<ObjectMeta>>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let whole = Counting::Whole(Outcome::Ok);
        Timed::new(listing, self.metrics.clone(), Operation::List, whole).boxed()
    }
}

impl fmt::Display for MeteredStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Metered({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for MeteredStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let bytes = payload.content_length();
        let request = self.inner.put_opts(location, payload, opts);
        self.metrics
            .time_sending(Operation::Put, bytes, request)
            .await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        let request = self.inner.put_multipart_opts(location, opts);
        let upload = self
            .metrics
            .time(Operation::MultipartCreate, request)
            .await?;
        Ok(Box::new(MeteredUpload {
            inner: upload,
            metrics: self.metrics.clone(),
        }))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let operation = match (options.head, &options.range) {
            (true, _) => Operation::Head,
            (false, Some(_)) => Operation::GetRange,
            (false, None) => Operation::Get,
        };
        let request = self.inner.get_opts(location, options);
        let result = self.metrics.time(operation, request).await?;
        Ok(match operation {
            Operation::Head => result,
            _ => self.counting_body(result),
        })
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let request = self.inner.get_ranges(location, ranges);
        let parts = self.metrics.time(Operation::GetRange, request).await?;
        self.metrics.received(parts.iter().map(Bytes::len).sum());
        Ok(parts)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.counting_items(Operation::Delete, self.inner.delete_stream(locations))
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.counting_listing(self.inner.list(prefix))
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.counting_listing(self.inner.list_with_offset(prefix, offset))
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        let request = self.inner.list_with_delimiter(prefix);
        self.metrics.time(Operation::List, request).await
    }

    async fn copy_opts(
        &self,
        from: &Path,
        to: &Path,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        let request = self.inner.copy_opts(from, to, options);
        self.metrics.time(Operation::Copy, request).await
    }

    async fn rename_opts(
        &self,
        from: &Path,
        to: &Path,
        options: RenameOptions,
    ) -> object_store::Result<()> {
        let request = self.inner.rename_opts(from, to, options);
        self.metrics.time(Operation::Rename, request).await
    }
}

/// A multipart upload whose parts, completion and abort are counted.
#[derive(Debug)]
struct MeteredUpload {
    inner: Box<dyn MultipartUpload>,
    metrics: ObjectStoreMetrics,
}

#[async_trait]
impl MultipartUpload for MeteredUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let bytes = data.content_length();
        let part = self.inner.put_part(data);
        let metrics = self.metrics.clone();
        Box::pin(async move {
            metrics
                .time_sending(Operation::MultipartPart, bytes, part)
                .await
        })
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        let request = self.inner.complete();
        self.metrics
            .time(Operation::MultipartComplete, request)
            .await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        let request = self.inner.abort();
        self.metrics.time(Operation::MultipartAbort, request).await
    }
}

/// How a [`Timed`] stream counts requests.
enum Counting {
    /// Each item is one request, timed from the previous item (or from the
    /// first poll): the times add up to the stream's.
    PerItem,
    /// The whole stream is one request, timed from its first poll to its
    /// end or drop, with the outcome of its first error, if any.
    Whole(Outcome),
}

/// A stream of request results, counted as [`Counting`] says.
struct Timed<T> {
    inner: BoxStream<'static, object_store::Result<T>>,
    metrics: ObjectStoreMetrics,
    operation: Operation,
    counting: Counting,
    /// When the current request started: `None` before the first poll and
    /// after a whole stream was recorded.
    since: Option<Instant>,
}

impl<T> Timed<T> {
    fn new(
        inner: BoxStream<'static, object_store::Result<T>>,
        metrics: ObjectStoreMetrics,
        operation: Operation,
        counting: Counting,
    ) -> Self {
        Timed {
            inner,
            metrics,
            operation,
            counting,
            since: None,
        }
    }

    /// Records a whole stream, once.
    fn finish(&mut self) {
        if let (Counting::Whole(outcome), Some(since)) = (&self.counting, self.since.take()) {
            self.metrics
                .record(self.operation, *outcome, since.elapsed());
        }
    }
}

impl<T> Stream for Timed<T> {
    type Item = object_store::Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let since = *this.since.get_or_insert_with(Instant::now);
        let item = futures::ready!(this.inner.poll_next_unpin(cx));
        match (&mut this.counting, &item) {
            (Counting::PerItem, Some(result)) => {
                this.metrics
                    .record(this.operation, Outcome::of(result), since.elapsed());
                this.since = Some(Instant::now());
            }
            (Counting::Whole(outcome @ Outcome::Ok), Some(Err(error))) => {
                *outcome = Outcome::of_error(error);
            }
            (Counting::Whole(_), None) => this.finish(),
            _ => {}
        }
        Poll::Ready(item)
    }
}

impl<T> Drop for Timed<T> {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;
    use object_store::memory::InMemory;
    use object_store::ObjectStoreExt;

    fn metered() -> MeteredStore {
        MeteredStore::new(Arc::new(InMemory::new()))
    }

    #[tokio::test]
    async fn requests_are_counted_by_operation_and_outcome(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let store = metered();
        let (a, b) = (Path::from("dir/a"), Path::from("dir/b"));
        store.put(&a, "hello".into()).await?;
        store.head(&a).await?;
        assert!(store.head(&b).await.is_err());
        assert!(store.get(&b).await.is_err());
        let create = PutOptions::from(object_store::PutMode::Create);
        assert!(store.put_opts(&a, "x".into(), create).await.is_err());
        store.copy(&a, &b).await?;
        let listed: Vec<_> = store.list(Some(&Path::from("dir"))).try_collect().await?;
        assert_eq!(listed.len(), 2);
        store.delete(&a).await?;

        let figures = store.metrics().snapshot();
        for (operation, outcome, expected) in [
            (Operation::Put, Outcome::Ok, 1),
            (Operation::Put, Outcome::Conflict, 1),
            (Operation::Head, Outcome::Ok, 1),
            (Operation::Head, Outcome::NotFound, 1),
            (Operation::Get, Outcome::NotFound, 1),
            (Operation::Get, Outcome::Ok, 0),
            (Operation::Copy, Outcome::Ok, 1),
            (Operation::List, Outcome::Ok, 1),
            (Operation::Delete, Outcome::Ok, 1),
        ] {
            assert_eq!(
                figures.requests(operation, outcome),
                expected,
                "{operation:?} {outcome:?}"
            );
        }
        let head = figures.operation(Operation::Head);
        assert_eq!(head.seconds_buckets().map(|(_, n)| n).sum::<u64>(), 2);
        assert_eq!(
            head.seconds_buckets().last().map(|(bound, _)| bound),
            Some(f64::INFINITY)
        );
        assert_eq!(figures.bytes_sent, 5, "the refused put sent nothing");
        Ok(())
    }

    #[tokio::test]
    async fn a_streamed_get_counts_its_bytes_as_they_are_read(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let store = metered();
        let key = Path::from("blob");
        let mut upload = store.put_multipart(&key).await?;
        for part in [vec![1u8; 300], vec![2u8; 200]] {
            upload.put_part(part.into()).await?;
        }
        upload.complete().await?;

        let mut body = store.get(&key).await?.into_stream();
        assert_eq!(store.metrics().snapshot().bytes_received, 0);
        let mut read = 0;
        while let Some(chunk) = body.try_next().await? {
            read += chunk.len() as u64;
            assert_eq!(store.metrics().snapshot().bytes_received, read);
        }
        assert_eq!(read, 500);
        let range = store.get_range(&key, 100..150).await?;
        assert_eq!(range.len(), 50);

        let figures = store.metrics().snapshot();
        assert_eq!(figures.bytes_received, 550);
        assert_eq!(figures.bytes_sent, 500);
        for (operation, expected) in [
            (Operation::MultipartCreate, 1),
            (Operation::MultipartPart, 2),
            (Operation::MultipartComplete, 1),
            (Operation::Get, 1),
            (Operation::GetRange, 1),
        ] {
            assert_eq!(
                figures.requests(operation, Outcome::Ok),
                expected,
                "{operation:?}"
            );
        }
        Ok(())
    }

    #[tokio::test]
    async fn a_listing_dropped_early_is_still_one_request() -> Result<(), Box<dyn std::error::Error>>
    {
        let store = metered();
        for key in ["p/1", "p/2", "p/3"] {
            store.put(&Path::from(key), "x".into()).await?;
        }
        let mut listing = store.list(Some(&Path::from("p")));
        listing.next().await.ok_or("an empty listing")??;
        drop(listing);
        drop(store.list(None));
        let deleted: Vec<_> = store
            .delete_stream(stream::iter(["p/1", "p/2"].map(|k| Ok(Path::from(k)))).boxed())
            .try_collect()
            .await?;
        assert_eq!(deleted.len(), 2);

        let figures = store.metrics().snapshot();
        assert_eq!(
            figures.operation(Operation::List).total(),
            1,
            "never polled, never sent"
        );
        assert_eq!(figures.requests(Operation::Delete, Outcome::Ok), 2);
        Ok(())
    }
}
