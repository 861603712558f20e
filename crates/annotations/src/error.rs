//! [`Error`]: every rule a value, a config or a source link can break.

use wharf_reference::Digest;

use crate::key::Key;
use crate::metadata::Origin;

/// What was wrong with a value, an image config or a source link; each
/// message names the key, where it was read from, and the rule.
///
/// Extraction does not stop at the first error: it collects them in
/// [`Extraction::problems`](crate::Extraction::problems) and extracts what
/// it can.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value is over its key's limit, under
    /// [`LimitPolicy::Reject`](crate::LimitPolicy::Reject).
    #[error("{origin} {key} is {chars} characters; at most {limit} are allowed")]
    TooLong {
        /// The key.
        key: Key,
        /// Where the value was read from.
        origin: Origin,
        /// Its length in characters (after trimming).
        chars: usize,
        /// The key's limit in characters.
        limit: usize,
    },

    /// A text value holds a control character, under
    /// [`ControlPolicy::Reject`](crate::ControlPolicy::Reject).
    #[error(
        "{origin} {key} contains the control character U+{:04X} at character offset {char_offset}; \
         only tab and line breaks are allowed in text",
        u32::from(*.character)
    )]
    ControlCharacter {
        /// The key.
        key: Key,
        /// Where the value was read from.
        origin: Origin,
        /// The first control character found.
        character: char,
        /// Its offset in characters from the start of the trimmed value.
        char_offset: usize,
    },

    /// A URL-valued key holds something that is not a URL, or one that may
    /// not be shown.
    #[error("{origin} {key} is not a usable URL: {reason} ({value:?})")]
    InvalidUrl {
        /// The key.
        key: Key,
        /// Where the value was read from.
        origin: Origin,
        /// The value (trimmed).
        value: String,
        /// Why it was refused.
        reason: String,
    },

    /// A URL-valued key holds a URL whose scheme is not http or https.
    #[error("{origin} {key} is a {scheme}: URL ({value:?}); only http and https URLs are allowed")]
    UnsupportedScheme {
        /// The key.
        key: Key,
        /// Where the value was read from.
        origin: Origin,
        /// The value (trimmed).
        value: String,
        /// Its scheme.
        scheme: String,
    },

    /// `org.opencontainers.image.base.digest` is not a digest.
    #[error("{origin} {key} is not a digest ({value:?}): {reason}")]
    InvalidDigest {
        /// The key.
        key: Key,
        /// Where the value was read from.
        origin: Origin,
        /// The value (trimmed).
        value: String,
        /// Why it is not one.
        reason: String,
    },

    /// The image config is not JSON, or its `config.Labels` is not an
    /// object of strings; no label was read from it.
    #[error("the image config is malformed at {path}: {reason}; its labels were not read")]
    MalformedConfig {
        /// Where in the JSON (`.` for the document, `config.Labels.KEY`).
        path: String,
        /// What was wrong, with line and column.
        reason: String,
    },

    /// The image config bytes are not those the manifest's config
    /// descriptor names; no label was read from them.
    #[error(
        "the image config given has digest {actual}, but the manifest's config is {expected}; \
         its labels were not read"
    )]
    ConfigDigestMismatch {
        /// The digest in the manifest's config descriptor.
        expected: Digest,
        /// The digest of the bytes given.
        actual: Digest,
    },

    /// The source URL is not on any of the code hosts the registry links
    /// to.
    #[error(
        "org.opencontainers.image.source {url} is not on a code host this registry links \
         packages to (accepted: {accepted})"
    )]
    ForeignHost {
        /// The source URL.
        url: String,
        /// The accepted code hosts, comma-separated.
        accepted: String,
    },

    /// The source URL names a code host, but with another scheme or port.
    #[error(
        "org.opencontainers.image.source {url} names the code host with another scheme or port; \
         it is served at {expected}"
    )]
    OriginMismatch {
        /// The source URL.
        url: String,
        /// The code host's origin(s), comma-separated.
        expected: String,
    },

    /// The source URL is on a code host but is not
    /// `https://HOST/OWNER/REPO`.
    #[error(
        "org.opencontainers.image.source {url} does not name a repository: {reason}; \
         write https://HOST/OWNER/REPO"
    )]
    NotARepository {
        /// The source URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },

    /// An owner or repository name breaks the code host's naming rules.
    #[error("{value:?} is not a repository (OWNER/REPO): {reason}")]
    InvalidRepository {
        /// The text given.
        value: String,
        /// The rule it breaks.
        reason: String,
    },

    /// A code host could not be parsed.
    #[error("{value:?} is not a code host (HOST, HOST:PORT or https://HOST[:PORT]): {reason}")]
    InvalidCodeHost {
        /// The text given.
        value: String,
        /// Why.
        reason: String,
    },

    /// A key name is not one of the pre-defined keys this crate reads.
    #[error("{key:?} is not a pre-defined org.opencontainers.image.* key")]
    UnknownKey {
        /// The text given.
        key: String,
    },
}
