//! [`MediaType`]: an RFC 6838 `type/subtype` with predicates for the
//! manifest, index, config and layer types of the OCI and Docker formats.

use std::fmt;
use std::sync::Arc;

use crate::error::Error;

/// A media type such as `application/vnd.oci.image.manifest.v1+json`.
///
/// Valid by construction: parsing checks the RFC 6838 section 4.2 grammar
/// (`type/subtype`, each a *restricted-name* of 1 to 127 characters starting
/// with a letter or digit and continuing with letters, digits and
/// `!#$&-^_.+`). Parameters (`; charset=utf-8`) are not part of a media type
/// here; wharf-manifest's `Manifest::parse` strips them from the
/// Content-Type before parsing. Media types are case-insensitive, so they
/// are stored lower-cased. Cheap to clone: the well-known types are static
/// strings and others share one allocation.
///
/// The predicates follow go-containerregistry's `pkg/v1/types`, so code asks
/// `media_type.is_index()` instead of comparing strings.
///
/// ```
/// use wharf_reference::MediaType;
///
/// let mt: MediaType = "application/vnd.oci.image.index.v1+json".parse()?;
/// assert_eq!(mt, MediaType::OCI_IMAGE_INDEX);
/// assert!(mt.is_index() && mt.is_manifest() && mt.is_oci());
/// assert!(!MediaType::DOCKER_FOREIGN_LAYER.is_distributable());
/// assert_eq!(mt.suffix(), Some("json"));
///
/// // Parameters and malformed names are refused.
/// assert!("application/json; charset=utf-8".parse::<MediaType>().is_err());
/// assert!("application".parse::<MediaType>().is_err());
/// # Ok::<(), wharf_reference::Error>(())
/// ```
#[derive(Clone)]
pub struct MediaType(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Shared(Arc<str>),
}

/// The longest `type` or `subtype` RFC 6838 allows (1 first character plus
/// up to 126 more).
const MAX_NAME_LEN: usize = 127;

macro_rules! well_known {
    ($( $(#[$doc:meta])* $name:ident = $value:literal; )*) => {
        impl MediaType {
            $( $(#[$doc])* pub const $name: MediaType = MediaType(Repr::Static($value)); )*
        }

        /// Every well-known type, so parsing one reuses its static string.
        const WELL_KNOWN: &[&str] = &[$($value),*];
    };
}

well_known! {
    /// `application/vnd.oci.image.manifest.v1+json`: an OCI image manifest
    /// (also used for OCI 1.1 artifacts).
    OCI_IMAGE_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    /// `application/vnd.oci.image.index.v1+json`: an OCI image index.
    OCI_IMAGE_INDEX = "application/vnd.oci.image.index.v1+json";
    /// `application/vnd.oci.image.config.v1+json`: an OCI image configuration.
    OCI_IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json";
    /// `application/vnd.oci.empty.v1+json`: the empty descriptor (`{}`) used
    /// as the config of artifacts that have none.
    OCI_EMPTY = "application/vnd.oci.empty.v1+json";
    /// `application/vnd.oci.image.layer.v1.tar`: an uncompressed layer.
    OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
    /// `application/vnd.oci.image.layer.v1.tar+gzip`: a gzip-compressed layer.
    OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    /// `application/vnd.oci.image.layer.v1.tar+zstd`: a zstd-compressed layer.
    OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar`: a layer
    /// whose content may not be redistributed by registries.
    OCI_NONDISTRIBUTABLE_LAYER = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar+gzip`.
    OCI_NONDISTRIBUTABLE_LAYER_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    /// `application/vnd.oci.image.layer.nondistributable.v1.tar+zstd`.
    OCI_NONDISTRIBUTABLE_LAYER_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    /// `application/vnd.oci.artifact.manifest.v1+json`: the artifact manifest
    /// of the image-spec 1.1 release candidates, dropped before 1.1.0.
    /// Recognised only to be refused with a helpful message.
    OCI_ARTIFACT_MANIFEST = "application/vnd.oci.artifact.manifest.v1+json";
    /// `application/vnd.docker.distribution.manifest.v2+json`: Docker Image
    /// Manifest V2, Schema 2.
    DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    /// `application/vnd.docker.distribution.manifest.list.v2+json`: a Docker
    /// manifest list (multi-architecture image).
    DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// `application/vnd.docker.container.image.v1+json`: a Docker image
    /// configuration.
    DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    /// `application/vnd.docker.image.rootfs.diff.tar.gzip`: a Docker layer.
    DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    /// `application/vnd.docker.image.rootfs.diff.tar`: an uncompressed Docker
    /// layer (not in the Docker spec, but produced by some tools).
    DOCKER_UNCOMPRESSED_LAYER = "application/vnd.docker.image.rootfs.diff.tar";
    /// `application/vnd.docker.image.rootfs.foreign.diff.tar.gzip`: a foreign
    /// layer (e.g. a Windows base layer) fetched from its `urls`.
    DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    /// `application/vnd.docker.distribution.manifest.v1+json`: Docker schema
    /// 1 (unsupported, recognised to be refused).
    DOCKER_SCHEMA1_MANIFEST = "application/vnd.docker.distribution.manifest.v1+json";
    /// `application/vnd.docker.distribution.manifest.v1+prettyjws`: signed
    /// Docker schema 1 (unsupported, recognised to be refused).
    DOCKER_SCHEMA1_SIGNED_MANIFEST = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /// `application/json`: generic JSON, sent by some clients as the
    /// Content-Type of any manifest.
    JSON = "application/json";
}

impl MediaType {
    /// Parses `type/subtype` (RFC 6838 section 4.2), lower-casing it.
    /// Equivalent to `s.parse()`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        restricted_names(s).map_err(|reason| Error::InvalidMediaType {
            value: s.to_owned(),
            reason,
        })?;
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            let lower = s.to_ascii_lowercase();
            return Ok(
                Self::intern(&lower).unwrap_or_else(|| MediaType(Repr::Shared(lower.into())))
            );
        }
        Ok(Self::intern(s).unwrap_or_else(|| MediaType(Repr::Shared(s.into()))))
    }

    /// The well-known constant equal to `s`, if any: saves an allocation for
    /// the types that make up nearly every manifest.
    fn intern(s: &str) -> Option<Self> {
        WELL_KNOWN
            .iter()
            .find(|known| **known == s)
            .map(|known| MediaType(Repr::Static(known)))
    }

    /// The media type as a string, lower-case.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Shared(s) => s,
        }
    }

    /// The top-level type (`application`).
    pub fn type_name(&self) -> &str {
        self.as_str().split_once('/').map_or("", |(t, _)| t)
    }

    /// The subtype (`vnd.oci.image.manifest.v1+json`).
    pub fn subtype(&self) -> &str {
        self.as_str().split_once('/').map_or("", |(_, s)| s)
    }

    /// The structured syntax suffix after the last `+` of the subtype
    /// (`json` for `...manifest.v1+json`), if any.
    pub fn suffix(&self) -> Option<&str> {
        self.subtype().rsplit_once('+').map(|(_, suffix)| suffix)
    }

    /// An image index or manifest list: OCI image index or Docker manifest
    /// list.
    pub fn is_index(&self) -> bool {
        *self == Self::OCI_IMAGE_INDEX || *self == Self::DOCKER_MANIFEST_LIST
    }

    /// A single-platform image manifest: OCI image manifest (also used for
    /// artifacts) or Docker V2 Schema 2.
    pub fn is_image_manifest(&self) -> bool {
        *self == Self::OCI_IMAGE_MANIFEST || *self == Self::DOCKER_MANIFEST
    }

    /// Any manifest wharf-manifest parses: an index or an image manifest
    /// (schema 1 is not one of them).
    pub fn is_manifest(&self) -> bool {
        self.is_index() || self.is_image_manifest()
    }

    /// Docker Image Manifest V2 Schema 1, signed or not (deprecated and
    /// refused by wharf-manifest).
    pub fn is_schema1(&self) -> bool {
        *self == Self::DOCKER_SCHEMA1_MANIFEST || *self == Self::DOCKER_SCHEMA1_SIGNED_MANIFEST
    }

    /// A filesystem layer of a container image: the OCI layer types
    /// (`tar`, `+gzip`, `+zstd`, and their non-distributable variants) and
    /// the Docker ones (rootfs diff, uncompressed, foreign).
    pub fn is_layer(&self) -> bool {
        [
            Self::OCI_LAYER,
            Self::OCI_LAYER_GZIP,
            Self::OCI_LAYER_ZSTD,
            Self::DOCKER_LAYER,
            Self::DOCKER_UNCOMPRESSED_LAYER,
        ]
        .contains(self)
            || !self.is_distributable()
    }

    /// Whether a registry may hold and serve content of this type. `false`
    /// only for foreign / non-distributable layers, whose content normally
    /// lives at the descriptor's `urls`.
    pub fn is_distributable(&self) -> bool {
        ![
            Self::DOCKER_FOREIGN_LAYER,
            Self::OCI_NONDISTRIBUTABLE_LAYER,
            Self::OCI_NONDISTRIBUTABLE_LAYER_GZIP,
            Self::OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
        ]
        .contains(self)
    }

    /// A container image configuration: OCI image config or Docker container
    /// config. An artifact's config (anything else, including
    /// [`OCI_EMPTY`](Self::OCI_EMPTY)) is not one.
    pub fn is_config(&self) -> bool {
        *self == Self::OCI_IMAGE_CONFIG || *self == Self::DOCKER_CONFIG
    }

    /// The empty descriptor's type, `application/vnd.oci.empty.v1+json`.
    pub fn is_empty_config(&self) -> bool {
        *self == Self::OCI_EMPTY
    }

    /// A Docker type (`application/vnd.docker.*`).
    pub fn is_docker(&self) -> bool {
        self.as_str().starts_with("application/vnd.docker.")
    }

    /// An OCI type (`application/vnd.oci.*`).
    pub fn is_oci(&self) -> bool {
        self.as_str().starts_with("application/vnd.oci.")
    }
}

/// `type-name "/" subtype-name`, both RFC 6838 *restricted-name*s.
fn restricted_names(s: &str) -> Result<(), &'static str> {
    let Some((type_name, subtype)) = s.split_once('/') else {
        return Err("a media type is `type/subtype`; the `/` is missing");
    };
    restricted_name(type_name).map_err(|rule| match rule {
        NameRule::Empty => "the type before `/` is empty",
        NameRule::First => "the type must start with a letter or digit",
        NameRule::Char => "the type may only contain letters, digits and !#$&-^_.+",
        NameRule::Long => "the type is longer than 127 characters",
    })?;
    restricted_name(subtype).map_err(|rule| match rule {
        NameRule::Empty => "the subtype after `/` is empty",
        NameRule::First => "the subtype must start with a letter or digit",
        NameRule::Char => {
            "the subtype may only contain letters, digits and !#$&-^_.+ (no `/`, spaces or parameters)"
        }
        NameRule::Long => "the subtype is longer than 127 characters",
    })
}

enum NameRule {
    Empty,
    First,
    Char,
    Long,
}

/// `restricted-name = restricted-name-first *126restricted-name-chars`
fn restricted_name(s: &str) -> Result<(), NameRule> {
    let bytes = s.as_bytes();
    let Some(first) = bytes.first() else {
        return Err(NameRule::Empty);
    };
    if !first.is_ascii_alphanumeric() {
        return Err(NameRule::First);
    }
    if !bytes[1..].iter().all(|&b| restricted_name_char(b)) {
        return Err(NameRule::Char);
    }
    if bytes.len() > MAX_NAME_LEN {
        return Err(NameRule::Long);
    }
    Ok(())
}

/// `restricted-name-chars = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "-" /
/// "^" / "_" / "." / "+"`
fn restricted_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'&' | b'-' | b'^' | b'_' | b'.' | b'+'
        )
}

crate::string_type!(
    MediaType: Error,
    "a media type string (`type/subtype`)";
    OrdByStr
);

/// The string, quoted, as for `&str`.
impl fmt::Debug for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

crate::oci_spec_conversions! {
    impl From<&MediaType> for oci_spec::image::MediaType {
        fn from(mt: &MediaType) -> Self {
            oci_spec::image::MediaType::from(mt.as_str())
        }
    }

    impl TryFrom<&oci_spec::image::MediaType> for MediaType {
        type Error = Error;

        fn try_from(mt: &oci_spec::image::MediaType) -> Result<Self, Error> {
            MediaType::parse(mt.as_ref())
        }
    }
}

#[cfg(test)]
// Tests may unwrap: a panic there is a failed test with its message.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn grammar_accepts_and_refuses_by_rfc6838() {
        let cases: &[(&str, bool)] = &[
            ("application/vnd.oci.image.manifest.v1+json", true),
            ("application/vnd.cncf.helm.chart.content.v1.tar+gzip", true),
            ("text/plain", true),
            ("a/b", true),
            ("x-custom/foo!#$&-^_.+bar", true),
            ("", false),
            ("application", false),
            ("application/", false),
            ("/json", false),
            ("application/json; charset=utf-8", false),
            ("application/json ", false),
            ("application/vnd/extra", false),
            ("-application/json", false),
            ("application/.json", false),
            ("applicatión/json", false),
        ];
        for (input, ok) in cases {
            assert_eq!(MediaType::parse(input).is_ok(), *ok, "{input:?}");
        }
        let long = format!("application/{}", "a".repeat(127));
        assert!(MediaType::parse(&long).is_ok());
        let too_long = format!("application/{}", "a".repeat(128));
        assert!(MediaType::parse(&too_long).is_err());
    }

    #[test]
    fn parsing_lower_cases_and_interns_well_known_types() {
        let mt = MediaType::parse("Application/VND.OCI.Image.Index.v1+JSON").unwrap();
        assert_eq!(mt, MediaType::OCI_IMAGE_INDEX);
        assert!(matches!(mt.0, Repr::Static(_)));
        let custom = MediaType::parse("application/vnd.example+json").unwrap();
        assert!(matches!(custom.0, Repr::Shared(_)));
    }

    #[test]
    fn predicates_follow_go_containerregistry() {
        type P = fn(&MediaType) -> bool;
        let predicates: &[(&str, P)] = &[
            ("index", MediaType::is_index),
            ("image_manifest", MediaType::is_image_manifest),
            ("manifest", MediaType::is_manifest),
            ("schema1", MediaType::is_schema1),
            ("layer", MediaType::is_layer),
            ("distributable", MediaType::is_distributable),
            ("config", MediaType::is_config),
            ("docker", MediaType::is_docker),
            ("oci", MediaType::is_oci),
        ];
        // The predicates each media type satisfies; the others must be false.
        let table: &[(MediaType, &[&str])] = &[
            (
                MediaType::OCI_IMAGE_INDEX,
                &["index", "manifest", "distributable", "oci"],
            ),
            (
                MediaType::DOCKER_MANIFEST_LIST,
                &["index", "manifest", "distributable", "docker"],
            ),
            (
                MediaType::OCI_IMAGE_MANIFEST,
                &["image_manifest", "manifest", "distributable", "oci"],
            ),
            (
                MediaType::DOCKER_MANIFEST,
                &["image_manifest", "manifest", "distributable", "docker"],
            ),
            (
                MediaType::DOCKER_SCHEMA1_MANIFEST,
                &["schema1", "distributable", "docker"],
            ),
            (
                MediaType::DOCKER_SCHEMA1_SIGNED_MANIFEST,
                &["schema1", "distributable", "docker"],
            ),
            (MediaType::OCI_LAYER, &["layer", "distributable", "oci"]),
            (
                MediaType::OCI_LAYER_GZIP,
                &["layer", "distributable", "oci"],
            ),
            (
                MediaType::OCI_LAYER_ZSTD,
                &["layer", "distributable", "oci"],
            ),
            (MediaType::OCI_NONDISTRIBUTABLE_LAYER, &["layer", "oci"]),
            (
                MediaType::OCI_NONDISTRIBUTABLE_LAYER_GZIP,
                &["layer", "oci"],
            ),
            (
                MediaType::OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
                &["layer", "oci"],
            ),
            (
                MediaType::DOCKER_LAYER,
                &["layer", "distributable", "docker"],
            ),
            (
                MediaType::DOCKER_UNCOMPRESSED_LAYER,
                &["layer", "distributable", "docker"],
            ),
            (MediaType::DOCKER_FOREIGN_LAYER, &["layer", "docker"]),
            (
                MediaType::OCI_IMAGE_CONFIG,
                &["config", "distributable", "oci"],
            ),
            (
                MediaType::DOCKER_CONFIG,
                &["config", "distributable", "docker"],
            ),
            (MediaType::OCI_EMPTY, &["distributable", "oci"]),
            (MediaType::OCI_ARTIFACT_MANIFEST, &["distributable", "oci"]),
            (MediaType::JSON, &["distributable"]),
        ];
        for (mt, expected) in table {
            for (name, predicate) in predicates {
                assert_eq!(predicate(mt), expected.contains(name), "{mt}.is_{name}()");
            }
        }
    }

    #[test]
    fn parts_and_suffix() {
        let mt = MediaType::parse("application/vnd.cncf.helm.chart.content.v1.tar+gzip").unwrap();
        assert_eq!(mt.type_name(), "application");
        assert_eq!(mt.subtype(), "vnd.cncf.helm.chart.content.v1.tar+gzip");
        assert_eq!(mt.suffix(), Some("gzip"));
        assert_eq!(MediaType::parse("text/plain").unwrap().suffix(), None);
    }

    #[test]
    fn serde_is_a_validated_string() {
        let mt: MediaType = serde_json::from_str("\"application/vnd.oci.empty.v1+json\"").unwrap();
        assert_eq!(mt, MediaType::OCI_EMPTY);
        assert_eq!(
            serde_json::to_string(&mt).unwrap(),
            "\"application/vnd.oci.empty.v1+json\""
        );
        assert!(serde_json::from_str::<MediaType>("\"not a media type\"").is_err());
    }

    #[test]
    #[cfg(feature = "oci-spec")]
    fn converts_to_and_from_oci_spec() {
        let ours = MediaType::OCI_LAYER_ZSTD;
        let theirs = oci_spec::image::MediaType::from(&ours);
        assert_eq!(theirs, oci_spec::image::MediaType::ImageLayerZstd);
        assert_eq!(MediaType::try_from(theirs).unwrap(), ours);
    }
}
