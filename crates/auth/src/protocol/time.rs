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

    /// The date and time of day in UTC.
    ///
    /// Times after 9999-12-30T22:00:00Z (the end of the calendar's range)
    /// read as that time.
    pub fn to_utc(self) -> UtcDateTime {
        let utc = jiff::tz::Offset::UTC.to_datetime(self.to_jiff());
        // jiff's fields are in range (year 1970 to 9999, month 1 to 12...).
        let field = |value: i8| u8::try_from(value).unwrap_or(0);
        UtcDateTime {
            year: u64::try_from(utc.year()).unwrap_or(0),
            month: field(utc.month()),
            day: field(utc.day()),
            hour: field(utc.hour()),
            minute: field(utc.minute()),
            second: field(utc.second()),
        }
    }

    /// This timestamp in RFC 3339, UTC, whole seconds
    /// (`2024-03-01T12:00:00Z`), as GitHub's REST API writes times.
    ///
    /// ```
    /// use wharf_auth::Timestamp;
    ///
    /// assert_eq!(Timestamp::from_unix_seconds(1_700_000_000).to_rfc3339(), "2023-11-14T22:13:20Z");
    /// ```
    pub fn to_rfc3339(self) -> String {
        self.to_jiff().to_string()
    }

    /// The timestamp an RFC 3339 date-time names (any offset; a fraction
    /// of a second is dropped), or `None` if `text` is not one or is before
    /// the epoch.
    ///
    /// ```
    /// use wharf_auth::Timestamp;
    ///
    /// let at = Timestamp::parse_rfc3339("2023-11-15T00:13:20.5+02:00");
    /// assert_eq!(at, Some(Timestamp::from_unix_seconds(1_700_000_000)));
    /// assert_eq!(Timestamp::parse_rfc3339("1969-12-31T23:59:59Z"), None);
    /// assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    /// ```
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let parsed: jiff::Timestamp = text.parse().ok()?;
        u64::try_from(parsed.as_second()).ok().map(Timestamp)
    }

    /// The same instant as a [`jiff::Timestamp`], saturating at the last
    /// whole second of jiff's range (9999-12-30T22:00:00Z).
    fn to_jiff(self) -> jiff::Timestamp {
        let max = jiff::Timestamp::MAX.as_second();
        let seconds = i64::try_from(self.0).map_or(max, |seconds| seconds.min(max));
        jiff::Timestamp::from_second(seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }
}

/// A [`Timestamp`] as a date (proleptic Gregorian calendar) and time of
/// day in UTC. Displays as RFC 3339 (as GitHub's REST API writes times).
///
/// ```
/// use wharf_auth::Timestamp;
///
/// let utc = Timestamp::from_unix_seconds(1_700_000_000).to_utc();
/// assert_eq!((utc.year, utc.month, utc.day), (2023, 11, 14));
/// assert_eq!(utc.to_string(), "2023-11-14T22:13:20Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UtcDateTime {
    /// The year.
    pub year: u64,
    /// The month, 1 to 12.
    pub month: u8,
    /// The day of the month, from 1.
    pub day: u8,
    /// The hour, 0 to 23.
    pub hour: u8,
    /// The minute, 0 to 59.
    pub minute: u8,
    /// The second, 0 to 59.
    pub second: u8,
}

impl fmt::Display for UtcDateTime {
    /// `2024-03-01T12:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_utc_dates_and_rfc3339() {
        for (seconds, expected) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
            (1_709_251_199, "2024-02-29T23:59:59Z"),
            (1_709_294_399, "2024-03-01T11:59:59Z"),
            (4_102_444_800, "2100-01-01T00:00:00Z"),
        ] {
            let at = Timestamp::from_unix_seconds(seconds);
            assert_eq!(at.to_utc().to_string(), expected, "{seconds}");
            assert_eq!(at.to_rfc3339(), expected, "{seconds}");
            assert_eq!(Timestamp::parse_rfc3339(expected), Some(at), "{expected}");
        }
    }

    #[test]
    fn the_end_of_time_saturates_at_the_calendar_end() {
        let end = Timestamp::from_unix_seconds(u64::MAX);
        assert_eq!(end.to_rfc3339(), "9999-12-30T22:00:00Z");
        assert_eq!(end.to_utc().to_string(), "9999-12-30T22:00:00Z");
    }

    #[test]
    fn only_rfc3339_date_times_parse() {
        for text in [
            "",
            "1700000000",
            "2024-02-30T00:00:00Z",
            "2024-03-01T12:00:00",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(text), None, "{text:?}");
        }
        assert_eq!(
            Timestamp::parse_rfc3339("1970-01-01T01:00:00+01:00"),
            Some(Timestamp::EPOCH)
        );
    }

    fn days_in_month(year: u64, month: u8) -> u8 {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    proptest::proptest! {
        /// Every timestamp is a valid calendar date and time, and the next
        /// second is the next one in the calendar (midnight starts a day).
        #[test]
        fn each_second_is_the_next_valid_date_and_time(seconds in 0u64..400 * 366 * 86_400) {
            let this = Timestamp::from_unix_seconds(seconds).to_utc();
            let next = Timestamp::from_unix_seconds(seconds + 1).to_utc();
            proptest::prop_assert!((1..=12).contains(&this.month));
            proptest::prop_assert!(this.day >= 1 && this.day <= days_in_month(this.year, this.month));
            proptest::prop_assert!(this.hour < 24 && this.minute < 60 && this.second < 60);
            proptest::prop_assert!(this < next, "{this} then {next}");
            let at = Timestamp::from_unix_seconds(seconds);
            proptest::prop_assert_eq!(Timestamp::parse_rfc3339(&at.to_rfc3339()), Some(at));
            if (seconds + 1) % 86_400 == 0 {
                proptest::prop_assert_eq!((next.hour, next.minute, next.second), (0, 0, 0));
                proptest::prop_assert!(
                    next.day == 1 || next.day == this.day + 1,
                    "{} then {}", this, next
                );
            }
        }
    }
}
