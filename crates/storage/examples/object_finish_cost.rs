//! What finishing an `ObjectStorage` upload costs on a real S3 server
//! (moto, started by `wharf-test-servers`): a blob pushed in one request
//! (one part: a server-side copy) against the same blob pushed in chunks
//! (several parts: read back once into a multipart upload), and
//! `put_blob` for reference. Prints the time of each step.
//!
//! ```sh
//! cargo run --release -p wharf-storage --features aws,testkit --example object_finish_cost -- 100 10
//! ```
//!
//! Arguments: the blob size in MiB (default 100) and the number of chunks
//! of the chunked upload (default 10).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::{stream, StreamExt};
use wharf_reference::{Digester, RepositoryName};
use wharf_storage::prelude::*;
use wharf_storage::testkit::{noise, s3_test_client, stamp};
use wharf_storage::{ChunkStream, ObjectStorage};

const CHUNK: usize = 1 << 20;

/// MiB `from..to` of the blob, generated 1 MiB at a time.
fn blob(block: Arc<Vec<u8>>, from: u64, to: u64) -> ChunkStream {
    stream::iter(from..to)
        .map(move |i| Ok::<Bytes, std::io::Error>(stamp(&block, i)))
        .boxed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mib: u64 = args.next().map_or(Ok(100), |s| s.parse())?;
    let chunks: u64 = args.next().map_or(Ok(10), |s| s.parse())?;
    let s3 = wharf_test_servers::s3().ok_or("moto is needed: pip install 'moto[server]'")?;
    let store = s3_test_client(s3.endpoint(), s3.fresh_bucket()).build()?;
    let storage = ObjectStorage::new(Arc::new(store), "cost");
    let block = Arc::new(noise(CHUNK));
    let mut digester = Digester::sha256();
    for i in 0..mib {
        digester.update(&stamp(&block, i));
    }
    let digest = digester.finish();
    let repo: RepositoryName = "bench/cost".parse()?;
    println!("{mib} MiB blob, {chunks} chunks for the chunked upload");

    let t = Instant::now();
    storage
        .put_blob(&digest, blob(block.clone(), 0, mib))
        .await?;
    println!("put_blob:                       {:>8.2?}", t.elapsed());
    storage.delete_blob(&digest).await?;

    for (what, pieces) in [("one request", 1), ("chunked", chunks)] {
        let session = storage.start_upload(&repo).await?;
        let t = Instant::now();
        let mut offset = 0;
        for p in 0..pieces {
            let (from, to) = (mib * p / pieces, mib * (p + 1) / pieces);
            offset = storage
                .append_upload(&repo, &session.id, offset, blob(block.clone(), from, to))
                .await?
                .offset;
        }
        let appended = t.elapsed();
        let t = Instant::now();
        storage.finish_upload(&repo, &session.id, &digest).await?;
        let finished = t.elapsed();
        println!(
            "upload, {what:<12} ({pieces:>2} parts): appends {appended:>8.2?}, finish {finished:>8.2?}"
        );
        storage.delete_blob(&digest).await?;
    }
    Ok(())
}
