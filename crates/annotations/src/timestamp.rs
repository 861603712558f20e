//! [`Timestamp`]: the `org.opencontainers.image.created` value as written,
//! with whether it is an RFC 3339 date-time.

use serde::{Deserialize, Serialize};

/// A date-time as written, with whether it follows RFC 3339 §5.6
/// (`2024-03-01T12:30:00Z`, `2024-03-01T12:30:00.123+02:00`), as the
/// image-spec requires of `org.opencontainers.image.created`.
///
/// The text is kept either way (tools write `2024-03-01 12:30:00` too); a
/// UI can show a valid one in the reader's time zone and an invalid one as
/// text.
///
/// ```
/// use wharf_annotations::Timestamp;
///
/// assert!(Timestamp::new("2024-02-29T23:59:60.5-08:00").is_rfc3339);
/// assert!(!Timestamp::new("2023-02-29T00:00:00Z").is_rfc3339); // not a leap year
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Timestamp {
    /// The value as written (trimmed).
    pub raw: String,
    /// Whether [`raw`](Self::raw) is an RFC 3339 `date-time`.
    pub is_rfc3339: bool,
}

impl Timestamp {
    /// Checks `raw` against RFC 3339 and keeps it as written.
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let is_rfc3339 = is_rfc3339_date_time(&raw);
        Timestamp { raw, is_rfc3339 }
    }
}

/// `date-time = full-date "T" full-time` (RFC 3339 §5.6; `t` and `z` are
/// accepted in lower case, as §5.6's note allows).
pub(crate) fn is_rfc3339_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || !matches!(b[10], b'T' | b't') {
        return false;
    }
    full_date(&b[..10]) && full_time(&b[11..])
}

/// `full-date = date-fullyear "-" date-month "-" date-mday`, a day of
/// the proleptic Gregorian calendar (checked by [`jiff::civil::Date`]).
fn full_date(b: &[u8]) -> bool {
    let (Some(year), Some(month), Some(day)) =
        (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    else {
        return false;
    };
    // Four digits and two digits: each fits.
    let (Ok(year), Ok(month), Ok(day)) =
        (i16::try_from(year), i8::try_from(month), i8::try_from(day))
    else {
        return false;
    };
    b[4] == b'-' && b[7] == b'-' && jiff::civil::Date::new(year, month, day).is_ok()
}

/// `full-time = partial-time time-offset`, with
/// `partial-time = time-hour ":" time-minute ":" time-second [time-secfrac]`
fn full_time(b: &[u8]) -> bool {
    if b.len() < 9 {
        return false;
    }
    let (Some(hour), Some(minute), Some(second)) =
        (digits(&b[0..2]), digits(&b[3..5]), digits(&b[6..8]))
    else {
        return false;
    };
    // A leap second (60) is allowed by the grammar; §5.7 leaves checking it
    // against the leap-second table to the application.
    if b[2] != b':' || b[5] != b':' || hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut rest = &b[8..];
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let fraction = after_dot.iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 {
            return false;
        }
        rest = &after_dot[fraction..];
    }
    time_offset(rest)
}

/// `time-offset = "Z" / time-numoffset`, `time-numoffset = ("+" / "-")
/// time-hour ":" time-minute`
fn time_offset(b: &[u8]) -> bool {
    match b {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            matches!((digits(&[*h1, *h2]), digits(&[*m1, *m2])), (Some(h), Some(m)) if h <= 23 && m <= 59)
        }
        _ => false,
    }
}

/// The value of a run of ASCII digits, `None` if any byte is not one.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| {
        c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::is_rfc3339_date_time;

    #[test]
    fn rfc3339_date_times_are_recognised() {
        let cases = [
            ("2024-03-01T12:30:00Z", true),
            ("2024-03-01t12:30:00z", true),
            ("2024-03-01T12:30:00.123456789Z", true),
            ("2024-03-01T12:30:00+02:00", true),
            ("2024-03-01T12:30:00-23:59", true),
            ("2024-02-29T00:00:00Z", true),
            ("2000-02-29T00:00:00Z", true),
            ("2016-12-31T23:59:60Z", true),
            ("0000-01-01T00:00:00Z", true),
            ("2023-02-29T00:00:00Z", false),
            ("1900-02-29T00:00:00Z", false),
            ("2024-04-31T00:00:00Z", false),
            ("2024-13-01T00:00:00Z", false),
            ("2024-00-01T00:00:00Z", false),
            ("2024-03-00T00:00:00Z", false),
            ("2024-03-01T24:00:00Z", false),
            ("2024-03-01T12:60:00Z", false),
            ("2024-03-01T12:30:61Z", false),
            ("2024-03-01T12:30:00.Z", false),
            ("2024-03-01T12:30:00", false),
            ("2024-03-01 12:30:00Z", false),
            ("2024-03-01T12:30:00+0200", false),
            ("2024-03-01T12:30:00+24:00", false),
            ("2024-03-01T12:30:00ZZ", false),
            ("2024-3-01T12:30:00Z", false),
            ("24-03-01T12:30:00Z", false),
            ("2024-03-01", false),
            ("", false),
            ("２０２４-03-01T12:30:00Z", false),
            ("2024-03-01T12:30:00Z\n", false),
        ];
        for (input, expected) in cases {
            assert_eq!(is_rfc3339_date_time(input), expected, "{input:?}");
        }
    }
}
