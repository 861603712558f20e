//! [`PackageMetadata`]: what a package page shows, each value with its
//! [`Origin`].

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;
use wharf_reference::Digest;

use crate::error::Error;
use crate::licenses::Licenses;
use crate::source::{CodeHost, SourceRepository};
use crate::timestamp::Timestamp;

/// Where a value was read from.
///
/// Serializes as `index_annotation`, `manifest_annotation` or
/// `config_label`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The `annotations` of an image index or Docker manifest list: where a
    /// multi-arch image's description lives.
    IndexAnnotation,
    /// The `annotations` of an image manifest (OCI or Docker V2 Schema 2).
    ManifestAnnotation,
    /// The image config's `config.Labels`, as `docker build --label` and
    /// the Dockerfile `LABEL` instruction write them.
    ConfigLabel,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::IndexAnnotation => "index annotation",
            Origin::ManifestAnnotation => "manifest annotation",
            Origin::ConfigLabel => "config label",
        })
    }
}

/// An extracted value, where it came from, and whether the
/// [`Policy`](crate::Policy) changed it.
///
/// A value is never changed silently: [`truncated`](Self::truncated) and
/// [`stripped`](Self::stripped) say what was done. Leading and trailing
/// whitespace is always trimmed and is not counted as a change.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Field<T> {
    /// The value.
    pub value: T,
    /// Where it was read from.
    pub origin: Origin,
    /// Whether the value was cut to the key's limit
    /// ([`LimitPolicy::Truncate`](crate::LimitPolicy::Truncate)); a UI may
    /// show an ellipsis.
    #[serde(default, skip_serializing_if = "is_false")]
    pub truncated: bool,
    /// How many control characters were removed
    /// ([`ControlPolicy::Strip`](crate::ControlPolicy::Strip)).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stripped: usize,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl<T> Field<T> {
    /// A value taken as written.
    pub fn new(value: T, origin: Origin) -> Self {
        Field {
            value,
            origin,
            truncated: false,
            stripped: 0,
        }
    }

    /// Whether the policy changed the value (truncated it or removed
    /// control characters).
    pub fn is_modified(&self) -> bool {
        self.truncated || self.stripped > 0
    }

    /// Applies `f` to the value, keeping the origin and the flags.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        Field {
            value: f(self.value),
            origin: self.origin,
            truncated: self.truncated,
            stripped: self.stripped,
        }
    }
}

/// The metadata a package page shows, extracted from an image's
/// annotations and labels by [`extract`](crate::extract) or
/// [`Sources`](crate::Sources).
///
/// Every field is optional: a key that is absent, empty, or whose value was
/// rejected is `None` (a rejected value is reported in
/// [`Extraction::problems`](crate::Extraction::problems)).
/// Serializes with absent fields omitted.
///
/// Non-exhaustive so that keys can be added in a minor release: start from
/// `PackageMetadata::default()` and set the fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PackageMetadata {
    /// `org.opencontainers.image.source`: an http(s) URL; links the package
    /// to a repository (see [`source_repository`](Self::source_repository)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Field<Url>>,
    /// `org.opencontainers.image.description`: plain text, at most 512
    /// characters. Render it escaped: it is text, not HTML or Markdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Field<String>>,
    /// `org.opencontainers.image.licenses`: the expression as written, at
    /// most 256 characters, with its SPDX verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licenses: Option<Field<Licenses>>,
    /// `org.opencontainers.image.title`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Field<String>>,
    /// `org.opencontainers.image.url`: an http(s) URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<Field<Url>>,
    /// `org.opencontainers.image.documentation`: an http(s) URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<Field<Url>>,
    /// `org.opencontainers.image.version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Field<String>>,
    /// `org.opencontainers.image.revision`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<Field<String>>,
    /// `org.opencontainers.image.vendor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<Field<String>>,
    /// `org.opencontainers.image.authors`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authors: Option<Field<String>>,
    /// `org.opencontainers.image.created`: kept as written, with whether it
    /// is an RFC 3339 date-time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Field<Timestamp>>,
    /// `org.opencontainers.image.ref.name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_name: Option<Field<String>>,
    /// `org.opencontainers.image.base.name`: kept as written (tools write
    /// it in several forms, so it is not parsed as a reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_name: Option<Field<String>>,
    /// `org.opencontainers.image.base.digest`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_digest: Option<Field<Digest>>,
}

impl PackageMetadata {
    /// Whether no value was extracted.
    pub fn is_empty(&self) -> bool {
        *self == PackageMetadata::default()
    }

    /// Fills every field that `self` lacks from `lower`: `self` takes
    /// precedence, field by field.
    ///
    /// This is how a multi-arch image can fall back to the metadata stored
    /// for one of its images: the index's annotations first, then the
    /// image's. (To merge before validation, so that a rejected value does
    /// not let a lower one through, layer the raw values with
    /// [`Sources`](crate::Sources) instead.)
    ///
    /// ```
    /// use wharf_annotations::{Field, Origin, PackageMetadata};
    ///
    /// let mut index = PackageMetadata::default();
    /// index.description = Some(Field::new("Multi-arch".to_owned(), Origin::IndexAnnotation));
    /// let mut image = PackageMetadata::default();
    /// image.description = Some(Field::new("amd64 only".to_owned(), Origin::ConfigLabel));
    /// image.title = Some(Field::new("Tool".to_owned(), Origin::ConfigLabel));
    /// let merged = index.merged_over(image);
    /// assert_eq!(merged.description.unwrap().value, "Multi-arch");
    /// assert_eq!(merged.title.unwrap().origin, Origin::ConfigLabel);
    /// ```
    #[must_use]
    pub fn merged_over(self, lower: PackageMetadata) -> PackageMetadata {
        PackageMetadata {
            source: self.source.or(lower.source),
            description: self.description.or(lower.description),
            licenses: self.licenses.or(lower.licenses),
            title: self.title.or(lower.title),
            url: self.url.or(lower.url),
            documentation: self.documentation.or(lower.documentation),
            version: self.version.or(lower.version),
            revision: self.revision.or(lower.revision),
            vendor: self.vendor.or(lower.vendor),
            authors: self.authors.or(lower.authors),
            created: self.created.or(lower.created),
            ref_name: self.ref_name.or(lower.ref_name),
            base_name: self.base_name.or(lower.base_name),
            base_digest: self.base_digest.or(lower.base_digest),
        }
    }

    /// The repository [`source`](Self::source) names on one of the given
    /// code hosts: `Ok(None)` without a source, an error naming the rule
    /// when the source is not `https://HOST/OWNER/REPO` on one of `hosts`.
    /// See [`SourceRepository::from_url`].
    pub fn source_repository(&self, hosts: &[CodeHost]) -> Result<Option<SourceRepository>, Error> {
        self.source
            .as_ref()
            .map(|source| SourceRepository::from_url(&source.value, hosts))
            .transpose()
    }
}
