//! Package records, the changes that can be made to one, and listing
//! filters.

use std::time::Duration;

use wharf_annotations::PackageMetadata;
use wharf_auth::{CodeRepository, Login, Package, Timestamp, Visibility};
use wharf_reference::RepositoryName;

use crate::error::Error;
use crate::id::PackageId;

/// How long a deleted package or version can be restored by default; after
/// that, [`PackageRecords::purge_expired`](crate::PackageRecords::purge_expired)
/// removes it for good. Thirty days, as on GitHub. A store can be given
/// another window (`SqliteOptions::restore_window`,
/// `PgOptions::restore_window`), which it uses for both restoring and
/// purging and reports with
/// [`PackageRecords::restore_window`](crate::PackageRecords::restore_window).
pub const RESTORE_WINDOW: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Whether a deleted record deleted at `deleted_at` can still be restored
/// at `now`: strictly less than [`RESTORE_WINDOW`] has passed.
///
/// ```
/// use wharf_auth::Timestamp;
/// use wharf_packages::{is_restorable, RESTORE_WINDOW};
///
/// let deleted = Timestamp::from_unix_seconds(1_700_000_000);
/// assert!(is_restorable(deleted, deleted.saturating_add(RESTORE_WINDOW).saturating_sub(std::time::Duration::from_secs(1))));
/// assert!(!is_restorable(deleted, deleted.saturating_add(RESTORE_WINDOW)));
/// ```
pub fn is_restorable(deleted_at: Timestamp, now: Timestamp) -> bool {
    is_restorable_within(deleted_at, now, RESTORE_WINDOW)
}

/// Whether a record deleted at `deleted_at` can still be restored at `now`
/// when deleted records are restorable for `window`: strictly less than
/// `window` has passed.
///
/// ```
/// use std::time::Duration;
/// use wharf_auth::Timestamp;
/// use wharf_packages::is_restorable_within;
///
/// let deleted = Timestamp::from_unix_seconds(1_700_000_000);
/// let day = Duration::from_secs(86_400);
/// assert!(is_restorable_within(deleted, deleted.saturating_add(day).saturating_sub(Duration::from_secs(1)), day));
/// assert!(!is_restorable_within(deleted, deleted.saturating_add(day), day));
/// ```
pub fn is_restorable_within(deleted_at: Timestamp, now: Timestamp, window: Duration) -> bool {
    now < deleted_at.saturating_add(window)
}

/// `Ok` while the `what` (`package` or `version`) named `name`, deleted at
/// `deleted_at`, [is restorable](is_restorable) at `now`;
/// [`Error::RestoreWindowPassed`] after: the check every store makes
/// before restoring a package or a version.
pub fn ensure_restorable(
    what: &'static str,
    name: impl ToString,
    deleted_at: Timestamp,
    now: Timestamp,
) -> Result<(), Error> {
    ensure_restorable_within(what, name, deleted_at, now, RESTORE_WINDOW)
}

/// [`ensure_restorable`] for a store whose deleted records are restorable
/// for `window` ([`is_restorable_within`]).
pub fn ensure_restorable_within(
    what: &'static str,
    name: impl ToString,
    deleted_at: Timestamp,
    now: Timestamp,
    window: Duration,
) -> Result<(), Error> {
    if is_restorable_within(deleted_at, now, window) {
        return Ok(());
    }
    Err(Error::RestoreWindowPassed {
        what,
        name: name.to_string(),
        deleted_at,
    })
}

/// Whether a listing shows live records or deleted ones (GitHub's
/// `state=active|deleted` query parameter).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum RecordState {
    /// Records that are not deleted.
    #[default]
    Active,
    /// Deleted records that have not been purged yet.
    Deleted,
}

/// A package as the store keeps it: its access settings (the
/// [`wharf_auth::Package`] that [`wharf_auth::authorize`] takes), its
/// metadata, and its history.
///
/// Serializes flat: `{"id", "name", "visibility", "linked_repository",
/// "inherit_access", "grants", "owner", "metadata", "version_count",
/// "created_at", "updated_at", "deleted_at", "unlinked_at"}`.
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// builds it with [`PackageRecord::new`] and sets the other public fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct PackageRecord {
    /// The store's id.
    pub id: PackageId,
    /// Name, visibility, linked repository, access inheritance and grants.
    #[serde(flatten)]
    pub package: Package,
    /// The owning account's login (the name's namespace).
    pub owner: Login,
    /// What the package page shows, as last extracted from a pushed
    /// manifest's annotations and labels.
    pub metadata: PackageMetadata,
    /// How many versions are not deleted.
    pub version_count: u64,
    /// When it was first published.
    pub created_at: Timestamp,
    /// When it, its settings or its versions last changed.
    pub updated_at: Timestamp,
    /// When it was deleted, for a deleted package.
    pub deleted_at: Option<Timestamp>,
    /// When an admin last removed its link to a source repository, if
    /// ever. A push never links a package that was unlinked: only an
    /// admin links it again.
    #[serde(default)]
    pub unlinked_at: Option<Timestamp>,
}

impl PackageRecord {
    /// Package `id`, `package`, owned by `owner`, created at `created_at`:
    /// no metadata, no versions, updated when created, live and never
    /// unlinked.
    pub fn new(id: PackageId, owner: Login, package: Package, created_at: Timestamp) -> Self {
        PackageRecord {
            id,
            package,
            owner,
            metadata: PackageMetadata::default(),
            version_count: 0,
            created_at,
            updated_at: created_at,
            deleted_at: None,
            unlinked_at: None,
        }
    }

    /// The package's name.
    pub fn name(&self) -> &RepositoryName {
        &self.package.name
    }

    /// Its visibility.
    pub fn visibility(&self) -> Visibility {
        self.package.visibility
    }

    /// The source repository it is linked to.
    pub fn linked_repository(&self) -> Option<&CodeRepository> {
        self.package.linked_repository.as_ref()
    }

    /// Whether it is deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// Whether an admin ever removed its link to a source repository.
    pub fn was_unlinked(&self) -> bool {
        self.unlinked_at.is_some()
    }
}

/// Settings and metadata to change on a package in one step. Fields left
/// `None` are kept.
///
/// ```
/// use wharf_auth::Visibility;
/// use wharf_packages::PackageChanges;
///
/// let changes = PackageChanges::new()
///     .visibility(Visibility::Public)
///     .link("acme/app".parse()?);
/// assert_eq!(changes.visibility, Some(Visibility::Public));
/// assert_eq!(changes.inherit_access, Some(true));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
/// Non-exhaustive: built with [`PackageChanges::new`] and its methods, so
/// that a change can be added in a minor release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackageChanges {
    /// A new visibility.
    pub visibility: Option<Visibility>,
    /// A new linked repository (`Some(None)` unlinks, and records when in
    /// [`PackageRecord::unlinked_at`]).
    pub linked_repository: Option<Option<CodeRepository>>,
    /// Whether to inherit access from the linked repository.
    pub inherit_access: Option<bool>,
    /// New metadata, replacing the old.
    pub metadata: Option<PackageMetadata>,
}

impl PackageChanges {
    /// No change.
    pub fn new() -> PackageChanges {
        PackageChanges::default()
    }

    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        *self == PackageChanges::default()
    }

    /// Sets the visibility.
    #[must_use]
    pub fn visibility(mut self, visibility: Visibility) -> PackageChanges {
        self.visibility = Some(visibility);
        self
    }

    /// Links the package to `repository` and inherits its access, as
    /// [`Package::link`] does.
    #[must_use]
    pub fn link(mut self, repository: CodeRepository) -> PackageChanges {
        self.linked_repository = Some(Some(repository));
        self.inherit_access = Some(true);
        self
    }

    /// Removes the link to a repository, and with it inherited access.
    #[must_use]
    pub fn unlink(mut self) -> PackageChanges {
        self.linked_repository = Some(None);
        self.inherit_access = Some(false);
        self
    }

    /// Sets whether access is inherited from the linked repository.
    #[must_use]
    pub fn inherit_access(mut self, inherit: bool) -> PackageChanges {
        self.inherit_access = Some(inherit);
        self
    }

    /// Replaces the metadata.
    #[must_use]
    pub fn metadata(mut self, metadata: PackageMetadata) -> PackageChanges {
        self.metadata = Some(metadata);
        self
    }
}

/// Which of an owner's packages to list.
///
/// Non-exhaustive: built with [`PackageQuery::active`] or
/// [`PackageQuery::deleted`] and [`PackageQuery::with_visibility`], so that
/// a filter can be added in a minor release.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PackageQuery {
    /// Only packages with this visibility.
    pub visibility: Option<Visibility>,
    /// Live or deleted packages.
    pub state: RecordState,
}

impl PackageQuery {
    /// Every live package.
    pub fn active() -> PackageQuery {
        PackageQuery::default()
    }

    /// Every deleted (not yet purged) package.
    pub fn deleted() -> PackageQuery {
        PackageQuery {
            visibility: None,
            state: RecordState::Deleted,
        }
    }

    /// Only packages with `visibility`.
    #[must_use]
    pub fn with_visibility(mut self, visibility: Visibility) -> PackageQuery {
        self.visibility = Some(visibility);
        self
    }
}

/// Whether [`PackageRecords::access_context`](crate::PackageRecords::access_context)
/// looks at the live package of a name or the most recently deleted one
/// (to decide whether the caller may restore it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum PackageLookup {
    /// The live package.
    #[default]
    Active,
    /// The most recently deleted package of that name.
    LatestDeleted,
}
