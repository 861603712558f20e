//! The productions of the reference grammar, named as in the distribution
//! project's `regexp.go` and the OCI Distribution Specification so that the
//! code can be checked against the grammar line by line.
//!
//! Every function checks one production over a whole string and reports the
//! first broken rule with its byte offset in that string.

use crate::error::{Error, Part};

/// Longest repository path, in bytes.
pub(crate) const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Longest tag, in bytes.
pub(crate) const TAG_LENGTH_MAX: usize = 128;

pub(crate) fn is_alphanumeric_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `path-component := alpha-numeric (separator alpha-numeric)*`
/// `alpha-numeric  := [a-z0-9]+`
/// `separator      := [_.] | '__' | [-]+`
pub(crate) fn path_component(s: &str) -> Result<(), Error> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(Error::Empty {
            part: Part::PathComponent,
            offset: 0,
        });
    }
    let mut i = 0;
    loop {
        // alpha-numeric run
        let start = i;
        while i < b.len() && is_alphanumeric_lower(b[i]) {
            i += 1;
        }
        if i == start {
            let rule = if i == 0 {
                "a path component must start with a lower-case letter or digit"
            } else {
                "a separator must be followed by a lower-case letter or digit"
            };
            return Err(Error::invalid(Part::PathComponent, i, rule));
        }
        if i == b.len() {
            return Ok(());
        }
        // separator
        let sep = i;
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            c if c.is_ascii_uppercase() => {
                return Err(Error::invalid(
                    Part::PathComponent,
                    sep,
                    "upper-case letters are not allowed in a repository path",
                ))
            }
            _ => {
                return Err(Error::invalid(
                    Part::PathComponent,
                    sep,
                    "only lower-case letters, digits and the separators `.`, `_`, `__`, `-` are allowed",
                ))
            }
        }
        if i == b.len() {
            return Err(Error::invalid(
                Part::PathComponent,
                sep,
                "a path component must not end with a separator",
            ));
        }
    }
}

/// `path := path-component ('/' path-component)*`, at most 255 bytes.
pub(crate) fn path(s: &str) -> Result<(), Error> {
    if s.is_empty() {
        return Err(Error::Empty {
            part: Part::Repository,
            offset: 0,
        });
    }
    if s.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(Error::TooLong {
            part: Part::Repository,
            len: s.len(),
            max: NAME_TOTAL_LENGTH_MAX,
        });
    }
    let mut offset = 0;
    for component in s.split('/') {
        path_component(component).map_err(|e| e.shifted(offset))?;
        offset += component.len() + 1;
    }
    Ok(())
}

/// `tag := [\w][\w.-]{0,127}` where `\w` is `[A-Za-z0-9_]`.
pub(crate) fn tag(s: &str) -> Result<(), Error> {
    let b = s.as_bytes();
    let Some(&first) = b.first() else {
        return Err(Error::Empty {
            part: Part::Tag,
            offset: 0,
        });
    };
    if !(first.is_ascii_alphanumeric() || first == b'_') {
        return Err(Error::invalid(
            Part::Tag,
            0,
            "a tag must start with a letter, digit or `_`",
        ));
    }
    if let Some(i) = b
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')))
    {
        return Err(Error::invalid(
            Part::Tag,
            i,
            "a tag may contain only letters, digits, `_`, `.` and `-`",
        ));
    }
    if b.len() > TAG_LENGTH_MAX {
        return Err(Error::TooLong {
            part: Part::Tag,
            len: b.len(),
            max: TAG_LENGTH_MAX,
        });
    }
    Ok(())
}

/// `algorithm := algorithm-component (algorithm-separator algorithm-component)*`
/// `algorithm-component := [a-z0-9]+`, `algorithm-separator := [+._-]`
pub(crate) fn algorithm(s: &str) -> Result<(), Error> {
    let b = s.as_bytes();
    if b.is_empty() {
        return Err(Error::Empty {
            part: Part::Algorithm,
            offset: 0,
        });
    }
    let mut prev_sep = true;
    for (i, &c) in b.iter().enumerate() {
        if is_alphanumeric_lower(c) {
            prev_sep = false;
        } else if matches!(c, b'+' | b'.' | b'_' | b'-') {
            if prev_sep {
                return Err(Error::invalid(
                    Part::Algorithm,
                    i,
                    "an algorithm separator must sit between lower-case letters or digits",
                ));
            }
            prev_sep = true;
        } else {
            return Err(Error::invalid(
                Part::Algorithm,
                i,
                "an algorithm may contain only lower-case letters, digits and `+._-`",
            ));
        }
    }
    if prev_sep {
        return Err(Error::invalid(
            Part::Algorithm,
            b.len() - 1,
            "an algorithm must not end with a separator",
        ));
    }
    Ok(())
}

/// `encoded := [a-zA-Z0-9=_-]+`
pub(crate) fn encoded(s: &str) -> Result<(), Error> {
    if s.is_empty() {
        return Err(Error::Empty {
            part: Part::Encoded,
            offset: 0,
        });
    }
    if let Some(i) = s
        .bytes()
        .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'=' | b'_' | b'-')))
    {
        return Err(Error::invalid(
            Part::Encoded,
            i,
            "an encoded digest may contain only letters, digits, `=`, `_` and `-`",
        ));
    }
    Ok(())
}

/// Lower-case hex of exactly `len` characters, as sha256 and sha512 require.
pub(crate) fn lower_hex(s: &str, len: usize) -> Result<(), Error> {
    if let Some(i) = s
        .bytes()
        .position(|c| !(c.is_ascii_digit() || (b'a'..=b'f').contains(&c)))
    {
        return Err(Error::invalid(
            Part::Encoded,
            i,
            "this algorithm's digest must be lower-case hexadecimal",
        ));
    }
    if s.len() != len {
        return Err(Error::invalid(
            Part::Encoded,
            s.len().min(len),
            if s.len() < len {
                "digest is too short for its algorithm"
            } else {
                "digest is too long for its algorithm"
            },
        ));
    }
    Ok(())
}
