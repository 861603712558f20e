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
/// stream of bytes. Non-exhaustive so that fields can be added in a minor
/// release: a backend builds it with [`BlobContent::new`].
#[non_exhaustive]
pub struct BlobContent {
    /// The size of the whole blob (for `Content-Range: bytes a-b/size`).
    pub size: u64,
    /// The bytes the stream yields, end exclusive.
    pub range: Range<u64>,
    /// The bytes, in chunks. The stream yields exactly
    /// `range.end - range.start` bytes or ends with an error.
    pub stream: ByteStream,
}

impl BlobContent {
    /// The `range` of a blob of `size` bytes, streamed by `stream`.
    pub fn new(size: u64, range: Range<u64>, stream: ByteStream) -> Self {
        BlobContent {
            size,
            range,
            stream,
        }
    }
}

impl fmt::Debug for BlobContent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobContent")
            .field("size", &self.size)
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn http_range_shapes_resolve_against_the_size() {
        let size = 100;
        let ok = [
            ("bytes=0-0", ByteRange::inclusive(0, 0), 0..1),
            ("bytes=99-99", ByteRange::inclusive(99, 99), 99..100),
            ("bytes=10-", ByteRange::From(10), 10..100),
            ("bytes=-1", ByteRange::Last(1), 99..100),
            ("bytes=-500", ByteRange::Last(500), 0..100),
            ("bytes=50-1000", ByteRange::inclusive(50, 1000), 50..100),
            (
                "bytes=0-18446744073709551615",
                ByteRange::inclusive(0, u64::MAX),
                0..100,
            ),
        ];
        for (header, range, want) in ok {
            assert_eq!(range.resolve(size).expect(header), want, "{header}");
        }
        let unsatisfiable = [
            ("bytes=100-", ByteRange::From(100)),
            ("bytes=100-200", ByteRange::inclusive(100, 200)),
            ("bytes=-0", ByteRange::Last(0)),
            ("empty", ByteRange::Within(5..5)),
        ];
        for (header, range) in unsatisfiable {
            match range.resolve(size) {
                Err(Error::RangeNotSatisfiable { size: 100, .. }) => {}
                other => panic!("{header}: {other:?}"),
            }
        }
        assert!(
            ByteRange::Last(1).resolve(0).is_err(),
            "nothing to select in an empty blob"
        );
        assert_eq!(resolve(None, 0).expect("whole empty blob"), 0..0);
    }

    proptest! {
        /// A resolved range is non-empty and inside the blob.
        #[test]
        fn resolved_ranges_lie_inside_the_blob(
            size in 0u64..1000,
            start in 0u64..1200,
            len in 0u64..1200,
            shape in 0u8..3,
        ) {
            let range = match shape {
                0 => ByteRange::From(start),
                1 => ByteRange::Within(start..start + len),
                _ => ByteRange::Last(len),
            };
            if let Ok(r) = range.resolve(size) {
                prop_assert!(r.start < r.end && r.end <= size);
            }
        }
    }
}
