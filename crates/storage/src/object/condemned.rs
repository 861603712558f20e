//! Condemned blobs, for garbage collection: a marker object beside the
//! blob, and the wait of whoever takes a new reference to one.
//!
//! A blob is condemned by creating `PREFIX/gc/condemned/<algorithm>/<hex>`
//! while the blob object stays where it is (and readable: nothing links
//! it, so nothing should ask). Unlike a rename on a filesystem, the
//! marker cannot be taken back atomically against the collector's delete
//! of the blob (an object store has no conditional delete that
//! `object_store` offers everywhere), so a backend that takes a new
//! reference to a condemned blob does not take it back: it **waits for
//! the verdict** (the marker gone, pardoned or executed), then looks
//! again. The collector only executes a blob after recounting its links
//! found none, and the referrer made its link before it looked, so:
//!
//! - a link made before the recount is counted: the blob is pardoned and
//!   still stored when the wait ends;
//! - a link made after it finds the marker (the collector deletes the
//!   blob before its marker), waits, and finds the blob gone: an upload
//!   then writes it again from its own parts, a mount fails as an unknown
//!   blob (and removes its link).
//!
//! A referrer that finds no marker and the blob stored keeps it: a
//! collection that condemns it afterwards recounts after that link.

use std::time::{Duration, Instant};

use object_store::ObjectStoreExt;
use wharf_reference::Digest;

use super::failure::{is_not_found, unavailable, SERVICE};
use super::ObjectStorage;
use crate::error::{Error, Result};

/// How often a referrer looks whether a condemned blob's verdict came.
const VERDICT_POLL: Duration = Duration::from_millis(100);

/// How long a referrer waits for a verdict unless set
/// ([`ObjectStorageBuilder::verdict_timeout`](super::ObjectStorageBuilder::verdict_timeout)).
pub const DEFAULT_VERDICT_TIMEOUT: Duration = Duration::from_secs(30);

impl ObjectStorage {
    /// Whether blob `digest` is condemned (its marker exists).
    pub(super) async fn is_condemned(&self, digest: &Digest) -> Result<bool> {
        let marker = self.inner.layout.condemned(digest);
        match self.inner.store.head(&marker).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(unavailable(
                format!("look up whether blob {digest} is condemned"),
                e,
            )),
        }
    }

    /// Deletes the marker of blob `digest` (`verdict` says why, for the
    /// error); a missing one is fine.
    pub(super) async fn delete_marker(&self, digest: &Digest, verdict: &str) -> Result<()> {
        let marker = self.inner.layout.condemned(digest);
        match self.inner.store.delete(&marker).await {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Ok(()),
            Err(e) => Err(unavailable(format!("{verdict} blob {digest}"), e)),
        }
    }

    /// Returns once blob `digest` is not condemned: at once if it is not,
    /// otherwise when the collector pardoned or executed it. Call it only
    /// after the reference is made (the link), and look at the blob after
    /// it. [`Error::Unavailable`] if no verdict came within the verdict
    /// timeout (a collection interrupted between condemning and judging
    /// leaves its markers until the next collection judges them).
    pub(super) async fn await_verdict(&self, digest: &Digest) -> Result<()> {
        let timeout = self.inner.verdict_timeout;
        let deadline = Instant::now() + timeout;
        while self.is_condemned(digest).await? {
            if Instant::now() >= deadline {
                return Err(Error::Unavailable {
                    service: SERVICE,
                    context: format!("take a reference to blob {digest}"),
                    source: format!(
                        "the blob is condemned by garbage collection and no verdict came \
                         within {} s (a collection that was interrupted leaves it so until \
                         the next one runs); retry later",
                        timeout.as_secs_f32()
                    )
                    .into(),
                });
            }
            tokio::time::sleep(VERDICT_POLL).await;
        }
        Ok(())
    }

    /// Whether blob `digest` is stored, for a caller that has just taken a
    /// reference to it and will otherwise write it: if it is condemned,
    /// after its verdict.
    pub(super) async fn blob_exists_for_reference(&self, digest: &Digest) -> Result<bool> {
        self.await_verdict(digest).await?;
        self.blob_exists(digest).await
    }
}
