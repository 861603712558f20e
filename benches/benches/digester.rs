//! wharf-reference: `Digester` throughput over a 64 MiB buffer fed in
//! 1 MiB chunks, as an upload streams in, against the baseline of
//! `sha2::Sha256::digest(&buf)` in one call. Target: at least 0.95x the
//! baseline's throughput.
//!
//! Both are measured twice, each pair in one criterion group: in wall-clock
//! time (criterion's default) and in the CPU time of the benchmarking
//! thread. On a shared, busy machine the thread gets only part of a core
//! and wall-clock time mostly measures the neighbours; CPU time measures
//! the code, so the CPU-time ratio is the one to read.
//!
//! ```sh
//! cargo bench -p wharf-benches --bench digester -- --warm-up-time 1 --measurement-time 10
//! ```

use std::hint::black_box;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use sha2::Digest as _;
use wharf_reference::Digester;

const BUFFER: usize = 64 << 20;
const CHUNK: usize = 1 << 20;

fn buffer() -> Vec<u8> {
    // Not all zeros, so nothing can be special-cased.
    let buf: Vec<u8> = (0..BUFFER as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    // Same answer, or the comparison is void.
    let mut d = Digester::sha256();
    buf.chunks(CHUNK).for_each(|c| d.update(c));
    let expected: String = sha2::Sha256::digest(&buf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(d.finish().encoded(), expected, "Digester and sha2 disagree");
    buf
}

fn compare<M: Measurement>(mut group: BenchmarkGroup<'_, M>, buf: &[u8]) {
    group.throughput(Throughput::Bytes(BUFFER as u64));
    group.sample_size(10);
    group.bench_function("wharf_reference::Digester (1 MiB chunks)", |b| {
        b.iter(|| {
            let mut d = Digester::sha256();
            for chunk in black_box(buf).chunks(CHUNK) {
                d.update(chunk);
            }
            black_box(d.finish())
        })
    });
    group.bench_function("sha2::Sha256::digest (one call)", |b| {
        b.iter(|| black_box(sha2::Sha256::digest(black_box(buf))))
    });
    group.finish();
}

fn wall_time(c: &mut Criterion) {
    let buf = buffer();
    compare(c.benchmark_group("sha256_64MiB_wall_time"), &buf);
}

fn cpu_time(c: &mut Criterion<ThreadCpuTime>) {
    let buf = buffer();
    compare(c.benchmark_group("sha256_64MiB_thread_cpu_time"), &buf);
}

/// CPU time consumed by the calling thread, in nanoseconds, from Linux's
/// `/proc/thread-self/schedstat` (its first field). Criterion runs the
/// routine on the thread that measures it and reads the clock once per
/// sample. The kernel brings that figure up to date at scheduler ticks and
/// context switches, so it is only good for samples of many milliseconds,
/// as here (one iteration hashes 64 MiB, tens of milliseconds); it would
/// read zero for microsecond samples.
struct ThreadCpuTime;

impl ThreadCpuTime {
    fn now() -> u64 {
        let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
            .expect("this measurement needs Linux's /proc/thread-self/schedstat");
        stat.split_whitespace()
            .next()
            .and_then(|ns| ns.parse().ok())
            .expect("schedstat starts with the run time in nanoseconds")
    }
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        Self::now()
    }
    fn end(&self, start: u64) -> u64 {
        Self::now().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, ns: &u64) -> f64 {
        *ns as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Nanoseconds, like wall-clock time: the same units and throughputs.
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

criterion_group!(wall, wall_time);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = cpu_time
}
criterion_main!(wall, cpu);
