//! Points in time, always passed in by the caller: nothing in this crate
//! reads a clock.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time, in whole seconds since the Unix epoch (the unit of JWT
/// `exp`, `nbf` and `iat`).
///
/// Decisions that depend on time (token expiry) take a `now: Timestamp`
/// argument, so they are pure and testable.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use wharf_auth::Timestamp;
///
/// let now = Timestamp::from_system_time(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// assert_eq!(now.unix_seconds(), 1_700_000_000);
/// assert_eq!(now.saturating_add(Duration::from_secs(300)).unix_seconds(), 1_700_000_300);
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// The timestamp `seconds` after the Unix epoch.
    pub const fn from_unix_seconds(seconds: u64) -> Self {
        Timestamp(seconds)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_seconds(self) -> u64 {
        self.0
    }

    /// The timestamp of a [`SystemTime`], truncated to whole seconds; times
    /// before the epoch become the epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        Timestamp(
            time.duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_secs()),
        )
    }

    /// This timestamp plus `duration` (whole seconds), saturating at the end
    /// of time.
    pub fn saturating_add(self, duration: Duration) -> Self {
        Timestamp(self.0.saturating_add(duration.as_secs()))
    }

    /// This timestamp minus `duration` (whole seconds), saturating at the
    /// epoch.
    pub fn saturating_sub(self, duration: Duration) -> Self {
        Timestamp(self.0.saturating_sub(duration.as_secs()))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(time: SystemTime) -> Self {
        Timestamp::from_system_time(time)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
