//! Upload sessions as objects: their records, and reading a session back
//! from the bucket.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt, PutMode, PutPayload};
use serde::{Deserialize, Serialize};
use wharf_reference::{DigesterState, RepositoryName};

use super::failure::{is_not_found, is_taken, unavailable};
use super::layout::SessionKey;
use super::ObjectStorage;
use crate::error::{Error, Result};
use crate::upload::{UploadId, UploadStatus};

/// What a session's `start` and `appends/<offset>` objects hold. Each
/// record repeats the session's repository, owner and start time, so that
/// one read of the latest record tells everything an append needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Record {
    pub(super) repository: RepositoryName,
    pub(super) owner: Option<String>,
    /// When the session was started, in milliseconds since the epoch.
    pub(super) started_ms: u64,
    /// When this record was written (the writer's clock), in milliseconds.
    pub(super) touched_ms: u64,
    /// The session's size once this record exists.
    pub(super) offset: u64,
    /// The SHA-256 state after those bytes.
    pub(super) sha256: DigesterState,
    pub(super) step: Step,
}

/// What a record records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(super) enum Step {
    /// The session was started.
    Start,
    /// Bytes `from..offset` were appended, held by the object `part`
    /// (its name under the session's `parts/`).
    Append { from: u64, part: String },
    /// The session is being finished: no append can land any more.
    Seal,
}

impl Record {
    pub(super) fn status(&self, id: &UploadId) -> UploadStatus {
        UploadStatus::new(
            *id,
            self.repository.clone(),
            self.offset,
            UNIX_EPOCH + Duration::from_millis(self.started_ms),
        )
    }

    /// This record's successor written now by `step`.
    pub(super) fn next(&self, offset: u64, sha256: DigesterState, step: Step) -> Record {
        Record {
            repository: self.repository.clone(),
            owner: self.owner.clone(),
            started_ms: self.started_ms,
            touched_ms: now_ms(),
            offset,
            sha256,
            step,
        }
    }
}

pub(super) fn now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// A session as read from the bucket.
#[derive(Debug)]
pub(super) struct Session {
    pub(super) id: UploadId,
    /// The latest record: the append at the greatest offset, or the start.
    pub(super) latest: Record,
    /// The offsets of the append (and seal) records, ascending.
    pub(super) appends: Vec<u64>,
    /// Every object of the session.
    pub(super) objects: Vec<ObjectMeta>,
}

impl Session {
    pub(super) fn sealed(&self) -> bool {
        self.latest.step == Step::Seal
    }
}

/// Whether a create-only put made the object or found it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Created {
    Made,
    Taken,
}

impl ObjectStorage {
    /// Every object of session `id`, whatever the store's listing order.
    pub(super) async fn session_objects(&self, id: &UploadId) -> Result<Vec<ObjectMeta>> {
        let prefix = self.inner.layout.session(id);
        let mut objects: Vec<ObjectMeta> = self
            .inner
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| unavailable(format!("list upload session {id}"), e))?;
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(objects)
    }

    /// Reads session `id` of `repository`: one listing and one read.
    pub(super) async fn load_session(
        &self,
        repository: &RepositoryName,
        id: &UploadId,
    ) -> Result<Session> {
        let objects = self.session_objects(id).await?;
        let layout = &self.inner.layout;
        let mut started = false;
        let mut appends = Vec::new();
        for meta in &objects {
            match layout.session_key(&meta.location) {
                Some((_, SessionKey::Start)) => started = true,
                Some((_, SessionKey::Append(offset))) => appends.push(offset),
                _ => {}
            }
        }
        if !started {
            return Err(Error::upload_not_found(repository, id));
        }
        appends.sort_unstable();
        let latest_key = match appends.last() {
            Some(offset) => layout.append(id, *offset),
            None => layout.start(id),
        };
        let latest = self
            .read_record(&latest_key)
            .await?
            .ok_or_else(|| Error::upload_not_found(repository, id))?;
        if &latest.repository != repository {
            return Err(Error::upload_not_found(repository, id));
        }
        Ok(Session {
            id: *id,
            latest,
            appends,
            objects,
        })
    }

    /// The record at `path`, or `None` if there is none.
    pub(super) async fn read_record(&self, path: &Path) -> Result<Option<Record>> {
        let context = || format!("read upload record {path}");
        let bytes = match self.inner.store.get(path).await {
            Ok(result) => result
                .bytes()
                .await
                .map_err(|e| unavailable(context(), e))?,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(unavailable(context(), e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Corrupt {
                path: PathBuf::from(path.as_ref()),
                detail: e.to_string(),
            })
    }

    /// Writes `record` at `path` unless an object is there already.
    pub(super) async fn create_record(&self, path: &Path, record: &Record) -> Result<Created> {
        let json = serde_json::to_vec(record).map_err(|e| Error::Corrupt {
            path: PathBuf::from(path.as_ref()),
            detail: format!("cannot serialize an upload record: {e}"),
        })?;
        let put = self
            .inner
            .store
            .put_opts(path, PutPayload::from(json), PutMode::Create.into())
            .await;
        match put {
            Ok(_) => Ok(Created::Made),
            Err(e) if is_taken(&e) => Ok(Created::Taken),
            Err(e) => Err(unavailable(format!("write upload record {path}"), e)),
        }
    }

    /// Records that session `id` is busy (a long append or finish), so that
    /// purging expired sessions leaves it alone.
    pub(super) async fn keep_alive(&self, id: &UploadId) -> Result<()> {
        let path = self.inner.layout.alive(id);
        self.inner
            .store
            .put(&path, PutPayload::from(now_ms().to_string()))
            .await
            .map(drop)
            .map_err(|e| unavailable(format!("mark upload session {id} alive"), e))
    }

    /// Deletes the objects of session `id` (listed if not given): `start`
    /// first, so that the session is gone for every replica at once, and a
    /// crash midway leaves only objects that purging removes.
    pub(super) async fn delete_session(
        &self,
        id: &UploadId,
        objects: Option<Vec<ObjectMeta>>,
    ) -> Result<()> {
        let objects = match objects {
            Some(objects) => objects,
            None => self.session_objects(id).await?,
        };
        let context = || format!("delete upload session {id}");
        let start = self.inner.layout.start(id);
        match self.inner.store.delete(&start).await {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(unavailable(context(), e)),
        }
        let rest: Vec<object_store::Result<Path>> = objects
            .into_iter()
            .map(|meta| meta.location)
            .filter(|path| *path != start)
            .map(Ok)
            .collect();
        let mut deleted = self
            .inner
            .store
            .delete_stream(futures::stream::iter(rest).boxed());
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) => {}
                Err(e) if is_not_found(&e) => {}
                Err(e) => return Err(unavailable(context(), e)),
            }
        }
        Ok(())
    }
}
