//! The object-store backend: [`ObjectStorage`].

mod blobs;
mod condemned;
mod failure;
mod layout;
mod listing;
pub mod metered;
#[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
mod presign;
mod session;
mod uploads;
mod url;
mod writer;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path;
use object_store::ObjectStore;

pub use condemned::DEFAULT_VERDICT_TIMEOUT;
pub use listing::ListingOrder;
pub use url::InvalidStoreUrl;

use layout::Layout;
use metered::{MeteredStore, ObjectStoreMetrics};

/// S3's smallest multipart part (except the last): 5 MiB.
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// The part size of multipart uploads unless set: 5 MiB (S3's least), so
/// that a write holds at most about 15 MiB whatever the blob's size. Larger
/// parts cost memory without making pushes faster here: against moto, 8 MiB
/// parts pushed 512 MiB no faster (7.9 s either way) and the server's peak
/// RSS rose from 37 to 47 MiB. On a store far away, where each part waits
/// out a round trip, raise it with
/// [`part_size`](ObjectStorageBuilder::part_size).
pub const DEFAULT_PART_SIZE: usize = 5 * 1024 * 1024;

/// Blobs and upload sessions in an object store, shared by any number of
/// stateless replicas.
///
/// Blobs and upload sessions live in a bucket (S3 and S3-compatible
/// stores, Google Cloud Storage, Azure Blob Storage, or a local directory)
/// through the `object_store` crate; nothing lives in the process. Any
/// number of registry replicas run over one bucket, each with its own
/// `ObjectStorage`, with repository metadata in a shared database (a
/// [`Composite`](crate::Composite) of the two).
///
/// # Blobs
///
/// A blob is stored once under `PREFIX/blobs/<algorithm>/<hex>`. It becomes
/// visible only complete and verified, without a temporary object: a blob
/// of at most one part is hashed while it is buffered and written by one
/// create-only put after the digest matched; a larger one streams into a
/// multipart upload of the blob's own key, hashed as it goes, which is
/// completed only when the digest matches and aborted otherwise (an
/// incomplete multipart upload is invisible). Two replicas storing the same
/// blob at once write the same bytes to the same key: one copy remains. No
/// server-side copy is needed, so S3's 5 GiB limit on `CopyObject` does not
/// bound blob sizes.
///
/// Reads are `GET`s with a `Range` header, streamed. A read that fails
/// midway ends the stream with [`Error::Unavailable`](crate::Error::Unavailable),
/// never with a short body. Keys sort as digests do (the algorithms that can
/// be stored, `sha256` < `sha384` < `sha512`, sort the same with `/` as with
/// `:` after them), so [`list_blobs`](crate::BlobStore::list_blobs) is one
/// listing per page that starts after the page's `last` key (see
/// [`ListingOrder`] for stores that do not list in order).
///
/// # Upload sessions
///
/// A session belongs to the bucket, not to a process: it is started on one
/// replica, takes its next chunk on another and finishes on a third.
///
/// ```text
/// PREFIX/uploads/<id>/start                       repository, owner, start time
/// PREFIX/uploads/<id>/appends/<offset, 20 digits> one record per append (create-only)
/// PREFIX/uploads/<id>/parts/<offset>-<random>     the bytes of that append
/// PREFIX/uploads/<id>/alive                       refreshed during long appends and finishes
/// ```
///
/// An append at offset `N` lists the session (one request), reads its
/// latest record (one request) and checks that it ends at `N`; streams the
/// body into a part object under a random name, hashing as it goes from the
/// SHA-256 state saved in that record ([`DigesterState`](wharf_reference::DigesterState));
/// and then creates the record `appends/N` with a create-only put
/// (`If-None-Match: *` on S3), holding the new offset, the part's name and
/// the hash state after it. That one conditional put is where two replicas
/// racing at one offset are decided: exactly one creates the record; the
/// other deletes its part and gets [`Error::WrongOffset`](crate::Error::WrongOffset)
/// with the offset the winner reached. A record is only ever created at the
/// offset where the previous one ended, so the records form one chain, and
/// the latest is the one at the greatest offset. (The data itself cannot be
/// the create-only object, as the suggestion went: a multipart upload
/// cannot be conditional in object_store, and a part named only by its
/// offset could be overwritten by the loser after the winner recorded it.)
/// A put whose answer was lost and whose retry found the record taken reads
/// the record back: if it names our part, we won.
///
/// Finishing seals the session first: a seal record at the current offset
/// (create-only too), after which no append can land, so no chunk is
/// acknowledged and then lost. A SHA-256 digest is then checked against the
/// saved hash state, without reading the data. The blob is assembled into
/// place: no part (an empty blob) is one put; one part is a server-side
/// copy (up to 5 GiB); several parts are read back once and streamed into a
/// multipart upload of the blob's key. This re-reads the session's data
/// once (bucket to replica to bucket); a client that pushes a blob in one
/// request (as docker and podman do) costs one copy and no re-read. A
/// SHA-512 or SHA-384 digest is verified during that read (a one-part
/// session is streamed rather than copied). Measured with
/// `examples/object_finish_cost.rs` (a release build, moto on loopback, two
/// shared cores), a 100 MiB blob pushed in 10 chunks took 1.4 to 1.9 s to
/// append and 1.4 to 1.8 s to finish; pushed in one request, 1.0 to 1.1 s
/// to append and 0.45 to 0.56 s to finish (the copy): the re-read about
/// doubles the time of a chunked push there, and against a remote bucket it
/// costs a second transfer of the blob each way. If the blob exists already,
/// nothing is assembled (unless garbage collection condemned it: see
/// below). Then the session's objects are deleted, its
/// `start` first, so that it is gone for every replica at once. A finish
/// interrupted after the seal can be retried on any replica.
///
/// A session's activity time is the newest last-modified time of its
/// objects (an append or finish that runs longer than 30 seconds refreshes
/// `alive`). [`purge_expired_uploads`](crate::UploadStore::purge_expired_uploads)
/// lists all sessions and deletes those idle for longer than the maximum
/// age; since S3 reports last-modified times in whole seconds, a session
/// within a second of the limit is decided by the times its records hold.
/// Sessions are listed in id order with their owners by reading each
/// session's `start`.
///
/// # Garbage collection
///
/// Condemning a blob ([`condemn_blob`](crate::BlobStore::condemn_blob))
/// creates a marker object, `PREFIX/gc/condemned/<algorithm>/<hex>`, and
/// leaves the blob object where it is, still readable (nothing links it,
/// so nothing should ask for it). [`list_blobs`](crate::BlobStore::list_blobs)
/// and [`list_blob_entries`](crate::BlobStore::list_blob_entries) leave
/// condemned blobs out; [`condemned_blobs`](crate::BlobStore::condemned_blobs)
/// lists the markers. Pardoning deletes the marker; executing deletes the
/// blob object and then the marker (a crash in between leaves a marker
/// without a blob, which the next collection's pardon or execution
/// removes).
///
/// A marker cannot be taken back atomically against the collector's
/// delete, so whoever takes a new reference to a condemned blob **waits
/// for the verdict** and then looks again (see [the
/// protocol](crate::collect)): [`claim_blob`](crate::BlobStore::claim_blob)
/// (a cross-repository mount) waits and then answers whether the blob is
/// stored; [`finish_upload`](crate::UploadStore::finish_upload) and
/// [`put_blob`](crate::BlobStore::put_blob), which skip writing a blob
/// that is already stored, wait and write it from their own bytes if it
/// was executed meanwhile (a session's parts are kept until the blob is in
/// place). The wait polls the marker every 100 ms for at most
/// [`verdict_timeout`](ObjectStorageBuilder::verdict_timeout) (30 s unless
/// set), and then fails with [`Error::Unavailable`](crate::Error::Unavailable):
/// a collector should judge what it condemned promptly, in batches that
/// take well under that time to execute, and a collection interrupted
/// between condemning and judging leaves uploads of those blobs failing
/// until the next collection judges them.
///
/// # Failures
///
/// Retries are the object store client's (`RetryConfig`, set on the store's
/// builder; [`from_url`](ObjectStorage::from_url) uses [`ObjectStorage::retry_config`]).
/// A missing object is the matching `*NotFound` error; a lost race is
/// handled as above; anything else, after the client's retries, is
/// [`Error::Unavailable`](crate::Error::Unavailable) with the service
/// `object store` (a registry answers 503), never a missing blob.
///
/// # Presigned pulls
///
/// With a [`Signer`](object_store::signer::Signer) (S3, GCS and Azure
/// stores are their own signers; `from_url` sets it),
/// [`ObjectStorage::presigned_blob_url`] gives a URL from which a client may
/// `GET` a blob directly until it expires. A registry answers a pull with
/// a `307` to it only for a caller already authorized for the repository
/// and linked to the blob; the URL grants access to those bytes to anyone
/// who holds it until it expires, so keep expiries short.
///
/// # Use
///
/// Implements [`BlobStore`](crate::BlobStore) and
/// [`UploadStore`](crate::UploadStore); repository metadata lives
/// elsewhere, joined with it in a [`Composite`](crate::Composite):
///
/// ```
/// use std::sync::Arc;
/// use bytes::Bytes;
/// use futures::{stream, StreamExt, TryStreamExt};
/// use object_store::memory::InMemory;
/// use wharf_reference::{Digest, RepositoryName};
/// use wharf_storage::prelude::*;
/// use wharf_storage::{Composite, MemoryStorage, ObjectStorage};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let bucket = Arc::new(InMemory::new());
/// // Two replicas over one bucket, sharing one metadata store.
/// let metadata = Arc::new(MemoryStorage::new().with_external_blobs());
/// let a = Composite::new(ObjectStorage::new(bucket.clone(), "registry"), metadata.clone());
/// let b = Composite::new(ObjectStorage::new(bucket, "registry"), metadata);
///
/// let repo: RepositoryName = "octocat/hello".parse()?;
/// let upload = a.start_upload(&repo).await?;
/// let chunk = |s: &'static str| stream::iter([Ok(Bytes::from(s))]).boxed();
/// a.append_upload(&repo, &upload.id, 0, chunk("hello, ")).await?;
/// b.append_upload(&repo, &upload.id, 7, chunk("world")).await?;
/// let digest = Digest::sha256(b"hello, world");
/// a.finish_upload(&repo, &upload.id, &digest).await?;
///
/// assert!(b.is_blob_linked(&repo, &digest).await?);
/// let bytes: Vec<Bytes> = b.read_blob(&digest, None).await?.stream.try_collect().await?;
/// assert_eq!(bytes.concat(), b"hello, world");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ObjectStorage {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn ObjectStore>,
    layout: Layout,
    #[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
    signer: Option<Arc<dyn object_store::signer::Signer>>,
    part_size: usize,
    max_blob_size: Option<u64>,
    listing_order: ListingOrder,
    verdict_timeout: Duration,
    metrics: Option<ObjectStoreMetrics>,
}

impl fmt::Debug for ObjectStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStorage")
            .field("store", &format_args!("{}", self.inner.store))
            .field("prefix", &self.inner.layout.root().as_ref())
            .field("part_size", &self.inner.part_size)
            .field("max_blob_size", &self.inner.max_blob_size)
            .field("listing_order", &self.inner.listing_order)
            .finish_non_exhaustive()
    }
}

impl ObjectStorage {
    /// Storage under `prefix` (`""` for the bucket's root) of `store`, with
    /// the defaults of [`ObjectStorageBuilder`].
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Self {
        ObjectStorage::builder(store).prefix(prefix).build()
    }

    /// A builder for storage over `store`.
    pub fn builder(store: Arc<dyn ObjectStore>) -> ObjectStorageBuilder {
        ObjectStorageBuilder {
            inner: Inner {
                store,
                layout: Layout::new(Path::default()),
                #[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
                signer: None,
                part_size: DEFAULT_PART_SIZE,
                max_blob_size: None,
                listing_order: ListingOrder::Lexical,
                verdict_timeout: DEFAULT_VERDICT_TIMEOUT,
                metrics: None,
            },
            metered: false,
        }
    }

    /// The object store (a [`MeteredStore`] around the one given, if
    /// [`metered`](ObjectStorageBuilder::metered)).
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.inner.store
    }

    /// The figures of the requests to the object store, if it is
    /// [`metered`](ObjectStorageBuilder::metered): a handle to read them
    /// from (at each scrape of a host's metrics, say).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use bytes::Bytes;
    /// use futures::{stream, StreamExt, TryStreamExt};
    /// use object_store::memory::InMemory;
    /// use wharf_reference::{Digest, RepositoryName};
    /// use wharf_storage::metered::{Operation, Outcome};
    /// use wharf_storage::prelude::*;
    /// use wharf_storage::ObjectStorage;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let storage = ObjectStorage::builder(Arc::new(InMemory::new())).metered().build();
    /// let metrics = storage.metrics().expect("metered").clone();
    ///
    /// let repo: RepositoryName = "octocat/hello".parse()?;
    /// let upload = storage.start_upload(&repo).await?;
    /// let body = stream::iter([Ok(Bytes::from("hello"))]).boxed();
    /// storage.append_upload(&repo, &upload.id, 0, body).await?;
    /// let digest = Digest::sha256(b"hello");
    /// storage.finish_upload(&repo, &upload.id, &digest).await?;
    /// let read: Vec<Bytes> = storage.read_blob(&digest, None).await?.stream.try_collect().await?;
    /// assert_eq!(read.concat(), b"hello");
    ///
    /// let figures = metrics.snapshot();
    /// assert!(figures.requests(Operation::Put, Outcome::Ok) >= 2);
    /// assert!(figures.bytes_sent >= 5 && figures.bytes_received >= 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metrics(&self) -> Option<&ObjectStoreMetrics> {
        self.inner.metrics.as_ref()
    }

    /// The key prefix everything is stored under.
    pub fn prefix(&self) -> &Path {
        self.inner.layout.root()
    }

    /// The key of blob `digest` in the store.
    pub fn blob_key(&self, digest: &wharf_reference::Digest) -> Path {
        self.inner.layout.blob(digest)
    }

    fn check_size(&self, size: u64) -> crate::Result<()> {
        match self.inner.max_blob_size {
            Some(limit) if size > limit => Err(crate::Error::TooLarge { limit }),
            _ => Ok(()),
        }
    }
}

/// Configures an [`ObjectStorage`]: built by [`ObjectStorage::builder`].
#[must_use]
pub struct ObjectStorageBuilder {
    /// The storage's state so far (no metrics until it is built).
    inner: Inner,
    metered: bool,
}

impl fmt::Debug for ObjectStorageBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStorageBuilder")
            .field("store", &format_args!("{}", self.inner.store))
            .field("prefix", &self.inner.layout.root().as_ref())
            .finish_non_exhaustive()
    }
}

impl ObjectStorageBuilder {
    /// Stores everything under `prefix` (`/`-separated; empty segments are
    /// ignored), so that several registries, or a registry and other data,
    /// share a bucket.
    pub fn prefix(self, prefix: &str) -> Self {
        self.prefix_path(Path::from(prefix))
    }

    /// Stores everything under `prefix`.
    pub fn prefix_path(mut self, prefix: Path) -> Self {
        self.inner.layout = Layout::new(prefix);
        self
    }

    /// Signs presigned blob URLs with `signer` (the store itself, for S3,
    /// GCS and Azure): see [`ObjectStorage::presigned_blob_url`].
    #[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(feature = "aws", feature = "gcp", feature = "azure")))
    )]
    pub fn signer(mut self, signer: Arc<dyn object_store::signer::Signer>) -> Self {
        self.inner.signer = Some(signer);
        self
    }

    /// The size of multipart upload parts, and the largest object written
    /// in one put; at least [`MIN_PART_SIZE`] (smaller values are raised to
    /// it). Default [`DEFAULT_PART_SIZE`]. A write holds about three parts
    /// in memory.
    pub fn part_size(mut self, bytes: usize) -> Self {
        self.inner.part_size = bytes.max(MIN_PART_SIZE);
        self
    }

    /// Rejects blobs (and uploads) larger than `limit` bytes with
    /// [`Error::TooLarge`](crate::Error::TooLarge).
    pub fn max_blob_size(mut self, limit: u64) -> Self {
        self.inner.max_blob_size = Some(limit);
        self
    }

    /// How the store orders its listings; [`ListingOrder::Lexical`] unless
    /// set. Set [`ListingOrder::Unordered`] for object_store's
    /// `LocalFileSystem` (`from_url` does for `file://`).
    pub fn listing_order(mut self, order: ListingOrder) -> Self {
        self.inner.listing_order = order;
        self
    }

    /// How long a new reference to a blob condemned by garbage collection
    /// waits for its verdict before it fails with
    /// [`Error::Unavailable`](crate::Error::Unavailable) (see [garbage
    /// collection](ObjectStorage#garbage-collection));
    /// [`DEFAULT_VERDICT_TIMEOUT`] unless set.
    pub fn verdict_timeout(mut self, timeout: Duration) -> Self {
        self.inner.verdict_timeout = timeout;
        self
    }

    /// Counts the requests to the store, their outcomes, time and bytes,
    /// by wrapping it in a [`MeteredStore`]; read them through
    /// [`ObjectStorage::metrics`]. A few atomic additions per request.
    pub fn metered(mut self) -> Self {
        self.metered = true;
        self
    }

    /// The storage.
    pub fn build(mut self) -> ObjectStorage {
        if self.metered {
            let metered = MeteredStore::new(self.inner.store);
            self.inner.metrics = Some(metered.metrics().clone());
            self.inner.store = Arc::new(metered);
        }
        ObjectStorage {
            inner: Arc::new(self.inner),
        }
    }
}
