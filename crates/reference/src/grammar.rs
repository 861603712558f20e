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

const UPPER_CASE_IN_PATH: &str = "upper-case letters are not allowed in a repository path";

/// The bytes of `s`, which must not be empty as `part`.
fn non_empty(s: &str, part: Part) -> Result<&[u8], Error> {
    if s.is_empty() {
        return Err(Error::empty(part));
    }
    Ok(s.as_bytes())
}

pub(crate) fn is_alphanumeric_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `path-component := alpha-numeric (separator alpha-numeric)*`
/// `alpha-numeric  := [a-z0-9]+`
/// `separator      := [_.] | '__' | [-]+`
pub(crate) fn path_component(s: &str) -> Result<(), Error> {
    let b = non_empty(s, Part::PathComponent)?;
    let mut i = 0;
    loop {
        // alpha-numeric run
        let start = i;
        while i < b.len() && is_alphanumeric_lower(b[i]) {
            i += 1;
        }
        if i == start {
            let rule = if b[i].is_ascii_uppercase() {
                UPPER_CASE_IN_PATH
            } else if i == 0 {
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
                return Err(Error::invalid(Part::PathComponent, sep, UPPER_CASE_IN_PATH))
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
    non_empty(s, Part::Repository)?;
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
        return Err(Error::empty(Part::Tag));
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
    let b = non_empty(s, Part::Algorithm)?;
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
    non_empty(s, Part::Encoded)?;
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

/// Whether the first `/`-separated component of a name is a registry host
/// rather than a path component, decided exactly as docker's
/// `splitDockerDomain` does: it contains `.` or `:`, is `localhost`, or
/// contains an upper-case letter (path components never do).
///
/// Only meaningful when a `/` follows the component: a name without `/` is
/// always a single path component.
pub(crate) fn looks_like_registry(first: &str) -> bool {
    first == "localhost"
        || first
            .bytes()
            .any(|c| c == b'.' || c == b':' || c.is_ascii_uppercase())
}

/// `domain := host [':' port-number]`
/// `host := domain-name | '[' ipv6address ']'`
/// `domain-name := domain-component ('.' domain-component)*`
/// `domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
/// `ipv6address := [a-fA-F0-9:]+`
/// `port-number := [0-9]+`
pub(crate) fn domain(s: &str) -> Result<(), Error> {
    let b = non_empty(s, Part::Registry)?;
    let host_end = if b[0] == b'[' {
        ipv6_host(b)?
    } else {
        domain_name(b)?
    };
    match b.get(host_end) {
        None => Ok(()),
        Some(b':') => port_number(&b[host_end + 1..]).map_err(|e| e.shifted(host_end + 1)),
        Some(_) => Err(Error::invalid(
            Part::Registry,
            host_end,
            "a registry host may be followed only by `:` and a port number",
        )),
    }
}

/// `domain-name` at the start of `b`; returns where it ends (at the end of
/// `b` or at the `:` of a port).
fn domain_name(b: &[u8]) -> Result<usize, Error> {
    let mut i = 0;
    loop {
        // domain-component: letters, digits and inner hyphens
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'-') {
            i += 1;
        }
        if i == start {
            return Err(Error::invalid(
                Part::Registry,
                i,
                if i == 0 {
                    "a registry host must start with a letter or digit"
                } else {
                    "a registry domain component must not be empty"
                },
            ));
        }
        if b[start] == b'-' {
            return Err(Error::invalid(
                Part::Registry,
                start,
                "a registry domain component must not start with `-`",
            ));
        }
        if b[i - 1] == b'-' {
            return Err(Error::invalid(
                Part::Registry,
                i - 1,
                "a registry domain component must not end with `-`",
            ));
        }
        match b.get(i) {
            Some(b'.') => i += 1,
            None | Some(b':') => return Ok(i),
            Some(_) => {
                return Err(Error::invalid(
                    Part::Registry,
                    i,
                    "a registry host may contain only letters, digits, `-` and `.`",
                ))
            }
        }
    }
}

/// `'[' ipv6address ']'` at the start of `b`; returns the index after `]`.
/// Only the compressed or uncompressed textual forms are accepted, as in
/// distribution: no zone identifiers, no embedded IPv4.
fn ipv6_host(b: &[u8]) -> Result<usize, Error> {
    let mut i = 1;
    while i < b.len() && (b[i].is_ascii_hexdigit() || b[i] == b':') {
        i += 1;
    }
    match b.get(i) {
        Some(b']') if i > 1 => Ok(i + 1),
        Some(b']') => Err(Error::invalid(
            Part::Registry,
            i,
            "an IPv6 registry address must not be empty",
        )),
        None => Err(Error::invalid(
            Part::Registry,
            0,
            "an IPv6 registry address must be closed with `]`",
        )),
        Some(_) => Err(Error::invalid(
            Part::Registry,
            i,
            "an IPv6 registry address may contain only hexadecimal digits and `:`",
        )),
    }
}

/// `port-number := [0-9]+`
fn port_number(b: &[u8]) -> Result<(), Error> {
    if b.is_empty() {
        return Err(Error::empty(Part::Registry));
    }
    match b.iter().position(|c| !c.is_ascii_digit()) {
        None => Ok(()),
        Some(i) => Err(Error::invalid(
            Part::Registry,
            i,
            "a registry port may contain only digits",
        )),
    }
}

/// The stricter digest production of distribution's `regexp.go`, which a
/// digest inside a reference must also satisfy on top of the image-spec
/// grammar that [`Digest`](crate::Digest) checks:
///
/// `digest := [A-Za-z][A-Za-z0-9]* ([-_+.][A-Za-z][A-Za-z0-9]*)* ':' [[:xdigit:]]{32,}`
///
/// `colon` is the index of the `:` in `s`.
pub(crate) fn reference_digest(s: &str, colon: usize) -> Result<(), Error> {
    let b = s.as_bytes();
    let mut component_start = true;
    for (i, &c) in b[..colon].iter().enumerate() {
        if component_start && !c.is_ascii_alphabetic() {
            return Err(Error::invalid(
                Part::Algorithm,
                i,
                "in a reference, each digest algorithm component must start with a letter",
            ));
        }
        component_start = matches!(c, b'-' | b'_' | b'+' | b'.');
    }
    let encoded = &b[colon + 1..];
    if let Some(i) = encoded.iter().position(|c| !c.is_ascii_hexdigit()) {
        return Err(Error::invalid(
            Part::Encoded,
            colon + 1 + i,
            "in a reference, a digest must be hexadecimal",
        ));
    }
    if encoded.len() < REFERENCE_DIGEST_HEX_MIN {
        return Err(Error::invalid(
            Part::Encoded,
            s.len(),
            "in a reference, a digest must have at least 32 hexadecimal digits",
        ));
    }
    Ok(())
}

/// Shortest encoded digest distribution accepts inside a reference.
const REFERENCE_DIGEST_HEX_MIN: usize = 32;

/// `identifier := [a-f0-9]{64}`: a bare image ID, which docker refuses to
/// take as a repository name.
pub(crate) fn is_identifier(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Ok(())` or the (part, offset) of the error.
    fn at(r: Result<(), Error>) -> Result<(), (Part, usize)> {
        r.map_err(|e| match e {
            Error::Invalid { part, offset, .. } | Error::Empty { part, offset } => (part, offset),
            other => panic!("unexpected {other:?}"),
        })
    }

    #[test]
    fn domain_accepts_hosts_ips_and_ports_as_distribution_does() {
        for ok in [
            "localhost",
            "localhost:5000",
            "ghcr.io",
            "a",
            "a-b--c.d",
            "HOSTNAME.example",
            "127.0.0.1:80",
            "[::1]",
            "[::1]:5000",
            "[2001:DB8::1]",
            "0.0.0.0:0",
        ] {
            assert_eq!(at(domain(ok)), Ok(()), "{ok}");
        }
    }

    #[test]
    fn domain_rejects_with_the_offset_of_the_first_bad_byte() {
        let cases = [
            ("", 0),
            (".a", 0),
            ("a.", 2),
            ("a..b", 2),
            ("-a", 0),
            ("a-", 1),
            ("a.-b", 2),
            ("a_b", 1),
            ("a:", 2),
            ("a:1x", 3),
            ("a:1:2", 3),
            ("[", 0),
            ("[]", 1),
            ("[::1", 0),
            ("[::g]", 3),
            ("[::1]a", 5),
            ("[::1]:", 6),
        ];
        for (input, offset) in cases {
            assert_eq!(
                at(domain(input)),
                Err((Part::Registry, offset)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn registry_is_recognised_by_dot_colon_localhost_or_upper_case() {
        for (first, registry) in [
            ("ghcr.io", true),
            ("registry:5000", true),
            ("[::1]", true),
            ("localhost", true),
            ("Foo", true),
            ("fOO", true),
            ("foo", false),
            ("local-host", false),
            ("localhost2", false),
            ("a_b-c", false),
        ] {
            assert_eq!(looks_like_registry(first), registry, "{first}");
        }
    }

    #[test]
    fn reference_digest_requires_letter_led_algorithms_and_32_hex_digits() {
        let hex32 = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(at(reference_digest(&format!("md5:{hex32}"), 3)), Ok(()));
        assert_eq!(
            at(reference_digest(&format!("a+b.c_d-e:{hex32}"), 9)),
            Ok(())
        );
        assert_eq!(
            at(reference_digest(&format!("1a:{hex32}"), 2)),
            Err((Part::Algorithm, 0))
        );
        assert_eq!(
            at(reference_digest(&format!("a+1:{hex32}"), 3)),
            Err((Part::Algorithm, 2))
        );
        assert_eq!(
            at(reference_digest(&format!("a:{}", &hex32[1..]), 1)),
            Err((Part::Encoded, 33))
        );
        assert_eq!(
            at(reference_digest(&format!("a:{hex32}g"), 1)),
            Err((Part::Encoded, 34))
        );
    }

    #[test]
    fn identifiers_are_exactly_64_lower_case_hex_digits() {
        let id = "7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa";
        assert!(is_identifier(id));
        assert!(!is_identifier(&id[1..]));
        assert!(!is_identifier(&id.to_uppercase()));
        assert!(!is_identifier(&format!("{id}0")));
    }

    #[test]
    fn path_component_names_upper_case_wherever_it_appears() {
        for (input, offset) in [("Abc", 0), ("aBc", 1), ("a-Bc", 2), ("a.B", 2)] {
            assert_eq!(
                path_component(input),
                Err(Error::invalid(
                    Part::PathComponent,
                    offset,
                    UPPER_CASE_IN_PATH
                )),
                "{input}"
            );
        }
    }
}
