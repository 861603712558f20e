//! Large buffers recycled instead of freed.
//!
//! A fresh megabyte buffer costs more than the copy into it: the allocator
//! hands back pages it returned to the system, and each first touch is a
//! page fault that zeroes a page. Blob streams and upload pipelines
//! therefore lend their buffers out as [`Bytes`] and take them back when the
//! last reference is dropped, keeping a few idle ones for the next chunk.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

/// Idle buffers kept for reuse, at most `keep` of them.
#[derive(Debug)]
pub(crate) struct Pool {
    free: Mutex<Vec<Vec<u8>>>,
    keep: usize,
}

impl Pool {
    /// A pool that keeps up to `keep` idle buffers.
    pub(crate) fn new(keep: usize) -> Arc<Self> {
        Arc::new(Pool {
            free: Mutex::new(Vec::new()),
            keep,
        })
    }

    fn free(&self) -> MutexGuard<'_, Vec<Vec<u8>>> {
        // Every critical section is one push or pop: poisoning is moot.
        self.free
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// An idle buffer, as it was left (its length and contents are
    /// whatever its last user put there), or a new empty one.
    pub(crate) fn take(&self) -> Vec<u8> {
        self.free().pop().unwrap_or_default()
    }

    /// Lends `buffer[..len]` out; the buffer comes back to this pool when
    /// the last clone of the returned [`Bytes`] is dropped.
    pub(crate) fn lend(self: &Arc<Self>, buffer: Vec<u8>, len: usize) -> Bytes {
        debug_assert!(len <= buffer.len());
        Bytes::from_owner(Lent {
            buffer,
            len,
            pool: Arc::clone(self),
        })
    }

    /// How many idle buffers the pool holds.
    #[cfg(test)]
    pub(crate) fn idle(&self) -> usize {
        self.free().len()
    }
}

/// A buffer lent out as [`Bytes`].
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
        let mut free = self.pool.free();
        if free.len() < self.pool.keep {
            free.push(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lent_buffer_comes_back_when_its_last_clone_is_dropped() {
        let pool = Pool::new(2);
        let mut buffer = pool.take();
        buffer.extend_from_slice(b"hello world");
        let bytes = pool.lend(buffer, 5);
        let clone = bytes.clone();
        assert_eq!(&clone[..], b"hello");
        drop(bytes);
        assert_eq!(pool.idle(), 0);
        drop(clone);
        assert_eq!(pool.idle(), 1);
        let again = pool.take();
        assert_eq!(&again[..], b"hello world", "reused as it was left");
        assert!(again.capacity() >= 11);
    }

    #[test]
    fn the_pool_keeps_at_most_its_limit_of_idle_buffers() {
        let pool = Pool::new(2);
        let lent: Vec<Bytes> = (0..5).map(|_| pool.lend(vec![0; 8], 8)).collect();
        drop(lent);
        assert_eq!(pool.idle(), 2);
    }
}
