//! Parse and validate what clients `PUT` to `/v2/<name>/manifests/<ref>`:
//! OCI image manifests and indexes, OCI 1.1 artifacts, Docker Image Manifest
//! V2 Schema 2 and Docker manifest lists, keeping their exact bytes.
//!
//! ```
//! use wharf_manifest::{ErrorCode, Manifest, MediaType};
//!
//! let body = br#"{
//!   "schemaVersion": 2,
//!   "mediaType": "application/vnd.oci.image.index.v1+json",
//!   "manifests": [{
//!     "mediaType": "application/vnd.oci.image.manifest.v1+json",
//!     "digest": "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f",
//!     "size": 7143,
//!     "platform": { "architecture": "arm64", "os": "linux", "variant": "v8" }
//!   }],
//!   "annotations": { "org.opencontainers.image.description": "A tiny image" }
//! }"#;
//!
//! // The server hands over the body and the request's Content-Type.
//! let index = Manifest::parse(&body[..], Some("application/vnd.oci.image.index.v1+json; charset=utf-8"))?;
//! assert!(index.is_index());
//! assert_eq!(index.digest(), &wharf_reference::Digest::sha256(body)); // over the exact bytes
//! assert_eq!(index.platforms().next().unwrap().to_string(), "linux/arm64/v8");
//! assert_eq!(index.annotations()["org.opencontainers.image.description"], "A tiny image");
//! assert_eq!(index.required_blobs().count(), 0); // an index holds no blobs...
//! assert_eq!(index.child_manifests().len(), 1); // ...but needs its manifests
//!
//! // Errors name the JSON path and the OCI error code to answer with.
//! let broken = String::from_utf8_lossy(body).replace("sha256:e69", "sha256:E69");
//! let err = Manifest::parse(broken, None).unwrap_err();
//! assert_eq!(err.code(), ErrorCode::DigestInvalid);
//! assert_eq!(err.path(), Some("manifests[0].digest"));
//! # Ok::<(), wharf_manifest::Error>(())
//! ```
//!
//! # What a registry asks of a manifest
//!
//! - [`Manifest::required_blobs`]: the config and the distributable layers,
//!   which must exist in the repository before the manifest is accepted;
//!   [`Manifest::foreign_blobs`]: foreign / non-distributable layers with
//!   `urls`, whose content lives elsewhere.
//! - [`Manifest::child_manifests`]: the entries of an index.
//! - [`Manifest::subject`], [`Manifest::artifact_type`] and
//!   [`Manifest::descriptor`]: what the referrers API needs.
//! - [`Manifest::bytes`], [`Manifest::digest`], [`Manifest::media_type`]:
//!   what is stored and served back, unchanged.
//!
//! # Media type resolution
//!
//! 1. A Content-Type that names a manifest format decides; parameters are
//!    ignored. A missing, empty or generic one (`application/json`,
//!    `application/octet-stream`, `text/plain`) defers to the document; any
//!    other is refused as `UNSUPPORTED`.
//! 2. The `mediaType` field must agree with the Content-Type when both are
//!    present, and otherwise decides.
//! 3. Without either, an OCI document is recognised by its shape, as the
//!    image-spec allows: `config`/`layers` make an image manifest,
//!    `manifests` an index. Docker formats must declare `mediaType`.
//!
//! Docker schema 1 is refused (`UNSUPPORTED`) with an explanation, as is the
//! short-lived OCI artifact manifest.
//!
//! # Validation
//!
//! `schemaVersion` is 2; every descriptor has an RFC 6838 media type, a
//! digest that wharf-reference parses and can verify (sha256, sha384,
//! sha512; `DIGEST_INVALID` otherwise) and a non-negative integer size; `urls` appear only on foreign / non-distributable layers
//! and are http(s); index entries and `subject` reference manifests;
//! platforms have well-formed `os`, `architecture` and `variant`;
//! annotations map strings to strings, with unique keys; a manifest may not
//! carry both image and index fields; duplicate keys are refused. Which
//! config and layer media types are accepted is set by [`Strictness`]; the
//! default, [`Strictness::Permissive`], accepts any well-formed one, as
//! BuildKit attestations, cosign, oras and Helm need. The size limit is
//! [`ParseOptions::DEFAULT_MAX_SIZE`] (4 MiB) unless configured.

#![cfg_attr(docsrs, feature(doc_cfg))]
// Tests may unwrap: a panic there is a failed test with its message.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod depth;
mod descriptor;
mod error;
mod manifest;

mod options;
mod raw;
mod validate;

pub use descriptor::{Descriptor, Platform};
pub use error::{Error, ErrorCode};
pub use manifest::{Content, ImageIndex, ImageManifest, Manifest};
pub use options::{ParseOptions, Strictness};
pub use wharf_reference::MediaType;

/// Runs the README's example as a doctest, so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    /// The server shares parsed manifests and errors across tasks.
    #[test]
    fn public_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<crate::Manifest>();
        assert_send_sync::<crate::Error>();
        assert_send_sync::<crate::Descriptor>();
        assert_send_sync::<crate::MediaType>();
    }
}
