//! What garbage collection needs of a backend, and the protocol that keeps
//! it from ever removing a blob something references.
//!
//! Blobs are global and repositories reach them through links
//! ([`RepositoryStore::link_blob`](crate::RepositoryStore::link_blob)). A
//! collector (wharf-server's `gc` module is one) reclaims in two steps:
//!
//! 1. **Links.** In each repository, the links that none of its manifests
//!    references are removed with
//!    [`unlink_blob_unused_since`](crate::RepositoryStore::unlink_blob_unused_since),
//!    which removes a link only if it was neither made nor
//!    [confirmed](crate::RepositoryStore::confirm_link) at or after a
//!    cutoff (the collection's start minus a grace period). A manifest push
//!    confirms the link of every blob it references before it stores the
//!    manifest, so a link that a manifest stored during the collection
//!    needs is always too recent to go, and a link removed first makes the
//!    push fail as `MANIFEST_BLOB_UNKNOWN` instead of storing a manifest
//!    whose blob may then go. Both are one atomic step in each backend (a
//!    conditional `DELETE` and an `UPDATE` of the same row; the removal
//!    and the time change of the same file, each under a lock on it).
//! 2. **Blobs.** A blob older than the cutoff that no repository, live or
//!    archived, links is [condemned](crate::BlobStore::condemn_blob):
//!    hidden so that nothing new can take a reference to it unnoticed.
//!    The collector then counts the links of the condemned blobs again
//!    ([`link_counts`](crate::RepositoryStore::link_counts)) and
//!    [pardons](crate::BlobStore::pardon_blob) those that gained one, and
//!    [executes](crate::BlobStore::execute_blob) (deletes for good) the
//!    others.
//!
//! The race that lost layers in other registries is a reference taken to a
//! blob while it is being collected: an upload of the same content that
//! finds the blob already stored, or a cross-repository mount. Every
//! backend takes references in one order, **link first, then look at the
//! blob**: a link made before the collector's recount is counted by it (the
//! blob is pardoned); a link made after it finds the blob condemned, and
//! the backend then either takes the blob back (a filesystem rename, which
//! only one of the two sides wins) or waits for the verdict and writes the
//! blob again from the upload's own bytes (an object store, where hiding is
//! a marker object). A mount that finds its blob executed removes its link
//! again and fails as an unknown blob, and the client uploads. So a link
//! never outlives its blob.
//!
//! A collection interrupted anywhere (a crash, SIGKILL) leaves condemned
//! blobs behind: still stored, hidden, listed by
//! [`condemned_blobs`](crate::BlobStore::condemned_blobs). The next
//! collection starts by recounting their links and pardoning or executing
//! them, so it continues where the last one stopped.

use std::time::SystemTime;

use wharf_reference::Digest;

use crate::error::Error;

/// A stored blob as garbage collection sees it: its digest, its size and
/// when it was stored (the object's last-modified time).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlobEntry {
    /// The blob's digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written.
    pub modified: SystemTime,
}

impl BlobEntry {
    /// An entry for the blob `digest` of `size` bytes written at
    /// `modified`.
    pub fn new(digest: Digest, size: u64, modified: SystemTime) -> Self {
        BlobEntry {
            digest,
            size,
            modified,
        }
    }
}

/// The digest's string form: the key that pages of entries are ordered
/// and continued by.
impl AsRef<str> for BlobEntry {
    fn as_ref(&self) -> &str {
        self.digest.as_str()
    }
}

/// The error of a garbage-collection method a backend does not implement.
pub(crate) fn unsupported() -> Error {
    Error::Unsupported {
        operation: "garbage collection",
    }
}
