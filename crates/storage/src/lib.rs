//! Content-addressed storage for container registries: blobs, resumable
//! uploads, per-repository links, manifests, tags and referrers, behind
//! object-safe async traits, with an in-memory and a crash-safe filesystem
//! backend and a conformance [`testkit`](crate#testkit) any backend can run.
//!
//! ```
//! use std::sync::Arc;
//! use bytes::Bytes;
//! use futures::{stream, StreamExt, TryStreamExt};
//! use wharf_reference::{Digest, MediaType, RepositoryName};
//! use wharf_storage::{ByteRange, ManifestPut, MemoryStorage, Storage};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
//! let repo: RepositoryName = "octocat/hello".parse()?;
//!
//! // Push a blob in two chunks through an upload session.
//! let upload = storage.start_upload(&repo).await?;
//! let body = stream::iter([Ok(Bytes::from("hello, ")), Ok(Bytes::from("world"))]).boxed();
//! let status = storage.append_upload(&repo, &upload.id, 0, body).await?;
//! assert_eq!(status.offset, 12);
//! let digest = Digest::sha256(b"hello, world");
//! storage.finish_upload(&repo, &upload.id, &digest).await?;
//! assert!(storage.is_blob_linked(&repo, &digest).await?);
//!
//! // Read part of it back as a stream.
//! let read = storage.read_blob(&digest, Some(ByteRange::From(7))).await?;
//! let bytes: Vec<Bytes> = read.stream.try_collect().await?;
//! assert_eq!(bytes.concat(), b"world");
//!
//! // Store a manifest and tag it.
//! let manifest = br#"{"schemaVersion":2}"#;
//! let m = Digest::sha256(manifest);
//! storage
//!     .put_manifest(&repo, ManifestPut::new(m.clone(), MediaType::OCI_IMAGE_MANIFEST, manifest.to_vec()))
//!     .await?;
//! storage.set_tag(&repo, &"latest".parse()?, &m).await?;
//! assert_eq!(storage.resolve_tag(&repo, &"latest".parse()?).await?, m);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The traits
//!
//! - [`BlobStore`]: global blobs keyed by [`Digest`](wharf_reference::Digest),
//!   read as streams with optional [`ByteRange`]s.
//! - [`UploadStore`]: resumable upload sessions, hashed as they stream,
//!   committed "verified as `<digest>`" in one step and linked to their
//!   repository.
//! - [`RepositoryStore`]: which blobs belong to which repository, manifests
//!   with their media types, tags, the referrers index and the catalog;
//!   and archives, which set a repository's content aside whole (a deleted
//!   package's) so that its name starts empty.
//! - [`Storage`]: all three, implemented automatically; a registry holds an
//!   `Arc<dyn Storage>` and picks the backend at run time.
//!
//! All errors are one [`Error`] enum whose variants map one-to-one onto the
//! Distribution API's error codes.
//!
//! # Backends
//!
//! - [`MemoryStorage`]: everything in memory, for tests and embedding.
//! - [`FsStorage`]: a directory tree (`blobs/sha256/ab/abcd...`,
//!   `uploads/<id>/`, `repositories/<name>/`). Content becomes visible only
//!   complete and verified (temporary file, fsync, rename, fsync of the
//!   directory); sessions survive restarts. Garbage collection may run in
//!   another process over the same directory: a link's time is its file's
//!   mtime, a link is confirmed or removed under `flock`, and a condemned
//!   blob is renamed into `blobs/.condemned/`, whence a new link renames
//!   it back (see [`collect`]).
//! - `ObjectStorage` (feature `object-store`): blobs and upload sessions in
//!   an object store (S3, GCS, Azure, local files) shared by stateless
//!   replicas, joined to a metadata store by [`Composite`]. A blob
//!   condemned by garbage collection gets a marker object, and a new
//!   reference to it waits for the verdict.
//! - [`Composite`]: blobs and uploads in one store, repository metadata in
//!   another, for registries that run as several replicas over shared
//!   services; it takes references to blobs link first, then looks at the
//!   blob.
//! - [`PostgresMetadata`] (feature `postgres`): repository metadata in
//!   PostgreSQL, the metadata half of a [`Composite`] shared by replicas;
//!   each link keeps the time it was made or confirmed.
//!
//! # Testkit
//!
//! With the `testkit` feature, the `testkit` module runs the conformance suite
//! both backends pass against any implementation of [`Storage`], one module
//! of cases per trait: implement its `Fixture` trait for your backend and
//! invoke `wharf_storage::storage_tests!(my_backend, || MyFixture::new())`
//! in a test file to get one `#[tokio::test]` per case, named for the
//! backend, the trait and the case (`my_backend::upload::…`).
//!
//! # Features
//!
//! - `fs` (default): [`FsStorage`], with tokio's blocking pool and, on
//!   Unix, rustix.
//! - `testkit`: the conformance suite.
//! - `object-store`: `ObjectStorage`, over object_store's local and
//!   in-memory stores; `aws`, `gcp`, `azure` add its cloud stores.
//! - `postgres`: [`PostgresMetadata`], with tokio-postgres and
//!   deadpool-postgres.
//!
#![cfg_attr(feature = "fs", doc = "[`FsStorage`]: FsStorage")]
// Without the feature the link points at the Backends section instead.
#![cfg_attr(not(feature = "fs"), doc = "[`FsStorage`]: crate#backends")]
#![cfg_attr(feature = "postgres", doc = "[`PostgresMetadata`]: PostgresMetadata")]
#![cfg_attr(
    not(feature = "postgres"),
    doc = "[`PostgresMetadata`]: crate#backends"
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// Implements `Display` and `Serialize` (as the string `as_str` gives)
/// and `Deserialize` (through `FromStr`, so that only valid values are
/// accepted) for a string type that is valid by construction.
macro_rules! display_and_serde_as_str {
    ($type:ty) => {
        impl ::std::fmt::Display for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $type {
            fn serialize<S: ::serde::Serializer>(
                &self,
                s: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $type {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                d: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}

mod archive;
mod blob;
#[cfg(feature = "cache")]
mod cached;
pub mod collect;
mod composite;
mod error;
mod forward;
#[cfg(feature = "fs")]
mod fs;
mod manifest;
mod memory;
#[cfg(feature = "object-store")]
mod object;
mod page;
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub mod postgres;
mod range;
mod repository;
mod upload;

#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub mod testkit;

use std::io;

use bytes::Bytes;
use futures::stream::BoxStream;

pub use archive::{Archive, ArchiveKey, InvalidArchiveKey};
pub use blob::BlobStore;
#[cfg(feature = "cache")]
#[cfg_attr(docsrs, doc(cfg(feature = "cache")))]
pub use cached::{CacheOptions, CachedStorage};
pub use collect::BlobEntry;
pub use composite::Composite;
pub use error::{Error, Result};
#[cfg(feature = "fs")]
pub use fs::{ArchivedContent, FsStorage};
pub use manifest::{ManifestInfo, ManifestPut, Referrer, StoredManifest, Subject};
pub use memory::MemoryStorage;
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
pub use object::metered;
#[cfg(feature = "object-store")]
#[cfg_attr(docsrs, doc(cfg(feature = "object-store")))]
pub use object::{
    InvalidStoreUrl, ListingOrder, ObjectStorage, ObjectStorageBuilder, DEFAULT_PART_SIZE,
    DEFAULT_VERDICT_TIMEOUT, MIN_PART_SIZE,
};
pub use page::{Page, PageRequest};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresMetadata, PostgresOptions};
pub use range::{BlobContent, ByteRange};
pub use repository::RepositoryStore;
pub use upload::{InvalidUploadId, UploadId, UploadSession, UploadStatus, UploadStore};

/// The traits, for calling their methods on a concrete backend:
/// `use wharf_storage::prelude::*;`.
pub mod prelude {
    pub use crate::{BlobStore, RepositoryStore, Storage, UploadStore};
}

/// Bytes read from storage, in chunks.
pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// A request body being written to storage, in chunks. Its errors are
/// `io::Error`s because that is what body streams convert to most easily
/// (`io::Error::other(e)`); a failure midway is reported as
/// [`Error::BodyInterrupted`].
pub type ChunkStream = BoxStream<'static, io::Result<Bytes>>;

/// Everything a registry needs from storage: [`BlobStore`], [`UploadStore`]
/// and [`RepositoryStore`] together.
///
/// Implemented for every type that implements the three, so backends only
/// implement those. Object safe: hold an `Arc<dyn Storage>`.
pub trait Storage: BlobStore + UploadStore + RepositoryStore {}

impl<T: BlobStore + UploadStore + RepositoryStore + ?Sized> Storage for T {}
