//! Streaming a blob file, or a range of it, in large chunks.

use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::{stream, StreamExt};

use crate::error::{Error, Result};
use crate::range::{self, BlobContent, ByteRange};

use super::pool::Pool;

/// The chunk size of a blob stream that has the read-ahead budget to itself.
const CHUNK: u64 = 1 << 20;

/// The smallest chunk size, however many streams share the budget.
const MIN_CHUNK: u64 = 64 << 10;

/// Read-ahead memory shared by the open streams of one storage: each stream
/// starts with chunks of `BUDGET / open streams`, between `MIN_CHUNK` and
/// `CHUNK`. One or a few streams read in 1 MiB chunks (the fastest through
/// the page cache); sixteen concurrent pulls get 256 KiB each, so their
/// buffers stay about as large in total as those of four.
const BUDGET: u64 = 4 << 20;

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

/// How many blob streams of one storage are open.
#[derive(Debug, Default)]
pub(crate) struct OpenStreams(AtomicUsize);

impl OpenStreams {
    /// Counts a new stream until the returned guard is dropped; returns the
    /// chunk size it gets.
    fn open(self: &Arc<Self>) -> (Open, u64) {
        let open = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        let chunk = (BUDGET / open as u64).clamp(MIN_CHUNK, CHUNK);
        (Open(Arc::clone(self)), chunk)
    }
}

/// One open stream, counted in [`OpenStreams`] while it lives.
struct Open(Arc<OpenStreams>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The state of a blob stream.
struct Reader {
    file: Arc<File>,
    pool: Arc<Pool>,
    /// The size of every chunk but the last.
    chunk: u64,
    buffer_size: usize,
    /// Where the next read to start begins, and where the range ends.
    next: u64,
    end: u64,
    /// Reads in flight, in order, with their expected lengths.
    in_flight: VecDeque<(Reading, usize)>,
    _open: Open,
}

impl Reader {
    /// Starts reads until `READ_AHEAD` are in flight or the range is covered.
    fn fill(&mut self) {
        while self.in_flight.len() < READ_AHEAD && self.next < self.end {
            let want = (self.end - self.next).min(self.chunk) as usize;
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

/// Streams the bytes of `range` from `file`, counted among `streams`.
///
/// Each chunk is read on the blocking pool by its own short task, so a slow
/// consumer holds no thread, only an open file; a couple of chunks are read
/// ahead while the consumer handles the current one.
pub(crate) fn stream(
    file: File,
    size: u64,
    range: Range<u64>,
    streams: &Arc<OpenStreams>,
) -> BlobContent {
    let (open, chunk) = streams.open();
    let mut reader = Reader {
        file: Arc::new(file),
        // A consumer that drops each chunk before asking for the next keeps
        // a few buffers cycling: reading costs one copy from the page cache
        // and no allocation, page faults or zeroing per chunk.
        pool: Pool::new(POOL_KEEP),
        chunk,
        // Small blobs get small buffers.
        buffer_size: (range.end - range.start).min(chunk) as usize,
        next: range.start,
        end: range.end,
        in_flight: VecDeque::new(),
        _open: open,
    };
    reader.fill();
    BlobContent {
        size,
        range,
        stream: stream::try_unfold(reader, Reader::next_chunk).boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_shrink_as_more_streams_share_the_read_ahead_budget() {
        let streams = Arc::new(OpenStreams::default());
        // (streams open once this one is, its chunk size)
        let table = [
            (1, 1 << 20),
            (4, 1 << 20),
            (5, 838_860),
            (8, 512 << 10),
            (16, 256 << 10),
            (64, 64 << 10),
            (65, 64 << 10),
        ];
        let mut open = Vec::new();
        for (count, chunk) in table {
            while open.len() + 1 < count {
                open.push(streams.open().0);
            }
            let (guard, got) = streams.open();
            assert_eq!(got, chunk, "with {count} streams open");
            open.push(guard);
        }
    }

    #[test]
    fn a_closed_stream_gives_its_share_back() {
        let streams = Arc::new(OpenStreams::default());
        let open: Vec<_> = (0..8).map(|_| streams.open()).collect();
        assert_eq!(open[7].1, BUDGET / 8);
        drop(open);
        assert_eq!(streams.open().1, CHUNK);
    }
}
