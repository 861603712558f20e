//! The value syntaxes shared by the flags and the TOML file: durations,
//! sizes and upload rates, each with its parser (for clap) and its serde
//! form (for the file).

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// The start of a serde error message that carries a value parser's
/// reason, so that the file reader can report it as a bad value of the
/// key it came from rather than as a malformed file.
pub(super) const VALUE_ERROR: &str = "\u{1}value\u{1}";

fn value_error<E: de::Error>(reason: String) -> E {
    E::custom(format!("{VALUE_ERROR}{reason}"))
}

/// The leading digits of `text` as a number, and the unit after them
/// (untrimmed); without digits, an error saying `text` is not `expected`.
fn number_and_unit<'t>(text: &'t str, expected: &str) -> Result<(u64, &'t str), String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number = number
        .parse()
        .map_err(|_| format!("{text:?} is not {expected}"))?;
    Ok((number, unit))
}

/// `500ms`, `30s`, `10m`, `24h`, `2d` or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = number_and_unit(text, "a duration like 30s, 10m or 24h")?;
    let seconds = |factor: u64| {
        number
            .checked_mul(factor)
            .map(Duration::from_secs)
            .ok_or_else(|| format!("{text:?} is too long"))
    };
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(number)),
        "" | "s" => seconds(1),
        "m" => seconds(60),
        "h" => seconds(3600),
        "d" => seconds(86_400),
        other => Err(format!(
            "unknown unit {other:?} in {text:?}; use ms, s, m, h or d"
        )),
    }
}

/// A duration as [`parse_duration`] reads it, or `off` (zero: never).
pub fn parse_duration_or_off(text: &str) -> Result<Duration, String> {
    match text.trim() {
        "off" => Ok(Duration::ZERO),
        other => parse_duration(other),
    }
}

/// Bytes, or a number with a `KiB`, `MiB` or `GiB` suffix.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = number_and_unit(text, "a size like 4194304 or 4MiB")?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}; use KiB, MiB or GiB"
            ))
        }
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// A minimum transfer rate: so many bytes per second, averaged over each
/// window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadRate {
    /// Bytes per second; 0 is no minimum.
    pub bytes_per_second: u64,
    /// The window the rate is measured over.
    pub window: Duration,
}

/// `<size>/s over <duration>` (`1KiB/s over 30s`), `<size>/s` (over 30 s),
/// or `off`.
pub fn parse_upload_rate(text: &str) -> Result<UploadRate, String> {
    let text = text.trim();
    if text == "off" {
        return Ok(UploadRate {
            bytes_per_second: 0,
            window: Duration::from_secs(30),
        });
    }
    let (rate, window) = match text.split_once(" over ") {
        Some((rate, window)) => (rate, parse_duration(window)?),
        None => (text, Duration::from_secs(30)),
    };
    let size = rate
        .trim()
        .strip_suffix("/s")
        .ok_or_else(|| format!("{text:?} is not a rate like 1KiB/s over 30s, or off"))?;
    if window.is_zero() {
        return Err(format!("the window of {text:?} must be longer than zero"));
    }
    Ok(UploadRate {
        bytes_per_second: parse_size(size)?,
        window,
    })
}

/// A value written in the file as a whole number or as text in the flag's
/// syntax (`parse`); `what` is the expectation in type errors.
struct NumberOrText<T> {
    what: &'static str,
    parse: fn(&str) -> Result<T, String>,
    from_number: Option<fn(u64) -> T>,
}

impl<'de, T> Visitor<'de> for NumberOrText<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        match self.from_number {
            Some(from_number) => Ok(from_number(n)),
            None => Err(E::invalid_type(de::Unexpected::Unsigned(n), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
        match u64::try_from(n) {
            Ok(n) => self.visit_u64(n),
            Err(_) => Err(E::invalid_type(de::Unexpected::Signed(n), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.parse)(text).map_err(value_error)
    }
}

/// `#[serde(deserialize_with)]` for durations: a number of seconds or text
/// like `30s`.
pub(super) fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(NumberOrText {
        what: "a duration like \"30s\" or a number of seconds",
        parse: parse_duration,
        from_number: Some(Duration::from_secs),
    })
}

/// `#[serde(deserialize_with)]` for durations that may be `off` (zero): a
/// number of seconds or text like `1h` or `off`.
pub(super) fn duration_or_off<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    d.deserialize_any(NumberOrText {
        what: "a duration like \"1h\", a number of seconds, or \"off\"",
        parse: parse_duration_or_off,
        from_number: Some(Duration::from_secs),
    })
}

/// `#[serde(deserialize_with)]` for sizes: a number of bytes or text like
/// `4MiB`.
pub(super) fn size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(NumberOrText {
        what: "a size like \"4MiB\" or a number of bytes",
        parse: parse_size,
        from_number: Some(|n| n),
    })
}

/// `#[serde(deserialize_with)]` for upload rates: text like
/// `1KiB/s over 30s`.
pub(super) fn upload_rate<'de, D: Deserializer<'de>>(d: D) -> Result<UploadRate, D::Error> {
    d.deserialize_any(NumberOrText {
        what: "a rate like \"1KiB/s over 30s\" or \"off\"",
        parse: parse_upload_rate,
        from_number: None,
    })
}

/// `#[serde(deserialize_with)]` for an optional duration (the key present
/// means on).
pub(super) fn optional_duration<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    duration(d).map(Some)
}
