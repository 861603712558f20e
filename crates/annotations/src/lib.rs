//! What a package page shows about a container image — description,
//! licenses, source repository and the other pre-defined
//! `org.opencontainers.image.*` keys — extracted from its manifest or index
//! annotations and its image config labels, the way GitHub's Container
//! registry reads them. Pure: no I/O.
//!
//! ```
//! # #[cfg(feature = "extract")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use wharf_annotations::{extract, CodeHost, Origin, Policy};
//! use wharf_manifest::Manifest;
//! use wharf_reference::Digest;
//!
//! // The config `docker build --label ...` writes (abridged)...
//! let config = br#"{"architecture":"amd64","os":"linux","config":{
//!   "Cmd":["/app"],
//!   "Labels":{
//!     "org.opencontainers.image.source":"https://github.example.com/octocat/my-repo",
//!     "org.opencontainers.image.description":"My container image",
//!     "org.opencontainers.image.licenses":"MIT"
//!   }},"rootfs":{"type":"layers","diff_ids":[]}}"#;
//! // ...and the Docker V2 Schema 2 manifest that points to it.
//! let manifest = format!(r#"{{
//!   "schemaVersion": 2,
//!   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
//!   "config": {{
//!     "mediaType": "application/vnd.docker.container.image.v1+json",
//!     "size": {},
//!     "digest": "{}"
//!   }},
//!   "layers": []
//! }}"#, config.len(), Digest::sha256(config));
//! let manifest = Manifest::parse(manifest, None)?;
//!
//! let extraction = extract(&manifest, Some(config), &Policy::default());
//! assert!(extraction.is_clean(), "{:?}", extraction.problems);
//! let meta = extraction.metadata;
//! assert_eq!(meta.description.as_ref().unwrap().value, "My container image");
//! assert_eq!(meta.description.as_ref().unwrap().origin, Origin::ConfigLabel);
//! assert!(meta.licenses.as_ref().unwrap().value.is_valid_spdx());
//!
//! // The registry's own host is the code host packages link to.
//! let hosts = ["github.example.com".parse::<CodeHost>()?];
//! let repo = meta.source_repository(&hosts)?.unwrap();
//! assert_eq!(repo.to_string(), "octocat/my-repo");
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "extract"))]
//! # fn main() {}
//! ```
//!
//! # Where values come from
//!
//! - An image manifest's `annotations` take precedence over its config's
//!   `config.Labels`, key by key ([`Origin::ManifestAnnotation`] over
//!   [`Origin::ConfigLabel`]).
//! - A multi-arch image's description comes from its index's
//!   `annotations` ([`Origin::IndexAnnotation`]), as on GitHub. The caller
//!   may add one of its images' annotations or config as a fallback, with
//!   [`extract`]'s `config` argument, with [`Sources`], or afterwards with
//!   [`PackageMetadata::merged_over`].
//! - Values are trimmed; an empty value counts as absent, so a lower layer
//!   can provide the key (tools such as docker/metadata-action write empty
//!   descriptions).
//!
//! # The rules
//!
//! | Key | Rule |
//! |---|---|
//! | `source`, `url`, `documentation` | an `http` or `https` URL without whitespace or credentials |
//! | `description` | plain text, at most 512 characters (Unicode scalar values, not bytes) |
//! | `licenses` | at most 256 characters; kept as written with its SPDX verdict ([`Licenses`]) |
//! | `created` | kept as written with whether it is RFC 3339 ([`Timestamp`]) |
//! | `base.digest` | a digest ([`wharf_reference::Digest`]) |
//! | the others | plain text |
//!
//! "Plain text" means no control characters but tab, line feed and CR LF.
//! It is not HTML: markup is kept as typed and must be escaped when shown,
//! never stripped or interpreted. What happens to a value over its limit or
//! with a control character is the caller's [`Policy`]: reject it (the
//! default) or repair it (truncate at a character boundary, strip the
//! characters). Nothing is dropped or changed silently: a rejected value is
//! in [`Extraction::problems`] as an [`Error`] naming the key, the origin
//! and the rule; a repaired one is flagged on its [`Field`]. A malformed
//! image config is reported the same way ([`Error::MalformedConfig`]) and
//! the annotations are still extracted; a caller that does not care simply
//! ignores that problem.
//!
//! # Linking a package to a repository
//!
//! [`SourceRepository::from_url`] accepts exactly `https://HOST/OWNER/REPO`
//! (a trailing `/` or `.git` tolerated) on one of the [`CodeHost`]s the
//! caller names, comparing scheme, host (any case) and port; anything else
//! is an error that says what to write instead.
//!
//! # Features
//!
//! `extract` (on by default): [`extract`], [`Sources::manifest`] and
//! [`Sources::image_config`], which take a parsed manifest and so bring
//! wharf-manifest. Without it the metadata types and [`Sources`] over
//! annotation maps and config blobs remain, for crates that store package
//! metadata but never parse a manifest.

#![cfg_attr(docsrs, feature(doc_cfg))]
// Tests may unwrap: a panic there is a failed test with its message.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod error;
mod extract;
mod key;
mod licenses;
mod metadata;
mod policy;
mod rules;
mod source;
mod timestamp;

pub use error::Error;
#[cfg(feature = "extract")]
pub use extract::extract;
pub use extract::{Extraction, Sources};
pub use key::{Key, DESCRIPTION_MAX_CHARS, LICENSES_MAX_CHARS};
pub use licenses::Licenses;
pub use metadata::{Field, Origin, PackageMetadata};
pub use policy::{ControlPolicy, LimitPolicy, Policy};
pub use source::{CodeHost, SourceRepository};
pub use timestamp::Timestamp;
