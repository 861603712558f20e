//! Streams a large blob into an `FsStorage` upload session and finishes it,
//! printing how long each step took. Used to measure peak memory while
//! committing (it must stay flat whatever the size):
//!
//! ```sh
//! cargo build --release -p wharf-storage --example commit_blob
//! /usr/bin/time -v target/release/examples/commit_blob /tmp/wharf-blob 1024
//! ```
//!
//! Arguments: the storage root (created if missing) and the size in MiB
//! (default 1024). The blob is generated 1 MiB at a time, each chunk a fresh
//! allocation as a network body's would be, and never held whole.

use std::time::Instant;

use futures::{stream, StreamExt};
use wharf_reference::{Digester, RepositoryName};
use wharf_storage::prelude::*;
use wharf_storage::testkit::{noise, stamp};
use wharf_storage::FsStorage;

const CHUNK: usize = 1 << 20;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args.next().ok_or("usage: commit_blob <root> [MiB]")?;
    let mib: u64 = args.next().map_or(Ok(1024), |s| s.parse())?;

    // The `i`th 1 MiB chunk is a fixed pseudo-random block stamped with `i`.
    let block = noise(CHUNK);
    let started = Instant::now();
    let mut digester = Digester::sha256();
    for i in 0..mib {
        digester.update(&stamp(&block, i));
    }
    let digest = digester.finish();
    println!("expected digest {digest} in {:?}", started.elapsed());

    let storage = FsStorage::open(&root)?;
    let repo: RepositoryName = "example/blob".parse()?;
    let started = Instant::now();
    let session = storage.start_upload(&repo).await?;
    let body = stream::iter(0..mib)
        .map(move |i| Ok(stamp(&block, i)))
        .boxed();
    let status = storage.append_upload(&repo, &session.id, 0, body).await?;
    let appended = started.elapsed();
    storage.finish_upload(&repo, &session.id, &digest).await?;
    let total = started.elapsed();
    println!(
        "committed {} MiB: append {appended:?}, finish {:?}, total {total:?} ({:.0} MiB/s)",
        status.offset >> 20,
        total - appended,
        mib as f64 / total.as_secs_f64()
    );
    storage.delete_blob(&digest).await?;
    Ok(())
}
