//! Container image references, repository names, tags, content digests
//! and media types.
//!
//! Every type here is valid by construction: strings from the wire are parsed
//! once, at the boundary, by a hand-written parser that follows the grammar of
//! the OCI Distribution Specification and of the reference implementation
//! (distribution's `reference` package, `regexp.go`). Errors say which rule
//! broke and at which byte offset.
//!
//! ```
//! use wharf_reference::{Digest, Digester, Part, Reference, RepositoryName, Tag};
//!
//! // A reference as a user writes it; every part is kept as written.
//! let r: Reference = "ghcr.io/octocat/my-repo:1.0@sha256:\
//!     2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824".parse()?;
//! assert_eq!(r.registry(), Some("ghcr.io"));
//! assert_eq!(r.repository_name().namespace(), "octocat");
//! assert_eq!(r.tag().map(Tag::as_str), Some("1.0"));
//! assert_eq!(r.digest(), Some(&Digest::sha256(b"hello")));
//!
//! // Docker Hub's defaults are an explicit step, both ways.
//! let hub: Reference = "busybox:1.36".parse()?;
//! assert_eq!(hub.registry(), None);
//! let full = hub.normalized()?;
//! assert_eq!(full.to_string(), "docker.io/library/busybox:1.36");
//! assert_eq!(full.to_familiar_string(), "busybox:1.36");
//!
//! // Errors point at the byte that broke the grammar.
//! match "ghcr.io/octocat/My-Repo".parse::<Reference>() {
//!     Err(wharf_reference::Error::Invalid { part, offset, .. }) => {
//!         assert_eq!((part, offset), (Part::PathComponent, 16));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//!
//! // Registry-side names and tags, and digests computed while streaming.
//! let name: RepositoryName = "octocat/my-repo".parse()?;
//! let tag: Tag = "latest".parse()?;
//! assert_eq!(format!("{name}:{tag}"), "octocat/my-repo:latest");
//!
//! let mut digester = Digester::sha256();
//! digester.update(b"layer ");
//! digester.update(b"bytes");
//! let digest: Digest = digester.finish();
//! assert!(digest.verify(b"layer bytes").is_ok());
//! # Ok::<(), wharf_reference::Error>(())
//! ```
//!
//! The grammar, production by production, is in [`Reference`]'s
//! documentation; `src/grammar.rs` implements one function per production.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod by_value;
mod digest;
mod digester;
mod error;
mod error_code;
mod grammar;
mod media_type;
mod normalize;
mod reference;
mod repository;
mod serde_str;
mod tag;

pub use digest::{Algorithm, Digest};
pub use digester::{Digester, DigesterState, InvalidDigesterState};
pub use error::{Error, Part};
pub use error_code::{ErrorCode, UnknownErrorCode};
pub use media_type::MediaType;
pub use normalize::{DEFAULT_TAG, DOCKER_HUB, DOCKER_HUB_LEGACY};
pub use reference::Reference;
pub use repository::RepositoryName;
pub use tag::Tag;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
