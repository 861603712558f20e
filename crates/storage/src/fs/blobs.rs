//! Blobs: committing verified content into place, condemning them for
//! garbage collection and taking them back, and [`BlobStore`].

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

use async_trait::async_trait;
use wharf_reference::{Digest, Digester};

use crate::collect::BlobEntry;
use crate::error::{Error, Result};
use crate::page::{Page, PageRequest};
use crate::range::{BlobContent, ByteRange};
use crate::{BlobStore, ChunkStream};

use super::atomic::{
    create_dirs, create_file, fsync_dir, present, remove_file, remove_file_lazily,
};
use super::pipeline::{End, Target};
use super::{atomic, pipeline, read, FsStorage, Inner};

impl Inner {
    /// The digest of a file under `algorithm`, read in large chunks.
    pub(super) fn hash_file(
        &self,
        path: &Path,
        algorithm: &wharf_reference::Algorithm,
    ) -> Result<Digest> {
        let mut digester = Digester::new(algorithm.clone()).map_err(Error::from_verify)?;
        let mut file =
            File::open(path).map_err(|e| Error::io(format!("open {}", path.display()), e))?;
        let mut buffer = vec![0u8; pipeline::BUFFER];
        loop {
            let n = file
                .read(&mut buffer)
                .map_err(|e| Error::io(format!("read {}", path.display()), e))?;
            if n == 0 {
                return Ok(digester.finish());
            }
            digester.update(&buffer[..n]);
        }
    }

    /// Makes a complete, verified file the blob `digest`: fsync, then rename
    /// into place unless the blob is already there (a concurrent or earlier
    /// commit of the same content), in which case the file is dropped.
    pub(super) fn commit_blob(&self, file: &Path, digest: &Digest) -> Result<()> {
        let target = self.layout.blob(digest);
        let context = || format!("commit blob {digest}");
        if target.exists() {
            return fs::remove_file(file).map_err(|e| Error::io(context(), e));
        }
        let opened = File::open(file).map_err(|e| Error::io(context(), e))?;
        opened.sync_all().map_err(|e| Error::io(context(), e))?;
        let len = opened.metadata().map_or(0, |m| m.len());
        pipeline::drop_cached(&opened, len);
        atomic::rename_into_place(file, &target).map_err(|e| Error::io(context(), e))
    }

    /// Whether the blob is stored, taking it back if it is condemned: for
    /// a reference just made to it (see [the protocol](crate::collect)).
    /// The rename back and the collector's removal of the condemned file
    /// cannot both succeed, so either the blob is back or it is gone.
    pub(super) fn take_blob(&self, digest: &Digest) -> Result<bool> {
        let blob = self.layout.blob(digest);
        if blob.is_file() {
            return Ok(true);
        }
        match self.move_blob(&self.layout.condemned_blob(digest), &blob, true) {
            Ok(()) => Ok(true),
            // Not condemned: never stored, executed, or back already (a
            // pardon, another reference, or an upload of the same content).
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(blob.is_file()),
            Err(e) => Err(Error::io(format!("take back condemned blob {digest}"), e)),
        }
    }

    /// The stored blob's size, or [`Error::BlobNotFound`].
    fn blob_len(&self, digest: Digest) -> Result<u64> {
        let path = self.layout.blob(&digest);
        let meta = present(fs::metadata(&path), "stat", &path)?;
        meta.map(|m| m.len()).ok_or(Error::BlobNotFound(digest))
    }

    /// Renames a blob file between the live and the condemned places
    /// (replacing a copy at `to`, which holds the same bytes), and makes
    /// the move durable if `durable`. `NotFound` if there is nothing at
    /// `from`. Condemning need not be durable (a crash that undoes it
    /// leaves the blob stored, as it was); taking a blob back must be (a
    /// link to it exists).
    fn move_blob(&self, from: &Path, to: &Path, durable: bool) -> io::Result<()> {
        let parent = to
            .parent()
            .ok_or_else(|| io::Error::other("blob path has no parent directory"))?;
        if !from.is_file() {
            return Err(io::ErrorKind::NotFound.into());
        }
        create_dirs(parent)?;
        fs::rename(from, to)?;
        if !durable {
            return Ok(());
        }
        fsync_dir(parent)?;
        match from.parent() {
            Some(source) => fsync_dir(source),
            None => Ok(()),
        }
    }
}

#[async_trait]
impl BlobStore for FsStorage {
    async fn blob_size(&self, digest: &Digest) -> Result<u64> {
        let digest = digest.clone();
        self.run(move |inner| inner.blob_len(digest)).await
    }

    async fn read_blob(&self, digest: &Digest, range: Option<ByteRange>) -> Result<BlobContent> {
        let digest = digest.clone();
        let path = self.inner.layout.blob(&digest);
        let opened = self.run(move |_| read::open(path, range.as_ref())).await?;
        let (file, size, range) = opened.ok_or(Error::BlobNotFound(digest))?;
        Ok(read::stream(file, size, range, &self.inner.streams))
    }

    async fn put_blob(&self, digest: &Digest, body: ChunkStream) -> Result<u64> {
        let digester = Digester::new(digest.algorithm().clone()).map_err(Error::from_verify)?;
        let temp = self.inner.layout.temp_file();
        let file = {
            let temp = temp.clone();
            self.run(move |_| {
                create_file(&temp).map_err(|e| Error::io(format!("create {}", temp.display()), e))
            })
            .await?
        };
        let target = Target {
            file,
            start: 0,
            guard: (),
        };
        let (_, pumped) = pipeline::pump(
            target,
            body,
            Some(digester),
            self.inner.max_blob_size,
            &self.inner.buffers,
        )
        .await;
        let digest = digest.clone();
        let too_large = self.too_large();
        self.run(move |inner| {
            let outcome = (|| {
                let pumped = pumped?;
                match pumped.end {
                    End::Complete => {}
                    End::BodyFailed(source) => {
                        return Err(Error::BodyInterrupted { offset: 0, source })
                    }
                    End::TooLarge => return Err(too_large),
                }
                let actual = pumped
                    .digester
                    .ok_or_else(|| Error::io("hash blob", io::Error::other("no digest computed")))?
                    .finish();
                if actual != digest {
                    return Err(Error::digest_mismatch(&digest, actual));
                }
                inner.commit_blob(&temp, &digest)?;
                Ok(pumped.len)
            })();
            if outcome.is_err() {
                let _ = fs::remove_file(&temp);
            }
            outcome
        })
        .await
    }

    async fn delete_blob(&self, digest: &Digest) -> Result<()> {
        let digest = digest.clone();
        self.run(move |inner| {
            if remove_file(&inner.layout.blob(&digest))? {
                Ok(())
            } else {
                Err(Error::BlobNotFound(digest))
            }
        })
        .await
    }

    async fn list_blobs(&self, page: &PageRequest) -> Result<Page<Digest>> {
        self.run_page(page, Inner::blobs_page).await
    }

    async fn claim_blob(&self, digest: &Digest) -> Result<u64> {
        let digest = digest.clone();
        self.run(move |inner| {
            if !inner.take_blob(&digest)? {
                return Err(Error::BlobNotFound(digest));
            }
            inner.blob_len(digest)
        })
        .await
    }

    async fn list_blob_entries(&self, page: &PageRequest) -> Result<Page<BlobEntry>> {
        self.run_page(page, Inner::blob_entries_page).await
    }

    async fn condemn_blob(&self, digest: &Digest) -> Result<bool> {
        let digest = digest.clone();
        self.run(move |inner| {
            let condemned = inner.layout.condemned_blob(&digest);
            match inner.move_blob(&inner.layout.blob(&digest), &condemned, false) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(condemned.is_file()),
                Err(e) => Err(Error::io(format!("condemn blob {digest}"), e)),
            }
        })
        .await
    }

    async fn pardon_blob(&self, digest: &Digest) -> Result<()> {
        let digest = digest.clone();
        self.run(move |inner| {
            let (condemned, blob) = (
                inner.layout.condemned_blob(&digest),
                inner.layout.blob(&digest),
            );
            match inner.move_blob(&condemned, &blob, true) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Error::io(format!("pardon blob {digest}"), e)),
            }
        })
        .await
    }

    async fn execute_blob(&self, digest: &Digest) -> Result<bool> {
        let digest = digest.clone();
        // Fails (false) if a new reference took the blob back first.
        // Not made durable: a crash that undoes it leaves the blob
        // condemned, and the next collection removes it again.
        self.run(move |inner| remove_file_lazily(&inner.layout.condemned_blob(&digest)))
            .await
    }

    async fn condemned_blobs(&self, page: &PageRequest) -> Result<Page<Digest>> {
        self.run_page(page, |inner, page| {
            inner.digests_page(&inner.layout.condemned_blobs(), page)
        })
        .await
    }
}
