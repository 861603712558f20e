//! Extraction: [`Sources`] layered by precedence, [`extract`] for the
//! common case, and the [`Extraction`] they produce.

use std::borrow::Cow;
use std::collections::BTreeMap;

#[cfg(feature = "extract")]
use wharf_manifest::{Descriptor, Manifest};
#[cfg(feature = "extract")]
use wharf_reference::Digest;

use crate::config;
use crate::error::Error;
use crate::key::Key;
use crate::licenses::Licenses;
use crate::metadata::{Field, Origin, PackageMetadata};
use crate::policy::Policy;
use crate::rules;
use crate::timestamp::Timestamp;

/// The metadata extracted from an image, and every problem found on the
/// way.
///
/// Extraction never fails as a whole: a value that breaks a rule is left
/// out of [`metadata`](Self::metadata) and its error is added to
/// [`problems`](Self::problems). A registry can accept the push and show
/// what is valid (as GitHub does), log or return the problems, or refuse
/// the push with [`into_result`](Self::into_result).
///
/// Non-exhaustive so that fields can be added in a minor release.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Extraction {
    /// What was extracted.
    pub metadata: PackageMetadata,
    /// What was refused, in the order found: config problems first, then
    /// values in [`Key::ALL`] order.
    pub problems: Vec<Error>,
}

impl Extraction {
    /// Whether nothing was refused.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// The metadata if nothing was refused, otherwise the first problem.
    pub fn into_result(self) -> Result<PackageMetadata, Error> {
        match self.problems.into_iter().next() {
            None => Ok(self.metadata),
            Some(problem) => Err(problem),
        }
    }
}

/// Extracts the package metadata of a pushed manifest.
///
/// - For an image manifest (OCI or Docker V2 Schema 2), its annotations
///   take precedence over its config's labels, key by key. `config` is the
///   config blob: checked against the manifest's config descriptor
///   ([`Error::ConfigDigestMismatch`] otherwise), and not read when the
///   descriptor's media type is not an image config (an artifact's config
///   has its own format and no labels).
/// - For an index (multi-arch image), its annotations come first, as on
///   GitHub. An index has no config; `config` may be the config of one of
///   its images (say the first `linux/amd64` one) as a fallback for the keys
///   the index does not set. It cannot be checked against the index.
///
/// For other layerings (an index, then a child manifest's annotations, then
/// its config) use [`Sources`].
///
/// ```
/// use wharf_annotations::{extract, Origin, Policy};
/// use wharf_manifest::Manifest;
///
/// let index = Manifest::parse(&br#"{
///   "schemaVersion": 2,
///   "mediaType": "application/vnd.oci.image.index.v1+json",
///   "manifests": [],
///   "annotations": { "org.opencontainers.image.description": "My multi-arch image" }
/// }"#[..], None)?;
/// let child_config = br#"{"config":{"Labels":{
///   "org.opencontainers.image.description": "amd64 build",
///   "org.opencontainers.image.licenses": "MIT"
/// }}}"#;
///
/// let extraction = extract(&index, Some(child_config), &Policy::default());
/// let meta = extraction.into_result().expect("clean");
/// let description = meta.description.unwrap();
/// assert_eq!(description.value, "My multi-arch image");
/// assert_eq!(description.origin, Origin::IndexAnnotation);
/// assert_eq!(meta.licenses.unwrap().origin, Origin::ConfigLabel);
/// # Ok::<(), wharf_manifest::Error>(())
/// ```
#[cfg(feature = "extract")]
#[cfg_attr(docsrs, doc(cfg(feature = "extract")))]
pub fn extract(manifest: &Manifest, config: Option<&[u8]>, policy: &Policy) -> Extraction {
    let sources = Sources::new().manifest(manifest);
    let sources = match (manifest.config(), config) {
        (Some(descriptor), Some(bytes)) => sources.image_config(descriptor, bytes),
        (None, Some(bytes)) => sources.config(bytes),
        (_, None) => sources,
    };
    sources.extract(policy)
}

/// The places values are read from, highest precedence first.
///
/// Each key takes the first non-empty value (after trimming whitespace)
/// found in the layers, in the order they were added; that value alone is
/// then checked. A value that breaks a rule is reported and does not let a
/// lower layer's value through: the publisher meant to override it.
///
/// ```
/// use wharf_annotations::{Origin, Policy, Sources};
/// use std::collections::BTreeMap;
///
/// let index = BTreeMap::from([(
///     "org.opencontainers.image.description".to_owned(),
///     "Multi-arch".to_owned(),
/// )]);
/// let child = BTreeMap::from([
///     ("org.opencontainers.image.description".to_owned(), "".to_owned()), // empty: skipped
///     ("org.opencontainers.image.source".to_owned(), "https://github.com/o/r".to_owned()),
/// ]);
/// let extraction = Sources::new()
///     .annotations(Origin::IndexAnnotation, &index)
///     .annotations(Origin::ManifestAnnotation, &child)
///     .config(br#"{"config":{"Labels":{"org.opencontainers.image.title":"Tool"}}}"#)
///     .extract(&Policy::default());
/// let meta = extraction.metadata;
/// assert_eq!(meta.description.unwrap().value, "Multi-arch");
/// assert_eq!(meta.source.unwrap().origin, Origin::ManifestAnnotation);
/// assert_eq!(meta.title.unwrap().value, "Tool");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Sources<'a> {
    layers: Vec<Layer<'a>>,
    problems: Vec<Error>,
}

#[derive(Debug, Clone)]
struct Layer<'a> {
    origin: Origin,
    values: Cow<'a, BTreeMap<String, String>>,
}

impl<'a> Sources<'a> {
    /// No sources yet.
    pub fn new() -> Self {
        Sources::default()
    }

    /// Adds annotations (or labels) read from `origin`, below every layer
    /// added so far.
    #[must_use]
    pub fn annotations(mut self, origin: Origin, values: &'a BTreeMap<String, String>) -> Self {
        self.layers.push(Layer {
            origin,
            values: Cow::Borrowed(values),
        });
        self
    }

    /// Adds a manifest's own annotations: an
    /// [`IndexAnnotation`](Origin::IndexAnnotation) layer for an index, a
    /// [`ManifestAnnotation`](Origin::ManifestAnnotation) one for an image
    /// manifest.
    #[must_use]
    #[cfg(feature = "extract")]
    #[cfg_attr(docsrs, doc(cfg(feature = "extract")))]
    pub fn manifest(self, manifest: &'a Manifest) -> Self {
        let origin = if manifest.is_index() {
            Origin::IndexAnnotation
        } else {
            Origin::ManifestAnnotation
        };
        self.annotations(origin, manifest.annotations())
    }

    /// Adds the labels of an image config blob (`config.Labels`), unchecked.
    ///
    /// A config without `config` or `Labels`, or with them `null`, adds
    /// nothing. A malformed one (not JSON, `Labels` not an object of
    /// strings) adds nothing and records [`Error::MalformedConfig`]: the
    /// other layers are still extracted.
    #[must_use]
    pub fn config(mut self, config: &[u8]) -> Self {
        match config::labels(config) {
            Ok(labels) => self.layers.push(Layer {
                origin: Origin::ConfigLabel,
                values: Cow::Owned(labels),
            }),
            Err(problem) => self.problems.push(problem),
        }
        self
    }

    /// Adds the labels of the config blob `descriptor` names, as
    /// [`config`](Self::config) does, after checking the bytes are that
    /// blob ([`Error::ConfigDigestMismatch`] otherwise). Adds nothing when
    /// the descriptor's media type is not an image config: an artifact's
    /// config has its own format and no labels.
    #[must_use]
    #[cfg(feature = "extract")]
    #[cfg_attr(docsrs, doc(cfg(feature = "extract")))]
    pub fn image_config(mut self, descriptor: &Descriptor, config: &[u8]) -> Self {
        if !descriptor.media_type.is_config() {
            return self;
        }
        let expected = &descriptor.digest;
        let actual = Digest::compute(expected.algorithm().clone(), config)
            .unwrap_or_else(|_| Digest::sha256(config));
        if actual != *expected {
            self.problems.push(Error::ConfigDigestMismatch {
                expected: expected.clone(),
                actual,
            });
            return self;
        }
        self.config(config)
    }

    /// The first non-empty value of `key` and where it came from.
    fn raw(&self, key: Key) -> Option<(&str, Origin)> {
        self.layers.iter().find_map(|layer| {
            layer
                .values
                .get(key.as_str())
                .filter(|value| !value.trim().is_empty())
                .map(|value| (value.as_str(), layer.origin))
        })
    }

    /// Extracts every key under `policy`.
    pub fn extract(&self, policy: &Policy) -> Extraction {
        let mut metadata = PackageMetadata::default();
        let mut problems = self.problems.clone();
        for key in Key::ALL {
            let Some((raw, origin)) = self.raw(key) else {
                continue;
            };
            let text = || rules::text(raw, key, origin, policy);
            let url = || rules::http_url(raw, key, origin);
            let p = &mut problems;
            let m = &mut metadata;
            match key {
                Key::Source => keep(&mut m.source, url(), p),
                Key::Description => keep(&mut m.description, text(), p),
                Key::Licenses => keep(&mut m.licenses, text().map(|f| f.map(Licenses::new)), p),
                Key::Title => keep(&mut m.title, text(), p),
                Key::Url => keep(&mut m.url, url(), p),
                Key::Documentation => keep(&mut m.documentation, url(), p),
                Key::Version => keep(&mut m.version, text(), p),
                Key::Revision => keep(&mut m.revision, text(), p),
                Key::Vendor => keep(&mut m.vendor, text(), p),
                Key::Authors => keep(&mut m.authors, text(), p),
                Key::Created => keep(&mut m.created, text().map(|f| f.map(Timestamp::new)), p),
                Key::RefName => keep(&mut m.ref_name, text(), p),
                Key::BaseName => keep(&mut m.base_name, text(), p),
                Key::BaseDigest => keep(&mut m.base_digest, rules::digest(raw, key, origin), p),
            }
        }
        Extraction { metadata, problems }
    }
}

fn keep<T>(
    slot: &mut Option<Field<T>>,
    result: Result<Field<T>, Error>,
    problems: &mut Vec<Error>,
) {
    match result {
        Ok(field) => *slot = Some(field),
        Err(problem) => problems.push(problem),
    }
}
