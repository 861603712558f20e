//! [`UploadStore`] for [`ObjectStorage`]: sessions that any replica can
//! append to and finish (see the module documentation for the design).

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use futures::{stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::ObjectStoreExt;
use wharf_reference::{Algorithm, Digest, Digester, RepositoryName};

use super::failure::{is_not_found, unavailable};
use super::layout::SessionKey;
use super::session::{now_ms, Created, Record, Session, Step};
use super::writer::Writer;
use super::ObjectStorage;
use crate::error::{Error, Result};
use crate::page::{Page, PageRequest};
use crate::upload::{ensure_supported, UploadId, UploadSession, UploadStatus};
use crate::{ChunkStream, UploadStore};

/// How often a long append or finish refreshes its session's `alive`
/// object, so that purging with a maximum age of a minute or more never
/// removes a session in use.
const ALIVE_EVERY: Duration = Duration::from_secs(30);

/// S3's limit on a server-side copy (`CopyObject`): larger single parts are
/// streamed instead.
const COPY_LIMIT: u64 = 5 << 30;

/// How many times a finish retries sealing when appends keep landing.
const SEAL_ATTEMPTS: usize = 5;

/// Last-modified times may be whole seconds (S3): a session whose coarse
/// age is within this of the limit is decided by its records' own times.
const TIMESTAMP_GRANULARITY: Duration = Duration::from_secs(1);

impl ObjectStorage {
    async fn start_session(
        &self,
        repository: &RepositoryName,
        owner: Option<String>,
    ) -> Result<UploadStatus> {
        let id = UploadId::random();
        let now = now_ms();
        let record = Record {
            repository: repository.clone(),
            owner,
            started_ms: now,
            touched_ms: now,
            offset: 0,
            sha256: Digester::sha256().state(),
            step: Step::Start,
        };
        let path = self.inner.layout.start(&id);
        if self.create_record(&path, &record).await? == Created::Taken
            && self.read_record(&path).await?.as_ref() != Some(&record)
        {
            // Not ours from a retried put whose answer was lost: 128
            // random bits do not collide, so the store is not one to use.
            return Err(Error::Corrupt {
                path: PathBuf::from(path.as_ref()),
                detail: "a fresh upload session id is taken".into(),
            });
        }
        Ok(record.status(&id))
    }

    /// The error for an append at `requested` that another append beat:
    /// the offset the session holds now (or the session is gone).
    async fn lost_race(&self, repository: &RepositoryName, id: &UploadId, requested: u64) -> Error {
        match self.load_session(repository, id).await {
            Ok(session) if session.sealed() => Error::upload_not_found(repository, id),
            Ok(session) => Error::WrongOffset {
                requested,
                current: session.latest.offset,
            },
            Err(e) => e,
        }
    }

    /// The parts of a session in order, `(object, from, to)`, read from
    /// its append records, which must chain from offset 0 to `end`.
    async fn parts(&self, session: &Session, end: u64) -> Result<Vec<(Path, u64, u64)>> {
        let layout = &self.inner.layout;
        let id = session.id;
        let records: Vec<(u64, Option<Record>)> = stream::iter(session.appends.clone())
            .map(|offset| async move {
                let record = self.read_record(&layout.append(&id, offset)).await?;
                Ok::<_, Error>((offset, record))
            })
            .buffered(8)
            .try_collect()
            .await?;
        let corrupt = |detail: String| Error::Corrupt {
            path: PathBuf::from(layout.session(&id).as_ref()),
            detail,
        };
        let mut parts = Vec::new();
        let mut at = 0;
        let records: Option<Vec<(u64, Record)>> = records
            .into_iter()
            .map(|(offset, record)| record.map(|r| (offset, r)))
            .collect();
        let Some(records) = records else {
            // Finished or cancelled meanwhile, elsewhere.
            return Err(Error::upload_not_found(&session.latest.repository, &id));
        };
        for (offset, record) in records {
            match record.step {
                Step::Append { from, part } if from == offset && from == at => {
                    let path = layout.session(&id).join("parts").join(part.as_str());
                    parts.push((path, from, record.offset));
                    at = record.offset;
                }
                Step::Seal if offset == at => {}
                step => {
                    return Err(corrupt(format!(
                        "record at {offset} ({step:?}) does not follow offset {at}"
                    )))
                }
            }
        }
        if at != end {
            return Err(corrupt(format!("the records end at {at}, not {end}")));
        }
        Ok(parts)
    }

    /// Seals session `id` of `repository` so that no append lands any
    /// more, and returns it as sealed.
    async fn seal(&self, repository: &RepositoryName, id: &UploadId) -> Result<Session> {
        for _ in 0..SEAL_ATTEMPTS {
            let session = self.load_session(repository, id).await?;
            if session.sealed() {
                // Another finish sealed it (or one that failed midway).
                return Ok(session);
            }
            let seal = session.latest.next(
                session.latest.offset,
                session.latest.sha256.clone(),
                Step::Seal,
            );
            let at = self.inner.layout.append(id, session.latest.offset);
            if self.create_record(&at, &seal).await? == Created::Made {
                return self.load_session(repository, id).await;
            }
            // An append landed first: seal after it.
        }
        Err(Error::Unavailable {
            service: super::failure::SERVICE,
            context: format!("finish upload {id}"),
            source: "appends kept landing while the session was being sealed".into(),
        })
    }

    /// Assembles the session's `parts` into blob `digest`, verifying the
    /// bytes with `verify` on the way if given (the blob is then made
    /// visible only if they match).
    async fn assemble(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        parts: &[(Path, u64, u64)],
        digest: &Digest,
        mut verify: Option<Digester>,
        exists: bool,
    ) -> Result<()> {
        let store = &self.inner.store;
        if verify.is_none() {
            if exists {
                return Ok(());
            }
            if let [(part, from, to)] = parts {
                if to - from <= COPY_LIMIT {
                    return store
                        .copy(part, &self.inner.layout.blob(digest))
                        .await
                        .map_err(|e| unavailable(format!("copy upload {id} into place"), e));
                }
            }
        }
        let context = format!("assemble upload {id} into blob {digest}");
        let mut writer = (!exists).then(|| {
            Writer::new(
                store.clone(),
                self.inner.layout.blob(digest),
                self.inner.part_size,
            )
        });
        let mut alive = Instant::now();
        for (part, from, to) in parts {
            let mut bytes = match self.stream_range(part, 0..to - from, context.clone()).await {
                Ok(bytes) => bytes,
                Err(e) if is_not_found(&e) => {
                    // Finished or cancelled meanwhile, elsewhere; or lost.
                    let started = self.read_record(&self.inner.layout.start(id)).await?;
                    return Err(match started {
                        None => Error::upload_not_found(repository, id),
                        Some(_) => Error::Corrupt {
                            path: PathBuf::from(part.as_ref()),
                            detail: "a recorded part of the upload is missing".into(),
                        },
                    });
                }
                Err(e) => return Err(unavailable(context, e)),
            };
            while let Some(chunk) = bytes.next().await {
                let chunk = chunk?;
                if let Some(d) = verify.as_mut() {
                    d.update(&chunk);
                }
                if let Some(w) = writer.as_mut() {
                    w.write(chunk)
                        .await
                        .map_err(|e| unavailable(context.clone(), e))?;
                }
                if alive.elapsed() > ALIVE_EVERY {
                    self.keep_alive(id).await?;
                    alive = Instant::now();
                }
            }
        }
        if let Some(d) = verify {
            let actual = d.finish();
            if actual != *digest {
                if let Some(w) = writer {
                    w.abort().await;
                }
                return Err(Error::digest_mismatch(digest, actual));
            }
        }
        match writer {
            Some(writer) => self.commit(writer, digest).await,
            None => Ok(()),
        }
    }
}

#[async_trait]
impl UploadStore for ObjectStorage {
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
        if page.n == Some(0) {
            return Ok(Page::empty());
        }
        let wanted = page.n.map(|n| n + 1);
        let last = page.last.as_deref();
        let layout = &self.inner.layout;
        let uploads = layout.uploads();
        // The longest prefix of `last` that can be in a key.
        let offset = last.map(|last| {
            let safe: String = last
                .chars()
                .take_while(|c| c.is_ascii_digit() || ('a'..='f').contains(c))
                .collect();
            (!safe.is_empty()).then(|| uploads.clone().join(safe.as_str()))
        });
        let mut ids: Vec<UploadId> = Vec::new();
        self.walk(
            &uploads,
            offset.flatten().as_ref(),
            "list upload sessions",
            |meta| {
                if let Some((id, SessionKey::Start)) = layout.session_key(&meta.location) {
                    if last.is_none_or(|last| id.as_str() > last) {
                        ids.push(id);
                    }
                }
                if wanted.is_some_and(|w| ids.len() >= w) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .await?;
        let sessions: Vec<Option<UploadSession>> = stream::iter(ids)
            .map(|id| async move {
                let record = self.read_record(&layout.start(&id)).await?;
                Ok::<_, Error>(record.map(|r| UploadSession::new(id, r.repository, r.owner)))
            })
            .buffered(8)
            .try_collect()
            .await?;
        let sessions: Vec<UploadSession> = sessions.into_iter().flatten().collect();
        Ok(Page::from_sorted_by(sessions, page, |s| s.id.as_str()))
    }

    async fn append_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        offset: u64,
        mut body: ChunkStream,
    ) -> Result<UploadStatus> {
        let session = self.load_session(repository, id).await?;
        if session.sealed() {
            return Err(Error::upload_not_found(repository, id));
        }
        let current = session.latest.offset;
        if offset != current {
            return Err(Error::WrongOffset {
                requested: offset,
                current,
            });
        }
        let layout = &self.inner.layout;
        let part = layout.part(id, offset);
        let mut writer = Writer::new(self.inner.store.clone(), part.clone(), self.inner.part_size);
        let mut digester = Digester::resume(&session.latest.sha256);
        let mut interrupted = None;
        let mut alive = Instant::now();
        let context = || format!("append to upload {id}");
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(source) => {
                    interrupted = Some(source);
                    break;
                }
            };
            if let Err(e) = self.check_size(digester.bytes_hashed() + chunk.len() as u64) {
                writer.abort().await;
                return Err(e);
            }
            digester.update(&chunk);
            if let Err(e) = writer.write(chunk).await {
                writer.abort().await;
                return Err(unavailable(context(), e));
            }
            if alive.elapsed() > ALIVE_EVERY {
                if let Err(e) = self.keep_alive(id).await {
                    writer.abort().await;
                    return Err(e);
                }
                alive = Instant::now();
            }
        }
        let end = digester.bytes_hashed();
        if end == offset {
            writer.abort().await;
            return match interrupted {
                Some(source) => Err(Error::BodyInterrupted { offset, source }),
                None => Ok(session.latest.status(id)),
            };
        }
        writer
            .finish(object_store::PutMode::Overwrite)
            .await
            .map_err(|e| unavailable(context(), e))?;
        let name = part.filename().unwrap_or_default().to_owned();
        let record = session.latest.next(
            end,
            digester.state(),
            Step::Append {
                from: offset,
                part: name.clone(),
            },
        );
        let at = layout.append(id, offset);
        if self.create_record(&at, &record).await? == Created::Taken {
            // Ours, if an earlier attempt of this put landed and only its
            // answer was lost; otherwise another append won the offset.
            let winner = self.read_record(&at).await?;
            let ours = matches!(
                winner.as_ref().map(|r| &r.step),
                Some(Step::Append { part, .. }) if *part == name
            );
            if !ours {
                let _ = self.inner.store.delete(&part).await;
                return Err(self.lost_race(repository, id, offset).await);
            }
        }
        match interrupted {
            Some(source) => Err(Error::BodyInterrupted {
                offset: end,
                source,
            }),
            None => Ok(record.status(id)),
        }
    }

    async fn upload_status(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<UploadStatus> {
        let session = self.load_session(repository, id).await?;
        Ok(session.latest.status(id))
    }

    async fn finish_upload(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
        expected: &Digest,
    ) -> Result<u64> {
        ensure_supported(expected)?;
        let session = self.seal(repository, id).await?;
        let size = session.latest.offset;
        let parts = self.parts(&session, size).await?;
        // SHA-256 is verified from the saved state, without reading the
        // data; other algorithms while the parts are read back.
        let verify = if *expected.algorithm() == Algorithm::Sha256 {
            let actual = Digester::resume(&session.latest.sha256).finish();
            if actual != *expected {
                self.delete_session(id, Some(session.objects)).await?;
                return Err(Error::digest_mismatch(expected, actual));
            }
            None
        } else {
            Some(Digester::new(expected.algorithm().clone()).map_err(Error::from_verify)?)
        };
        // The blob may be stored already (the same content pushed
        // before); if garbage collection condemned it, its verdict is
        // awaited, and an executed blob is written again from the parts,
        // which are kept until the blob is in place.
        let exists = self.blob_exists_for_reference(expected).await?;
        match self
            .assemble(repository, id, &parts, expected, verify, exists)
            .await
        {
            Ok(()) => {}
            Err(e @ Error::DigestMismatch { .. }) => {
                self.delete_session(id, Some(session.objects)).await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        }
        self.delete_session(id, Some(session.objects)).await?;
        Ok(size)
    }

    async fn cancel_upload(&self, repository: &RepositoryName, id: &UploadId) -> Result<()> {
        let session = self.load_session(repository, id).await?;
        self.delete_session(id, Some(session.objects)).await
    }

    async fn purge_expired_uploads(&self, max_age: Duration) -> Result<usize> {
        #[derive(Default)]
        struct Seen {
            started: bool,
            newest: Option<SystemTime>,
            latest_append: Option<u64>,
            alive: bool,
            objects: Vec<object_store::ObjectMeta>,
        }
        let layout = &self.inner.layout;
        let mut sessions: BTreeMap<UploadId, Seen> = BTreeMap::new();
        let mut listing = self.inner.store.list(Some(&layout.uploads()));
        while let Some(meta) = listing
            .try_next()
            .await
            .map_err(|e| unavailable("list upload sessions", e))?
        {
            let Some((id, key)) = layout.session_key(&meta.location) else {
                continue;
            };
            let seen = sessions.entry(id).or_default();
            match key {
                SessionKey::Start => seen.started = true,
                SessionKey::Alive => seen.alive = true,
                SessionKey::Append(offset) => {
                    seen.latest_append = seen.latest_append.max(Some(offset))
                }
                SessionKey::Other(_) => {}
            }
            let modified = SystemTime::from(meta.last_modified);
            seen.newest = seen.newest.max(Some(modified));
            seen.objects.push(meta);
        }
        let now = SystemTime::now();
        let mut purged = 0;
        for (id, seen) in sessions {
            let idle = seen
                .newest
                .map_or(Duration::MAX, |t| now.duration_since(t).unwrap_or_default());
            if idle <= max_age {
                continue;
            }
            if idle <= max_age + TIMESTAMP_GRANULARITY && seen.started {
                // Too close to call with whole-second times: ask the
                // records, which hold milliseconds.
                let latest = match seen.latest_append {
                    Some(offset) => layout.append(&id, offset),
                    None => layout.start(&id),
                };
                let mut touched = self.read_record(&latest).await?.map(|r| r.touched_ms);
                if seen.alive {
                    touched = touched.max(self.alive_ms(&id).await?);
                }
                let touched = UNIX_EPOCH + Duration::from_millis(touched.unwrap_or(0));
                if now.duration_since(touched).unwrap_or_default() <= max_age {
                    continue;
                }
            }
            self.delete_session(&id, Some(seen.objects)).await?;
            if seen.started {
                purged += 1;
            }
        }
        Ok(purged)
    }
}

impl ObjectStorage {
    /// When session `id` was last marked alive, in milliseconds.
    async fn alive_ms(&self, id: &UploadId) -> Result<Option<u64>> {
        let path = self.inner.layout.alive(id);
        match self.inner.store.get(&path).await {
            Ok(result) => {
                let bytes = result
                    .bytes()
                    .await
                    .map_err(|e| unavailable(format!("read {path}"), e))?;
                Ok(std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|s| s.parse().ok()))
            }
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(unavailable(format!("read {path}"), e)),
        }
    }
}
