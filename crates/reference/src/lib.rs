//! Container image references, repository names, tags and content digests.
//!
//! Every type here is valid by construction: strings from the wire are parsed
//! once, at the boundary, by a hand-written parser that follows the grammar of
//! the OCI Distribution Specification and of the reference implementation
//! (distribution's `reference` package). Errors say which rule broke and at
//! which byte offset.
//!
//! ```
//! use wharf_reference::{Digest, Digester, RepositoryName, Tag};
//!
//! let name: RepositoryName = "octocat/my-repo".parse()?;
//! let tag: Tag = "latest".parse()?;
//! assert_eq!(format!("{name}:{tag}"), "octocat/my-repo:latest");
//!
//! let mut digester = Digester::sha256();
//! digester.update(b"layer bytes");
//! let digest: Digest = digester.finish();
//! assert!(digest.verify(b"layer bytes").is_ok());
//! # Ok::<(), wharf_reference::Error>(())
//! ```

mod digest;
mod error;
mod grammar;
mod repository;
mod serde_str;
mod tag;

pub use digest::{Algorithm, Digest, Digester};
pub use error::{Error, Part};
pub use repository::RepositoryName;
pub use tag::Tag;
