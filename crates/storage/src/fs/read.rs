//! Streaming a blob file, or a range of it, in large chunks.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;

use bytes::Bytes;
use futures::{stream, StreamExt};

use crate::error::{Error, Result};
use crate::range::{self, BlobContent, ByteRange};

/// The chunk size of blob streams.
pub(crate) const CHUNK: u64 = 1 << 20;

/// Opens the blob at `path` and positions it at the range's start. Blocking.
/// `None` if there is no such blob.
pub(crate) fn open(
    path: PathBuf,
    range: Option<&ByteRange>,
) -> Result<Option<(File, u64, Range<u64>)>> {
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("open {}", path.display()), e)),
    };
    let size = file
        .metadata()
        .map_err(|e| Error::io(format!("stat {}", path.display()), e))?
        .len();
    let wanted = range::resolve(range, size)?;
    if wanted.start > 0 {
        file.seek(SeekFrom::Start(wanted.start))
            .map_err(|e| Error::io(format!("seek {}", path.display()), e))?;
    }
    Ok(Some((file, size, wanted)))
}

/// Streams `range.end - range.start` bytes from `file`'s current position.
///
/// Each chunk is read on the blocking pool by its own short task, so a slow
/// consumer holds no thread, only an open file.
pub(crate) fn stream(file: File, size: u64, range: Range<u64>) -> BlobContent {
    let remaining = range.end - range.start;
    let chunks = stream::try_unfold((file, remaining), |(file, remaining)| async move {
        if remaining == 0 {
            return Ok(None);
        }
        let want = remaining.min(CHUNK);
        let (file, read) = tokio::task::spawn_blocking(move || {
            let mut buffer = Vec::with_capacity(want as usize);
            // `read_to_end` fills spare capacity without zeroing it first.
            let read = (&file).take(want).read_to_end(&mut buffer).map(|_| buffer);
            (file, read)
        })
        .await
        .map_err(|e| Error::io("read blob", io::Error::other(e)))?;
        let buffer = read.map_err(|e| Error::io("read blob", e))?;
        if buffer.is_empty() {
            // The file shrank under us: only possible if it was modified
            // outside this crate.
            return Err(Error::io(
                "read blob",
                io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "blob file is shorter than its size",
                ),
            ));
        }
        let left = remaining - buffer.len() as u64;
        Ok(Some((Bytes::from(buffer), (file, left))))
    });
    BlobContent {
        size,
        range,
        stream: chunks.boxed(),
    }
}
