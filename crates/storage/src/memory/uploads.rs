//! [`UploadStore`] for [`MemoryStorage`]: sessions held as chunks.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use wharf_reference::{Digest, Digester, RepositoryName};

use crate::error::{Error, Result};
use crate::upload::{ensure_supported, UploadId, UploadStatus};
use crate::{ChunkStream, UploadStore};

use super::{Blob, MemoryStorage, Session};

fn status(id: &UploadId, session: &Session) -> UploadStatus {
    UploadStatus {
        id: *id,
        repository: session.repository.clone(),
        offset: session.size(),
        started: session.started,
    }
}

/// The digest of `chunks` under `expected`'s algorithm, reusing the running
/// SHA-256 when that is the algorithm.
fn digest_of(chunks: &[Bytes], sha256: &Digester, expected: &Digest) -> Result<Digest> {
    if *expected.algorithm() == sha256.algorithm() {
        return Ok(sha256.current());
    }
    let mut d = Digester::new(expected.algorithm().clone()).map_err(Error::from_verify)?;
    for chunk in chunks {
        d.update(chunk);
    }
    Ok(d.finish())
}

#[async_trait]
impl UploadStore for MemoryStorage {
    async fn start_upload(&self, repository: &RepositoryName) -> Result<UploadStatus> {
        let id = UploadId::random();
        let now = SystemTime::now();
        let session = Session {
            repository: repository.clone(),
            started: now,
            touched: now,
            chunks: Vec::new(),
            digester: Digester::sha256(),
            ended: false,
        };
        let status = status(&id, &session);
        self.state()
            .uploads
            .insert(id, Arc::new(futures::lock::Mutex::new(session)));
        Ok(status)
    }

    async fn append_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        offset: u64,
        mut body: ChunkStream,
    ) -> Result<UploadStatus> {
        let mut session = self.lock_session(repository, id).await?;
        if offset != session.size() {
            return Err(Error::WrongOffset {
                requested: offset,
                current: session.size(),
            });
        }
        let (kept_chunks, kept_digester) = (session.chunks.len(), session.digester.clone());
        session.touched = SystemTime::now();
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) => {
                    if let Err(e) = self.check_size(session.size() + chunk.len() as u64) {
                        session.chunks.truncate(kept_chunks);
                        session.digester = kept_digester;
                        return Err(e);
                    }
                    // Both updated before the next await: a dropped append
                    // leaves a consistent session.
                    session.digester.update(&chunk);
                    session.chunks.push(chunk);
                }
                Err(source) => {
                    return Err(Error::BodyInterrupted {
                        offset: session.size(),
                        source,
                    })
                }
            }
        }
        session.touched = SystemTime::now();
        Ok(status(id, &session))
    }

    async fn upload_status(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<UploadStatus> {
        let session = self.lock_session(repository, id).await?;
        Ok(status(id, &session))
    }

    async fn finish_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        expected: &Digest,
    ) -> Result<u64> {
        ensure_supported(expected)?;
        let mut session = self.lock_session(repository, id).await?;
        session.ended = true;
        let chunks = std::mem::take(&mut session.chunks);
        let actual = digest_of(&chunks, &session.digester, expected);
        let size = session.size();
        let mut state = self.state();
        state.uploads.remove(id);
        let actual = actual?;
        if actual != *expected {
            return Err(Error::digest_mismatch(expected, actual));
        }
        state.link(repository, expected);
        state.take_back(expected);
        state
            .blobs
            .entry(expected.clone())
            .or_insert_with(|| Blob::new(chunks, size));
        Ok(size)
    }

    async fn cancel_upload(&self, repository: &RepositoryName, id: &UploadId) -> Result<()> {
        let mut session = self.lock_session(repository, id).await?;
        session.ended = true;
        self.state().uploads.remove(id);
        Ok(())
    }

    async fn cancel_uploads_in(&self, repository: &RepositoryName) -> Result<usize> {
        Ok(self.state().cancel_idle_uploads_in(repository))
    }

    async fn purge_expired_uploads(&self, max_age: Duration) -> Result<usize> {
        let now = SystemTime::now();
        let sessions: Vec<_> = self
            .state()
            .uploads
            .iter()
            .map(|(id, s)| (*id, Arc::clone(s)))
            .collect();
        let mut purged = 0;
        for (id, session) in sessions {
            // A session being appended to is busy, not abandoned.
            let Some(mut session) = session.try_lock() else {
                continue;
            };
            let idle = now.duration_since(session.touched).unwrap_or_default();
            if !session.ended && idle > max_age {
                session.ended = true;
                self.state().uploads.remove(&id);
                purged += 1;
            }
        }
        Ok(purged)
    }
}
