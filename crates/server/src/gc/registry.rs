//! Garbage collection's part of [`Registry`]: one collection on demand,
//! and a scheduled one.

use std::time::{Duration, SystemTime};

use super::collector::Collection;
use super::{GcOptions, GcReport};
use crate::Registry;

impl Registry {
    /// Runs one garbage collection over the registry's storage (see
    /// [`crate::gc`]), while it keeps serving, and records it in the
    /// metrics (`wharf_gc_*`). Package deletes and restores made through
    /// this registry wait while the collector reads the repository they
    /// change.
    pub async fn collect_garbage(
        &self,
        options: GcOptions,
    ) -> Result<GcReport, wharf_storage::Error> {
        let inner = self.inner();
        let result = Collection::new(&*inner.storage, &options, Some(&inner.name_locks))
            .run()
            .await;
        inner
            .metrics
            .gc_finished(options.dry_run, result.as_ref().ok(), SystemTime::now());
        result
    }

    /// Spawns a task on the current tokio runtime that calls
    /// [`collect_garbage`](Self::collect_garbage) with `options` every
    /// `interval` (the first time one interval from now: a restart does
    /// not start a collection), on one process at a time (the
    /// [`WorkLease`](crate::WorkLease) on the job `gc`), logging what it
    /// removed and any failure. Abort the returned handle to stop it; a
    /// collection stopped midway is continued by the next one.
    ///
    /// # Panics
    ///
    /// If `interval` is zero (as [`tokio::time::interval`] does).
    pub fn spawn_garbage_collector(
        &self,
        interval: Duration,
        options: GcOptions,
    ) -> tokio::task::JoinHandle<()> {
        let now = tokio::time::Instant::now();
        // An interval too long to add is as good as never.
        let first = now
            .checked_add(interval)
            .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600));
        self.spawn_every_from("gc", first, interval, move |registry| {
            let options = options.clone();
            async move {
                match registry.collect_garbage(options).await {
                    Ok(report) => tracing::info!(
                        repositories = report.repositories_scanned,
                        manifests = report.manifests_read,
                        links_removed = report.links_removed,
                        blobs_removed = report.blobs_removed,
                        bytes_freed = report.bytes_freed,
                        condemned_resumed = report.condemned_resumed,
                        seconds = report.duration.as_secs_f64(),
                        "garbage collection finished"
                    ),
                    Err(err) => tracing::warn!(error = %err, "garbage collection failed"),
                }
            }
        })
    }

    /// Judges the blobs an interrupted collection (a process killed
    /// mid-sweep) left condemned: pardoned if linked, removed if not, as
    /// the next collection would. Until then an object store makes
    /// whoever uploads or mounts such a blob wait for the verdict (and
    /// fail after its timeout), so a registry runs this often
    /// ([`spawn_condemned_resolver`](Self::spawn_condemned_resolver)), not
    /// only at the next collection. Cheap when there is nothing: one
    /// listing.
    pub async fn resolve_condemned_blobs(&self) -> Result<GcReport, wharf_storage::Error> {
        let inner = self.inner();
        let options = GcOptions::default();
        Collection::new(&*inner.storage, &options, Some(&inner.name_locks))
            .resume_only()
            .await
    }

    /// Spawns a task that calls
    /// [`resolve_condemned_blobs`](Self::resolve_condemned_blobs) every
    /// `interval`, under the same [`WorkLease`](crate::WorkLease) job as
    /// collections (`gc`): never while a collection runs, which judges
    /// its own condemned blobs.
    ///
    /// # Panics
    ///
    /// If `interval` is zero (as [`tokio::time::interval`] does).
    pub fn spawn_condemned_resolver(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        self.spawn_every("gc", interval, |registry| async move {
            match registry.resolve_condemned_blobs().await {
                Ok(report) if report.condemned_resumed > 0 => tracing::info!(
                    condemned = report.condemned_resumed,
                    removed = report.blobs_removed,
                    "judged the blobs an interrupted garbage collection left condemned"
                ),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "judging condemned blobs failed"),
            }
        })
    }
}
