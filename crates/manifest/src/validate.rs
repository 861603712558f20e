//! The rules: from raw bytes and a Content-Type to a validated
//! [`Manifest`], or an [`Error`] that names the broken rule and its place.

use std::fmt;

use bytes::Bytes;
use serde_json::Number;
use wharf_reference::Digest;

use crate::depth;
use crate::descriptor::{Descriptor, Platform};
use crate::error::Error;
use crate::manifest::{Content, ImageIndex, ImageManifest, Manifest};
use crate::options::{ParseOptions, Strictness};
use crate::raw::{self, RawDescriptor, RawManifest, RawPlatform, Str};
use wharf_reference::MediaType;

pub(crate) fn parse(
    bytes: Bytes,
    content_type: Option<&str>,
    options: &ParseOptions,
) -> Result<Manifest, Error> {
    if bytes.len() > options.max_size {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit: options.max_size,
        });
    }
    let declared = content_type_header(content_type)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Empty);
    }
    depth::check(&bytes, options.max_depth)?;
    let raw = raw::parse(&bytes)?;
    let field = raw.media_type.as_ref().map(media_type_field).transpose()?;
    schema_version(
        raw.schema_version.as_ref().map(|n| &n.0),
        declared.as_ref().or(field.as_ref()),
    )?;
    let media_type = resolve(declared, field.as_ref(), &raw)?;
    if media_type.is_docker() && field.is_none() {
        return Err(Error::invalid(
            "mediaType",
            format!("Docker manifests must declare their media type; add \"mediaType\": \"{media_type}\""),
        ));
    }
    let rules = Rules {
        strictness: options.strictness,
    };
    let content = if media_type.is_index() {
        Content::Index(rules.index(raw, field)?)
    } else {
        Content::Image(rules.image(raw, field)?)
    };
    let digest = Digest::sha256(&bytes);
    Ok(Manifest {
        bytes,
        digest,
        media_type,
        content,
    })
}

/// The Content-Type's media type when it names a manifest format; `None`
/// when absent or generic (`application/json`, `application/octet-stream`,
/// `text/plain`), which some clients send for any body.
fn content_type_header(header: Option<&str>) -> Result<Option<MediaType>, Error> {
    let Some(header) = header else {
        return Ok(None);
    };
    let essence = header.split(';').next().unwrap_or("").trim();
    if essence.is_empty() {
        return Ok(None);
    }
    let media_type = MediaType::parse(essence).map_err(|e| match e {
        wharf_reference::Error::InvalidMediaType { reason, .. } => Error::InvalidContentType {
            value: header.to_owned(),
            reason,
        },
        other => Error::media_type_at(other, ""),
    })?;
    if media_type == MediaType::JSON
        || media_type == "application/octet-stream"
        || media_type == "text/plain"
    {
        return Ok(None);
    }
    manifest_media_type(media_type, "").map(Some)
}

/// The `mediaType` field, which must name a manifest format.
fn media_type_field(field: &Str<'_>) -> Result<MediaType, Error> {
    let media_type =
        MediaType::parse(&field.0).map_err(|e| Error::media_type_at(e, "mediaType"))?;
    manifest_media_type(media_type, "mediaType")
}

/// Refuses media types that are not a manifest format this crate parses,
/// explaining the refusal.
fn manifest_media_type(media_type: MediaType, path: &str) -> Result<MediaType, Error> {
    if media_type.is_manifest() {
        return Ok(media_type);
    }
    if media_type.is_schema1() {
        return Err(Error::Schema1 {
            path: path.to_owned(),
            media_type: media_type.to_string(),
        });
    }
    let reason = if media_type == MediaType::OCI_ARTIFACT_MANIFEST {
        "the OCI artifact manifest was dropped before image-spec 1.1.0; push an image manifest (`application/vnd.oci.image.manifest.v1+json`) with `artifactType` instead"
    } else {
        "a manifest must be an OCI image manifest or index, or a Docker V2 Schema 2 manifest or manifest list"
    };
    Err(Error::UnsupportedMediaType {
        path: path.to_owned(),
        media_type,
        reason,
    })
}

/// `schemaVersion` must be 2. A document that says 1 and names no
/// media type is Docker schema 1; one that names a schema 2 or OCI media
/// type (`named`) is a supported format with invalid content.
fn schema_version(version: Option<&Number>, named: Option<&MediaType>) -> Result<(), Error> {
    match version.map(Number::as_u64) {
        Some(Some(2)) => Ok(()),
        Some(Some(1)) if named.is_some() => Err(Error::invalid(
            "schemaVersion",
            format!(
                "must be 2 for `{}`, not 1",
                named.map_or("", MediaType::as_str)
            ),
        )),
        Some(Some(1)) => Err(Error::Schema1 {
            path: String::new(),
            media_type: "schemaVersion 1".into(),
        }),
        None => Err(Error::invalid(
            "schemaVersion",
            "missing; every manifest and index has \"schemaVersion\": 2",
        )),
        Some(_) => Err(Error::invalid(
            "schemaVersion",
            format!(
                "must be 2, not {}",
                version.map_or_else(String::new, Number::to_string)
            ),
        )),
    }
}

/// Content-Type, then the `mediaType` field, then the shape of the
/// document. A Content-Type and a field that disagree are an error.
fn resolve(
    declared: Option<MediaType>,
    field: Option<&MediaType>,
    raw: &RawManifest<'_>,
) -> Result<MediaType, Error> {
    match (declared, field) {
        (Some(declared), Some(field)) if declared != *field => Err(Error::MediaTypeMismatch {
            content_type: declared,
            media_type: field.clone(),
        }),
        (Some(declared), _) => Ok(declared),
        (None, Some(field)) => Ok(field.clone()),
        (None, None) => {
            let image = raw.config.is_some() || raw.layers.is_some();
            let index = raw.manifests.is_some();
            match (image, index) {
                (true, false) => Ok(MediaType::OCI_IMAGE_MANIFEST),
                (false, true) => Ok(MediaType::OCI_IMAGE_INDEX),
                (true, true) => Err(Error::invalid(
                    "mediaType",
                    "missing, and the document has both `config`/`layers` (a manifest) and `manifests` (an index); set \"mediaType\"",
                )),
                (false, false) => Err(Error::invalid(
                    "mediaType",
                    "missing, and the document has neither `config`/`layers` (a manifest) nor `manifests` (an index); set \"mediaType\" or the Content-Type",
                )),
            }
        }
    }
}

/// Where a descriptor sits in the document, formatted only on error.
#[derive(Debug, Clone, Copy)]
enum Loc {
    Config,
    Layer(usize),
    Entry(usize),
    Subject,
}

impl Loc {
    fn field(self, name: &str) -> String {
        format!("{self}.{name}")
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Config => f.write_str("config"),
            Loc::Layer(i) => write!(f, "layers[{i}]"),
            Loc::Entry(i) => write!(f, "manifests[{i}]"),
            Loc::Subject => f.write_str("subject"),
        }
    }
}

struct Rules {
    strictness: Strictness,
}

impl Rules {
    fn image(
        &self,
        raw: RawManifest<'_>,
        field: Option<MediaType>,
    ) -> Result<ImageManifest, Error> {
        if raw.manifests.is_some() {
            return Err(Error::invalid(
                "manifests",
                "an image manifest must not have `manifests`: that would make it ambiguous with an index",
            ));
        }
        let config = raw.config.ok_or_else(|| {
            Error::invalid(
                "config",
                "missing; an image manifest needs a config descriptor",
            )
        })?;
        let layers = raw.layers.ok_or_else(|| {
            Error::invalid(
                "layers",
                "missing; an image manifest needs a `layers` array (it may be empty)",
            )
        })?;
        let config = descriptor(config, Loc::Config)?;
        let layers = layers
            .into_iter()
            .enumerate()
            .map(|(i, layer)| descriptor(layer, Loc::Layer(i)))
            .collect::<Result<Vec<_>, _>>()?;
        let artifact_type = artifact_type(raw.artifact_type.as_ref())?;
        let subject = raw.subject.map(subject).transpose()?;
        let manifest = ImageManifest {
            media_type: field,
            artifact_type,
            config,
            layers,
            subject,
            annotations: raw.annotations.map(|a| a.0).unwrap_or_default(),
        };
        self.image_media_types(&manifest)?;
        Ok(manifest)
    }

    /// Which config and layer media types the strictness allows.
    fn image_media_types(&self, m: &ImageManifest) -> Result<(), Error> {
        let known_layers = || {
            m.layers.iter().enumerate().try_for_each(|(i, layer)| {
                if layer.media_type.is_layer() {
                    Ok(())
                } else {
                    Err(Error::invalid(
                        Loc::Layer(i).field("mediaType"),
                        format!(
                            "`{}` is not a container image layer type; an artifact must declare `artifactType` (or use a non-image config media type)",
                            layer.media_type
                        ),
                    ))
                }
            })
        };
        match self.strictness {
            Strictness::Permissive => Ok(()),
            Strictness::Images => {
                if let Some(artifact_type) = &m.artifact_type {
                    return Err(Error::invalid(
                        "artifactType",
                        format!("`{artifact_type}`: this registry accepts container images only, not artifacts"),
                    ));
                }
                if !m.config.media_type.is_config() {
                    return Err(Error::invalid(
                        "config.mediaType",
                        format!(
                            "`{}` is not an image config type; this registry accepts container images only (`{}` or `{}`)",
                            m.config.media_type,
                            MediaType::OCI_IMAGE_CONFIG,
                            MediaType::DOCKER_CONFIG
                        ),
                    ));
                }
                known_layers()
            }
            Strictness::Artifacts => {
                if m.config.media_type.is_empty_config() && m.artifact_type.is_none() {
                    return Err(Error::invalid(
                        "artifactType",
                        "missing; the image-spec requires `artifactType` when the config is the empty descriptor",
                    ));
                }
                if m.is_artifact() {
                    Ok(())
                } else {
                    known_layers()
                }
            }
        }
    }

    fn index(&self, raw: RawManifest<'_>, field: Option<MediaType>) -> Result<ImageIndex, Error> {
        for (present, name) in [
            (raw.config.is_some(), "config"),
            (raw.layers.is_some(), "layers"),
        ] {
            if present {
                return Err(Error::invalid(
                    name,
                    format!("an index must not have `{name}`: that would make it ambiguous with an image manifest"),
                ));
            }
        }
        let manifests = raw.manifests.ok_or_else(|| {
            Error::invalid(
                "manifests",
                "missing; an index needs a `manifests` array (it may be empty)",
            )
        })?;
        let manifests = manifests
            .into_iter()
            .enumerate()
            .map(|(i, entry)| index_entry(entry, i))
            .collect::<Result<Vec<_>, _>>()?;
        let artifact_type = artifact_type(raw.artifact_type.as_ref())?;
        if let (Strictness::Images, Some(artifact_type)) = (self.strictness, &artifact_type) {
            return Err(Error::invalid(
                "artifactType",
                format!(
                    "`{artifact_type}`: this registry accepts container images only, not artifacts"
                ),
            ));
        }
        Ok(ImageIndex {
            media_type: field,
            artifact_type,
            manifests,
            subject: raw.subject.map(subject).transpose()?,
            annotations: raw.annotations.map(|a| a.0).unwrap_or_default(),
        })
    }
}

fn artifact_type(raw: Option<&Str<'_>>) -> Result<Option<MediaType>, Error> {
    raw.map(|s| MediaType::parse(&s.0).map_err(|e| Error::media_type_at(e, "artifactType")))
        .transpose()
}

fn index_entry(raw: RawDescriptor<'_>, i: usize) -> Result<Descriptor, Error> {
    let loc = Loc::Entry(i);
    let entry = descriptor(raw, loc)?;
    must_be_manifest(&entry, loc, "an index entry")?;
    Ok(entry)
}

fn subject(raw: RawDescriptor<'_>) -> Result<Descriptor, Error> {
    let subject = descriptor(raw, Loc::Subject)?;
    must_be_manifest(&subject, Loc::Subject, "`subject`")?;
    Ok(subject)
}

fn must_be_manifest(d: &Descriptor, loc: Loc, what: &str) -> Result<(), Error> {
    if d.media_type.is_manifest() {
        Ok(())
    } else if d.media_type.is_schema1() {
        Err(Error::Schema1 {
            path: loc.field("mediaType"),
            media_type: d.media_type.to_string(),
        })
    } else {
        Err(Error::invalid(
            loc.field("mediaType"),
            format!(
                "{what} must reference an image manifest or an index, not `{}`",
                d.media_type
            ),
        ))
    }
}

/// The rules every descriptor follows, whatever its place.
fn descriptor(raw: RawDescriptor<'_>, loc: Loc) -> Result<Descriptor, Error> {
    let media_type = MediaType::parse(&raw.media_type.0)
        .map_err(|e| Error::media_type_at(e, loc.field("mediaType")))?;
    let digest = digest(&raw.digest.0, loc)?;
    let size = size(&raw.size.0, loc)?;
    let urls = raw.urls.unwrap_or_default();
    if !urls.is_empty() {
        urls_allowed(&media_type, loc)?;
        for (j, u) in urls.iter().enumerate() {
            http_url(u)
                .map_err(|reason| Error::invalid(format!("{}[{j}]", loc.field("urls")), reason))?;
        }
    }
    let platform = raw.platform.map(|p| platform(p, loc)).transpose()?;
    let artifact_type = raw
        .artifact_type
        .map(|s| {
            MediaType::parse(&s.0).map_err(|e| Error::media_type_at(e, loc.field("artifactType")))
        })
        .transpose()?;
    Ok(Descriptor {
        media_type,
        artifact_type,
        digest,
        size,
        urls,
        annotations: raw.annotations.map(|a| a.0).unwrap_or_default(),
        platform,
    })
}

fn digest(value: &str, loc: Loc) -> Result<Digest, Error> {
    let invalid = |source| Error::InvalidDigest {
        path: loc.field("digest"),
        value: value.to_owned(),
        source: Box::new(source),
    };
    let digest = Digest::parse(value).map_err(invalid)?;
    if !digest.algorithm().is_supported() {
        return Err(invalid(wharf_reference::Error::UnsupportedAlgorithm(
            digest.algorithm().to_string(),
        )));
    }
    Ok(digest)
}

fn size(n: &Number, loc: Loc) -> Result<u64, Error> {
    n.as_u64().ok_or_else(|| {
        let reason = if n.as_i64().is_some() {
            format!("must not be negative, got {n}")
        } else {
            format!("must be a whole number of bytes (an integer from 0 to 2^64-1), got {n}")
        };
        Error::invalid(loc.field("size"), reason)
    })
}

/// `urls` are for content the registry does not distribute.
fn urls_allowed(media_type: &MediaType, loc: Loc) -> Result<(), Error> {
    if matches!(loc, Loc::Layer(_)) && !media_type.is_distributable() {
        return Ok(());
    }
    Err(Error::invalid(
        loc.field("urls"),
        format!(
            "`urls` are only allowed on foreign / non-distributable layers (`{}`, `{}`), not on {} `{media_type}`",
            MediaType::DOCKER_FOREIGN_LAYER,
            MediaType::OCI_NONDISTRIBUTABLE_LAYER_GZIP,
            match loc {
                Loc::Layer(_) => "a layer of type",
                Loc::Config => "the config of type",
                Loc::Entry(_) => "an index entry of type",
                Loc::Subject => "the subject of type",
            }
        ),
    ))
}

fn http_url(s: &str) -> Result<(), String> {
    let url = url::Url::parse(s).map_err(|e| format!("`{s}` is not a URL: {e}"))?;
    match url.scheme() {
        "http" | "https" => Ok(()),
        scheme => Err(format!(
            "`{s}` uses `{scheme}:`; only http and https URLs are allowed"
        )),
    }
}

fn platform(raw: RawPlatform, loc: Loc) -> Result<Platform, Error> {
    let at = |name: &str| format!("{}.{name}", loc.field("platform"));
    platform_token(&raw.os, || at("os"))?;
    platform_token(&raw.architecture, || at("architecture"))?;
    if let Some(variant) = &raw.variant {
        platform_token(variant, || at("variant"))?;
    }
    if let Some(version) = &raw.os_version {
        printable(version, || at("os.version"))?;
    }
    let os_features = raw.os_features.unwrap_or_default();
    for (j, feature) in os_features.iter().enumerate() {
        printable(feature, || format!("{}[{j}]", at("os.features")))?;
    }
    let features = raw.features.unwrap_or_default();
    for (j, feature) in features.iter().enumerate() {
        printable(feature, || format!("{}[{j}]", at("features")))?;
    }
    Ok(Platform {
        architecture: raw.architecture,
        os: raw.os,
        os_version: raw.os_version,
        os_features,
        variant: raw.variant,
        features,
    })
}

/// The longest `os`, `architecture` or `variant` accepted; Go's longest
/// GOOS/GOARCH is 9 characters, so this only stops abuse.
const MAX_TOKEN_LEN: usize = 64;

/// `os`, `architecture` and `variant` are Go-style tokens: `linux`,
/// `amd64`, `v8`, `ppc64le`, `unknown`.
fn platform_token(value: &str, at: impl Fn() -> String) -> Result<(), Error> {
    let bytes = value.as_bytes();
    let well_formed = bytes
        .first()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.iter().all(|&b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
        && bytes.len() <= MAX_TOKEN_LEN;
    if well_formed {
        Ok(())
    } else {
        Err(Error::invalid(
            at(),
            format!(
                "{value:?} is not a platform token: use 1 to {MAX_TOKEN_LEN} lower-case letters, digits, `.`, `_` or `-`, as Go's GOOS/GOARCH (`linux`, `amd64`, `v8`)"
            ),
        ))
    }
}

/// `os.version` and features: free-form, but one visible word.
fn printable(value: &str, at: impl Fn() -> String) -> Result<(), Error> {
    if value.is_empty() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(Error::invalid(
            at(),
            format!("{value:?} must be non-empty, without spaces or control characters"),
        ))
    } else {
        Ok(())
    }
}
