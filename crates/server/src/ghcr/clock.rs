//! Where the registry's accounts model reads the time, and how it writes
//! it (RFC 3339, as GitHub's REST API does).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use wharf_auth::Timestamp;

/// The time source of [`Accounts`](crate::Accounts): the system clock by
/// default; tests move time with [`Clock::from_fn`] (for instance past the
/// 30-day restore window).
///
/// ```
/// use wharf_auth::Timestamp;
/// use wharf_server::Clock;
///
/// let fixed = Clock::from_fn(|| Timestamp::from_unix_seconds(1_700_000_000));
/// assert_eq!(fixed.now().unix_seconds(), 1_700_000_000);
/// assert!(Clock::system().now().unix_seconds() > 1_700_000_000);
/// ```
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Timestamp + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::from_fn(|| Timestamp::from_system_time(SystemTime::now()))
    }

    /// A clock that asks `now`.
    pub fn from_fn(now: impl Fn() -> Timestamp + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// The current time.
    pub fn now(&self) -> Timestamp {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::system()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clock(now = {})", self.now())
    }
}

/// `2024-03-01T12:00:00Z`: a timestamp in RFC 3339, UTC, whole seconds.
pub(crate) fn rfc3339(timestamp: Timestamp) -> String {
    timestamp.to_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_written_in_rfc3339_utc() {
        let table = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
            (1_709_294_399, "2024-03-01T11:59:59Z"),
            (4_102_444_800, "2100-01-01T00:00:00Z"),
        ];
        for (seconds, expected) in table {
            assert_eq!(
                rfc3339(Timestamp::from_unix_seconds(seconds)),
                expected,
                "{seconds}"
            );
        }
    }
}
