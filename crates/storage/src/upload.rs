use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use wharf_reference::{Digest, RepositoryName};

use crate::error::Result;
use crate::page::{Page, PageRequest};
use crate::ChunkStream;

/// The id of an upload session: 128 random bits written as 32 lower-case hex
/// digits.
///
/// Unguessable, so knowing a repository is not enough to write into someone
/// else's upload, and valid by construction, so it is safe to use as a path
/// component.
///
/// ```
/// use wharf_storage::UploadId;
///
/// let id = UploadId::random();
/// assert_eq!(id.as_str().len(), 32);
/// assert_eq!(id.as_str().parse::<UploadId>().unwrap(), id);
/// assert!("../../etc/passwd".parse::<UploadId>().is_err());
/// assert!("0123456789ABCDEF0123456789ABCDEF".parse::<UploadId>().is_err());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UploadId([u8; 32]);

impl UploadId {
    /// A fresh id from the thread-local cryptographically secure generator.
    pub fn random() -> Self {
        let bits: u128 = rand::random();
        let mut hex = [0u8; 32];
        for (i, byte) in hex.iter_mut().enumerate() {
            let nibble = (bits >> (124 - 4 * i)) & 0xf;
            *byte = b"0123456789abcdef"[nibble as usize];
        }
        UploadId(hex)
    }

    /// The id as it appears in URLs and paths.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Why a string is not an [`UploadId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an upload id is 32 lower-case hex digits; got {0:?}")]
pub struct InvalidUploadId(pub String);

impl FromStr for UploadId {
    type Err = InvalidUploadId;

    fn from_str(s: &str) -> Result<Self, InvalidUploadId> {
        let bytes: [u8; 32] = s
            .as_bytes()
            .try_into()
            .map_err(|_| InvalidUploadId(s.to_owned()))?;
        if bytes
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        {
            Ok(UploadId(bytes))
        } else {
            Err(InvalidUploadId(s.to_owned()))
        }
    }
}

impl fmt::Debug for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UploadId({})", self.as_str())
    }
}

display_and_serde_as_str!(UploadId);

/// Where an upload session stands. Non-exhaustive so that fields can be
/// added in a minor release: a backend builds it with [`UploadStatus::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadStatus {
    /// The session id.
    pub id: UploadId,
    /// The repository the blob will be linked to when the upload finishes.
    pub repository: RepositoryName,
    /// How many bytes the session holds: the offset the next chunk must
    /// start at (`Range: 0-{offset-1}` in the Distribution API).
    pub offset: u64,
    /// When the session was started.
    pub started: SystemTime,
}

impl UploadStatus {
    /// Session `id` of `repository`, started at `started`, holding `offset`
    /// bytes.
    pub fn new(id: UploadId, repository: RepositoryName, offset: u64, started: SystemTime) -> Self {
        UploadStatus {
            id,
            repository,
            offset,
            started,
        }
    }
}

/// An open upload session and whom it was started for, as
/// [`UploadStore::upload_sessions`] lists them. Non-exhaustive so that
/// fields can be added in a minor release: a backend builds it with
/// [`UploadSession::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadSession {
    /// The session id.
    pub id: UploadId,
    /// The repository it was started in.
    pub repository: RepositoryName,
    /// The owner given to [`UploadStore::start_upload_for`], or `None` for
    /// a session started without one.
    pub owner: Option<String>,
}

impl UploadSession {
    /// Session `id` of `repository`, started for `owner`.
    pub fn new(id: UploadId, repository: RepositoryName, owner: Option<String>) -> Self {
        UploadSession {
            id,
            repository,
            owner,
        }
    }
}

/// Refuses a digest whose algorithm cannot be computed, before a backend
/// touches the session it would finish.
pub(crate) fn ensure_supported(expected: &Digest) -> Result<()> {
    if expected.algorithm().is_supported() {
        Ok(())
    } else {
        Err(crate::Error::UnsupportedAlgorithm(
            expected.algorithm().to_string(),
        ))
    }
}

/// Resumable, verified uploads: the write path for blobs.
///
/// A session lives in one repository. Chunks are appended at the session's
/// current offset as streams, hashed as they arrive and never buffered whole
/// (except by [`MemoryStorage`](crate::MemoryStorage), which keeps them in
/// memory by design). Finishing verifies the digest, commits the blob once
/// (however many sessions upload the same content) and links it to the
/// session's repository.
///
/// Every method takes the repository as well as the id: a session is only
/// found through the repository it was started in, so a request naming
/// another repository gets [`Error::UploadNotFound`](crate::Error::UploadNotFound).
#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Starts an empty session in `repository`.
    async fn start_upload(&self, repository: &RepositoryName) -> Result<UploadStatus>;

    /// Starts an empty session in `repository` on behalf of `owner` (an
    /// opaque key such as a user or a client address), which
    /// [`upload_sessions`](UploadStore::upload_sessions) reports with it, so
    /// that a registry can count each owner's open sessions again after a
    /// restart. Kept with the session itself (its metadata), so it goes
    /// wherever the session goes: finished, cancelled or purged. The default
    /// does not keep the owner.
    async fn start_upload_for(
        &self,
        repository: &RepositoryName,
        owner: &str,
    ) -> Result<UploadStatus> {
        let _ = owner;
        self.start_upload(repository).await
    }

    /// A page of the open sessions, with their owners, in id order
    /// (`page.last` is an id, as [`Page::next_last`]`.id` gives it). The
    /// default lists none, which suits a backend whose sessions do not
    /// outlive the process (such as
    /// [`MemoryStorage`](crate::MemoryStorage)): a registry then counts the
    /// sessions started since it started.
    async fn upload_sessions(&self, page: &PageRequest) -> Result<Page<UploadSession>> {
        let _ = page;
        Ok(Page::empty())
    }

    /// Appends `body` at `offset`, which must equal the session's current
    /// size, otherwise [`Error::WrongOffset`](crate::Error::WrongOffset)
    /// reports the size to resume from and nothing is written.
    ///
    /// If `body` fails midway, the bytes received before the failure are kept
    /// and [`Error::BodyInterrupted`](crate::Error::BodyInterrupted) reports
    /// the new offset. If the storage fails (a full disk, say) or the
    /// session would exceed the size limit, the whole append is undone. Either
    /// way the session stays consistent and can be resumed from
    /// [`upload_status`](UploadStore::upload_status)'s offset. Appends to one
    /// session are serialized.
    async fn append_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        offset: u64,
        body: ChunkStream,
    ) -> Result<UploadStatus>;

    /// The session's current state.
    async fn upload_status(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<UploadStatus>;

    /// Verifies the session's content against `expected`, commits it as a
    /// blob, links the blob to the session's repository and ends the
    /// session. Returns the blob's size.
    ///
    /// If the content does not match, [`Error::DigestMismatch`](crate::Error::DigestMismatch)
    /// is returned, nothing is committed or linked, and **the session is
    /// gone** (its data deleted): the client must start a new upload. An
    /// unsupported algorithm is rejected before anything is touched and
    /// leaves the session as it was.
    async fn finish_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        expected: &Digest,
    ) -> Result<u64>;

    /// A monolithic upload: stores `body` as the blob `digest`, verified as
    /// it streams, and links it to `repository`, as one upload session
    /// appended once and finished would (which the default does). The
    /// reference is taken the way every upload takes it, the link before
    /// the blob is looked at ([the garbage-collection
    /// protocol](crate::collect)), which storing with
    /// [`put_blob`](crate::BlobStore::put_blob) and linking afterwards does
    /// not: a collection between the two could remove the blob found
    /// stored. A failure leaves no session behind. Returns the size.
    async fn upload_blob(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        body: ChunkStream,
    ) -> Result<u64> {
        let session = self.start_upload(repository).await?;
        if let Err(err) = self.append_upload(repository, &session.id, 0, body).await {
            let _ = self.cancel_upload(repository, &session.id).await;
            return Err(err);
        }
        match self.finish_upload(repository, &session.id, digest).await {
            Ok(size) => Ok(size),
            Err(err) => {
                let _ = self.cancel_upload(repository, &session.id).await;
                Err(err)
            }
        }
    }

    /// Ends the session and deletes its data.
    async fn cancel_upload(&self, repository: &RepositoryName, id: &UploadId) -> Result<()>;

    /// Ends every idle session of `repository` and deletes its data,
    /// returning how many went (a session being appended to may stay). A
    /// registry calls it when the repository's content is set aside
    /// ([`RepositoryStore::archive_repository`](crate::RepositoryStore::archive_repository)
    /// does it for backends that hold both), so that no session started
    /// before can link into the name later. The default pages through
    /// [`upload_sessions`](UploadStore::upload_sessions) and cancels each
    /// session of `repository`.
    async fn cancel_uploads_in(&self, repository: &RepositoryName) -> Result<usize> {
        let mut cancelled = 0;
        const PAGE: usize = 500;
        let mut request = PageRequest::first(PAGE);
        loop {
            let page = self.upload_sessions(&request).await?;
            for session in page.items.iter().filter(|s| &s.repository == repository) {
                match self.cancel_upload(repository, &session.id).await {
                    Ok(()) => cancelled += 1,
                    Err(crate::Error::UploadNotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            match page.next_last {
                Some(last) => request = PageRequest::after(last.id.to_string(), Some(PAGE)),
                None => return Ok(cancelled),
            }
        }
    }

    /// Deletes every session that has not been started or appended to for
    /// more than `max_age` (abandoned uploads), returning how many were
    /// removed. An append in progress is never cut short. A registry calls
    /// this periodically.
    async fn purge_expired_uploads(&self, max_age: Duration) -> Result<usize>;
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn random_ids_differ() {
        let ids: std::collections::HashSet<UploadId> =
            (0..1000).map(|_| UploadId::random()).collect();
        assert_eq!(ids.len(), 1000);
    }

    #[test]
    fn ids_that_are_not_32_lower_hex_digits_are_rejected() {
        for bad in [
            "",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789ABCDEF0123456789abcdef",
            "../../../../../../../../etc/pass",
            "0123456789abcdef0123456789abcdeg",
            "0123456789abcdef 123456789abcdef",
        ] {
            assert!(bad.parse::<UploadId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ids_serialize_as_strings() {
        let id = UploadId::random();
        let json = serde_json::to_string(&id).expect("serialize");
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(
            serde_json::from_str::<UploadId>(&json).expect("deserialize"),
            id
        );
        assert!(serde_json::from_str::<UploadId>("\"../x\"").is_err());
    }

    proptest! {
        #[test]
        fn any_32_lower_hex_digits_round_trip(s in "[0-9a-f]{32}") {
            let id: UploadId = s.parse().expect("valid");
            prop_assert_eq!(id.as_str(), s.as_str());
            prop_assert_eq!(id.to_string(), s);
        }
    }
}
