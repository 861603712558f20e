//! [`Error`], the one error type of this crate, and the OCI [`ErrorCode`]
//! each variant maps to.

use std::fmt;

use wharf_reference::MediaType;

pub use wharf_reference::ErrorCode;

/// Everything that can be wrong with a manifest.
///
/// Variants that concern one place in the document carry its JSON `path`
/// (`layers[2].digest`, `manifests[0].platform.architecture`,
/// `annotations["org.example"]`); the path is empty for the document as a
/// whole. [`Error::code`] gives the OCI error code to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The manifest is larger than [`ParseOptions::max_size`](crate::ParseOptions).
    #[error("manifest is {size} bytes, over the {limit}-byte limit; reduce it (fewer index entries or shorter annotations) or ask the registry operator to raise the limit")]
    TooLarge {
        /// The manifest's size in bytes.
        size: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// Arrays and objects nest deeper than
    /// [`ParseOptions::max_depth`](crate::ParseOptions).
    #[error("manifest nests arrays and objects more than {limit} levels deep (at byte {offset}); no manifest format needs that many, and every client that pulls it would have to parse them")]
    TooDeep {
        /// The configured limit.
        limit: usize,
        /// The byte offset of the bracket past the limit.
        offset: usize,
    },
    /// The body is empty (or only whitespace).
    #[error("manifest body is empty; send the manifest JSON as the request body")]
    Empty,
    /// The body is not well-formed JSON.
    #[error("manifest is not valid JSON: {message} at line {line}, column {column}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser expected.
        message: String,
    },
    /// Well-formed JSON with the wrong shape: a missing required field, a
    /// value of the wrong type, a duplicate key.
    #[error("{}{message} (line {line}, column {column})", At(.path))]
    Structure {
        /// Where in the document.
        path: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// The request's Content-Type is not a media type.
    #[error("Content-Type `{value}` is not a media type: {reason}")]
    InvalidContentType {
        /// The Content-Type as received.
        value: String,
        /// The grammar rule that was broken.
        reason: &'static str,
    },
    /// A `mediaType` or `artifactType` breaks the RFC 6838 grammar.
    #[error("{}`{value}` is not a media type: {reason}", At(.path))]
    InvalidMediaType {
        /// Where in the document (empty when parsing a lone media type).
        path: String,
        /// The offending value.
        value: String,
        /// The grammar rule that was broken.
        reason: &'static str,
    },
    /// The Content-Type and the manifest's `mediaType` field disagree.
    #[error("`mediaType`: the manifest says `{media_type}` but was sent with Content-Type `{content_type}`; send it with Content-Type `{media_type}`")]
    MediaTypeMismatch {
        /// The request's Content-Type, parameters removed.
        content_type: MediaType,
        /// The manifest's `mediaType` field.
        media_type: MediaType,
    },
    /// Docker Image Manifest V2 Schema 1, which this crate refuses.
    #[error("{}Docker Image Manifest V2 Schema 1 (`{media_type}`) is not supported: the format is deprecated and removed from current registries and clients, and its signed form wraps the manifest in a JSON Web Signature (`+prettyjws`) whose throwaway keys prove nothing about the publisher; push the image as Docker V2 Schema 2 or OCI instead (any current docker, buildah, skopeo or crane does)", At(.path))]
    Schema1 {
        /// Where the schema 1 reference was found (empty for the document).
        path: String,
        /// The schema 1 media type, or `schemaVersion 1` when the document
        /// declared none.
        media_type: String,
    },
    /// A well-formed media type that is not a manifest format this crate
    /// accepts in that place.
    #[error("{}media type `{media_type}` is not supported: {reason}", At(.path))]
    UnsupportedMediaType {
        /// Where in the document (empty for the Content-Type).
        path: String,
        /// The unsupported media type.
        media_type: MediaType,
        /// Why, and what to use instead.
        reason: &'static str,
    },
    /// A descriptor's digest is malformed or of an unsupported algorithm.
    #[error("{}invalid digest `{value}`: {source}", At(.path))]
    InvalidDigest {
        /// Where in the document (`layers[0].digest`).
        path: String,
        /// The digest as written.
        value: String,
        /// What the digest parser refused (boxed to keep `Error` small).
        source: Box<wharf_reference::Error>,
    },
    /// Any other broken rule of the image-spec, the Docker spec or the
    /// configured [`Strictness`](crate::Strictness).
    #[error("{}{reason}", At(.path))]
    Invalid {
        /// Where in the document.
        path: String,
        /// The rule that was broken, and what to do.
        reason: String,
    },
}

impl Error {
    /// The OCI error code the registry should answer with.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::TooLarge { .. } => ErrorCode::SizeInvalid,
            Error::InvalidDigest { .. } => ErrorCode::DigestInvalid,
            Error::Schema1 { .. } | Error::UnsupportedMediaType { .. } => ErrorCode::Unsupported,
            Error::Empty
            | Error::TooDeep { .. }
            | Error::Syntax { .. }
            | Error::Structure { .. }
            | Error::InvalidContentType { .. }
            | Error::InvalidMediaType { .. }
            | Error::MediaTypeMismatch { .. }
            | Error::Invalid { .. } => ErrorCode::ManifestInvalid,
        }
    }

    /// The JSON path of the offending value (`layers[2].digest`), if the
    /// error concerns one place in the document.
    pub fn path(&self) -> Option<&str> {
        let path = match self {
            Error::Structure { path, .. }
            | Error::InvalidMediaType { path, .. }
            | Error::Schema1 { path, .. }
            | Error::UnsupportedMediaType { path, .. }
            | Error::InvalidDigest { path, .. }
            | Error::Invalid { path, .. } => path.as_str(),
            Error::MediaTypeMismatch { .. } => "mediaType",
            _ => "",
        };
        (!path.is_empty()).then_some(path)
    }

    /// Line and column (1-based) in the JSON text, for syntax and structure
    /// errors.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        match self {
            Error::Syntax { line, column, .. } | Error::Structure { line, column, .. } => {
                Some((*line, *column))
            }
            _ => None,
        }
    }

    pub(crate) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// The error of a media type that wharf-reference refused, placed at
    /// `path` in the document (empty for a lone media type).
    pub(crate) fn media_type_at(err: wharf_reference::Error, path: impl Into<String>) -> Self {
        match err {
            wharf_reference::Error::InvalidMediaType { value, reason } => Error::InvalidMediaType {
                path: path.into(),
                value,
                reason,
            },
            other => Error::invalid(path, other.to_string()),
        }
    }
}

/// A [`MediaType`] parse error (`"…".parse::<MediaType>()?`), as
/// [`Error::InvalidMediaType`] with no path; any other wharf-reference error
/// as [`Error::Invalid`].
impl From<wharf_reference::Error> for Error {
    fn from(err: wharf_reference::Error) -> Self {
        Error::media_type_at(err, "")
    }
}

/// Writes "`path`: " before a message, or nothing for the whole document.
struct At<'a>(&'a String);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "`{}`: ", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lead_with_the_path() {
        let err = Error::invalid("layers[2].urls[0]", "only http and https URLs are allowed");
        assert_eq!(
            err.to_string(),
            "`layers[2].urls[0]`: only http and https URLs are allowed"
        );
        assert_eq!(err.path(), Some("layers[2].urls[0]"));
        let whole = Error::invalid("", "cannot tell");
        assert_eq!(whole.to_string(), "cannot tell");
        assert_eq!(whole.path(), None);
    }

    #[test]
    fn codes_have_their_distribution_spec_spelling() {
        for (code, text) in [
            (ErrorCode::ManifestInvalid, "MANIFEST_INVALID"),
            (ErrorCode::DigestInvalid, "DIGEST_INVALID"),
            (ErrorCode::Unsupported, "UNSUPPORTED"),
            (ErrorCode::SizeInvalid, "SIZE_INVALID"),
        ] {
            assert_eq!(code.as_str(), text);
            assert_eq!(code.to_string(), text);
        }
    }
}
