//! wharf-reference: `Digester` throughput over a 64 MiB buffer fed in
//! 1 MiB chunks, as an upload streams in, against the baseline of
//! `sha2::Sha256::digest(&buf)` in one call, in one criterion group.
//! Target: at least 0.95x the baseline's throughput.
//!
//! ```sh
//! cargo bench -p wharf-benches --bench digester -- --warm-up-time 1 --measurement-time 10
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sha2::Digest as _;
use wharf_reference::Digester;

const BUFFER: usize = 64 << 20;
const CHUNK: usize = 1 << 20;

fn throughput(c: &mut Criterion) {
    // Not all zeros, so nothing can be special-cased.
    let buf: Vec<u8> = (0..BUFFER as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();

    // Same answer, or the comparison is void.
    let mut d = Digester::sha256();
    buf.chunks(CHUNK).for_each(|c| d.update(c));
    assert_eq!(
        d.finish().encoded(),
        hex_of(&sha2::Sha256::digest(&buf)),
        "Digester and sha2 disagree"
    );

    let mut group = c.benchmark_group("sha256_64MiB");
    group.throughput(Throughput::Bytes(BUFFER as u64));
    group.sample_size(10);
    group.bench_function("wharf_reference::Digester (1 MiB chunks)", |b| {
        b.iter(|| {
            let mut d = Digester::sha256();
            for chunk in black_box(&buf).chunks(CHUNK) {
                d.update(chunk);
            }
            black_box(d.finish())
        })
    });
    group.bench_function("sha2::Sha256::digest (one call)", |b| {
        b.iter(|| black_box(sha2::Sha256::digest(black_box(&buf))))
    });
    group.finish();
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

criterion_group!(benches, throughput);
criterion_main!(benches);
