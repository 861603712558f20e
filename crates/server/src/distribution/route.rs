//! Which endpoint a `/v2/...` path names.
//!
//! Repository names contain slashes (`owner/app/release`), so the path
//! cannot be matched by a router pattern. What follows the name never
//! contains a slash (a digest, a tag, an upload id), so the endpoint is
//! decided by the last two segments alone: `.../manifests/<ref>`,
//! `.../blobs/<digest>`, `.../blobs/uploads/<id>`, `.../blobs/uploads/`,
//! `.../tags/list`, `.../referrers/<digest>`. Everything before them is the
//! repository name. A repository may therefore itself be called
//! `team/manifests` or `x/blobs`: only the last segments are special.
//!
//! [`RouteKind::classify`] does this split without validating anything (for
//! metrics and logs, on every request); `Route::parse` also parses the
//! name, digest, tag or upload id into their types.

use std::borrow::Cow;
use std::fmt;

use wharf_reference::{Digest, RepositoryName, Tag};

use crate::distribution::error::{ApiError, ErrorCode};

/// The endpoint a request was for, used as the `route` label of metrics and
/// in the access log: a route template or the name of an endpoint, never
/// the raw path (whose cardinality is unbounded).
///
/// Every endpoint the registry serves has a kind of its own: the OCI
/// Distribution endpoints under `/v2/` (labelled with their template, as
/// [`template`](Self::template) shows), `/metrics`, and with
/// [accounts](crate::RegistryBuilder) the token endpoint, each endpoint of
/// the package REST API and the package pages. A path that no endpoint
/// serves is [`NotFound`](Self::NotFound).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RouteKind {
    /// `/v2/`
    Base,
    /// `/v2/_catalog`
    Catalog,
    /// `/v2/{name}/tags/list`
    TagsList,
    /// `/v2/{name}/manifests/{reference}`
    Manifest,
    /// `/v2/{name}/blobs/{digest}`
    Blob,
    /// `/v2/{name}/blobs/uploads/`
    UploadStart,
    /// `/v2/{name}/blobs/uploads/{id}`
    Upload,
    /// `/v2/{name}/referrers/{digest}`
    Referrers,
    /// `/metrics`, labelled `metrics`.
    Metrics,
    /// The token endpoint, `/token`, labelled `token`.
    Token,
    /// A package listing of the REST API (`/user/packages`,
    /// `/users/{owner}/packages`, `/orgs/{owner}/packages`), labelled
    /// `api_packages`.
    ApiPackages,
    /// A package of the REST API (`.../packages/{type}/{name}`), labelled
    /// `api_package`.
    ApiPackage,
    /// `.../packages/{type}/{name}/restore`, labelled `api_package_restore`.
    ApiPackageRestore,
    /// `.../packages/{type}/{name}/versions`, labelled `api_versions`.
    ApiVersions,
    /// `.../packages/{type}/{name}/versions/{id}`, labelled `api_version`.
    ApiVersion,
    /// `.../packages/{type}/{name}/versions/{id}/restore`, labelled
    /// `api_version_restore`.
    ApiVersionRestore,
    /// `.../packages/{type}/{name}/grants`, labelled `api_grants`.
    ApiGrants,
    /// `.../packages/{type}/{name}/grants/{grantee}`, labelled `api_grant`.
    ApiGrant,
    /// `.../packages/{type}/{name}/retention`, labelled `api_retention`.
    ApiRetention,
    /// `.../packages/{type}/{name}/retention/preview` and
    /// `/orgs/{org}/packages/retention/preview`, labelled
    /// `api_retention_preview`.
    ApiRetentionPreview,
    /// `/orgs/{org}/packages/retention`, labelled `api_org_retention`.
    ApiOrgRetention,
    /// A package page (`/{owner}/packages/container/{name}`), labelled
    /// `page_package`.
    PagePackage,
    /// An owner's page (`/{owner}/packages`, `/{owner}?tab=packages`),
    /// labelled `page_owner`.
    PageOwner,
    /// A path no endpoint serves, labelled `not_found`.
    NotFound,
    /// A route of the router that has no kind of its own (none today),
    /// labelled `other`.
    Other,
}

impl RouteKind {
    /// Every kind, in a fixed order.
    pub const ALL: [RouteKind; 25] = [
        Self::Base,
        Self::Catalog,
        Self::TagsList,
        Self::Manifest,
        Self::Blob,
        Self::UploadStart,
        Self::Upload,
        Self::Referrers,
        Self::Metrics,
        Self::Token,
        Self::ApiPackages,
        Self::ApiPackage,
        Self::ApiPackageRestore,
        Self::ApiVersions,
        Self::ApiVersion,
        Self::ApiVersionRestore,
        Self::ApiGrants,
        Self::ApiGrant,
        Self::ApiRetention,
        Self::ApiRetentionPreview,
        Self::ApiOrgRetention,
        Self::PagePackage,
        Self::PageOwner,
        Self::NotFound,
        Self::Other,
    ];

    /// The `route` label: the route template of a `/v2/` endpoint (e.g.
    /// `/v2/{name}/manifests/{reference}`), the name of any other
    /// (`token`, `api_versions`, `page_package`, `metrics`, `not_found`,
    /// ...).
    pub const fn template(self) -> &'static str {
        match self {
            Self::Base => "/v2/",
            Self::Catalog => "/v2/_catalog",
            Self::TagsList => "/v2/{name}/tags/list",
            Self::Manifest => "/v2/{name}/manifests/{reference}",
            Self::Blob => "/v2/{name}/blobs/{digest}",
            Self::UploadStart => "/v2/{name}/blobs/uploads/",
            Self::Upload => "/v2/{name}/blobs/uploads/{id}",
            Self::Referrers => "/v2/{name}/referrers/{digest}",
            Self::Metrics => "metrics",
            Self::Token => "token",
            Self::ApiPackages => "api_packages",
            Self::ApiPackage => "api_package",
            Self::ApiPackageRestore => "api_package_restore",
            Self::ApiVersions => "api_versions",
            Self::ApiVersion => "api_version",
            Self::ApiVersionRestore => "api_version_restore",
            Self::ApiGrants => "api_grants",
            Self::ApiGrant => "api_grant",
            Self::ApiRetention => "api_retention",
            Self::ApiRetentionPreview => "api_retention_preview",
            Self::ApiOrgRetention => "api_org_retention",
            Self::PagePackage => "page_package",
            Self::PageOwner => "page_owner",
            Self::NotFound => "not_found",
            Self::Other => "other",
        }
    }

    /// Classifies a `/v2/...` path (or `/metrics`) without validating the
    /// name or the last segment; any other path is
    /// [`NotFound`](Self::NotFound). The router labels the other endpoints
    /// from the route they matched.
    ///
    /// ```
    /// use wharf_server::RouteKind;
    /// assert_eq!(RouteKind::classify("/v2/a/b/manifests/latest"), RouteKind::Manifest);
    /// assert_eq!(RouteKind::classify("/v2/a/blobs/uploads/"), RouteKind::UploadStart);
    /// assert_eq!(RouteKind::classify("/v3/"), RouteKind::NotFound);
    /// ```
    pub fn classify(path: &str) -> RouteKind {
        split(path).map_or_else(
            || {
                if path == "/metrics" {
                    Self::Metrics
                } else {
                    Self::NotFound
                }
            },
            |(kind, _, _)| kind,
        )
    }

    /// The kind of a request for the raw `path` that the router sent to
    /// the route `matched` (its template, as registered; `None` for the
    /// fallback, and for a service nested under a prefix). `rest_api`: the
    /// router serves the package REST API, whose routes are nested.
    pub(crate) fn of_request(matched: Option<&str>, path: &str, rest_api: bool) -> RouteKind {
        #[cfg(feature = "ghcr")]
        if rest_api {
            if let Some(kind) = crate::ghcr::rest::route_kind(path) {
                return kind;
            }
        }
        #[cfg(not(feature = "ghcr"))]
        let _ = rest_api;
        let Some(matched) = matched else {
            return Self::NotFound;
        };
        match matched {
            "/v2" | "/v2/" | "/v2/{*path}" => Self::classify(path),
            "/metrics" => Self::Metrics,
            "/token" => Self::Token,
            // The package pages are the routes that start with the owner
            // (`/{owner}...`): static routes take precedence over them.
            _ if matched.starts_with("/{") => {
                if matched.contains("/container/") || matched.contains("{*") {
                    Self::PagePackage
                } else {
                    Self::PageOwner
                }
            }
            _ => Self::Other,
        }
    }
}

impl fmt::Display for RouteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.template())
    }
}

/// Splits a path into its kind, the name part and the last segment.
fn split(path: &str) -> Option<(RouteKind, &str, &str)> {
    let rest = path.strip_prefix("/v2")?;
    if rest.is_empty() || rest == "/" {
        return Some((RouteKind::Base, "", ""));
    }
    let rest = rest.strip_prefix('/')?;
    if rest == "_catalog" {
        return Some((RouteKind::Catalog, "", ""));
    }
    let (head, last) = rest.rsplit_once('/')?;
    let (name, marker) = head.rsplit_once('/')?;
    let kind = match marker {
        "manifests" => RouteKind::Manifest,
        "referrers" => RouteKind::Referrers,
        "tags" if last == "list" => RouteKind::TagsList,
        "blobs" if last == "uploads" => RouteKind::UploadStart,
        "blobs" => RouteKind::Blob,
        "uploads" => {
            let name = name.strip_suffix("/blobs")?;
            let kind = if last.is_empty() {
                RouteKind::UploadStart
            } else {
                RouteKind::Upload
            };
            return Some((kind, name, last));
        }
        _ => return None,
    };
    Some((kind, name, last))
}

/// What a manifest path names: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ManifestRef {
    /// `.../manifests/<tag>`
    Tag(Tag),
    /// `.../manifests/<algorithm>:<hex>`
    Digest(Digest),
}

impl ManifestRef {
    /// Parses a reference segment: a digest if it contains `:`, else a tag.
    pub fn parse(segment: &str) -> Result<Self, ApiError> {
        if segment.contains(':') {
            parse_digest(segment).map(Self::Digest)
        } else {
            Tag::parse(segment).map(Self::Tag).map_err(|err| {
                ApiError::new(ErrorCode::ManifestInvalid, format!("invalid tag: {err}"))
                    .with_detail(serde_json::json!({ "tag": segment }))
            })
        }
    }
}

impl fmt::Display for ManifestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tag(tag) => tag.fmt(f),
            Self::Digest(digest) => digest.fmt(f),
        }
    }
}

pub(crate) use parsed::{ManifestSegment, Route};

/// The parsed forms, `pub` in a module private to the crate: only the
/// fuzz targets see them (`wharf_server::fuzzing`, feature `fuzzing`).
pub(crate) mod parsed {
    use wharf_reference::{Digest, RepositoryName};
    use wharf_storage::UploadId;

    use super::ManifestRef;

    /// A manifest path's last segment: a reference, or text that is neither a
    /// tag nor a digest. No manifest can exist under the latter, so a read
    /// answers `MANIFEST_UNKNOWN` like any missing manifest (as clients and the
    /// conformance suite expect), while a write is refused as invalid.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum ManifestSegment {
        /// A tag or a digest.
        Reference(ManifestRef),
        /// Neither (decoded).
        Invalid(String),
    }

    /// A request path parsed into its endpoint and typed parameters.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[allow(missing_docs)] // The variants are those of `RouteKind`.
    pub enum Route {
        Base,
        Catalog,
        TagsList {
            name: RepositoryName,
        },
        Manifest {
            name: RepositoryName,
            reference: ManifestSegment,
        },
        Blob {
            name: RepositoryName,
            digest: Digest,
        },
        UploadStart {
            name: RepositoryName,
        },
        Upload {
            name: RepositoryName,
            id: UploadId,
        },
        Referrers {
            name: RepositoryName,
            digest: Digest,
        },
    }
}

impl ManifestSegment {
    fn parse(segment: String) -> Self {
        match ManifestRef::parse(&segment) {
            Ok(reference) => Self::Reference(reference),
            Err(_) => Self::Invalid(segment),
        }
    }

    /// The reference, or the error that says why the segment is not one.
    pub(crate) fn reference(self) -> Result<ManifestRef, ApiError> {
        match self {
            Self::Reference(reference) => Ok(reference),
            Self::Invalid(segment) => ManifestRef::parse(&segment),
        }
    }
}

impl Route {
    /// The methods the endpoint answers, for the `Allow` header of a 405.
    pub(crate) fn allowed_methods(&self) -> &'static str {
        match self {
            Route::Base => "GET, HEAD",
            Route::Catalog | Route::TagsList { .. } | Route::Referrers { .. } => "GET",
            Route::Manifest { .. } => "GET, HEAD, PUT, DELETE",
            Route::Blob { .. } => "GET, HEAD, DELETE",
            Route::UploadStart { .. } => "POST",
            Route::Upload { .. } => "GET, PATCH, PUT, DELETE",
        }
    }

    /// Parses a path (`/v2/...`). `Ok(None)` means no endpoint has this
    /// shape (a plain 404).
    pub(crate) fn parse(path: &str) -> Result<Option<Route>, ApiError> {
        let Some((kind, name, last)) = split(path) else {
            return Ok(None);
        };
        let route = match kind {
            RouteKind::Base => Route::Base,
            RouteKind::Catalog => Route::Catalog,
            _ => {
                let name = parse_name(name)?;
                match kind {
                    RouteKind::TagsList => Route::TagsList { name },
                    RouteKind::Manifest => Route::Manifest {
                        name,
                        reference: ManifestSegment::parse(decode(last).into_owned()),
                    },
                    RouteKind::Blob => Route::Blob {
                        name,
                        digest: parse_digest(&decode(last))?,
                    },
                    RouteKind::UploadStart => Route::UploadStart { name },
                    RouteKind::Upload => Route::Upload {
                        name,
                        id: last.parse().map_err(|_| ApiError::upload_unknown())?,
                    },
                    RouteKind::Referrers => Route::Referrers {
                        name,
                        digest: parse_digest(&decode(last))?,
                    },
                    _ => return Ok(None),
                }
            }
        };
        Ok(Some(route))
    }
}

pub(crate) fn parse_name(name: &str) -> Result<RepositoryName, ApiError> {
    RepositoryName::parse(&decode(name)).map_err(|err| {
        ApiError::new(
            ErrorCode::NameInvalid,
            format!("invalid repository name: {err}"),
        )
        .with_detail(serde_json::json!({ "name": name }))
    })
}

pub(crate) fn parse_digest(digest: &str) -> Result<Digest, ApiError> {
    Digest::parse(digest).map_err(|err| {
        ApiError::new(ErrorCode::DigestInvalid, format!("invalid digest: {err}"))
            .with_detail(serde_json::json!({ "digest": digest }))
    })
}

/// Percent-decodes a path segment. Clients may escape the `:` of a digest
/// (`sha256%3A...`); nothing else in a valid name, tag or digest needs
/// escaping, so an invalid escape is left as is and fails to parse later.
pub(crate) fn decode(segment: &str) -> Cow<'_, str> {
    if !segment.contains('%') {
        return Cow::Borrowed(segment);
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests;
