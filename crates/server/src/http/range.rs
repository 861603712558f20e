//! Byte ranges: the `Range` header of a blob GET (RFC 9110 §14) and the
//! `Content-Range` header of an upload chunk (OCI Distribution, "chunked
//! upload").

use wharf_storage::ByteRange;

/// Parses a blob GET's `Range` header into the range storage should read.
///
/// `None` means "the whole blob with 200": RFC 9110 lets a server ignore a
/// range it does not support (several ranges, another unit, a malformed
/// header). Whether a parsed range is satisfiable depends on the blob's size,
/// which storage knows: it answers
/// [`RangeNotSatisfiable`](wharf_storage::Error::RangeNotSatisfiable), sent
/// as 416 with `Content-Range: bytes */<size>`.
pub(crate) fn parse_range(header: &[u8]) -> Option<ByteRange> {
    let header = std::str::from_utf8(header).ok()?;
    let spec = strip_prefix_ignore_case(header.trim(), "bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.trim().split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return parse_u64(last).map(ByteRange::Last);
    }
    let start = parse_u64(first)?;
    if last.is_empty() {
        return Some(ByteRange::From(start));
    }
    let end = parse_u64(last)?;
    (end >= start).then(|| ByteRange::inclusive(start, end))
}

/// The range a PATCH chunk claims to cover, `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkRange {
    pub(crate) start: u64,
    pub(crate) end: u64,
}

impl ChunkRange {
    /// Parses `Content-Range: <start>-<end>` as the OCI specification writes
    /// it, also accepting the RFC form `bytes <start>-<end>/<total>` that some
    /// clients send. `None` when malformed, and when the range covers more
    /// bytes than a `u64` counts (`0-18446744073709551615`): the length is
    /// checked here so that [`ChunkRange::len`] cannot wrap.
    pub(crate) fn parse(header: &[u8]) -> Option<Self> {
        let header = std::str::from_utf8(header).ok()?.trim();
        let header = strip_prefix_ignore_case(header, "bytes ")
            .or_else(|| strip_prefix_ignore_case(header, "bytes="))
            .unwrap_or(header)
            .trim();
        let range = header.split_once('/').map_or(header, |(range, _)| range);
        let (start, end) = range.split_once('-')?;
        let (start, end) = (parse_u64(start.trim())?, parse_u64(end.trim())?);
        end.checked_sub(start)?.checked_add(1)?;
        Some(Self { start, end })
    }

    /// How many bytes the chunk holds (never wraps: [`ChunkRange::parse`]
    /// refuses ranges whose length does not fit).
    pub(crate) fn len(self) -> u64 {
        (self.end - self.start).saturating_add(1)
    }
}

/// The `Range` header value of upload responses: `0-<last byte>`. As CNCF
/// Distribution does, an empty session reports `0-0`.
pub(crate) fn upload_range(offset: u64) -> String {
    format!("0-{}", offset.saturating_sub(1))
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn range_headers_resolve_against_the_blob_size() {
        // (header, blob size, Some(served range) or None for 416, or the
        // header is ignored and the whole blob is served)
        enum Outcome {
            Whole,
            Bytes(std::ops::Range<u64>),
            Unsatisfiable,
        }
        use Outcome::*;
        let table: [(&str, u64, Outcome); 18] = [
            ("bytes=0-0", 10, Bytes(0..1)),
            ("bytes=9-9", 10, Bytes(9..10)),
            ("bytes=2-5", 10, Bytes(2..6)),
            ("bytes=2-", 10, Bytes(2..10)),
            ("bytes=2-100", 10, Bytes(2..10)),
            ("bytes=-3", 10, Bytes(7..10)),
            ("bytes=-30", 10, Bytes(0..10)),
            ("BYTES=1-1", 10, Bytes(1..2)),
            ("bytes=10-", 10, Unsatisfiable),
            ("bytes=10-20", 10, Unsatisfiable),
            ("bytes=-0", 10, Unsatisfiable),
            ("bytes=0-", 0, Unsatisfiable),
            ("bytes=-1", 0, Unsatisfiable),
            ("bytes=5-2", 10, Whole),
            ("bytes=0-1,3-4", 10, Whole),
            ("items=0-1", 10, Whole),
            ("bytes=a-b", 10, Whole),
            ("bytes=+1-2", 10, Whole),
        ];
        for (header, size, expected) in table {
            let parsed = parse_range(header.as_bytes());
            match (parsed, expected) {
                (None, Whole) => {}
                (Some(range), Bytes(bytes)) => {
                    assert_eq!(range.resolve(size).expect(header), bytes, "{header}")
                }
                (Some(range), Unsatisfiable) => {
                    assert!(range.resolve(size).is_err(), "{header}")
                }
                (parsed, _) => panic!("{header} of {size}: unexpected {parsed:?}"),
            }
        }
    }

    #[test]
    fn chunk_content_ranges_parse_in_both_forms() {
        let table: [(&str, Option<(u64, u64)>); 12] = [
            ("0-99", Some((0, 99))),
            ("100-199", Some((100, 199))),
            (" 5-5 ", Some((5, 5))),
            ("bytes 0-9/10", Some((0, 9))),
            ("bytes 0-9/*", Some((0, 9))),
            ("bytes=0-9", Some((0, 9))),
            ("9-0", None),
            ("-9", None),
            ("a-b", None),
            ("0-18446744073709551615", None),
            ("1-18446744073709551615", Some((1, u64::MAX))),
            ("0-18446744073709551616", None),
        ];
        for (header, expected) in table {
            assert_eq!(
                ChunkRange::parse(header.as_bytes()).map(|r| (r.start, r.end)),
                expected,
                "{header}"
            );
        }
    }

    #[test]
    fn upload_range_reports_the_last_byte_received() {
        assert_eq!(upload_range(0), "0-0");
        assert_eq!(upload_range(1), "0-0");
        assert_eq!(upload_range(1024), "0-1023");
    }

    proptest! {
        #[test]
        fn a_resolved_range_always_lies_inside_the_blob(
            first in proptest::option::of(0u64..200),
            last in proptest::option::of(0u64..200),
            size in 0u64..150,
        ) {
            let header = format!(
                "bytes={}-{}",
                first.map(|v| v.to_string()).unwrap_or_default(),
                last.map(|v| v.to_string()).unwrap_or_default()
            );
            if let Some(Ok(range)) = parse_range(header.as_bytes()).map(|r| r.resolve(size)) {
                prop_assert!(range.start < range.end);
                prop_assert!(range.end <= size);
            }
        }
    }
}
