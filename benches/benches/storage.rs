//! wharf-storage: filesystem commit and read of a 1 GiB blob, each against
//! the hardware limits measured in the same run.
//!
//! - `storage_commit_1GiB`: an upload session receiving 1 GiB as a stream of
//!   1 MiB chunks, then finished (verified, fsynced, renamed, linked),
//!   against (a) `sha2` hashing the same bytes in memory and (b) writing the
//!   same bytes to a file in the same directory with one fsync at the end.
//!   Target: at least 0.85x the slower of the two.
//! - `storage_read_1GiB`: streaming the committed blob through
//!   `read_blob`, against reading the same file with `std::fs::File::read`
//!   into a reused 1 MiB buffer. Target: at least 0.8x.
//!
//! A 1 GiB iteration takes seconds, so few samples; the ratios are printed
//! at the end from the medians of this run.
//!
//! ```sh
//! cargo bench -p wharf-benches --bench storage
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::hint::black_box;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use futures::{stream, StreamExt};
use sha2::Digest as _;
use wharf_reference::{Digest, Digester, RepositoryName};
use wharf_storage::prelude::*;
use wharf_storage::testkit::noise;
use wharf_storage::{ChunkStream, FsStorage};

const SIZE: u64 = 1 << 30;
const CHUNK: usize = 1 << 20;
const CHUNKS: usize = (SIZE / CHUNK as u64) as usize;

/// Seconds per iteration of every run of every benchmark, for the summary.
static SAMPLES: Mutex<BTreeMap<&'static str, Vec<f64>>> = Mutex::new(BTreeMap::new());

fn record(name: &'static str, elapsed: Duration) {
    SAMPLES
        .lock()
        .expect("samples")
        .entry(name)
        .or_default()
        .push(elapsed.as_secs_f64());
}

/// One pseudo-random 1 MiB block; the blob is this block 1024 times.
fn block() -> Bytes {
    noise(CHUNK).into()
}

/// Times `iters` runs of `run` as one stretch, recording the time per run
/// under `name`.
fn time_together(name: &'static str, iters: u64, mut run: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        run();
    }
    let elapsed = start.elapsed();
    record(name, elapsed / iters as u32);
    elapsed
}

/// Times `iters` runs of `run`, which returns the time of the part to
/// measure, recording each under `name`.
fn time_each(name: &'static str, iters: u64, mut run: impl FnMut() -> Duration) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let elapsed = run();
        total += elapsed;
        record(name, elapsed);
    }
    total
}

fn body(block: &Bytes) -> ChunkStream {
    let block = block.clone();
    stream::iter((0..CHUNKS).map(move |_| Ok(block.clone()))).boxed()
}

fn blob_digest(block: &Bytes) -> Digest {
    let mut d = Digester::sha256();
    for _ in 0..CHUNKS {
        d.update(block);
    }
    d.finish()
}

fn blob_path(root: &Path, digest: &Digest) -> PathBuf {
    let hex = digest.encoded();
    root.join("blobs/sha256").join(&hex[..2]).join(hex)
}

/// A group of benchmarks over the whole blob: ten samples, measured for
/// `measurement`.
fn blob_group<'c>(
    c: &'c mut Criterion,
    name: &str,
    measurement: Duration,
) -> BenchmarkGroup<'c, WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(SIZE));
    group.sample_size(10);
    // One iteration per sample: an iteration is already seconds long.
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(measurement);
    group
}

fn storage_benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let storage = FsStorage::open(dir.path().join("storage")).expect("open storage");
    let repo: RepositoryName = "bench/blob".parse().expect("name");
    let block = block();
    let digest = blob_digest(&block);

    let mut commit = blob_group(c, "storage_commit_1GiB", Duration::from_secs(10));
    commit.bench_function("baseline: sha2 in memory", |b| {
        b.iter_custom(|iters| {
            time_together("hash", iters, || {
                let mut h = sha2::Sha256::new();
                for _ in 0..CHUNKS {
                    h.update(black_box(&block[..]));
                }
                black_box(h.finalize());
            })
        })
    });
    commit.bench_function("baseline: write + one fsync", |b| {
        b.iter_custom(|iters| {
            time_each("write", iters, || {
                let path = dir.path().join("baseline-write");
                let start = Instant::now();
                let mut file = File::create(&path).expect("create");
                for _ in 0..CHUNKS {
                    file.write_all(&block).expect("write");
                }
                file.sync_all().expect("fsync");
                drop(file);
                let elapsed = start.elapsed();
                std::fs::remove_file(&path).expect("remove");
                elapsed
            })
        })
    });
    commit.bench_function("FsStorage upload + finish", |b| {
        b.iter_custom(|iters| {
            time_each("commit", iters, || {
                runtime.block_on(async {
                    let start = Instant::now();
                    let session = storage.start_upload(&repo).await.expect("start");
                    storage
                        .append_upload(&repo, &session.id, 0, body(&block))
                        .await
                        .expect("append");
                    let size = storage
                        .finish_upload(&repo, &session.id, &digest)
                        .await
                        .expect("finish");
                    let elapsed = start.elapsed();
                    assert_eq!(size, SIZE);
                    // So that the next iteration commits (and fsyncs) again
                    // instead of finding the blob already stored.
                    storage.delete_blob(&digest).await.expect("delete");
                    elapsed
                })
            })
        })
    });
    commit.finish();

    // One committed copy to read.
    runtime.block_on(async {
        storage
            .put_blob(&digest, body(&block))
            .await
            .expect("commit the blob to read");
    });
    let path = blob_path(storage.root(), &digest);
    assert_eq!(std::fs::metadata(&path).expect("blob file").len(), SIZE);

    let mut read = blob_group(c, "storage_read_1GiB", Duration::from_secs(3));
    read.bench_function("baseline: std::fs read into a reused buffer", |b| {
        let mut buffer = vec![0u8; CHUNK];
        b.iter_custom(|iters| {
            time_together("std read", iters, || {
                let mut file = File::open(&path).expect("open");
                let mut n = 0u64;
                loop {
                    let read = file.read(&mut buffer).expect("read");
                    if read == 0 {
                        break;
                    }
                    n += read as u64;
                }
                assert_eq!(black_box(n), SIZE);
            })
        })
    });
    read.bench_function("FsStorage read_blob stream", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let mut content = storage.read_blob(&digest, None).await.expect("read");
                    let mut n = 0u64;
                    while let Some(chunk) = content.stream.next().await {
                        n += chunk.expect("chunk").len() as u64;
                    }
                    assert_eq!(black_box(n), SIZE);
                }
                let elapsed = start.elapsed();
                record("fs read", elapsed / iters as u32);
                elapsed
            })
        })
    });
    read.finish();
}

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn best(samples: &[f64]) -> f64 {
    samples.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Prints throughputs and the two ratios, from the medians and from the
/// best iterations (on a shared machine, the best iteration is the one
/// least disturbed by other processes).
fn summary() {
    let samples = SAMPLES.lock().expect("samples");
    for (label, pick) in [("median", median as fn(&[f64]) -> f64), ("best", best)] {
        let rate = |name: &str| {
            samples
                .get(name)
                .map(|s| SIZE as f64 / (1 << 20) as f64 / pick(s))
        };
        println!("\nwharf-storage summary ({label} of this run, MiB/s):");
        for name in ["hash", "write", "commit", "std read", "fs read"] {
            if let Some(r) = rate(name) {
                println!("  {name:>9}: {r:8.0} MiB/s");
            }
        }
        if let (Some(hash), Some(write), Some(commit)) =
            (rate("hash"), rate("write"), rate("commit"))
        {
            let (limit, bound) = if write < hash {
                (write, "write + fsync")
            } else {
                (hash, "sha256")
            };
            println!(
                "  commit / slower limit ({bound}) = {:.2}x (target >= 0.85x)",
                commit / limit
            );
        }
        if let (Some(std_read), Some(fs_read)) = (rate("std read"), rate("fs read")) {
            println!(
                "  read_blob / std read = {:.2}x (target >= 0.80x)",
                fs_read / std_read
            );
        }
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    storage_benches(&mut criterion);
    criterion.final_summary();
    summary();
}
