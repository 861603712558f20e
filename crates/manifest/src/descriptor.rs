//! [`Descriptor`] and [`Platform`]: what a manifest says about the content
//! it references.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use wharf_reference::Digest;

#[cfg(feature = "oci-spec")]
use crate::error::Error;
use wharf_reference::MediaType;

/// A content descriptor: the media type, digest and size of referenced
/// content, with optional URLs, annotations, platform and artifact type.
///
/// Descriptors come out of [`Manifest::parse`](crate::Manifest::parse)
/// validated against the manifest rules; one built by hand (e.g. a referrer
/// entry from [`Manifest::descriptor`](crate::Manifest::descriptor)) is
/// typed but not checked against those rules. Serializes as the image-spec
/// descriptor (camelCase, empty optionals omitted), so a registry can write
/// a referrers index from a list of them. The image-spec's `data` field is
/// not kept.
///
/// ```
/// use wharf_manifest::{Descriptor, MediaType};
/// use wharf_reference::Digest;
///
/// let d = Descriptor::new(MediaType::OCI_EMPTY, Digest::sha256(b"{}"), 2)
///     .with_artifact_type(Some("application/vnd.example.sbom.v1+json".parse()?));
/// assert_eq!(
///     serde_json::to_string(&d).unwrap(),
///     r#"{"mediaType":"application/vnd.oci.empty.v1+json","artifactType":"application/vnd.example.sbom.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#
/// );
/// # Ok::<(), wharf_manifest::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Descriptor {
    /// The media type of the referenced content.
    pub media_type: MediaType,
    /// The type of the artifact the descriptor points to, when it points to
    /// an artifact manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<MediaType>,
    /// The digest of the referenced content.
    pub digest: Digest,
    /// The size of the referenced content in bytes.
    pub size: u64,
    /// Where the content may be downloaded from instead of the registry
    /// (only on foreign / non-distributable layers, http or https).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Arbitrary string metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The platform a manifest in an index runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

impl Descriptor {
    /// A descriptor with the three required properties and nothing else.
    pub fn new(media_type: MediaType, digest: Digest, size: u64) -> Self {
        Descriptor {
            media_type,
            artifact_type: None,
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
        }
    }

    /// Sets `artifactType`.
    pub fn with_artifact_type(mut self, artifact_type: Option<MediaType>) -> Self {
        self.artifact_type = artifact_type;
        self
    }

    /// Sets `annotations`.
    pub fn with_annotations(mut self, annotations: BTreeMap<String, String>) -> Self {
        self.annotations = annotations;
        self
    }

    /// Sets `platform`.
    pub fn with_platform(mut self, platform: Option<Platform>) -> Self {
        self.platform = platform;
        self
    }

    /// Sets `urls`.
    pub fn with_urls(mut self, urls: Vec<String>) -> Self {
        self.urls = urls;
        self
    }

    /// Whether the content lives outside the registry: a foreign /
    /// non-distributable layer that lists `urls` to fetch it from.
    ///
    /// A non-distributable layer without `urls` has nowhere else to come
    /// from, so the registry must hold it like any other blob (CNCF
    /// Distribution decides the same way).
    pub fn is_foreign(&self) -> bool {
        !self.media_type.is_distributable() && !self.urls.is_empty()
    }
}

/// The platform an index entry runs on (`os`, `architecture`, and the
/// optional `variant`, `os.version`, `os.features`).
///
/// ```
/// use wharf_manifest::Platform;
///
/// let p = Platform::new("linux", "arm64").with_variant(Some("v8".into()));
/// assert_eq!(p.to_string(), "linux/arm64/v8");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Platform {
    /// The CPU architecture, as Go's `GOARCH` (`amd64`, `arm64`).
    pub architecture: String,
    /// The operating system, as Go's `GOOS` (`linux`, `windows`).
    pub os: String,
    /// The operating system version (`10.0.17763.5329` on Windows).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Operating system features the image requires (`win32k`).
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// The CPU variant (`v8` for `arm64`, `v7` for `arm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Reserved by the image-spec; kept as written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub features: Vec<String>,
}

impl Platform {
    /// A platform with an operating system and an architecture.
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Self {
        Platform {
            architecture: architecture.into(),
            os: os.into(),
            os_version: None,
            os_features: Vec::new(),
            variant: None,
            features: Vec::new(),
        }
    }

    /// Sets the CPU variant.
    pub fn with_variant(mut self, variant: Option<String>) -> Self {
        self.variant = variant;
        self
    }

    /// Sets the operating system version.
    pub fn with_os_version(mut self, os_version: Option<String>) -> Self {
        self.os_version = os_version;
        self
    }
}

/// `os/architecture[/variant]`, as `docker --platform` spells it.
impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

wharf_reference::oci_spec_conversions! {
    impl From<&Platform> for oci_spec::image::Platform {
        fn from(p: &Platform) -> Self {
            let mut out = oci_spec::image::Platform::default();
            out.set_architecture(oci_spec::image::Arch::from(p.architecture.as_str()));
            out.set_os(oci_spec::image::Os::from(p.os.as_str()));
            out.set_os_version(p.os_version.clone());
            out.set_os_features(non_empty(&p.os_features));
            out.set_variant(p.variant.clone());
            out.set_features(non_empty(&p.features));
            out
        }
    }

    impl From<&oci_spec::image::Platform> for Platform {
        fn from(p: &oci_spec::image::Platform) -> Self {
            Platform {
                architecture: p.architecture().to_string(),
                os: p.os().to_string(),
                os_version: p.os_version().clone(),
                os_features: p.os_features().clone().unwrap_or_default(),
                variant: p.variant().clone(),
                features: p.features().clone().unwrap_or_default(),
            }
        }
    }

    impl From<&Descriptor> for oci_spec::image::Descriptor {
        fn from(d: &Descriptor) -> Self {
            let mut out = oci_spec::image::Descriptor::new(
                oci_spec::image::MediaType::from(&d.media_type),
                d.size,
                oci_spec::image::Digest::from(&d.digest),
            );
            out.set_urls(non_empty(&d.urls));
            out.set_annotations((!d.annotations.is_empty()).then(|| {
                d.annotations
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            }));
            out.set_platform(d.platform.as_ref().map(oci_spec::image::Platform::from));
            out.set_artifact_type(
                d.artifact_type
                    .as_ref()
                    .map(oci_spec::image::MediaType::from),
            );
            out
        }
    }

    /// Fails when oci-spec holds a media type or digest that this crate's
    /// stricter grammar refuses (e.g. a digest of an unknown algorithm with
    /// upper-case letters).
    impl TryFrom<&oci_spec::image::Descriptor> for Descriptor {
        type Error = Error;

        fn try_from(d: &oci_spec::image::Descriptor) -> Result<Self, Error> {
            let digest = Digest::try_from(d.digest()).map_err(|source| Error::InvalidDigest {
                path: "digest".into(),
                value: d.digest().to_string(),
                source: Box::new(source),
            })?;
            Ok(Descriptor {
                media_type: MediaType::try_from(d.media_type())
                    .map_err(|e| Error::media_type_at(e, "mediaType"))?,
                artifact_type: d
                    .artifact_type()
                    .as_ref()
                    .map(MediaType::try_from)
                    .transpose()
                    .map_err(|e| Error::media_type_at(e, "artifactType"))?,
                digest,
                size: d.size(),
                urls: d.urls().clone().unwrap_or_default(),
                annotations: d
                    .annotations()
                    .as_ref()
                    .map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
                platform: d.platform().as_ref().map(Platform::from),
            })
        }
    }
}

#[cfg(feature = "oci-spec")]
fn non_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Descriptor {
        Descriptor::new(
            MediaType::OCI_IMAGE_MANIFEST,
            Digest::sha256(b"manifest"),
            1234,
        )
        .with_artifact_type(Some(
            MediaType::parse("application/vnd.dev.cosign.artifact.sig.v1+json").unwrap(),
        ))
        .with_annotations(BTreeMap::from([(
            "org.opencontainers.image.created".to_owned(),
            "2024-01-01T00:00:00Z".to_owned(),
        )]))
        .with_platform(Some(
            Platform::new("windows", "amd64").with_os_version(Some("10.0.17763.5329".into())),
        ))
    }

    #[test]
    fn serializes_camel_case_and_omits_empty_optionals() {
        let plain = Descriptor::new(MediaType::OCI_LAYER_GZIP, Digest::sha256(b"x"), 1);
        let json = serde_json::to_value(&plain).unwrap();
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["digest", "mediaType", "size"]
        );
        let full = serde_json::to_value(sample()).unwrap();
        assert_eq!(
            full["artifactType"],
            "application/vnd.dev.cosign.artifact.sig.v1+json"
        );
        assert_eq!(full["platform"]["os.version"], "10.0.17763.5329");
        assert!(full["platform"].get("variant").is_none());
    }

    #[test]
    fn serde_round_trips() {
        let d = sample();
        let back: Descriptor = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    #[cfg(feature = "oci-spec")]
    fn oci_spec_round_trips() {
        let d = sample().with_urls(vec!["https://example.com/layer".into()]);
        let theirs = oci_spec::image::Descriptor::from(&d);
        assert_eq!(theirs.size(), 1234);
        assert_eq!(theirs.digest().to_string(), d.digest.to_string());
        assert_eq!(Descriptor::try_from(theirs).unwrap(), d);
    }

    #[test]
    fn foreign_means_non_distributable_with_urls() {
        let layer = Descriptor::new(MediaType::DOCKER_FOREIGN_LAYER, Digest::sha256(b"x"), 1);
        assert!(!layer.is_foreign(), "no urls: the registry must hold it");
        assert!(layer
            .with_urls(vec!["https://example.com/x".into()])
            .is_foreign());
        let ordinary = Descriptor::new(MediaType::DOCKER_LAYER, Digest::sha256(b"x"), 1)
            .with_urls(vec!["https://example.com/x".into()]);
        assert!(!ordinary.is_foreign());
    }

    #[test]
    fn platform_displays_like_docker_platform_flag() {
        assert_eq!(Platform::new("linux", "amd64").to_string(), "linux/amd64");
        assert_eq!(
            Platform::new("linux", "arm")
                .with_variant(Some("v7".into()))
                .to_string(),
            "linux/arm/v7"
        );
    }
}
