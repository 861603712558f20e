//! [`Manifest`]: a validated manifest that owns its exact bytes, and its
//! typed [`Content`]: an [`ImageManifest`] or an [`ImageIndex`].

use std::collections::BTreeMap;

use bytes::Bytes;
use wharf_reference::Digest;

use crate::descriptor::{Descriptor, Platform};
use crate::error::Error;
use crate::options::ParseOptions;
use crate::validate;
use wharf_reference::MediaType;

/// A manifest as a client pushed it: its exact bytes, their digest, its
/// resolved media type and its validated content.
///
/// The digest is computed over the bytes received, never over a
/// re-serialization, and [`bytes`](Self::bytes) are what a registry serves
/// back. Cloning is cheap for the bytes (reference-counted) and proportional
/// to the number of descriptors for the rest.
///
/// ```
/// use wharf_manifest::{Manifest, MediaType};
///
/// let body = br#"{
///   "schemaVersion": 2,
///   "mediaType": "application/vnd.oci.image.manifest.v1+json",
///   "config": {
///     "mediaType": "application/vnd.oci.image.config.v1+json",
///     "digest": "sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7",
///     "size": 7023
///   },
///   "layers": [{
///     "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
///     "digest": "sha256:9834876dcfb05cb167a5c24953eba58c4ac89b1adf57f28f2f9d09af107ee8f0",
///     "size": 32654
///   }]
/// }"#;
/// let m = Manifest::parse(&body[..], Some("application/vnd.oci.image.manifest.v1+json"))?;
/// assert_eq!(m.media_type(), &MediaType::OCI_IMAGE_MANIFEST);
/// assert_eq!(m.bytes().as_ref(), &body[..]);
/// assert_eq!(m.digest(), &wharf_reference::Digest::sha256(body));
/// assert_eq!(m.required_blobs().count(), 2); // config + one layer
/// # Ok::<(), wharf_manifest::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub(crate) bytes: Bytes,
    pub(crate) digest: Digest,
    pub(crate) media_type: MediaType,
    pub(crate) content: Content,
}

/// What a manifest holds, by kind.
// One per manifest, never stored in bulk: boxing would only add a pointer
// chase to every accessor.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// An OCI image manifest (image or artifact) or a Docker V2 Schema 2
    /// manifest.
    Image(ImageManifest),
    /// An OCI image index or a Docker manifest list.
    Index(ImageIndex),
}

/// The content of an OCI image manifest or Docker V2 Schema 2 manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageManifest {
    pub(crate) media_type: Option<MediaType>,
    pub(crate) artifact_type: Option<MediaType>,
    pub(crate) config: Descriptor,
    pub(crate) layers: Vec<Descriptor>,
    pub(crate) subject: Option<Descriptor>,
    pub(crate) annotations: BTreeMap<String, String>,
}

/// The content of an OCI image index or Docker manifest list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageIndex {
    pub(crate) media_type: Option<MediaType>,
    pub(crate) artifact_type: Option<MediaType>,
    pub(crate) manifests: Vec<Descriptor>,
    pub(crate) subject: Option<Descriptor>,
    pub(crate) annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// Parses and validates a pushed manifest with the default
    /// [`ParseOptions`] (4 MiB limit, [`Strictness::Permissive`](crate::Strictness::Permissive)).
    ///
    /// `content_type` is the request's Content-Type header, if any;
    /// parameters (`; charset=utf-8`) are ignored. See the crate
    /// documentation for how the media type is resolved.
    pub fn parse(bytes: impl Into<Bytes>, content_type: Option<&str>) -> Result<Self, Error> {
        Self::parse_with(bytes, content_type, &ParseOptions::default())
    }

    /// Parses and validates a pushed manifest with the given options.
    pub fn parse_with(
        bytes: impl Into<Bytes>,
        content_type: Option<&str>,
        options: &ParseOptions,
    ) -> Result<Self, Error> {
        validate::parse(bytes.into(), content_type, options)
    }

    /// The exact bytes that were parsed.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The exact bytes that were parsed, without copying.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// The SHA-256 digest of [`bytes`](Self::bytes).
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The size of [`bytes`](Self::bytes).
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The resolved media type: the one to serve the manifest with.
    pub fn media_type(&self) -> &MediaType {
        &self.media_type
    }

    /// The typed content.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// The image manifest, if this is one.
    pub fn as_image(&self) -> Option<&ImageManifest> {
        match &self.content {
            Content::Image(m) => Some(m),
            Content::Index(_) => None,
        }
    }

    /// The index, if this is one.
    pub fn as_index(&self) -> Option<&ImageIndex> {
        match &self.content {
            Content::Index(i) => Some(i),
            Content::Image(_) => None,
        }
    }

    /// Whether this is an index (OCI image index or Docker manifest list).
    pub fn is_index(&self) -> bool {
        self.media_type.is_index()
    }

    /// Whether this is an image manifest (OCI or Docker V2 Schema 2),
    /// artifacts included.
    pub fn is_image_manifest(&self) -> bool {
        self.media_type.is_image_manifest()
    }

    /// The config descriptor of an image manifest.
    pub fn config(&self) -> Option<&Descriptor> {
        self.as_image().map(|m| &m.config)
    }

    /// The layers of an image manifest, in order; empty for an index.
    pub fn layers(&self) -> &[Descriptor] {
        self.as_image().map_or(&[], |m| &m.layers)
    }

    /// The entries of an index; empty for an image manifest. The registry
    /// checks these manifests exist before accepting the index.
    pub fn child_manifests(&self) -> &[Descriptor] {
        self.as_index().map_or(&[], |i| &i.manifests)
    }

    /// The platforms of the index entries that declare one, in order.
    pub fn platforms(&self) -> impl Iterator<Item = &Platform> + '_ {
        self.child_manifests()
            .iter()
            .filter_map(|d| d.platform.as_ref())
    }

    /// The blobs the registry must hold before accepting this manifest: the
    /// config and every layer that is not [foreign](Descriptor::is_foreign).
    /// None for an index.
    pub fn required_blobs(&self) -> impl Iterator<Item = &Descriptor> + '_ {
        let (config, layers) = match &self.content {
            Content::Image(m) => (Some(&m.config), m.layers.as_slice()),
            Content::Index(_) => (None, &[][..]),
        };
        config
            .into_iter()
            .chain(layers.iter().filter(|layer| !layer.is_foreign()))
    }

    /// The foreign layers, whose content lives at their `urls` rather than
    /// in the registry (e.g. Windows base layers).
    pub fn foreign_blobs(&self) -> impl Iterator<Item = &Descriptor> + '_ {
        self.layers().iter().filter(|layer| layer.is_foreign())
    }

    /// The manifest this one refers to (OCI 1.1 `subject`): a signature,
    /// SBOM or attestation attached to an image.
    pub fn subject(&self) -> Option<&Descriptor> {
        match &self.content {
            Content::Image(m) => m.subject.as_ref(),
            Content::Index(i) => i.subject.as_ref(),
        }
    }

    /// The artifact type as the distribution-spec's referrers API reports
    /// it: `artifactType` if set, otherwise, for an image manifest, the
    /// config's media type. `None` for an index without `artifactType`.
    pub fn artifact_type(&self) -> Option<&MediaType> {
        match &self.content {
            Content::Image(m) => Some(m.artifact_type.as_ref().unwrap_or(&m.config.media_type)),
            Content::Index(i) => i.artifact_type.as_ref(),
        }
    }

    /// The manifest's own annotations (not those of its descriptors).
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        match &self.content {
            Content::Image(m) => &m.annotations,
            Content::Index(i) => &i.annotations,
        }
    }

    /// A descriptor of this manifest: media type, digest, size,
    /// [`artifact_type`](Self::artifact_type) and annotations. This is the
    /// entry a registry puts in its subject's referrers index.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(self.media_type.clone(), self.digest.clone(), self.size())
            .with_artifact_type(self.artifact_type().cloned())
            .with_annotations(self.annotations().clone())
    }

    /// The content as oci-spec's image manifest, if this is an image
    /// manifest (Docker V2 Schema 2 included; it has the same shape).
    #[cfg(feature = "oci-spec")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oci-spec")))]
    pub fn to_oci_image_manifest(&self) -> Option<oci_spec::image::ImageManifest> {
        let m = self.as_image()?;
        let mut out = oci_spec::image::ImageManifestBuilder::default()
            .schema_version(2u32)
            .media_type(&self.media_type)
            .config(&m.config)
            .layers(
                m.layers
                    .iter()
                    .map(oci_spec::image::Descriptor::from)
                    .collect::<Vec<_>>(),
            )
            .build()
            .expect("every required field of the builder is set");
        out.set_artifact_type(m.artifact_type.as_ref().map(Into::into));
        out.set_subject(m.subject.as_ref().map(Into::into));
        out.set_annotations(hash_map(&m.annotations));
        Some(out)
    }

    /// The content as oci-spec's image index, if this is an index (Docker
    /// manifest list included).
    #[cfg(feature = "oci-spec")]
    #[cfg_attr(docsrs, doc(cfg(feature = "oci-spec")))]
    pub fn to_oci_image_index(&self) -> Option<oci_spec::image::ImageIndex> {
        let i = self.as_index()?;
        let mut out = oci_spec::image::ImageIndex::default();
        out.set_schema_version(2);
        out.set_media_type(Some((&self.media_type).into()));
        out.set_artifact_type(i.artifact_type.as_ref().map(Into::into));
        out.set_manifests(i.manifests.iter().map(Into::into).collect());
        out.set_subject(i.subject.as_ref().map(Into::into));
        out.set_annotations(hash_map(&i.annotations));
        Some(out)
    }
}

impl AsRef<[u8]> for Manifest {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(feature = "oci-spec")]
fn hash_map(map: &BTreeMap<String, String>) -> Option<std::collections::HashMap<String, String>> {
    (!map.is_empty()).then(|| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}

impl ImageManifest {
    /// The `mediaType` field as written (`None` when the manifest omitted
    /// it, which OCI allows).
    pub fn media_type(&self) -> Option<&MediaType> {
        self.media_type.as_ref()
    }

    /// The `artifactType` field as written. See
    /// [`Manifest::artifact_type`] for the value the referrers API reports.
    pub fn artifact_type(&self) -> Option<&MediaType> {
        self.artifact_type.as_ref()
    }

    /// The config descriptor.
    pub fn config(&self) -> &Descriptor {
        &self.config
    }

    /// The layers, base layer first.
    pub fn layers(&self) -> &[Descriptor] {
        &self.layers
    }

    /// The `subject` descriptor.
    pub fn subject(&self) -> Option<&Descriptor> {
        self.subject.as_ref()
    }

    /// The manifest's annotations.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }

    /// Whether this is an artifact rather than a container image: it has an
    /// `artifactType`, or its config is not an image config.
    pub fn is_artifact(&self) -> bool {
        self.artifact_type.is_some() || !self.config.media_type.is_config()
    }
}

impl ImageIndex {
    /// The `mediaType` field as written.
    pub fn media_type(&self) -> Option<&MediaType> {
        self.media_type.as_ref()
    }

    /// The `artifactType` field.
    pub fn artifact_type(&self) -> Option<&MediaType> {
        self.artifact_type.as_ref()
    }

    /// The entries, each an image manifest or an index.
    pub fn manifests(&self) -> &[Descriptor] {
        &self.manifests
    }

    /// The `subject` descriptor.
    pub fn subject(&self) -> Option<&Descriptor> {
        self.subject.as_ref()
    }

    /// The index's annotations (where a multi-arch image's description
    /// lives).
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }
}
