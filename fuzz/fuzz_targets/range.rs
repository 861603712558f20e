//! `Range` (blob GET) and `Content-Range` (upload PATCH) headers. Parsing
//! never panics; a parsed range written back as a header parses to the
//! same range; resolved against any blob size it lies inside the blob and
//! is not empty; a chunk range's length never wraps. Headers built from
//! numbers of the input parse as RFC 9110 and the OCI specification say.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_server::fuzzing;
use wharf_storage::ByteRange;

fuzz_target!(|data: &[u8]| {
    // Numbers for the built headers and the blob size: the first 24 bytes.
    let mut numbers = [0u64; 3];
    for (i, chunk) in data.chunks(8).take(3).enumerate() {
        let mut bytes = [0u8; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        numbers[i] = u64::from_le_bytes(bytes);
    }
    let [a, b, size] = numbers;
    let small = size % 1024;

    if let Some(range) = fuzzing::range(data) {
        check_range(&range, &[size, small, 0, a, b]);
        let written = match &range {
            ByteRange::From(start) => Some(format!("bytes={start}-")),
            ByteRange::Last(n) => Some(format!("bytes=-{n}")),
            // `bytes=N-u64::MAX` saturates its end: nothing to write back.
            ByteRange::Within(r) if r.end > r.start => {
                Some(format!("bytes={}-{}", r.start, r.end - 1))
            }
            ByteRange::Within(_) => None,
        };
        if let Some(written) = written {
            assert_eq!(fuzzing::range(written.as_bytes()).as_ref(), Some(&range));
        }
    }
    if let Some((start, end, len)) = fuzzing::content_range(data) {
        check_chunk(start, end, len);
        for written in [format!("{start}-{end}"), format!("bytes {start}-{end}/*")] {
            assert_eq!(
                fuzzing::content_range(written.as_bytes()),
                Some((start, end, len))
            );
        }
    }

    // Headers built from numbers.
    let expected = (a <= b).then(|| ByteRange::inclusive(a, b));
    for header in [
        format!("bytes={a}-{b}"),
        format!("Bytes= {a} - {b} "),
        format!("BYTES={a}-{b}"),
    ] {
        assert_eq!(fuzzing::range(header.as_bytes()), expected, "{header}");
    }
    assert_eq!(
        fuzzing::range(format!("bytes={a}-").as_bytes()),
        Some(ByteRange::From(a))
    );
    assert_eq!(
        fuzzing::range(format!("bytes=-{a}").as_bytes()),
        Some(ByteRange::Last(a))
    );
    assert_eq!(
        fuzzing::range(format!("bytes={a}-{b},0-1").as_bytes()),
        None
    );
    assert_eq!(fuzzing::range(format!("items={a}-{b}").as_bytes()), None);

    let fits = a <= b && !(a == 0 && b == u64::MAX);
    let expected = fits.then(|| (a, b, b - a + 1));
    for header in [
        format!("{a}-{b}"),
        format!("bytes {a}-{b}/{size}"),
        format!("bytes={a}-{b}"),
    ] {
        assert_eq!(
            fuzzing::content_range(header.as_bytes()),
            expected,
            "{header}"
        );
    }

    // An upload's `Range` reports the bytes received, as a chunk range.
    let offset = a;
    let reported = fuzzing::upload_range(offset);
    let last = offset.saturating_sub(1);
    assert_eq!(reported, format!("0-{last}"));
    assert_eq!(
        fuzzing::content_range(reported.as_bytes()),
        Some((0, last, last + 1))
    );
});

fn check_range(range: &ByteRange, sizes: &[u64]) {
    for &size in sizes {
        if let Ok(r) = range.resolve(size) {
            assert!(
                r.start < r.end && r.end <= size,
                "{range:?} of {size}: {r:?}"
            );
            match range {
                ByteRange::From(start) => assert_eq!(r, *start..size),
                ByteRange::Last(n) => assert_eq!(r.end - r.start, (*n).min(size)),
                ByteRange::Within(w) => assert_eq!(r, w.start..w.end.min(size)),
            }
        }
    }
}

fn check_chunk(start: u64, end: u64, len: u64) {
    assert!(start <= end);
    assert_eq!(
        Some(len),
        (end - start).checked_add(1),
        "the length never wraps"
    );
}
