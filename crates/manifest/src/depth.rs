//! The nesting depth of a JSON document, checked before it is parsed:
//! serde skips unknown fields without a depth limit, and the stored bytes
//! (unknown fields included) are served to every client that pulls them.

use crate::error::Error;

/// Refuses `bytes` when arrays and objects nest deeper than `limit`. One
/// pass, no allocation; brackets inside strings do not count. Syntax is not
/// checked here: the parser that follows reports it.
pub(crate) fn check(bytes: &[u8], limit: usize) -> Result<(), Error> {
    // The depth never exceeds the number of opening brackets, and counting
    // them is a branch-free loop the compiler vectorizes: a manifest or
    // index of ordinary size has a few dozen, so the exact walk below runs
    // only for documents that could be too deep.
    let openings = bytes.iter().filter(|&&b| b == b'[' || b == b'{').count();
    if openings <= limit {
        return Ok(());
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &byte) in bytes.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(Error::TooDeep { limit, offset });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> Vec<u8> {
        let mut doc = "[".repeat(depth).into_bytes();
        doc.extend("]".repeat(depth).bytes());
        doc
    }

    #[test]
    fn depth_up_to_the_limit_passes_and_one_more_fails() {
        assert_eq!(check(&nested(4), 4), Ok(()));
        assert_eq!(
            check(&nested(5), 4),
            Err(Error::TooDeep {
                limit: 4,
                offset: 4
            })
        );
        assert!(check(&nested(100_000), 64).is_err());
    }

    #[test]
    fn many_shallow_brackets_are_walked_exactly() {
        // More openings than the limit, but never deeper than 2.
        let doc = "[".to_owned() + &"[1],".repeat(100) + "[1]]";
        assert_eq!(check(doc.as_bytes(), 2), Ok(()));
        assert!(check(doc.as_bytes(), 1).is_err());
    }

    #[test]
    fn brackets_in_strings_do_not_count() {
        let doc = br#"{"a": "[[[[[[{{{{ \" [[[[", "b": [1]}"#;
        assert_eq!(check(doc, 2), Ok(()));
        assert!(check(br#"{"a": [[1]]}"#, 2).is_err());
    }
}
