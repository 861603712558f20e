use std::io;
use std::path::PathBuf;

use wharf_reference::{Digest, RepositoryName, Tag};

use crate::archive::ArchiveKey;
use crate::upload::UploadId;

/// The one error type of this crate.
///
/// Each variant names what went wrong precisely enough for a registry to pick
/// its protocol error: the `*NotFound` variants map to `BLOB_UNKNOWN`,
/// `MANIFEST_UNKNOWN`, `BLOB_UPLOAD_UNKNOWN` and `NAME_UNKNOWN`;
/// [`Error::WrongOffset`] and [`Error::RangeNotSatisfiable`] to HTTP 416;
/// [`Error::DigestMismatch`] to `DIGEST_INVALID`; [`Error::TooLarge`] to
/// `SIZE_INVALID` (or 413); [`Error::InsufficientStorage`] to 507;
/// [`Error::Unavailable`] to 503.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No blob with this digest is stored.
    #[error("blob {0} is not stored")]
    BlobNotFound(Digest),

    /// The blob exists (or not) but is not linked to this repository, so the
    /// repository may not serve it.
    #[error("blob {digest} is not linked to repository {repository}")]
    BlobNotLinked {
        /// The repository that was asked.
        repository: RepositoryName,
        /// The blob's digest.
        digest: Digest,
    },

    /// The repository holds no manifest with this digest.
    #[error("manifest {digest} is not stored in repository {repository}")]
    ManifestNotFound {
        /// The repository that was asked.
        repository: RepositoryName,
        /// The manifest's digest.
        digest: Digest,
    },

    /// The repository has no such tag.
    #[error("tag {tag} does not exist in repository {repository}")]
    TagNotFound {
        /// The repository that was asked.
        repository: RepositoryName,
        /// The missing tag.
        tag: Tag,
    },

    /// No upload session with this id exists in this repository (it never
    /// existed, was finished, cancelled or expired, or belongs to another
    /// repository).
    #[error("upload {id} is not in progress in repository {repository}")]
    UploadNotFound {
        /// The repository named in the request.
        repository: RepositoryName,
        /// The session id.
        id: UploadId,
    },

    /// The repository does not exist: nothing was ever linked or stored in it.
    #[error("repository {0} does not exist")]
    RepositoryNotFound(RepositoryName),

    /// No archive has this key.
    #[error("no archive is named {0}")]
    ArchiveNotFound(ArchiveKey),

    /// An archive with this key exists already.
    #[error("an archive named {0} exists already")]
    ArchiveExists(ArchiveKey),

    /// The repository holds content, so an archive is not restored into it
    /// (an archive is never merged into other content).
    #[error("repository {0} is not empty: remove or archive its content before restoring an archive into it")]
    RepositoryNotEmpty(RepositoryName),

    /// Content did not hash to the digest it was committed as. Nothing was
    /// stored.
    #[error("content does not match its digest: expected {expected}, computed {actual}")]
    DigestMismatch {
        /// The digest the caller claimed.
        expected: Digest,
        /// The digest of the bytes actually received.
        actual: Digest,
    },

    /// A chunk was appended at an offset other than the session's current
    /// size. Resume from `current`.
    #[error("chunk starts at byte {requested} but the upload holds {current} bytes; resume at {current}")]
    WrongOffset {
        /// The offset the chunk claimed to start at.
        requested: u64,
        /// The number of bytes the session holds.
        current: u64,
    },

    /// The requested byte range does not overlap the blob.
    #[error("range {start}..{end:?} is not satisfiable for a blob of {size} bytes")]
    RangeNotSatisfiable {
        /// First byte requested.
        start: u64,
        /// End (exclusive) requested, if bounded.
        end: Option<u64>,
        /// The blob's size.
        size: u64,
    },

    /// The content exceeds the configured size limit. The chunk that crossed
    /// it was not kept.
    #[error("content exceeds the size limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },

    /// The digest's algorithm is well-formed but cannot be computed, so the
    /// content cannot be verified.
    #[error("digest algorithm `{0}` is not supported (use sha256 or sha512)")]
    UnsupportedAlgorithm(String),

    /// The request body failed midway (the client disconnected, say). The
    /// bytes received before the failure are kept: resume at `offset`.
    #[error("the request body failed after {offset} bytes were stored: {source}")]
    BodyInterrupted {
        /// The session's size after keeping the bytes received.
        offset: u64,
        /// What the body stream reported.
        #[source]
        source: io::Error,
    },

    /// The disk (or quota) is full. Nothing partial was made visible.
    #[error("out of storage space while trying to {context}: {source}")]
    InsufficientStorage {
        /// What the storage was doing.
        context: String,
        /// The underlying `ENOSPC` or `EDQUOT` error.
        #[source]
        source: io::Error,
    },

    /// Any other I/O failure. Nothing partial was made visible.
    #[error("storage I/O failed while trying to {context}: {source}")]
    Io {
        /// What the storage was doing, and on which path.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A service the storage depends on (an object store, a database) did
    /// not answer, or kept failing after the backend's retries: timeouts,
    /// refused connections, throttling, 5xx answers. Nothing partial was
    /// made visible, and retrying later may succeed; a registry answers 503.
    /// Never reported as a missing blob or manifest.
    #[error("{service} is unavailable while trying to {context}: {source}")]
    Unavailable {
        /// The service that failed, such as `object store` or `database`.
        service: &'static str,
        /// What the storage was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Stored metadata could not be read back: the storage was modified
    /// outside this crate or is damaged.
    #[error("stored data at {path} is corrupt: {detail}")]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// What was wrong with it.
        detail: String,
    },

    /// The backend does not implement an optional operation (garbage
    /// collection's, for a backend written before they existed).
    #[error("this storage backend does not support {operation}")]
    Unsupported {
        /// The operation, such as `garbage collection`.
        operation: &'static str,
    },

    /// A database record could not be read back as what this crate wrote
    /// there: the database was edited by hand or written by an
    /// incompatible program. The [`Corrupt`](Error::Corrupt) of a
    /// database, which has records where a filesystem has files.
    #[error("stored record {record} is corrupt: {detail}")]
    CorruptRecord {
        /// Which record: table and column, and the row's key where known.
        record: String,
        /// What was wrong with it.
        detail: String,
    },

    /// The database refused an operation in a way that retrying will not
    /// fix: wrong credentials, missing privileges, a schema that was never
    /// migrated or is newer than this build, an invalid connection URL.
    /// [`Error::Unavailable`] is the retryable kind (connection lost,
    /// timeouts, too many connections, shutdown).
    #[error("the database failed while trying to {context}: {source}")]
    Database {
        /// What the storage was doing.
        context: String,
        /// The database's (or its client's) error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Error {
    /// Wraps an I/O error with what was being done, classifying a full disk
    /// or quota as [`Error::InsufficientStorage`].
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        let context = context.into();
        if is_out_of_space(&source) {
            Error::InsufficientStorage { context, source }
        } else {
            Error::Io { context, source }
        }
    }

    /// Whether this is one of the "not found" variants.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Error::BlobNotFound(_)
                | Error::BlobNotLinked { .. }
                | Error::ManifestNotFound { .. }
                | Error::TagNotFound { .. }
                | Error::UploadNotFound { .. }
                | Error::RepositoryNotFound(_)
                | Error::ArchiveNotFound(_)
        )
    }
}

fn is_out_of_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

impl Error {
    /// Converts a verification error from `wharf-reference`.
    pub(crate) fn from_verify(e: wharf_reference::Error) -> Self {
        match e {
            wharf_reference::Error::DigestMismatch { expected, actual } => {
                Error::DigestMismatch { expected, actual }
            }
            wharf_reference::Error::UnsupportedAlgorithm(name) => Error::UnsupportedAlgorithm(name),
            other => Error::UnsupportedAlgorithm(other.to_string()),
        }
    }

    /// [`Error::ManifestNotFound`] for `digest` in `repository`.
    pub(crate) fn manifest_not_found(repository: &RepositoryName, digest: &Digest) -> Self {
        Error::ManifestNotFound {
            repository: repository.clone(),
            digest: digest.clone(),
        }
    }

    /// [`Error::DigestMismatch`]: content expected to hash to `expected`
    /// hashed to `actual`.
    pub(crate) fn digest_mismatch(expected: &Digest, actual: Digest) -> Self {
        Error::DigestMismatch {
            expected: expected.clone(),
            actual,
        }
    }

    /// [`Error::BlobNotLinked`] for `digest` in `repository`.
    pub(crate) fn blob_not_linked(repository: &RepositoryName, digest: &Digest) -> Self {
        Error::BlobNotLinked {
            repository: repository.clone(),
            digest: digest.clone(),
        }
    }

    /// [`Error::UploadNotFound`] for session `id` of `repository`.
    pub(crate) fn upload_not_found(repository: &RepositoryName, id: &UploadId) -> Self {
        Error::UploadNotFound {
            repository: repository.clone(),
            id: *id,
        }
    }

    /// [`Error::TagNotFound`] for `tag` in `repository`.
    pub(crate) fn tag_not_found(repository: &RepositoryName, tag: &Tag) -> Self {
        Error::TagNotFound {
            repository: repository.clone(),
            tag: tag.clone(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
