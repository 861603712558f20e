//! Streaming a blob file, or a range of it, in large chunks.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

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

/// Buffers kept for reuse by one stream. A consumer that drops each chunk
/// before asking for the next keeps two or three buffers cycling, so reading
/// costs one copy from the page cache and no allocation, page faults or
/// zeroing per chunk.
#[derive(Debug, Default)]
struct Pool {
    free: Mutex<Vec<Vec<u8>>>,
}

/// How many idle buffers a pool keeps.
const POOL_MAX: usize = 4;

impl Pool {
    fn take(&self, size: usize) -> Vec<u8> {
        self.free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
            // Zeroed once, then reused: calloc'd pages cost nothing until
            // the first read fills them.
            .unwrap_or_else(|| vec![0; size])
    }
}

/// A filled buffer lent out as [`Bytes`]; goes back to its pool when the
/// last reference is dropped.
struct Lent {
    buffer: Vec<u8>,
    len: usize,
    pool: Arc<Pool>,
}

impl AsRef<[u8]> for Lent {
    fn as_ref(&self) -> &[u8] {
        &self.buffer[..self.len]
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        let mut free = self
            .pool
            .free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if free.len() < POOL_MAX {
            free.push(buffer);
        }
    }
}

/// Reads until `buffer` is full or the file ends; returns the bytes read.
fn read_full(mut file: &File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A chunk being read on the blocking pool: the file, the buffer, and how
/// many bytes were read into it.
type Reading = tokio::task::JoinHandle<(File, Vec<u8>, io::Result<usize>)>;

/// Starts reading the next `want` bytes of `file` into a pooled buffer.
fn read_ahead(file: File, pool: &Pool, buffer_size: usize, want: usize) -> Reading {
    let mut buffer = pool.take(buffer_size);
    tokio::task::spawn_blocking(move || {
        let read = read_full(&file, &mut buffer[..want]);
        (file, buffer, read)
    })
}

/// Streams `range.end - range.start` bytes from `file`'s current position.
///
/// Each chunk is read on the blocking pool by its own short task, so a slow
/// consumer holds no thread, only an open file. The next chunk is read
/// while the consumer handles the current one.
pub(crate) fn stream(file: File, size: u64, range: Range<u64>) -> BlobContent {
    let remaining = range.end - range.start;
    // Every chunk but the last has this size; small blobs get small buffers.
    let buffer_size = remaining.min(CHUNK) as usize;
    let pool = Arc::new(Pool::default());
    let first = (remaining > 0).then(|| read_ahead(file, &pool, buffer_size, buffer_size));
    let state = (first, remaining, pool);
    let chunks = stream::try_unfold(state, move |(reading, remaining, pool)| async move {
        let Some(reading) = reading else {
            return Ok(None);
        };
        let (file, buffer, read) = reading
            .await
            .map_err(|e| Error::io("read blob", io::Error::other(e)))?;
        let len = read.map_err(|e| Error::io("read blob", e))?;
        let want = remaining.min(CHUNK) as usize;
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
        let remaining = remaining - len as u64;
        let next = (remaining > 0)
            .then(|| read_ahead(file, &pool, buffer_size, remaining.min(CHUNK) as usize));
        let chunk = Bytes::from_owner(Lent {
            buffer,
            len,
            pool: Arc::clone(&pool),
        });
        Ok(Some((chunk, (next, remaining, pool))))
    });
    BlobContent {
        size,
        range,
        stream: chunks.boxed(),
    }
}
