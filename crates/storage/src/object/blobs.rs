//! [`BlobStore`] for [`ObjectStorage`]: verified writes, ranged streamed
//! reads, listings in digest order.

use std::collections::BTreeSet;
use std::ops::Range;
use std::time::SystemTime;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{stream, StreamExt};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStoreExt, PutMode, PutPayload};
use wharf_reference::{Digest, Digester};

use super::failure::{is_not_found, is_taken, unavailable};
use super::listing::Listed;
use super::session::now_ms;
use super::writer::Writer;
use super::ObjectStorage;
use crate::collect::BlobEntry;
use crate::error::{Error, Result};
use crate::page::{Page, PageRequest};
use crate::range::{self, BlobContent, ByteRange};
use crate::{BlobStore, ByteStream, ChunkStream};

impl ObjectStorage {
    /// Whether blob `digest` is stored.
    pub(super) async fn blob_exists(&self, digest: &Digest) -> Result<bool> {
        match self.inner.store.head(&self.inner.layout.blob(digest)).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(unavailable(format!("look up blob {digest}"), e)),
        }
    }

    /// Makes what `writer` wrote the blob `digest`, which must be verified:
    /// a create-only put (a blob already there is the same content) or the
    /// multipart upload's completion.
    pub(super) async fn commit(&self, writer: Writer, digest: &Digest) -> Result<()> {
        let mode = if writer.is_multipart() {
            PutMode::Overwrite
        } else {
            PutMode::Create
        };
        match writer.finish(mode).await {
            Ok(()) => Ok(()),
            Err(e) if is_taken(&e) => Ok(()),
            Err(e) => Err(unavailable(format!("store blob {digest}"), e)),
        }
    }

    /// Opens `range` of the object at `path` as a stream that ends with an
    /// error if the store's stream fails or ends short.
    pub(super) async fn stream_range(
        &self,
        path: &Path,
        range: Range<u64>,
        context: String,
    ) -> object_store::Result<ByteStream> {
        let options = GetOptions {
            range: Some(GetRange::Bounded(range.clone())),
            ..GetOptions::default()
        };
        let result = self.inner.store.get_opts(path, options).await?;
        Ok(exactly(
            result.into_stream(),
            range.end - range.start,
            context,
        ))
    }
}

/// `inner`, checked to yield exactly `len` bytes: a failure, or an end
/// before `len` bytes, is an [`Error::Unavailable`] item, so that a reader
/// never mistakes a cut stream for the whole range.
fn exactly(
    inner: futures::stream::BoxStream<'static, object_store::Result<Bytes>>,
    len: u64,
    context: String,
) -> ByteStream {
    struct State {
        inner: futures::stream::BoxStream<'static, object_store::Result<Bytes>>,
        left: u64,
        context: String,
        done: bool,
    }
    let state = State {
        inner,
        left: len,
        context,
        done: false,
    };
    stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        match s.inner.next().await {
            Some(Ok(mut chunk)) => {
                if chunk.len() as u64 > s.left {
                    chunk.truncate(s.left as usize);
                }
                s.left -= chunk.len() as u64;
                Some((Ok(chunk), s))
            }
            Some(Err(e)) => {
                s.done = true;
                let context = std::mem::take(&mut s.context);
                Some((Err(unavailable(context, e)), s))
            }
            None if s.left > 0 => {
                s.done = true;
                let error = Error::Unavailable {
                    service: super::failure::SERVICE,
                    context: std::mem::take(&mut s.context),
                    source: format!("the object store's stream ended {} bytes early", s.left)
                        .into(),
                };
                Some((Err(error), s))
            }
            None => None,
        }
    })
    .boxed()
}

#[async_trait]
impl BlobStore for ObjectStorage {
    async fn blob_size(&self, digest: &Digest) -> Result<u64> {
        match self.inner.store.head(&self.inner.layout.blob(digest)).await {
            Ok(meta) => Ok(meta.size),
            Err(e) if is_not_found(&e) => Err(Error::BlobNotFound(digest.clone())),
            Err(e) => Err(unavailable(format!("look up blob {digest}"), e)),
        }
    }

    async fn read_blob(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobContent> {
        let size = self.blob_size(digest).await?;
        let wanted = range::resolve(range.as_ref(), size)?;
        if wanted.is_empty() {
            return Ok(BlobContent::new(size, wanted, stream::empty().boxed()));
        }
        let path = self.inner.layout.blob(digest);
        let context = format!("read blob {digest}");
        let stream = match self
            .stream_range(&path, wanted.clone(), context.clone())
            .await
        {
            Ok(stream) => stream,
            // Deleted between the two requests.
            Err(e) if is_not_found(&e) => return Err(Error::BlobNotFound(digest.clone())),
            Err(e) => return Err(unavailable(context, e)),
        };
        Ok(BlobContent::new(size, wanted, stream))
    }

    async fn put_blob(&self, digest: &Digest, mut body: ChunkStream) -> Result<u64> {
        let mut digester = Digester::new(digest.algorithm().clone()).map_err(Error::from_verify)?;
        // A condemned blob may be executed before the caller links it:
        // wait for its verdict, and write it if it went.
        let exists = self.blob_exists_for_reference(digest).await?;
        let mut writer = (!exists).then(|| {
            Writer::new(
                self.inner.store.clone(),
                self.inner.layout.blob(digest),
                self.inner.part_size,
            )
        });
        let abort = |writer: Option<Writer>| async move {
            if let Some(writer) = writer {
                writer.abort().await;
            }
        };
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(source) => {
                    abort(writer).await;
                    return Err(Error::BodyInterrupted { offset: 0, source });
                }
            };
            if let Err(e) = self.check_size(digester.bytes_hashed() + chunk.len() as u64) {
                abort(writer).await;
                return Err(e);
            }
            digester.update(&chunk);
            if let Some(w) = writer.as_mut() {
                if let Err(e) = w.write(chunk).await {
                    abort(writer).await;
                    return Err(unavailable(format!("store blob {digest}"), e));
                }
            }
        }
        let size = digester.bytes_hashed();
        let actual = digester.finish();
        if actual != *digest {
            abort(writer).await;
            return Err(Error::digest_mismatch(digest, actual));
        }
        if let Some(writer) = writer {
            self.commit(writer, digest).await?;
        }
        Ok(size)
    }

    async fn delete_blob(&self, digest: &Digest) -> Result<()> {
        // S3 deletes a missing key without complaint: look first.
        if !self.blob_exists(digest).await? {
            return Err(Error::BlobNotFound(digest.clone()));
        }
        match self
            .inner
            .store
            .delete(&self.inner.layout.blob(digest))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if is_not_found(&e) => Err(Error::BlobNotFound(digest.clone())),
            Err(e) => Err(unavailable(format!("delete blob {digest}"), e)),
        }
    }

    async fn list_blobs(&self, page: &PageRequest) -> Result<Page<Digest>> {
        let found = self.list_stored(page).await?;
        let digests = found.into_iter().map(|(digest, _)| digest);
        Ok(Page::from_sorted_by(digests, page, Digest::as_str))
    }

    /// Waits for the verdict while the blob is condemned (see [garbage
    /// collection](ObjectStorage#garbage-collection)), then looks it up.
    async fn claim_blob(&self, digest: &Digest) -> Result<u64> {
        self.await_verdict(digest).await?;
        self.blob_size(digest).await
    }

    async fn list_blob_entries(&self, page: &PageRequest) -> Result<Page<BlobEntry>> {
        let found = self.list_stored(page).await?;
        let entries = found.into_iter().map(|(digest, meta)| {
            BlobEntry::new(digest, meta.size, SystemTime::from(meta.last_modified))
        });
        Ok(Page::from_sorted_by(entries, page, |e| e.digest.as_str()))
    }

    /// Creates the blob's marker (create-only; one already there is
    /// fine) if the blob object exists.
    async fn condemn_blob(&self, digest: &Digest) -> Result<bool> {
        if !self.blob_exists(digest).await? {
            return Ok(false);
        }
        let marker = self.inner.layout.condemned(digest);
        let put = self
            .inner
            .store
            .put_opts(
                &marker,
                PutPayload::from(now_ms().to_string()),
                PutMode::Create.into(),
            )
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if is_taken(&e) => Ok(true),
            Err(e) => Err(unavailable(format!("condemn blob {digest}"), e)),
        }
    }

    async fn pardon_blob(&self, digest: &Digest) -> Result<()> {
        self.delete_marker(digest, "pardon").await
    }

    /// Deletes the blob object, then its marker: a crash in between leaves
    /// a marker without a blob, still listed by
    /// [`condemned_blobs`](BlobStore::condemned_blobs), which the next
    /// pardon or execution removes.
    async fn execute_blob(&self, digest: &Digest) -> Result<bool> {
        if !self.is_condemned(digest).await? {
            return Ok(false);
        }
        match self
            .inner
            .store
            .delete(&self.inner.layout.blob(digest))
            .await
        {
            Ok(()) => {}
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(unavailable(format!("execute blob {digest}"), e)),
        }
        self.delete_marker(digest, "execute").await?;
        Ok(true)
    }

    async fn condemned_blobs(&self, page: &PageRequest) -> Result<Page<Digest>> {
        let found = self
            .list_digests(Listed::Condemned, page, &BTreeSet::new())
            .await?;
        let digests = found.into_iter().map(|(digest, _)| digest);
        Ok(Page::from_sorted_by(digests, page, Digest::as_str))
    }
}
