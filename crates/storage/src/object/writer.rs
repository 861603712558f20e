//! [`Writer`]: one object written from a stream, in one put when it is
//! small and as a multipart upload when it is not, never held whole.

use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, WriteMultipart};

/// How many parts of one object are uploaded at once. With the part size,
/// this bounds the memory of a write: about `(PARTS_IN_FLIGHT + 1) *
/// part_size`.
const PARTS_IN_FLIGHT: usize = 2;

/// Writes one object. Bytes are buffered up to one part; an object that
/// stays within one part is written by a single put (which can be
/// create-only), a larger one by a multipart upload whose parts are all
/// `part_size` bytes but the last. Nothing is visible under the key until
/// [`finish`](Writer::finish); [`abort`](Writer::abort), or dropping the
/// writer, abandons the multipart upload.
pub(super) struct Writer {
    store: Arc<dyn ObjectStore>,
    path: Path,
    part_size: usize,
    buffered: Vec<Bytes>,
    buffered_len: usize,
    multipart: Option<WriteMultipart>,
}

impl Writer {
    pub(super) fn new(store: Arc<dyn ObjectStore>, path: Path, part_size: usize) -> Self {
        Writer {
            store,
            path,
            part_size,
            buffered: Vec::new(),
            buffered_len: 0,
            multipart: None,
        }
    }

    /// Adds `chunk`, waiting while too many parts are in flight.
    pub(super) async fn write(&mut self, chunk: Bytes) -> object_store::Result<()> {
        if let Some(multipart) = &mut self.multipart {
            multipart.wait_for_capacity(PARTS_IN_FLIGHT).await?;
            multipart.put(chunk);
            return Ok(());
        }
        self.buffered_len += chunk.len();
        self.buffered.push(chunk);
        if self.buffered_len > self.part_size {
            let upload = self.store.put_multipart(&self.path).await?;
            let mut multipart = WriteMultipart::new_with_chunk_size(upload, self.part_size);
            for chunk in self.buffered.drain(..) {
                multipart.put(chunk);
            }
            self.buffered_len = 0;
            self.multipart = Some(multipart);
        }
        Ok(())
    }

    /// Whether the object is being written as a multipart upload (so that
    /// [`finish`](Writer::finish) cannot be create-only).
    pub(super) fn is_multipart(&self) -> bool {
        self.multipart.is_some()
    }

    /// Makes the object visible under its key: one put with `mode`, or the
    /// multipart upload's completion (which always overwrites).
    pub(super) async fn finish(mut self, mode: PutMode) -> object_store::Result<()> {
        match self.multipart.take() {
            Some(multipart) => multipart.finish().await.map(drop),
            None => {
                let payload: PutPayload = std::mem::take(&mut self.buffered).into_iter().collect();
                self.store
                    .put_opts(&self.path, payload, mode.into())
                    .await
                    .map(drop)
            }
        }
    }

    /// Abandons the object: nothing becomes visible, the parts uploaded so
    /// far are discarded.
    pub(super) async fn abort(mut self) {
        if let Some(multipart) = self.multipart.take() {
            // Best effort: an upload left incomplete is invisible, and
            // buckets expire them by lifecycle rule.
            let _ = multipart.abort().await;
        }
    }
}

impl Drop for Writer {
    /// A writer dropped midway (a cancelled request) abandons its multipart
    /// upload in the background, so that its parts do not linger.
    fn drop(&mut self) {
        if let Some(multipart) = self.multipart.take() {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    let _ = multipart.abort().await;
                });
            }
        }
    }
}
