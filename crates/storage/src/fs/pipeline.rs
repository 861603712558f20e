//! Streaming a request body to a file while hashing it.
//!
//! Hashing and writing in one thread serializes them (1/(1/hash + 1/disk));
//! here the body is coalesced into large buffers on the async side and each
//! buffer is handed, by reference count, to a writer thread and a hasher
//! thread, so the slower of the two (normally the disk) is the only limit.
//! Both channels are bounded, so memory stays at a few buffers whatever the
//! body size, and the buffers are recycled through a [`Pool`] shared by all
//! uploads: a fresh megabyte per buffer would cost a page fault per 4 KiB.

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;
use wharf_reference::Digester;

use crate::error::{Error, Result};
use crate::ChunkStream;

use super::pool::Pool;

/// Size of the buffers handed to the writer and the hasher.
pub(crate) const BUFFER: usize = 1 << 20;

/// Buffers in flight per channel: enough to ride out scheduling jitter on a
/// busy machine, few enough to keep memory flat (at most about
/// `2 * DEPTH * BUFFER` bytes are referenced at once).
const DEPTH: usize = 8;

/// How many idle buffers the shared pool keeps: about what one upload has
/// in flight when the hasher lags the network by a full channel.
pub(crate) const POOL_KEEP: usize = DEPTH + 2;

/// Distance between background flushes, in file offsets. Starting writeback
/// while the body still streams in means the fsync that makes the blob
/// durable at the end has only the tail left to write, instead of the whole
/// blob. Counted on the file, not per request, so a session pushed in many
/// small chunks is flushed as it grows too.
const FLUSH_EVERY: u64 = 64 << 20;

/// How a body ended.
#[derive(Debug)]
pub(crate) enum End {
    /// The whole body was written.
    Complete,
    /// The body failed; what was received before is written.
    BodyFailed(io::Error),
    /// The body would exceed the size limit; nothing of it was kept.
    TooLarge,
}

/// What a [`pump`] did.
#[derive(Debug)]
pub(crate) struct Pumped {
    /// How the body ended.
    pub end: End,
    /// The file's length afterwards.
    pub len: u64,
    /// The digester fed with everything kept, if one was given.
    pub digester: Option<Digester>,
}

/// Where a body goes: an open file, positioned at `start`, and a guard
/// (typically the upload session's lock) that is released only once the
/// writer thread is done with the file, even if the caller's future is
/// dropped midway.
pub(crate) struct Target<G> {
    pub file: File,
    pub start: u64,
    pub guard: G,
}

/// Writes `body` to `target.file` from `target.start`, feeding `digester`
/// in parallel, accepting at most `room` bytes, coalescing small chunks in
/// buffers from `pool`.
///
/// On a storage error the file is truncated back to `start` and the error
/// returned; on [`End::TooLarge`] likewise. Returns the guard whenever the
/// writer thread finished normally.
pub(crate) async fn pump<G: Send + 'static>(
    target: Target<G>,
    mut body: ChunkStream,
    digester: Option<Digester>,
    room: Option<u64>,
    pool: &Arc<Pool>,
) -> (Option<G>, Result<Pumped>) {
    let Target {
        mut file,
        start,
        guard,
    } = target;
    let (write_tx, mut write_rx) = mpsc::channel::<Bytes>(DEPTH);
    let roll_back = Arc::new(AtomicBool::new(false));
    let writer_roll_back = Arc::clone(&roll_back);
    let flusher = file.try_clone().ok().map(spawn_flusher);
    let writer = tokio::task::spawn_blocking(move || {
        let mut result = Ok(());
        let mut position = start;
        while let Some(buffer) = write_rx.blocking_recv() {
            if let Err(e) = file.write_all(&buffer) {
                result = Err(e);
                break;
            }
            let before = position;
            position += buffer.len() as u64;
            if position / FLUSH_EVERY != before / FLUSH_EVERY {
                if let Some(flusher) = &flusher {
                    // Busy flushing already: the next request will cover it.
                    let _ = flusher.try_send(position);
                }
            }
        }
        drop(write_rx);
        drop(flusher);
        if result.is_err() || writer_roll_back.load(Ordering::Acquire) {
            // Undo the partial append; if even that fails the length check
            // below reports it.
            let _ = file.set_len(start);
        }
        let len = file.metadata().map(|m| m.len());
        (guard, result.and(len))
    });

    let (hash_tx, hasher) = match digester {
        Some(mut digester) => {
            let (tx, mut rx) = mpsc::channel::<Bytes>(DEPTH);
            let hasher = tokio::task::spawn_blocking(move || {
                while let Some(buffer) = rx.blocking_recv() {
                    digester.update(&buffer);
                }
                digester
            });
            (Some(tx), Some(hasher))
        }
        None => (None, None),
    };

    let mut end = End::Complete;
    let mut received = 0u64;
    // The buffer being filled; empty (without capacity) between buffers.
    let mut pending: Vec<u8> = Vec::new();
    let mut writer_alive = true;
    'body: loop {
        let chunk = match body.next().await {
            None => break,
            Some(Err(e)) => {
                end = End::BodyFailed(e);
                break;
            }
            Some(Ok(chunk)) => chunk,
        };
        received += chunk.len() as u64;
        if room.is_some_and(|room| received > room) {
            end = End::TooLarge;
            roll_back.store(true, Ordering::Release);
            pending.clear();
            break;
        }
        if pending.is_empty() && chunk.len() >= BUFFER {
            // Large already: no copy.
            if !send(&write_tx, hash_tx.as_ref(), chunk).await {
                writer_alive = false;
                break;
            }
            continue;
        }
        let mut rest = &chunk[..];
        while !rest.is_empty() {
            if pending.capacity() == 0 {
                pending = pool.take();
                pending.clear();
                pending.reserve_exact(BUFFER);
            }
            let n = rest.len().min(BUFFER - pending.len());
            pending.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
            if pending.len() == BUFFER {
                let full = pool.lend(std::mem::take(&mut pending), BUFFER);
                if !send(&write_tx, hash_tx.as_ref(), full).await {
                    writer_alive = false;
                    break 'body;
                }
            }
        }
    }
    if writer_alive && !pending.is_empty() {
        let len = pending.len();
        send(&write_tx, hash_tx.as_ref(), pool.lend(pending, len)).await;
    }
    drop(write_tx);
    drop(hash_tx);

    let hashed = match hasher {
        Some(hasher) => match hasher.await {
            Ok(d) => Some(d),
            Err(e) => return (None, Err(Error::io("hash upload", io::Error::other(e)))),
        },
        None => None,
    };
    let (guard, written) = match writer.await {
        Ok(joined) => joined,
        Err(e) => return (None, Err(Error::io("write upload", io::Error::other(e)))),
    };
    let result = match written {
        Err(e) => Err(Error::io("write upload data", e)),
        Ok(len) => Ok(Pumped {
            digester: if matches!(end, End::TooLarge) {
                None
            } else {
                hashed
            },
            end,
            len,
        }),
    };
    (Some(guard), result)
}

/// A thread that `fdatasync`s the file whenever sent the offset written so
/// far, ignoring failures: these syncs only get writeback going early; the
/// fsync before the content becomes visible is the one whose errors count.
/// Once synced, the bytes are dropped from the page cache (see
/// [`drop_cached`]).
fn spawn_flusher(file: File) -> std::sync::mpsc::SyncSender<u64> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<u64>(1);
    tokio::task::spawn_blocking(move || {
        while let Ok(written) = rx.recv() {
            if file.sync_data().is_ok() {
                drop_cached(&file, written);
            }
        }
    });
    tx
}

/// Drops the first `len` bytes of `file`, already on disk, from the page
/// cache: an upload is written once and read back rarely soon, and keeping
/// it cached would make every large push evict what the registry serves
/// (and, on a virtual machine, touch fresh memory for every page written).
/// Advice only: failures are ignored, and it is a no-op off Linux.
pub(crate) fn drop_cached(file: &File, len: u64) {
    #[cfg(target_os = "linux")]
    if let Some(len) = std::num::NonZeroU64::new(len) {
        let _ = rustix::fs::fadvise(file, 0, Some(len), rustix::fs::Advice::DontNeed);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, len);
}

/// Hands `buffer` to the writer and the hasher. False if the writer has
/// stopped (it failed).
async fn send(
    write: &mpsc::Sender<Bytes>,
    hash: Option<&mpsc::Sender<Bytes>>,
    buffer: Bytes,
) -> bool {
    if write.send(buffer.clone()).await.is_err() {
        return false;
    }
    if let Some(hash) = hash {
        // The hasher only stops if it panicked, which the join reports.
        let _ = hash.send(buffer).await;
    }
    true
}
