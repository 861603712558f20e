//! `minimal-registry gc [--dry-run] [--grace DURATION]`: one garbage
//! collection over the stores the settings name, while the registry may
//! be serving, with its report on standard output and its progress on
//! standard error.

use std::process::ExitCode;
use std::time::Duration;

use wharf_server::gc::{collect_garbage, GcOptions, GcProgress};

use crate::config::Settings;
use crate::stores;

/// Items between two progress lines.
const PROGRESS_EVERY: u64 = 1000;

/// Runs one collection; the exit status says whether it completed.
pub fn run(dry_run: bool, grace: Duration, settings: &Settings) -> ExitCode {
    let Some(runtime) = crate::runtime(tokio::runtime::Builder::new_current_thread()) else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(collect(dry_run, grace, settings)) {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("minimal-registry: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn collect(
    dry_run: bool,
    grace: Duration,
    settings: &Settings,
) -> Result<wharf_server::gc::GcReport, String> {
    let open = stores::open_storage(settings).await?;
    // Replicas take the lease on the job `gc` before collecting: so does
    // this command, so that one collection runs at a time.
    let _lease = match &open.lease {
        Some(lease) => Some(lease.try_acquire("gc").await.ok_or(
            "another process is collecting garbage in these stores (or the lease on the job \
             cannot be had); try again later",
        )?),
        None => None,
    };
    let options = GcOptions::default()
        .with_grace(grace)
        .with_dry_run(dry_run)
        .with_progress(PROGRESS_EVERY, show_progress);
    collect_garbage(&*open.storage, &options)
        .await
        .map_err(|err| format!("garbage collection failed: {err}"))
}

fn show_progress(progress: &GcProgress<'_>) {
    let r = progress.report;
    let state = if progress.done { "done" } else { "..." };
    eprintln!(
        "gc {} {state} {:.1}s: {} repositories, {} manifests, {} links {}, {} blobs scanned, {} {}",
        progress.phase,
        r.duration.as_secs_f64(),
        r.repositories_scanned,
        r.manifests_read,
        r.links_removed,
        if r.dry_run { "to remove" } else { "removed" },
        r.blobs_scanned,
        r.blobs_removed,
        if r.dry_run { "to remove" } else { "removed" },
    );
}
