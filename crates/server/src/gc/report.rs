//! [`GcReport`]: what a collection did, or would do.

use std::fmt;
use std::time::Duration;

/// What a collection removed (or, in a dry run, would remove), and how
/// much it looked at. Its `Display` is the summary the command line
/// prints.
///
/// ```
/// use wharf_server::gc::GcReport;
///
/// let report = GcReport::default();
/// assert!(report.to_string().contains("blobs removed: 0"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcReport {
    /// Whether this was a dry run (nothing changed; the figures are what
    /// would go).
    pub dry_run: bool,
    /// Live repositories whose links were examined.
    pub repositories_scanned: u64,
    /// Manifests read and parsed in them.
    pub manifests_read: u64,
    /// Repositories that kept all their links because one of their
    /// manifests could not be parsed.
    pub repositories_kept_whole: u64,
    /// Links of repositories to blobs that no manifest of theirs
    /// references, removed.
    pub links_removed: u64,
    /// Stored blobs looked at.
    pub blobs_scanned: u64,
    /// Blobs removed, those of [`condemned_resumed`](Self::condemned_resumed)
    /// included.
    pub blobs_removed: u64,
    /// The bytes of the removed blobs (those found condemned at the start
    /// are not counted: their size is no longer listed).
    pub bytes_freed: u64,
    /// Blobs an interrupted collection had left condemned, recounted and
    /// then pardoned or removed.
    pub condemned_resumed: u64,
    /// How long the collection took.
    pub duration: Duration,
}

/// `bytes` in a unit a person reads at a glance (`1.5 MiB`).
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Precision is moot for a figure shown to one decimal.
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

impl fmt::Display for GcReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run {
            "that would be removed"
        } else {
            "removed"
        };
        if self.dry_run {
            writeln!(
                f,
                "dry run: nothing was changed; a collection would remove what follows"
            )?;
        }
        writeln!(
            f,
            "repositories scanned: {} ({} manifests read{})",
            self.repositories_scanned,
            self.manifests_read,
            match self.repositories_kept_whole {
                0 => String::new(),
                n => format!(", {n} kept whole: a manifest could not be read"),
            }
        )?;
        writeln!(f, "links {verb}: {}", self.links_removed)?;
        writeln!(
            f,
            "blobs {verb}: {} (of {} scanned)",
            self.blobs_removed, self.blobs_scanned
        )?;
        let freed = if self.dry_run {
            "bytes that would be freed"
        } else {
            "bytes freed"
        };
        writeln!(
            f,
            "{freed}: {} ({})",
            self.bytes_freed,
            human_bytes(self.bytes_freed)
        )?;
        if self.condemned_resumed > 0 {
            writeln!(
                f,
                "condemned blobs resumed from an interrupted collection: {}",
                self.condemned_resumed
            )?;
        }
        write!(f, "time taken: {:.3}s", self.duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_at_a_glance() {
        for (bytes, shown) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536 * 1024, "1.5 MiB"),
            (5 << 30, "5.0 GiB"),
        ] {
            assert_eq!(human_bytes(bytes), shown);
        }
    }

    #[test]
    fn a_dry_run_says_nothing_changed() {
        let report = GcReport {
            dry_run: true,
            links_removed: 3,
            blobs_removed: 2,
            bytes_freed: 2048,
            ..GcReport::default()
        };
        let text = report.to_string();
        assert!(text.starts_with("dry run: nothing was changed"), "{text}");
        assert!(text.contains("links that would be removed: 3"), "{text}");
        assert!(
            text.contains("blobs that would be removed: 2 (of 0 scanned)"),
            "{text}"
        );
        assert!(
            text.contains("bytes that would be freed: 2048 (2.0 KiB)"),
            "{text}"
        );
    }
}
