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

use super::atomic::present;
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
    let Some(file) = present(File::open(&path), "open", &path)? else {
        return Ok(None);
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

/// Chunks being read from the disk ahead of the consumer: two keep it busy
/// while the previous chunk is handed over.
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

    /// Whether the open streams keep every core busy, so that handing a
    /// read of cached bytes to another thread would buy no parallelism,
    /// only a context switch.
    fn saturate(&self, cores: usize) -> bool {
        self.0.load(Ordering::Relaxed) >= cores
    }
}

/// The cores this process may run on.
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// One open stream, counted in [`OpenStreams`] while it lives.
struct Open(Arc<OpenStreams>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0 .0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A chunk of a stream, with the length it must have: read already from the
/// page cache, or being read on the blocking pool.
enum Chunk {
    Ready(Vec<u8>, usize),
    Reading(Reading, usize),
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
    /// Chunks read ahead or being read, in order.
    in_flight: VecDeque<Chunk>,
    open: Open,
}

impl Reader {
    /// Reads ahead until `READ_AHEAD` chunks are in flight, the range is
    /// covered, or a chunk was copied from the page cache in place (when
    /// the streams outnumber the cores: no thread hand-off, and no reading
    /// further ahead); everything else is read on the blocking pool.
    fn fill(&mut self) {
        while self.in_flight.len() < READ_AHEAD && self.next < self.end {
            if matches!(self.in_flight.back(), Some(Chunk::Ready(..))) {
                // Copying further ahead of the consumer would only hold
                // buffers.
                break;
            }
            let want = (self.end - self.next).min(self.chunk) as usize;
            let offset = self.next;
            let mut buffer = self.pool.take();
            if buffer.len() < self.buffer_size {
                // Zeroed once, then reused: calloc'd pages cost nothing
                // until the first read fills them.
                buffer = vec![0; self.buffer_size];
            }
            // One or two streams read in parallel with their consumers; a
            // crowd copies what is cached in place.
            let cached = if self.open.0.saturate(cores()) {
                read_cached(&self.file, &mut buffer[..want], offset)
            } else {
                0
            };
            if cached == want {
                self.in_flight.push_back(Chunk::Ready(buffer, want));
                self.next += want as u64;
                continue;
            }
            let chunk = {
                let file = Arc::clone(&self.file);
                let reading = tokio::task::spawn_blocking(move || {
                    let rest = offset + cached as u64;
                    let read = read_full_at(&file, &mut buffer[cached..want], rest);
                    (buffer, read.map(|n| cached + n))
                });
                Chunk::Reading(reading, want)
            };
            self.in_flight.push_back(chunk);
            self.next += want as u64;
        }
    }

    async fn next_chunk(mut self) -> Result<Option<(Bytes, Reader)>> {
        self.fill();
        let (buffer, len, want) = match self.in_flight.pop_front() {
            None => return Ok(None),
            Some(Chunk::Ready(buffer, want)) => (buffer, want, want),
            Some(Chunk::Reading(reading, want)) => {
                let (buffer, read) = reading
                    .await
                    .map_err(|e| Error::io("read blob", io::Error::other(e)))?;
                let len = read.map_err(|e| Error::io("read blob", e))?;
                (buffer, len, want)
            }
        };
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

/// Reads what the page cache holds of `buffer.len()` bytes at `offset`,
/// without waiting for the disk (`preadv2` with `RWF_NOWAIT`); returns how
/// many bytes it read, stopping at the first byte that is not cached (or at
/// any error, which the blocking read of the rest then reports).
#[cfg(target_os = "linux")]
fn read_cached(file: &File, buffer: &mut [u8], offset: u64) -> usize {
    use rustix::io::{preadv2, ReadWriteFlags};
    let mut filled = 0;
    while filled < buffer.len() {
        let mut slices = [io::IoSliceMut::new(&mut buffer[filled..])];
        match preadv2(
            file,
            &mut slices,
            offset + filled as u64,
            ReadWriteFlags::NOWAIT,
        ) {
            Ok(0) | Err(_) => break,
            Ok(n) => filled += n,
        }
    }
    filled
}

/// Elsewhere every chunk is read on the blocking pool.
#[cfg(not(target_os = "linux"))]
fn read_cached(_file: &File, _buffer: &mut [u8], _offset: u64) -> usize {
    0
}

/// Streams the bytes of `range` from `file`, counted among `streams`.
///
/// Chunks in the page cache are copied as they are asked for; the others
/// are read on the blocking pool, each by its own short task, so a slow
/// consumer holds no thread, only an open file. A couple of chunks are read
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
        open,
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
