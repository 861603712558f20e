//! Streaming a blob file, or a range of it, in large chunks.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::{stream, StreamExt};

use crate::error::{Error, Result};
use crate::range::{self, BlobContent, ByteRange};

use super::pool::Pool;

/// The chunk size of blob streams.
pub(crate) const CHUNK: u64 = 1 << 20;

/// Opens the blob at `path` and resolves the range against its size.
/// Blocking.
/// `None` if there is no such blob.
pub(crate) fn open(
    path: PathBuf,
    range: Option<&ByteRange>,
) -> Result<Option<(File, u64, Range<u64>)>> {
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("open {}", path.display()), e)),
    };
    let size = file
        .metadata()
        .map_err(|e| Error::io(format!("stat {}", path.display()), e))?
        .len();
    let wanted = range::resolve(range, size)?;
    Ok(Some((file, size, wanted)))
}

/// Reads at `offset` until `buffer` is full or the file ends, without
/// moving (or sharing) a file cursor, so several reads can be in flight.
fn read_full_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match read_at(file, &mut buffer[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(unix)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buffer, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buffer, offset)
}

/// How many idle buffers a stream keeps.
const POOL_KEEP: usize = 4;

/// Chunks being read ahead of the consumer. Two keep the copy from the page
/// cache going while the previous chunk is handed over.
const READ_AHEAD: usize = 2;

/// A chunk being read on the blocking pool: the buffer and how many bytes
/// were read into it.
type Reading = tokio::task::JoinHandle<(Vec<u8>, io::Result<usize>)>;

/// The state of a blob stream.
struct Reader {
    file: Arc<File>,
    pool: Arc<Pool>,
    buffer_size: usize,
    /// Where the next read to start begins, and where the range ends.
    next: u64,
    end: u64,
    /// Reads in flight, in order, with their expected lengths.
    in_flight: VecDeque<(Reading, usize)>,
}

impl Reader {
    /// Starts reads until `READ_AHEAD` are in flight or the range is covered.
    fn fill(&mut self) {
        while self.in_flight.len() < READ_AHEAD && self.next < self.end {
            let want = (self.end - self.next).min(CHUNK) as usize;
            let offset = self.next;
            let mut buffer = self.pool.take();
            if buffer.len() < self.buffer_size {
                // Zeroed once, then reused: calloc'd pages cost nothing
                // until the first read fills them.
                buffer = vec![0; self.buffer_size];
            }
            let file = Arc::clone(&self.file);
            let reading = tokio::task::spawn_blocking(move || {
                let read = read_full_at(&file, &mut buffer[..want], offset);
                (buffer, read)
            });
            self.in_flight.push_back((reading, want));
            self.next += want as u64;
        }
    }

    async fn next_chunk(mut self) -> Result<Option<(Bytes, Reader)>> {
        self.fill();
        let Some((reading, want)) = self.in_flight.pop_front() else {
            return Ok(None);
        };
        let (buffer, read) = reading
            .await
            .map_err(|e| Error::io("read blob", io::Error::other(e)))?;
        let len = read.map_err(|e| Error::io("read blob", e))?;
        if len < want {
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
        self.fill();
        let chunk = self.pool.lend(buffer, len);
        Ok(Some((chunk, self)))
    }
}

/// Streams the bytes of `range` from `file`.
///
/// Each chunk is read on the blocking pool by its own short task, so a slow
/// consumer holds no thread, only an open file; a couple of chunks are read
/// ahead while the consumer handles the current one.
pub(crate) fn stream(file: File, size: u64, range: Range<u64>) -> BlobContent {
    let mut reader = Reader {
        file: Arc::new(file),
        // A consumer that drops each chunk before asking for the next keeps
        // a few buffers cycling: reading costs one copy from the page cache
        // and no allocation, page faults or zeroing per chunk.
        pool: Pool::new(POOL_KEEP),
        // Every chunk but the last has this size; small blobs get small
        // buffers.
        buffer_size: (range.end - range.start).min(CHUNK) as usize,
        next: range.start,
        end: range.end,
        in_flight: VecDeque::new(),
    };
    reader.fill();
    BlobContent {
        size,
        range,
        stream: stream::try_unfold(reader, Reader::next_chunk).boxed(),
    }
}
