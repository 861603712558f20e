//! `minimal-registry gc [--dry-run] [--grace DURATION]`: one garbage
//! collection over the stores the settings name, while the registry may
//! be serving, with its report on standard output and its progress on
//! standard error.

use std::process::ExitCode;
use std::time::Duration;

use wharf_server::gc::{collect_garbage, GcOptions, GcProgress};
use wharf_server::WorkLease;

use crate::config::Settings;
use crate::stores;

/// How long to wait for another process's collection to end.
const LEASE_WAIT: Duration = Duration::from_secs(30);

/// Items between two progress lines.
const PROGRESS_EVERY: u64 = 1000;

/// Runs one collection; the exit status says whether it completed. Log
/// lines (a manifest that cannot be parsed, a blob taken back) go to
/// standard error with the progress, at the configured level.
pub fn run(dry_run: bool, grace: Duration, settings: &Settings) -> ExitCode {
    match tracing_subscriber::EnvFilter::try_new(&settings.log_level) {
        Ok(filter) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
        Err(err) => {
            eprintln!(
                "minimal-registry: invalid log filter {:?}: {err}",
                settings.log_level
            );
            return ExitCode::from(2);
        }
    }
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
    // The registry may be serving the same stores right now.
    let open = stores::open_storage_as(settings, stores::Opener::Beside).await?;
    // Replicas take the lease on the job `gc` before collecting: so does
    // this command, so that one collection runs at a time.
    let _lease = match &open.lease {
        Some(lease) => Some(take_lease(&**lease).await?),
        None => None,
    };
    let mut options = GcOptions::default().with_progress(PROGRESS_EVERY, show_progress);
    options.grace = grace;
    options.dry_run = dry_run;
    collect_garbage(&*open.storage, &options)
        .await
        .map_err(|err| format!("garbage collection failed: {err}"))
}

/// Below this, a collection's steps end without a line each.
const QUIET_FOR: Duration = Duration::from_secs(1);

/// The lease on the job `gc`, waited for a little: the serving registry
/// holds it for a moment every few seconds (judging condemned blobs), and
/// for as long as its own scheduled collection takes.
async fn take_lease(lease: &dyn WorkLease) -> Result<Box<dyn std::any::Any + Send>, String> {
    let deadline = tokio::time::Instant::now() + LEASE_WAIT;
    loop {
        if let Some(held) = lease.try_acquire("gc").await {
            return Ok(held);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "another process has been collecting garbage in these stores for over {}s (or \
                 the lease on the job cannot be had); try again later",
                LEASE_WAIT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn show_progress(progress: &GcProgress<'_>) {
    let r = progress.report;
    if progress.done && r.duration < QUIET_FOR {
        return;
    }
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
