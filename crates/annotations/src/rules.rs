//! The rules a value must follow for its key: text (control characters,
//! limits), http(s) URLs and digests.

use url::Url;
use wharf_reference::Digest;

use crate::error::Error;
use crate::key::Key;
use crate::metadata::{Field, Origin};
use crate::policy::{ControlPolicy, LimitPolicy, Policy};

/// A text value: trimmed, control characters handled and the key's limit
/// applied by `policy`.
///
/// The result is empty only when stripping removed everything but control
/// characters (and then `stripped > 0` says so).
pub(crate) fn text(
    raw: &str,
    key: Key,
    origin: Origin,
    policy: &Policy,
) -> Result<Field<String>, Error> {
    let trimmed = raw.trim();
    let (mut value, stripped) = match first_control_character(trimmed) {
        None => (trimmed.to_owned(), 0),
        Some((char_offset, character)) => match policy.control_characters {
            ControlPolicy::Reject => {
                return Err(Error::ControlCharacter {
                    key,
                    origin,
                    character,
                    char_offset,
                })
            }
            ControlPolicy::Strip => {
                let (kept, stripped) = strip_control_characters(trimmed);
                (kept.trim().to_owned(), stripped)
            }
        },
    };
    let mut truncated = false;
    if let Some(limit) = key.max_chars() {
        let chars = value.chars().count();
        if chars > limit {
            match policy.limits {
                LimitPolicy::Reject => {
                    return Err(Error::TooLong {
                        key,
                        origin,
                        chars,
                        limit,
                    })
                }
                LimitPolicy::Truncate => {
                    let kept = truncate_chars(&value, limit).len();
                    value.truncate(kept);
                    truncated = true;
                }
            }
        }
    }
    Ok(Field {
        value,
        origin,
        truncated,
        stripped,
    })
}

/// The first `max` characters of `s` (all of it if it is shorter): always a
/// prefix of `s`, cut at a character boundary.
pub(crate) fn truncate_chars(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// Whether `c`, at this point of the text, is a control character that
/// text may not hold: any of Unicode category Cc but tab, line feed and the
/// carriage return of a CR LF.
fn is_forbidden_control(c: char, next: Option<char>) -> bool {
    c.is_control() && c != '\t' && c != '\n' && !(c == '\r' && next == Some('\n'))
}

/// The character offset and value of the first forbidden control
/// character.
fn first_control_character(s: &str) -> Option<(usize, char)> {
    let mut chars = s.chars().peekable();
    let mut offset = 0;
    while let Some(c) = chars.next() {
        if is_forbidden_control(c, chars.peek().copied()) {
            return Some((offset, c));
        }
        offset += 1;
    }
    None
}

/// `s` without its forbidden control characters, and how many there were.
fn strip_control_characters(s: &str) -> (String, usize) {
    let mut kept = String::with_capacity(s.len());
    let mut stripped = 0;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if is_forbidden_control(c, chars.peek().copied()) {
            stripped += 1;
        } else {
            kept.push(c);
        }
    }
    (kept, stripped)
}

/// An http(s) URL. Unlike text, a URL may hold no whitespace or control
/// characters at all (the WHATWG parser would silently drop tabs and line
/// breaks), and no credentials: it is shown on a public page.
pub(crate) fn http_url(raw: &str, key: Key, origin: Origin) -> Result<Field<Url>, Error> {
    let value = raw.trim();
    let invalid = |reason: &str| Error::InvalidUrl {
        key,
        origin,
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains whitespace or control characters"));
    }
    let url = Url::parse(value).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::UnsupportedScheme {
            key,
            origin,
            value: value.to_owned(),
            scheme: url.scheme().to_owned(),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "it contains credentials (user:password@), which would be shown on the package page",
        ));
    }
    Ok(Field::new(url, origin))
}

/// A content digest, `algorithm:encoded`.
pub(crate) fn digest(raw: &str, key: Key, origin: Origin) -> Result<Field<Digest>, Error> {
    let value = raw.trim();
    Digest::parse(value)
        .map(|digest| Field::new(digest, origin))
        .map_err(|e| Error::InvalidDigest {
            key,
            origin,
            value: value.to_owned(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_tab_line_feed_and_crlf_are_allowed_controls() {
        let cases = [
            ("plain", None),
            ("tab\there", None),
            ("lines\nand\r\nwindows", None),
            ("bell\u{7}", Some((4, '\u{7}'))),
            ("lone\rcr", Some((4, '\r'))),
            ("del\u{7f}", Some((3, '\u{7f}'))),
            ("c1\u{85}", Some((2, '\u{85}'))),
            ("é\u{0}", Some((1, '\u{0}'))),
            ("bidi\u{202e}kept", None),
        ];
        for (input, expected) in cases {
            assert_eq!(first_control_character(input), expected, "{input:?}");
        }
    }

    proptest! {
        #[test]
        fn truncation_is_a_prefix_of_at_most_max_chars(s in ".*", max in 0usize..64) {
            let cut = truncate_chars(&s, max);
            prop_assert!(s.starts_with(cut));
            prop_assert!(cut.chars().count() <= max);
            prop_assert_eq!(cut.chars().count(), s.chars().count().min(max));
        }

        #[test]
        fn stripping_leaves_no_forbidden_control(s in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}a\r\n]*") {
            let (kept, stripped) = strip_control_characters(&s);
            prop_assert_eq!(first_control_character(&kept), None);
            prop_assert_eq!(kept.chars().count() + stripped, s.chars().count());
        }
    }
}
