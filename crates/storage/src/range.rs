use std::fmt;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::ByteStream;

/// A byte range of a blob, in the three shapes an HTTP `Range: bytes=` header
/// can take. Resolved against the blob's size by [`ByteRange::resolve`].
///
/// ```
/// use wharf_storage::ByteRange;
///
/// // `bytes=0-99`
/// assert_eq!(ByteRange::inclusive(0, 99).resolve(1000).unwrap(), 0..100);
/// // `bytes=900-` and `bytes=-100`
/// assert_eq!(ByteRange::From(900).resolve(1000).unwrap(), 900..1000);
/// assert_eq!(ByteRange::Last(100).resolve(1000).unwrap(), 900..1000);
/// // An end past the blob is clipped; a start past it is an error (HTTP 416).
/// assert_eq!(ByteRange::inclusive(990, 5000).resolve(1000).unwrap(), 990..1000);
/// assert!(ByteRange::From(1000).resolve(1000).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ByteRange {
    /// From this offset to the end (`bytes=N-`).
    From(u64),
    /// These bytes, end exclusive (`bytes=N-M` is `N..M+1`, see
    /// [`ByteRange::inclusive`]). An end past the blob is clipped.
    Within(Range<u64>),
    /// The last `n` bytes (`bytes=-N`).
    Last(u64),
}

impl ByteRange {
    /// The range `first..=last`, as HTTP writes it.
    pub fn inclusive(first: u64, last: u64) -> Self {
        ByteRange::Within(first..last.saturating_add(1))
    }

    /// The concrete range of a blob of `size` bytes, or
    /// [`Error::RangeNotSatisfiable`] when no byte of the blob is in it.
    pub fn resolve(&self, size: u64) -> Result<Range<u64>> {
        let unsatisfiable = |start, end| Error::RangeNotSatisfiable { start, end, size };
        match *self {
            ByteRange::From(start) if start < size => Ok(start..size),
            ByteRange::From(start) => Err(unsatisfiable(start, None)),
            ByteRange::Within(ref r) if r.start < r.end && r.start < size => {
                Ok(r.start..r.end.min(size))
            }
            ByteRange::Within(ref r) => Err(unsatisfiable(r.start, Some(r.end))),
            ByteRange::Last(n) if n > 0 && size > 0 => Ok(size.saturating_sub(n)..size),
            ByteRange::Last(n) => Err(unsatisfiable(size.saturating_sub(n), Some(size))),
        }
    }
}

/// Resolves an optional range: `None` is the whole blob (even when empty).
pub(crate) fn resolve(range: Option<&ByteRange>, size: u64) -> Result<Range<u64>> {
    match range {
        None => Ok(0..size),
        Some(r) => r.resolve(size),
    }
}

/// A blob being read: its total size, the range being streamed and the
/// stream of bytes.
pub struct BlobContent {
    /// The size of the whole blob (for `Content-Range: bytes a-b/size`).
    pub size: u64,
    /// The bytes the stream yields, end exclusive.
    pub range: Range<u64>,
    /// The bytes, in chunks. The stream yields exactly
    /// `range.end - range.start` bytes or ends with an error.
    pub stream: ByteStream,
}

impl fmt::Debug for BlobContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobContent")
            .field("size", &self.size)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}
