//! [`GcOptions`]: how a collection runs, and the [`GcProgress`] it reports
//! along the way.

use std::sync::Arc;
use std::time::Duration;

use super::GcReport;

/// A callback that receives a collection's progress.
type ProgressFn = Arc<dyn Fn(&GcProgress<'_>) + Send + Sync>;

/// How a collection runs.
///
/// ```
/// use std::time::Duration;
/// use wharf_server::gc::GcOptions;
///
/// let mut options = GcOptions::default();
/// assert_eq!(options.grace, Duration::from_secs(3600));
/// assert_eq!(options.batch_size, 500);
/// options.grace = Duration::from_secs(30 * 60);
/// options.dry_run = true;
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct GcOptions {
    /// How old a link or a blob must be before it may go (default one
    /// hour): the cutoff is the collection's start minus this. It must
    /// cover the time between a layer's upload and the push of the
    /// manifest that references it.
    pub grace: Duration,
    /// Change nothing; report what would go (default false).
    pub dry_run: bool,
    /// How many blobs are listed, counted and removed at a time (default
    /// 500, and at least 1); also the page size of the other listings.
    pub batch_size: usize,
    /// How many items (repositories in the links step, blobs in the blobs
    /// step) between two calls of the progress callback (default 1000, and
    /// at least 1).
    pub progress_every: u64,
    progress: Option<ProgressFn>,
}

impl Default for GcOptions {
    fn default() -> Self {
        GcOptions {
            grace: Duration::from_secs(60 * 60),
            dry_run: false,
            batch_size: 500,
            progress_every: 1000,
            progress: None,
        }
    }
}

impl std::fmt::Debug for GcOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcOptions")
            .field("grace", &self.grace)
            .field("dry_run", &self.dry_run)
            .field("batch_size", &self.batch_size)
            .field("progress_every", &self.progress_every)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl GcOptions {
    /// Calls `progress` every [`progress_every`](Self::progress_every)
    /// items and at the end of each step, with the figures so far: for a
    /// command line that shows a long collection advancing.
    #[must_use]
    pub fn with_progress(
        mut self,
        every: u64,
        progress: impl Fn(&GcProgress<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.progress_every = every;
        self.progress = Some(Arc::new(progress));
        self
    }

    pub(super) fn report_progress(&self, phase: GcPhase, done: bool, report: &GcReport) {
        tracing::debug!(
            phase = phase.name(),
            done,
            ?report,
            "garbage collection progress"
        );
        if let Some(progress) = &self.progress {
            progress(&GcProgress {
                phase,
                done,
                report,
            });
        }
    }
}

/// A step of a collection (see [the module docs](super)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GcPhase {
    /// Recounting the blobs an interrupted collection left condemned.
    Resume,
    /// Removing the links no manifest references, repository by
    /// repository.
    Links,
    /// Removing the blobs no repository links.
    Blobs,
}

impl GcPhase {
    /// A short name: `resume`, `links`, `blobs`.
    pub fn name(self) -> &'static str {
        match self {
            GcPhase::Resume => "resume",
            GcPhase::Links => "links",
            GcPhase::Blobs => "blobs",
        }
    }
}

impl std::fmt::Display for GcPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a collection is: its step, whether the step just ended, and the
/// figures so far.
#[derive(Debug)]
#[non_exhaustive]
pub struct GcProgress<'a> {
    /// The step under way.
    pub phase: GcPhase,
    /// Whether the step has just ended.
    pub done: bool,
    /// The figures so far (`duration` is the time taken so far).
    pub report: &'a GcReport,
}
