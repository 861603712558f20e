//! Upload sessions: their files, locks, finishing and purging, and
//! [`UploadStore`].

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use wharf_reference::{Digest, Digester, RepositoryName};

use crate::error::{Error, Result};
use crate::page::{Page, PageRequest};
use crate::upload::{ensure_supported, UploadId, UploadSession, UploadStatus};
use crate::{ChunkStream, UploadStore};

use super::atomic::{
    create_dirs, create_file, fsync_dir, present, read_dir_keys, read_dir_names, read_json,
    remove_file, write_file,
};
use super::pipeline::{End, Target};
use super::{pipeline, FsStorage, Inner, SessionGuard, SessionMeta, SessionState};

impl FsStorage {
    /// Starts a session, recording `owner` in its meta file.
    pub(super) async fn start_session(
        &self,
        repository: &RepositoryName,
        owner: Option<String>,
    ) -> Result<UploadStatus> {
        let id = UploadId::random();
        let repository = repository.clone();
        let meta = self
            .run(move |inner| inner.start_upload(&id, &repository, owner))
            .await?;

        // A new session is hashed from its first byte; only a session found
        // on disk (after a restart) has to be rehashed.
        let state = SessionState {
            ended: false,
            digester: Some(Digester::sha256()),
        };
        self.inner
            .sessions()
            .insert(id, Arc::new(tokio::sync::Mutex::new(state)));
        Ok(upload_status(id, &meta, 0))
    }

    /// Locks a session of `repository`, checking that it exists.
    pub(super) async fn lock_session(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<(SessionGuard, SessionMeta)> {
        let lock = Arc::clone(self.inner.sessions().entry(*id).or_default());
        let guard = lock.lock_owned().await;
        let not_found = || Error::upload_not_found(repository, id);
        if guard.ended {
            return Err(not_found());
        }
        let id = *id;
        let meta = self.run(move |inner| inner.read_session_meta(&id)).await?;
        match meta {
            Some(meta) if &meta.repository == repository => Ok((guard, meta)),
            Some(_) => Err(not_found()),
            None => {
                self.inner.forget_session(&id, &guard);
                Err(not_found())
            }
        }
    }

    pub(super) fn too_large(&self) -> Error {
        Error::TooLarge {
            limit: self.inner.max_blob_size.unwrap_or(u64::MAX),
        }
    }
}

impl Inner {
    pub(super) fn read_session_meta(&self, id: &UploadId) -> Result<Option<SessionMeta>> {
        read_json(&self.layout.upload_meta(id))
    }

    pub(super) fn upload_len(&self, id: &UploadId) -> Result<Option<u64>> {
        let path = self.layout.upload_data(id);
        Ok(present(fs::metadata(&path), "stat", &path)?.map(|m| m.len()))
    }

    pub(super) fn remove_upload(&self, id: &UploadId) -> Result<()> {
        let dir = self.layout.upload(id);
        if present(fs::remove_dir_all(&dir), "remove", &dir)?.is_none() {
            return Ok(());
        }
        fsync_dir(&self.layout.uploads()).map_err(|e| Error::io("sync the uploads directory", e))
    }

    pub(super) fn finish_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        expected: &Digest,
        digester: Option<Digester>,
    ) -> Result<u64> {
        let data = self.layout.upload_data(id);
        let len = self
            .upload_len(id)?
            .ok_or_else(|| Error::upload_not_found(repository, id))?;
        let actual = match digester {
            Some(d) if d.bytes_hashed() == len && d.algorithm() == *expected.algorithm() => {
                d.finish()
            }
            _ => self.hash_file(&data, expected.algorithm())?,
        };
        if actual != *expected {
            self.remove_upload(id)?;
            return Err(Error::digest_mismatch(expected, actual));
        }
        // The repository link first, then the blob: a crash between the two
        // leaves the session whole (its client finishes it again) and a
        // link to a blob not there yet, which reads as unknown. In the other
        // order a crash lost the session, its data moved into place but
        // unlinked, and the client could not resume.
        //
        // The link first is also what garbage collection needs: a blob
        // condemned meanwhile is then either counted as linked (and
        // pardoned), or gone from its place when `commit_blob` looks, which
        // then puts this upload's bytes there.
        let linked_now = self.make_link(repository, expected)?;
        if let Err(err) = self.commit_blob(&data, expected) {
            if linked_now {
                let _ = remove_file(&self.layout.link(repository, expected));
            }
            return Err(err);
        }
        self.remove_upload(id)?;
        Ok(len)
    }

    pub(super) fn start_upload(
        &self,
        id: &UploadId,
        repository: &RepositoryName,
        owner: Option<String>,
    ) -> Result<SessionMeta> {
        let dir = self.layout.upload(id);
        create_dirs(&dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        let data = self.layout.upload_data(id);
        create_file(&data).map_err(|e| Error::io(format!("create {}", data.display()), e))?;
        let started_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let meta = SessionMeta {
            repository: repository.clone(),
            started_ms,
            owner,
        };
        let json = serde_json::to_vec(&meta)
            .map_err(|e| Error::io("encode upload meta", io::Error::other(e)))?;
        // The meta file appears last, atomically: a session exists once it
        // does, and its data file is already there.
        write_file(&self.layout, &self.layout.upload_meta(id), &json)?;
        Ok(meta)
    }

    pub(super) fn open_for_append(&self, id: &UploadId) -> Result<Option<(File, u64)>> {
        let path = self.layout.upload_data(id);
        let Some(mut file) = present(OpenOptions::new().write(true).open(&path), "open", &path)?
        else {
            return Ok(None);
        };
        let len = file
            .seek(SeekFrom::End(0))
            .map_err(|e| Error::io(format!("seek {}", path.display()), e))?;
        Ok(Some((file, len)))
    }

    /// A page of the sessions whose meta file exists, with their owners:
    /// only the metas of the ids after `last` are read, until the page is
    /// full.
    pub(super) fn sessions_page(&self, request: &PageRequest) -> Result<Page<UploadSession>> {
        let session = |id: UploadId| {
            let meta = self.read_session_meta(&id)?;
            Ok(meta.map(|meta| UploadSession::new(id, meta.repository, meta.owner)))
        };
        self.names_page(&self.layout.uploads(), request, session, |s| s.id.as_str())
    }

    /// Ends the sessions that `pick` chooses among those not being
    /// appended to or finished right now (a busy session is not
    /// abandoned), deleting their files; returns how many.
    fn end_idle_sessions(&self, mut pick: impl FnMut(&UploadId) -> Result<bool>) -> Result<usize> {
        let mut ended = 0;
        for id in read_dir_keys::<UploadId>(&self.layout.uploads())? {
            let lock = Arc::clone(self.sessions().entry(id).or_default());
            let Ok(mut guard) = lock.try_lock_owned() else {
                continue;
            };
            if !guard.ended && pick(&id)? {
                self.remove_upload(&id)?;
                guard.ended = true;
                self.forget_session(&id, &guard);
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// Removes stale sessions and temporary files; returns how many sessions.
    pub(super) fn purge(&self, max_age: Duration) -> Result<usize> {
        let now = SystemTime::now();
        let stale = |path: &Path| -> bool {
            fs::metadata(path)
                .and_then(|m| m.modified())
                .map(|modified| now.duration_since(modified).unwrap_or_default() > max_age)
                .unwrap_or(false)
        };
        let purged = self.end_idle_sessions(|id| {
            let data = self.layout.upload_data(id);
            let activity = if data.exists() {
                data
            } else {
                self.layout.upload(id)
            };
            Ok(stale(&activity))
        })?;
        for name in read_dir_names(&self.layout.tmp())? {
            let path = self.layout.tmp().join(name);
            if stale(&path) {
                let _ = fs::remove_file(&path);
            }
        }
        Ok(purged)
    }

    /// Cancels the sessions of `repository` that are not being appended
    /// to or finished right now.
    pub(super) fn cancel_idle_sessions(&self, repository: &RepositoryName) -> Result<()> {
        self.end_idle_sessions(|id| {
            let meta = self.read_session_meta(id)?;
            Ok(meta.is_some_and(|meta| &meta.repository == repository))
        })?;
        Ok(())
    }
}

pub(super) fn upload_status(id: UploadId, meta: &SessionMeta, offset: u64) -> UploadStatus {
    UploadStatus {
        id,
        repository: meta.repository.clone(),
        offset,
        started: meta.started(),
    }
}

#[async_trait]
impl UploadStore for FsStorage {
    async fn start_upload(&self, repository: &RepositoryName) -> Result<UploadStatus> {
        self.start_session(repository, None).await
    }

    async fn start_upload_for(
        &self,
        repository: &RepositoryName,
        owner: &str,
    ) -> Result<UploadStatus> {
        self.start_session(repository, Some(owner.to_owned())).await
    }

    async fn upload_sessions(&self, page: &PageRequest) -> Result<Page<UploadSession>> {
        self.run_page(page, Inner::sessions_page).await
    }

    async fn append_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        offset: u64,
        body: ChunkStream,
    ) -> Result<UploadStatus> {
        let (mut guard, meta) = self.lock_session(repository, id).await?;
        let upload = *id;
        let opened = self
            .run(move |inner| inner.open_for_append(&upload))
            .await?;
        let Some((file, len)) = opened else {
            self.inner.forget_session(id, &guard);
            return Err(Error::upload_not_found(repository, id));
        };
        if offset != len {
            return Err(Error::WrongOffset {
                requested: offset,
                current: len,
            });
        }
        let digester = guard.digester.take().filter(|d| d.bytes_hashed() == len);
        let backup = digester.clone();
        let room = self
            .inner
            .max_blob_size
            .map(|limit| limit.saturating_sub(len));
        let target = Target {
            file,
            start: len,
            guard,
        };
        // The guard travels with the file into the writer thread and comes
        // back when it is done, so a dropped request cannot race the next.
        let (guard, pumped) =
            pipeline::pump(target, body, digester, room, &self.inner.buffers).await;
        let mut guard = guard
            .ok_or_else(|| Error::io("write upload", io::Error::other("writer thread failed")))?;
        let pumped = match pumped {
            Ok(pumped) => pumped,
            Err(e) => {
                guard.digester = backup;
                return Err(e);
            }
        };
        guard.digester = pumped.digester;
        match pumped.end {
            End::Complete => Ok(upload_status(*id, &meta, pumped.len)),
            End::BodyFailed(source) => Err(Error::BodyInterrupted {
                offset: pumped.len,
                source,
            }),
            End::TooLarge => {
                guard.digester = backup;
                Err(self.too_large())
            }
        }
    }

    async fn upload_status(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<UploadStatus> {
        let (guard, meta) = self.lock_session(repository, id).await?;
        let upload = *id;
        match self.run(move |inner| inner.upload_len(&upload)).await? {
            Some(len) => Ok(upload_status(*id, &meta, len)),
            None => {
                self.inner.forget_session(id, &guard);
                Err(Error::upload_not_found(repository, id))
            }
        }
    }

    async fn finish_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        expected: &Digest,
    ) -> Result<u64> {
        ensure_supported(expected)?;
        let (mut guard, _) = self.lock_session(repository, id).await?;
        let digester = guard.digester.take();
        let (repo, upload, digest) = (repository.clone(), *id, expected.clone());
        let result = self
            .run(move |inner| inner.finish_upload(&repo, &upload, &digest, digester))
            .await;
        if matches!(result, Ok(_) | Err(Error::DigestMismatch { .. })) {
            guard.ended = true;
            self.inner.forget_session(id, &guard);
        }
        result
    }

    async fn cancel_upload(&self, repository: &RepositoryName, id: &UploadId) -> Result<()> {
        let (mut guard, _) = self.lock_session(repository, id).await?;
        let upload = *id;
        self.run(move |inner| inner.remove_upload(&upload)).await?;
        guard.ended = true;
        self.inner.forget_session(id, &guard);
        Ok(())
    }

    async fn purge_expired_uploads(&self, max_age: Duration) -> Result<usize> {
        self.run(move |inner| inner.purge(max_age)).await
    }
}
