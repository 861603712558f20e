use std::fmt;

/// Which part of a reference, name, tag or digest an [`Error`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Part {
    /// A whole image reference (`registry/path:tag@digest`).
    Reference,
    /// The registry host (and port) of a reference.
    Registry,
    /// The name of a reference: registry and repository together
    /// (`registry/path`), which docker limits to 255 bytes.
    Name,
    /// A repository path (`owner/name[/more]`).
    Repository,
    /// One `/`-separated component of a repository path.
    PathComponent,
    /// A tag.
    Tag,
    /// A whole digest (`algorithm:encoded`).
    Digest,
    /// The algorithm of a digest (`sha256`).
    Algorithm,
    /// The encoded (hex) part of a digest.
    Encoded,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Reference => "reference",
            Part::Registry => "registry",
            Part::Name => "name (registry and repository)",
            Part::Repository => "repository name",
            Part::PathComponent => "path component",
            Part::Tag => "tag",
            Part::Digest => "digest",
            Part::Algorithm => "digest algorithm",
            Part::Encoded => "digest encoding",
        })
    }
}

/// Everything that can go wrong in this crate.
///
/// Parse errors carry the byte offset, in the string that was being parsed,
/// where the rule broke, and the rule itself in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A part that must not be empty was empty.
    #[error("{part} is empty (at byte {offset})")]
    Empty {
        /// The part that was empty.
        part: Part,
        /// Where it should have started.
        offset: usize,
    },
    /// A character or shape broke the grammar.
    #[error("invalid {part} at byte {offset}: {rule}")]
    Invalid {
        /// The part being parsed.
        part: Part,
        /// The byte offset of the offending character.
        offset: usize,
        /// The grammar rule that was broken, in words.
        rule: &'static str,
    },
    /// A part was longer than its limit.
    #[error("{part} is {len} bytes long; at most {max} are allowed")]
    TooLong {
        /// The part that was too long.
        part: Part,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A string that breaks the RFC 6838 media type grammar.
    #[error("`{value}` is not a media type: {reason}")]
    InvalidMediaType {
        /// The offending string.
        value: String,
        /// The grammar rule that was broken.
        reason: &'static str,
    },
    /// A well-formed digest whose algorithm this crate cannot compute.
    #[error(
        "digest algorithm `{0}` is well-formed but not supported (use sha256, sha384 or sha512)"
    )]
    UnsupportedAlgorithm(String),
    /// Content did not hash to the digest it was supposed to have.
    #[error("content does not match its digest: expected {expected}, computed {actual}")]
    DigestMismatch {
        /// The digest the content was supposed to have.
        expected: crate::Digest,
        /// The digest actually computed over the content.
        actual: crate::Digest,
    },
}

impl Error {
    /// The byte offset where a parse error occurred, if this is one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Error::Empty { offset, .. } | Error::Invalid { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// `part` is empty (at offset 0 of the string parsed as `part`).
    pub(crate) fn empty(part: Part) -> Self {
        Error::Empty { part, offset: 0 }
    }

    /// Moves a parse error's offset by `by` bytes, so that errors from a
    /// sub-parser point into the whole input.
    pub(crate) fn shifted(self, by: usize) -> Self {
        match self {
            Error::Empty { part, offset } => Error::Empty {
                part,
                offset: offset + by,
            },
            Error::Invalid { part, offset, rule } => Error::Invalid {
                part,
                offset: offset + by,
                rule,
            },
            other => other,
        }
    }

    pub(crate) fn invalid(part: Part, offset: usize, rule: &'static str) -> Self {
        Error::Invalid { part, offset, rule }
    }
}
