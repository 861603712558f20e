//! [`BlobStore`] for [`MemoryStorage`].

use async_trait::async_trait;
use futures::{stream, StreamExt};
use wharf_reference::{Digest, Digester};

use crate::collect::BlobEntry;
use crate::error::{Error, Result};
use crate::page::{Page, PageRequest};
use crate::range::{self, BlobContent, ByteRange};
use crate::{BlobStore, ChunkStream};

use super::{after_bound, page_of_keys, Blob, MemoryStorage};

#[async_trait]
impl BlobStore for MemoryStorage {
    async fn blob_size(&self, digest: &Digest) -> Result<u64> {
        self.state()
            .blobs
            .get(digest)
            .map(|b| b.size)
            .ok_or_else(|| Error::BlobNotFound(digest.clone()))
    }

    async fn read_blob(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobContent> {
        let blob = self
            .state()
            .blobs
            .get(digest)
            .cloned()
            .ok_or_else(|| Error::BlobNotFound(digest.clone()))?;
        let wanted = range::resolve(range.as_ref(), blob.size)?;
        let mut pieces = Vec::new();
        let mut at = 0u64;
        for chunk in &blob.chunks {
            let (start, end) = (at, at + chunk.len() as u64);
            at = end;
            if end <= wanted.start || start >= wanted.end {
                continue;
            }
            let from = wanted.start.saturating_sub(start) as usize;
            let to = (wanted.end.min(end) - start) as usize;
            pieces.push(Ok(chunk.slice(from..to)));
        }
        Ok(BlobContent {
            size: blob.size,
            range: wanted,
            stream: stream::iter(pieces).boxed(),
        })
    }

    async fn put_blob(&self, digest: &Digest, mut body: ChunkStream) -> Result<u64> {
        let mut digester = Digester::new(digest.algorithm().clone()).map_err(Error::from_verify)?;
        let mut chunks = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|source| Error::BodyInterrupted { offset: 0, source })?;
            self.check_size(digester.bytes_hashed() + chunk.len() as u64)?;
            digester.update(&chunk);
            chunks.push(chunk);
        }
        let size = digester.bytes_hashed();
        let actual = digester.finish();
        if actual != *digest {
            return Err(Error::digest_mismatch(digest, actual));
        }
        self.state()
            .blobs
            .entry(digest.clone())
            .or_insert_with(|| Blob::new(chunks, size));
        Ok(size)
    }

    async fn delete_blob(&self, digest: &Digest) -> Result<()> {
        self.state()
            .blobs
            .remove(digest)
            .map(drop)
            .ok_or_else(|| Error::BlobNotFound(digest.clone()))
    }

    async fn list_blobs(&self, page: &PageRequest) -> Result<Page<Digest>> {
        Ok(page_of_keys(&self.state().blobs, page))
    }

    async fn list_blob_entries(&self, page: &PageRequest) -> Result<Page<BlobEntry>> {
        let state = self.state();
        let after = state.blobs.range::<str, _>(after_bound(page));
        Ok(Page::from_sorted(
            after.map(|(digest, blob)| BlobEntry::new(digest.clone(), blob.size, blob.stored)),
            page,
        ))
    }

    async fn condemn_blob(&self, digest: &Digest) -> Result<bool> {
        let mut state = self.state();
        match state.blobs.remove(digest) {
            Some(blob) => {
                state.condemned.insert(digest.clone(), blob);
                Ok(true)
            }
            None => Ok(state.condemned.contains_key(digest)),
        }
    }

    async fn pardon_blob(&self, digest: &Digest) -> Result<()> {
        self.state().take_back(digest);
        Ok(())
    }

    async fn execute_blob(&self, digest: &Digest) -> Result<bool> {
        Ok(self.state().condemned.remove(digest).is_some())
    }

    async fn condemned_blobs(&self, page: &PageRequest) -> Result<Page<Digest>> {
        Ok(page_of_keys(&self.state().condemned, page))
    }
}
