//! [`ErrorCode`]: the error codes of the OCI Distribution Specification,
//! the one vocabulary every Wharf crate reports failures in (the manifest
//! parser's errors, the server's responses).

use std::fmt;
use std::str::FromStr;

/// An error code of the OCI Distribution Specification (plus `UNKNOWN` for
/// failures of the registry itself, as CNCF Distribution does).
///
/// ```
/// use wharf_reference::ErrorCode;
/// assert_eq!(ErrorCode::BlobUnknown.as_str(), "BLOB_UNKNOWN");
/// assert_eq!("DENIED".parse::<ErrorCode>(), Ok(ErrorCode::Denied));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `BLOB_UNKNOWN`: the blob is not known to the repository (404).
    BlobUnknown,
    /// `BLOB_UPLOAD_INVALID`: the upload failed or a chunk was invalid (400;
    /// 416 for a chunk that does not start at the session's offset).
    BlobUploadInvalid,
    /// `BLOB_UPLOAD_UNKNOWN`: no such upload session (404).
    BlobUploadUnknown,
    /// `DIGEST_INVALID`: a digest did not parse or did not match the content (400).
    DigestInvalid,
    /// `MANIFEST_BLOB_UNKNOWN`: a manifest references a blob or child
    /// manifest the repository does not hold (400).
    ManifestBlobUnknown,
    /// `MANIFEST_INVALID`: the manifest did not parse or validate (400).
    ManifestInvalid,
    /// `MANIFEST_UNKNOWN`: no such manifest or tag in the repository (404).
    ManifestUnknown,
    /// `NAME_INVALID`: the repository name is not valid (400).
    NameInvalid,
    /// `NAME_UNKNOWN`: the repository is not known to the registry (404).
    NameUnknown,
    /// `SIZE_INVALID`: a length did not match the content, or content is too
    /// large (400; 413 for a body over a limit).
    SizeInvalid,
    /// `UNAUTHORIZED`: authentication is required (401, with `WWW-Authenticate`).
    Unauthorized,
    /// `DENIED`: the caller may not do this (403).
    Denied,
    /// `UNSUPPORTED`: the operation or content is not supported (415; 405
    /// for a method the endpoint does not have).
    Unsupported,
    /// `TOOMANYREQUESTS`: the registry is overloaded or the caller is
    /// rate-limited (429).
    TooManyRequests,
    /// `UNAVAILABLE`: the registry, or a service it depends on (object
    /// store, database), is temporarily unavailable (503); retry later. Not
    /// in the OCI list; Distribution registers it for the same answer.
    Unavailable,
    /// `UNKNOWN`: the registry itself failed (500, or 507 when out of space).
    Unknown,
}

impl ErrorCode {
    /// The code as written on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::BlobUnknown => "BLOB_UNKNOWN",
            Self::BlobUploadInvalid => "BLOB_UPLOAD_INVALID",
            Self::BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN",
            Self::DigestInvalid => "DIGEST_INVALID",
            Self::ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN",
            Self::ManifestInvalid => "MANIFEST_INVALID",
            Self::ManifestUnknown => "MANIFEST_UNKNOWN",
            Self::NameInvalid => "NAME_INVALID",
            Self::NameUnknown => "NAME_UNKNOWN",
            Self::SizeInvalid => "SIZE_INVALID",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::Denied => "DENIED",
            Self::Unsupported => "UNSUPPORTED",
            Self::TooManyRequests => "TOOMANYREQUESTS",
            Self::Unavailable => "UNAVAILABLE",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Every code, in the order of the specification's table.
    pub const ALL: [ErrorCode; 16] = [
        Self::BlobUnknown,
        Self::BlobUploadInvalid,
        Self::BlobUploadUnknown,
        Self::DigestInvalid,
        Self::ManifestBlobUnknown,
        Self::ManifestInvalid,
        Self::ManifestUnknown,
        Self::NameInvalid,
        Self::NameUnknown,
        Self::SizeInvalid,
        Self::Unauthorized,
        Self::Denied,
        Self::Unsupported,
        Self::TooManyRequests,
        Self::Unavailable,
        Self::Unknown,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is no error code of the specification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an OCI distribution error code: {0:?}")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ErrorCode::ALL
            .into_iter()
            .find(|code| code.as_str() == s)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_from_its_wire_form() {
        for code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
            assert_eq!(code.to_string(), code.as_str());
        }
        assert!("blob_unknown".parse::<ErrorCode>().is_err());
    }
}
