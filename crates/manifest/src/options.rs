//! [`ParseOptions`] and [`Strictness`]: how much a registry accepts.

/// How strictly config and layer media types are checked.
///
/// Every level checks the structure, digests, sizes, media type grammar,
/// `urls`, platforms and annotations; they differ only in which media types
/// an image manifest may use for its config and layers, and in the OCI 1.1
/// artifact rules.
///
/// The default is [`Strictness::Permissive`], because that is what real
/// clients push: BuildKit attestations (`application/vnd.in-toto+json`
/// layers under an image config), cosign signatures
/// (`application/vnd.dev.cosign.simplesigning.v1+json` layers), oras
/// artifacts of any type, Helm charts
/// (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`). The image-spec
/// itself says that an unknown layer media type must be ignored, not
/// refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Strictness {
    /// Container images only: the config must be an image config (OCI or
    /// Docker), every layer a known layer type (OCI `tar`, `+gzip`, `+zstd`
    /// and their non-distributable variants; Docker rootfs diff and
    /// foreign), and `artifactType` is refused.
    Images,
    /// Images as in [`Strictness::Images`], plus OCI 1.1 artifacts: a
    /// manifest whose `artifactType` is set or whose config is not an image
    /// config may have layers of any media type. `artifactType` is required
    /// when the config is the empty descriptor, as the image-spec says.
    Artifacts,
    /// Any well-formed media type for configs and layers (the default).
    #[default]
    Permissive,
}

/// Options for [`Manifest::parse_with`](crate::Manifest::parse_with).
///
/// ```
/// use wharf_manifest::{ParseOptions, Strictness};
///
/// let mut options = ParseOptions::default();
/// options.max_size = 1024 * 1024;
/// options.strictness = Strictness::Artifacts;
/// assert_eq!(ParseOptions::default().max_size, ParseOptions::DEFAULT_MAX_SIZE);
/// assert_eq!(ParseOptions::default().strictness, Strictness::Permissive);
/// assert_eq!(ParseOptions::default().max_depth, ParseOptions::DEFAULT_MAX_DEPTH);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ParseOptions {
    /// The largest manifest accepted, in bytes
    /// ([`DEFAULT_MAX_SIZE`](Self::DEFAULT_MAX_SIZE) by default, as CNCF
    /// Distribution and most registries).
    pub max_size: usize,
    /// Which config and layer media types are accepted
    /// ([`Strictness::Permissive`] by default).
    pub strictness: Strictness,
    /// How deeply arrays and objects may nest
    /// ([`DEFAULT_MAX_DEPTH`](Self::DEFAULT_MAX_DEPTH) by default). Unknown
    /// fields are kept in the stored bytes and served to every client that
    /// pulls the manifest, so their nesting is bounded too.
    pub max_depth: usize,
}

impl ParseOptions {
    /// 4 MiB.
    pub const DEFAULT_MAX_SIZE: usize = 4 * 1024 * 1024;

    /// 64 levels: an image index nests five (index, `manifests`, a
    /// descriptor, its `platform` or `annotations`, a feature list), and
    /// common JSON parsers stop at 128.
    pub const DEFAULT_MAX_DEPTH: usize = 64;
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_size: Self::DEFAULT_MAX_SIZE,
            strictness: Strictness::default(),
            max_depth: Self::DEFAULT_MAX_DEPTH,
        }
    }
}
