//! [`Key`]: the pre-defined `org.opencontainers.image.*` annotation keys this
//! crate reads.

use std::fmt;
use std::str::FromStr;

/// A pre-defined annotation key of the OCI image-spec
/// (`annotations.md`), as written in manifest annotations or image config
/// labels.
///
/// GitHub's package page shows three of them: [`Source`](Key::Source),
/// [`Description`](Key::Description) and [`Licenses`](Key::Licenses); the
/// others are extracted for the details a UI may show.
///
/// ```
/// use wharf_annotations::Key;
///
/// let key: Key = "org.opencontainers.image.description".parse()?;
/// assert_eq!(key, Key::Description);
/// assert_eq!(key.max_chars(), Some(512));
/// assert_eq!(Key::Licenses.to_string(), "org.opencontainers.image.licenses");
/// # Ok::<(), wharf_annotations::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Key {
    /// `org.opencontainers.image.source`: URL of the source code the image
    /// was built from; links the package to a repository.
    Source,
    /// `org.opencontainers.image.description`: human-readable description,
    /// plain text, at most 512 characters.
    Description,
    /// `org.opencontainers.image.licenses`: SPDX license expression, at most
    /// 256 characters.
    Licenses,
    /// `org.opencontainers.image.title`: human-readable title.
    Title,
    /// `org.opencontainers.image.url`: URL to find more information.
    Url,
    /// `org.opencontainers.image.documentation`: URL of the documentation.
    Documentation,
    /// `org.opencontainers.image.version`: version of the packaged software.
    Version,
    /// `org.opencontainers.image.revision`: source control revision.
    Revision,
    /// `org.opencontainers.image.vendor`: distributing entity.
    Vendor,
    /// `org.opencontainers.image.authors`: contact details of the
    /// maintainers.
    Authors,
    /// `org.opencontainers.image.created`: build date and time, RFC 3339.
    Created,
    /// `org.opencontainers.image.ref.name`: name of the reference (e.g. a
    /// tag).
    RefName,
    /// `org.opencontainers.image.base.name`: reference of the base image.
    BaseName,
    /// `org.opencontainers.image.base.digest`: digest of the base image.
    BaseDigest,
}

/// GitHub's limit for [`Key::Description`], in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 512;

/// GitHub's limit for [`Key::Licenses`], in characters.
pub const LICENSES_MAX_CHARS: usize = 256;

impl Key {
    /// Every key, in the order extraction visits them (and reports their
    /// problems): the three GitHub shows first, then the image-spec's order.
    pub const ALL: [Key; 14] = [
        Key::Source,
        Key::Description,
        Key::Licenses,
        Key::Title,
        Key::Url,
        Key::Documentation,
        Key::Version,
        Key::Revision,
        Key::Vendor,
        Key::Authors,
        Key::Created,
        Key::RefName,
        Key::BaseName,
        Key::BaseDigest,
    ];

    /// The annotation key as written in manifests and labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Key::Source => "org.opencontainers.image.source",
            Key::Description => "org.opencontainers.image.description",
            Key::Licenses => "org.opencontainers.image.licenses",
            Key::Title => "org.opencontainers.image.title",
            Key::Url => "org.opencontainers.image.url",
            Key::Documentation => "org.opencontainers.image.documentation",
            Key::Version => "org.opencontainers.image.version",
            Key::Revision => "org.opencontainers.image.revision",
            Key::Vendor => "org.opencontainers.image.vendor",
            Key::Authors => "org.opencontainers.image.authors",
            Key::Created => "org.opencontainers.image.created",
            Key::RefName => "org.opencontainers.image.ref.name",
            Key::BaseName => "org.opencontainers.image.base.name",
            Key::BaseDigest => "org.opencontainers.image.base.digest",
        }
    }

    /// The most characters (Unicode scalar values, not bytes) a value may
    /// have, where GitHub sets a limit: 512 for the description, 256 for
    /// the licenses.
    pub const fn max_chars(self) -> Option<usize> {
        match self {
            Key::Description => Some(DESCRIPTION_MAX_CHARS),
            Key::Licenses => Some(LICENSES_MAX_CHARS),
            _ => None,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Key {
    type Err = crate::Error;

    /// Parses a full key name; case-sensitive, as annotation keys are.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Key::ALL
            .into_iter()
            .find(|key| key.as_str() == s)
            .ok_or_else(|| crate::Error::UnknownKey { key: s.to_owned() })
    }
}

wharf_reference::serde_as_string!(Key);
