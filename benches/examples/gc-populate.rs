//! Fills a registry (authentication off) for the garbage-collection bench
//! (`benches/gc.sh`), or keeps pushing to it while a collection runs.
//!
//! ```text
//! gc-populate fill ADDR MANIFESTS BLOBS_PER_MANIFEST DELETE_PERCENT CONCURRENCY
//! gc-populate push ADDR SECONDS [STOP_FILE]
//! ```
//!
//! `fill` pushes MANIFESTS images into 100 repositories (`bench/r00` to
//! `bench/r99`), each with a config and BLOBS_PER_MANIFEST - 1 layers of
//! its own (1 KiB each, monolithic uploads), CONCURRENCY at a time, tagged
//! `latest` in `bench/r00` for the reader; then deletes DELETE_PERCENT of
//! them by digest, so that a collection has their blobs to reclaim. It
//! prints what it stored and deleted. `push` pushes one small image after
//! another into `bench/pusher` for SECONDS (or until STOP_FILE exists),
//! the writes a collection must not disturb, and prints how many it
//! pushed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{stream, StreamExt};
use wharf_reference::Digest;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["fill", addr, manifests, blobs, delete, concurrency] => {
            fill(
                &client,
                addr,
                manifests.parse()?,
                blobs.parse()?,
                delete.parse()?,
                concurrency.parse()?,
            )
            .await
        }
        ["push", addr, seconds] => {
            push(&client, addr, Duration::from_secs(seconds.parse()?), None).await
        }
        ["push", addr, seconds, stop] => {
            let stop = std::path::Path::new(stop);
            push(&client, addr, Duration::from_secs(seconds.parse()?), Some(stop)).await
        }
        _ => Err("usage: gc-populate fill ADDR MANIFESTS BLOBS_PER_MANIFEST DELETE_PERCENT CONCURRENCY | push ADDR SECONDS [STOP_FILE]".into()),
    }
}

/// Pushes image `n` of `blobs` blobs (config included) into `repo`, under
/// `reference`; its manifest digest.
async fn push_image(
    client: &reqwest::Client,
    addr: &str,
    repo: &str,
    n: u64,
    blobs: u64,
    reference: Option<&str>,
) -> Result<Digest, String> {
    let contents: Vec<Vec<u8>> = (0..blobs)
        .map(|i| {
            let mut blob = format!("image {n} blob {i} ").into_bytes();
            blob.resize(1024, b'.');
            blob
        })
        .collect();
    for blob in &contents {
        let digest = Digest::sha256(blob);
        let response = client
            .post(format!(
                "http://{addr}/v2/{repo}/blobs/uploads/?digest={digest}"
            ))
            .header("content-type", "application/octet-stream")
            .body(blob.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if response.status() != 201 {
            return Err(format!("upload to {repo}: {}", response.status()));
        }
    }
    let descriptor = |blob: &Vec<u8>, media_type: &str| {
        serde_json::json!({
            "mediaType": media_type,
            "digest": Digest::sha256(blob).to_string(),
            "size": blob.len(),
        })
    };
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(&contents[0], "application/vnd.oci.image.config.v1+json"),
        "layers": contents[1..].iter().map(|b| descriptor(b, "application/vnd.oci.image.layer.v1.tar")).collect::<Vec<_>>(),
    }))
    .map_err(|e| e.to_string())?;
    let digest = Digest::sha256(&manifest);
    let reference = reference.map_or_else(|| digest.to_string(), str::to_owned);
    let response = client
        .put(format!("http://{addr}/v2/{repo}/manifests/{reference}"))
        .header("content-type", OCI_MANIFEST)
        .body(manifest)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != 201 {
        return Err(format!("manifest PUT to {repo}: {}", response.status()));
    }
    Ok(digest)
}

async fn fill(
    client: &reqwest::Client,
    addr: &str,
    manifests: u64,
    blobs: u64,
    delete_percent: u64,
    concurrency: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let pushed: Vec<Result<(String, Digest), String>> = stream::iter(0..manifests)
        .map(|n| async move {
            let repo = format!("bench/r{:02}", n % 100);
            let tag = (n == 0).then_some("latest");
            push_image(client, addr, &repo, n, blobs, tag)
                .await
                .map(|digest| (repo, digest))
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let pushed: Vec<(String, Digest)> = pushed.into_iter().collect::<Result<_, _>>()?;
    let push_time = started.elapsed();
    // Every image but the tagged one is a candidate; every k-th goes.
    let step = 100u64
        .checked_div(delete_percent)
        .map_or(u64::MAX, |s| s.max(1));
    let doomed: Vec<&(String, Digest)> = pushed
        .iter()
        .enumerate()
        .filter(|(i, _)| *i as u64 % step == step - 1)
        .map(|(_, p)| p)
        .collect();
    let deleted = AtomicU64::new(0);
    stream::iter(&doomed)
        .for_each_concurrent(concurrency, |(repo, digest)| {
            let deleted = &deleted;
            async move {
                let url = format!("http://{addr}/v2/{repo}/manifests/{digest}");
                if client
                    .delete(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 202)
                {
                    deleted.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .await;
    println!(
        "stored {} manifests and {} blobs in {:.1}s; deleted {} manifests ({} blobs to reclaim)",
        pushed.len(),
        pushed.len() as u64 * blobs,
        push_time.as_secs_f64(),
        deleted.load(Ordering::Relaxed),
        deleted.load(Ordering::Relaxed) * blobs,
    );
    Ok(())
}

async fn push(
    client: &reqwest::Client,
    addr: &str,
    seconds: Duration,
    stop: Option<&std::path::Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let pushed = Arc::new(AtomicU64::new(0));
    let mut n = 1_000_000_000u64 + u64::from(std::process::id()) * 1_000_000;
    while started.elapsed() < seconds && !stop.is_some_and(std::path::Path::exists) {
        push_image(client, addr, "bench/pusher", n, 3, None).await?;
        pushed.fetch_add(1, Ordering::Relaxed);
        n += 1;
    }
    println!(
        "pushed {} images in {:.1}s",
        pushed.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
