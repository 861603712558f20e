use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use wharf_reference::{Digest, MediaType};

use crate::error::{Error, Result};

/// A manifest to store: its exact bytes, the digest they hash to, the media
/// type to serve them with and, when the manifest has a `subject`, what the
/// referrers index should show for it.
///
/// ```
/// use wharf_storage::ManifestPut;
/// use wharf_reference::{Digest, MediaType};
///
/// let bytes = br#"{"schemaVersion":2}"#;
/// let signature = MediaType::parse("application/example.sig")?;
/// let put = ManifestPut::new(Digest::sha256(bytes), MediaType::OCI_IMAGE_MANIFEST, bytes.to_vec())
///     .with_subject(Digest::sha256(b"the image it signs"), Some(signature), Default::default());
/// assert!(put.subject.is_some());
/// # Ok::<(), wharf_reference::Error>(())
/// ```
///
/// Non-exhaustive so that fields can be added in a minor release: build it
/// with [`ManifestPut::new`] and [`ManifestPut::with_subject`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestPut {
    /// The digest of `bytes`; verified when stored.
    pub digest: Digest,
    /// The media type the manifest is served with (`Content-Type`).
    pub media_type: MediaType,
    /// The manifest exactly as received. These bytes are what is served back.
    pub bytes: Bytes,
    /// Set when the manifest refers to another one (its `subject` field): the
    /// manifest is then listed in the subject's referrers until it is
    /// deleted.
    pub subject: Option<Subject>,
}

impl ManifestPut {
    /// A manifest without a subject.
    pub fn new(digest: Digest, media_type: MediaType, bytes: impl Into<Bytes>) -> Self {
        ManifestPut {
            digest,
            media_type,
            bytes: bytes.into(),
            subject: None,
        }
    }

    /// Declares the manifest's `subject`, with the artifact type (the
    /// manifest's `artifactType`, or its config's media type for an image
    /// manifest) and annotations the referrers index shows.
    pub fn with_subject(
        mut self,
        digest: Digest,
        artifact_type: Option<MediaType>,
        annotations: BTreeMap<String, String>,
    ) -> Self {
        self.subject = Some(Subject {
            digest,
            artifact_type,
            annotations,
        });
        self
    }

    /// Checks the digest before anything is written (the media types are
    /// valid by construction).
    pub(crate) fn validate(&self) -> Result<()> {
        self.digest.verify(&self.bytes).map_err(Error::from_verify)
    }

    /// The entry this manifest contributes to its subject's referrers
    /// index, with the subject's digest; `None` without a subject.
    pub fn referrer(&self) -> Option<(Digest, Referrer)> {
        self.subject.as_ref().map(|s| {
            (
                s.digest.clone(),
                Referrer {
                    media_type: self.media_type.clone(),
                    digest: self.digest.clone(),
                    size: self.bytes.len() as u64,
                    artifact_type: s.artifact_type.clone(),
                    annotations: s.annotations.clone(),
                },
            )
        })
    }
}

/// The `subject` of a manifest being stored, and how the manifest appears in
/// that subject's referrers list. Set with [`ManifestPut::with_subject`];
/// non-exhaustive so that fields can be added in a minor release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subject {
    /// The digest of the manifest referred to.
    pub digest: Digest,
    /// The referring manifest's artifact type, used to filter referrers.
    pub artifact_type: Option<MediaType>,
    /// The referring manifest's annotations.
    pub annotations: BTreeMap<String, String>,
}

/// A stored manifest, as served. Non-exhaustive so that fields can be
/// added in a minor release: a backend builds it with
/// [`StoredManifest::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredManifest {
    /// Its digest.
    pub digest: Digest,
    /// The media type it was stored with.
    pub media_type: MediaType,
    /// Its exact bytes.
    pub bytes: Bytes,
}

impl StoredManifest {
    /// A manifest read back with the media type it was stored with.
    pub fn new(digest: Digest, media_type: MediaType, bytes: impl Into<Bytes>) -> Self {
        StoredManifest {
            digest,
            media_type,
            bytes: bytes.into(),
        }
    }
}

/// What `HEAD` needs to know about a stored manifest. Non-exhaustive so
/// that fields can be added in a minor release: a backend builds it with
/// [`ManifestInfo::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestInfo {
    /// Its digest.
    pub digest: Digest,
    /// The media type it was stored with.
    pub media_type: MediaType,
    /// Its size in bytes.
    pub size: u64,
}

impl ManifestInfo {
    /// The digest, media type and size of a stored manifest.
    pub fn new(digest: Digest, media_type: MediaType, size: u64) -> Self {
        ManifestInfo {
            digest,
            media_type,
            size,
        }
    }
}

/// One entry of a referrers list: the descriptor of a manifest whose
/// `subject` is the digest asked about.
///
/// Serializes as an OCI descriptor (`mediaType`, `digest`, `size`,
/// `artifactType`, `annotations`), ready for the `manifests` array of the
/// referrers API's image index.
///
/// Non-exhaustive so that fields can be added in a minor release: a
/// backend gets it from [`ManifestPut::referrer`] when storing, or builds
/// it with [`Referrer::new`] and the `with_` methods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Referrer {
    /// The referring manifest's media type.
    pub media_type: MediaType,
    /// The referring manifest's digest.
    pub digest: Digest,
    /// The referring manifest's size in bytes.
    pub size: u64,
    /// Its artifact type, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// Its annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Referrer {
    /// The entry of a referring manifest, without artifact type or
    /// annotations.
    pub fn new(digest: Digest, media_type: MediaType, size: u64) -> Self {
        Referrer {
            media_type,
            digest,
            size,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }

    /// With the referring manifest's artifact type.
    pub fn with_artifact_type(mut self, artifact_type: Option<MediaType>) -> Self {
        self.artifact_type = artifact_type;
        self
    }

    /// Whether it passes a referrers list's `artifactType` filter: always
    /// without one, otherwise when its artifact type is the one asked for.
    pub(crate) fn matches_artifact_type(&self, filter: Option<&str>) -> bool {
        filter.is_none_or(|t| self.artifact_type.as_ref().is_some_and(|a| a == t))
    }

    /// With the referring manifest's annotations.
    pub fn with_annotations(mut self, annotations: BTreeMap<String, String>) -> Self {
        self.annotations = annotations;
        self
    }
}
