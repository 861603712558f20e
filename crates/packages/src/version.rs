//! Package versions: one per manifest digest pushed to a package, with
//! the tags that point at it.

use wharf_auth::Timestamp;
use wharf_reference::{Digest, MediaType, Tag};

use crate::id::VersionId;
use crate::package::RecordState;

/// A version of a package: a manifest (or index) digest, with its tags.
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// builds it with [`VersionRecord::new`] and sets the other public fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct VersionRecord {
    /// The store's id.
    pub id: VersionId,
    /// The manifest's digest (GitHub's version `name`).
    pub digest: Digest,
    /// The manifest's media type.
    pub media_type: MediaType,
    /// The manifest's size in bytes.
    pub size: u64,
    /// The tags pointing at it, in lexical order. A deleted version keeps
    /// the tags it would get back if restored (those not moved since).
    pub tags: Vec<Tag>,
    /// For an index, the platforms of its manifests (`linux/amd64`,
    /// `linux/arm64/v8`), sorted; empty otherwise.
    pub platforms: Vec<String>,
    /// When it was first pushed.
    pub created_at: Timestamp,
    /// When it was last pushed again, tagged, untagged, deleted or
    /// restored.
    pub updated_at: Timestamp,
    /// When it was deleted, for a deleted version.
    pub deleted_at: Option<Timestamp>,
}

impl VersionRecord {
    /// Version `id` of a manifest (`digest`, `media_type`, `size` bytes),
    /// created at `created_at`: no tags or platforms, updated when created,
    /// live.
    pub fn new(
        id: VersionId,
        digest: Digest,
        media_type: MediaType,
        size: u64,
        created_at: Timestamp,
    ) -> Self {
        VersionRecord {
            id,
            digest,
            media_type,
            size,
            tags: Vec::new(),
            platforms: Vec::new(),
            created_at,
            updated_at: created_at,
            deleted_at: None,
        }
    }

    /// Whether it is deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// A manifest push to record as a version.
///
/// ```
/// use wharf_packages::NewVersion;
/// use wharf_reference::{Digest, MediaType};
///
/// let version = NewVersion::new(Digest::sha256(b"{}"), MediaType::OCI_IMAGE_INDEX, 2)
///     .with_tag("latest".parse()?)
///     .with_platform("linux/amd64");
/// assert_eq!(version.tags.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Non-exhaustive so that fields can be added in a minor release: build it
/// with [`NewVersion::new`] and the `with_` methods.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct NewVersion {
    /// The manifest's digest.
    pub digest: Digest,
    /// The manifest's media type.
    pub media_type: MediaType,
    /// The manifest's size in bytes.
    pub size: u64,
    /// Tags to point at this version, moved from any other version of the
    /// package that had them. Tags it already has are kept.
    #[serde(default)]
    pub tags: Vec<Tag>,
    /// For an index, its platforms. Replaces the stored list.
    #[serde(default)]
    pub platforms: Vec<String>,
}

impl NewVersion {
    /// A push of `digest` without tags or platforms.
    pub fn new(digest: Digest, media_type: MediaType, size: u64) -> NewVersion {
        NewVersion {
            digest,
            media_type,
            size,
            tags: Vec::new(),
            platforms: Vec::new(),
        }
    }

    /// With `tag` pointed at it.
    #[must_use]
    pub fn with_tag(mut self, tag: Tag) -> NewVersion {
        self.tags.push(tag);
        self
    }

    /// With `platform` among its platforms.
    #[must_use]
    pub fn with_platform(mut self, platform: impl Into<String>) -> NewVersion {
        self.platforms.push(platform.into());
        self
    }
}

/// Which versions of a package to list: live or deleted, newest first.
///
/// Non-exhaustive: built with [`VersionQuery::active`] or
/// [`VersionQuery::deleted`], so that a filter can be added in a minor
/// release.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VersionQuery {
    /// Live or deleted versions.
    pub state: RecordState,
}

impl VersionQuery {
    /// Live versions.
    pub fn active() -> VersionQuery {
        VersionQuery {
            state: RecordState::Active,
        }
    }

    /// Deleted (not yet purged) versions.
    pub fn deleted() -> VersionQuery {
        VersionQuery {
            state: RecordState::Deleted,
        }
    }
}
