//! Garbage collection: removes, online, the blobs that nothing references,
//! while pushes, mounts and deletes go on.
//!
//! **The guarantee: a collection never removes a blob that a stored
//! manifest references, in a live repository or in an archived one (a
//! deleted package inside its restore window), nor one uploaded, mounted
//! or referenced within the grace period; every other blob older than the
//! grace period goes.**
//!
//! # What is kept
//!
//! Every stored manifest is a root. In the package model each one is a
//! package version, which leaves storage only through a version delete and
//! the purge after the restore window (or a retention policy), so the
//! collector does not second-guess it: tags, untagged versions, children
//! of an index and referrers (signatures, SBOMs, attestations) keep their
//! blobs alike, for as long as the manifest is stored. What a manifest
//! references is what [`wharf_manifest::Manifest::required_blobs`] says
//! the registry must hold: the config and every layer that is not foreign
//! (a foreign layer lives at its `urls`). An archived repository keeps
//! all its links until its archive is deleted.
//!
//! # How
//!
//! The collector follows [`wharf_storage::collect`]'s protocol with a
//! cutoff of its start minus the grace period
//! ([`GcOptions::grace`], one hour by default):
//!
//! 0. **Resume.** Blobs left condemned by an interrupted collection have
//!    their links counted again: pardoned if they have any, removed if not.
//! 1. **Links.** In each live repository, the manifests are read and the
//!    links to blobs none of them references are removed, each only if it
//!    was neither made nor confirmed since the cutoff
//!    ([`unlink_blob_unused_since`](wharf_storage::RepositoryStore::unlink_blob_unused_since)).
//!    A manifest push confirms each link it relies on before storing the
//!    manifest ([`confirm_link`](wharf_storage::RepositoryStore::confirm_link)):
//!    either its confirmation comes first and the link is too recent to
//!    go, or the unlink comes first and the push fails with
//!    `MANIFEST_BLOB_UNKNOWN` (the client pushes the blob again) instead
//!    of storing a manifest whose blob may then go. A repository with a
//!    manifest the collector cannot parse keeps all its links. After its
//!    links are removed, a repository's manifests are listed again, and
//!    the links that a manifest which appeared meanwhile (a restored
//!    package) needs are made again.
//! 2. **Blobs.** A blob stored before the cutoff that no repository, live
//!    or archived, links is condemned (hidden from new references), its
//!    links are counted once more, and it is pardoned if one appeared
//!    (an upload of the same content, a mount) or removed for good if
//!    not. Backends take references "link first, then look at the blob",
//!    so a reference taken at any moment is seen by the recount or takes
//!    the blob back from its condemnation.
//!
//! The grace period covers the time between a layer's upload (which links
//! it) and the push of the manifest that references it: a layer pushed
//! longer ago than the grace period and still referenced by no manifest
//! goes.
//!
//! A dry run ([`GcOptions::dry_run`]) changes nothing and reports what a
//! collection would remove. It cannot see when a link was last confirmed:
//! it counts every link no manifest references to a blob stored before
//! the cutoff, so a link made within the grace period to such an older
//! blob is counted although a collection keeps it.
//!
//! # Running it
//!
//! [`Registry::collect_garbage`](crate::Registry::collect_garbage) runs one
//! collection, [`Registry::spawn_garbage_collector`](crate::Registry::spawn_garbage_collector)
//! one every interval on one replica at a time (the [`WorkLease`](crate::WorkLease)
//! on the job `gc`), and [`collect_garbage`] one over any [`Storage`](wharf_storage::Storage)
//! without a registry. Each returns a [`GcReport`].
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use wharf_server::gc::GcOptions;
//! use wharf_server::Registry;
//! use wharf_storage::MemoryStorage;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let registry = Registry::builder(Arc::new(MemoryStorage::new())).build();
//! let mut options = GcOptions::default();
//! options.grace = Duration::from_secs(600);
//! let report = registry.collect_garbage(options).await?;
//! assert_eq!(report.blobs_removed, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod collector;
mod options;
mod registry;
mod report;

pub use collector::collect_garbage;
pub use options::{GcOptions, GcPhase, GcProgress};
pub use report::GcReport;
