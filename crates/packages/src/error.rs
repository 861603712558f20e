//! The one error type of this crate.

use wharf_auth::Timestamp;

/// A boxed error from a database driver, kept as the cause of
/// [`Error::Database`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in a [`PackageStore`](crate::PackageStore).
///
/// The first variants are answers about the data (map them to 404, 409,
/// 410 or 400); [`Error::Corrupt`] and [`Error::Database`] are failures of
/// the store itself (map them to 500 and log the cause);
/// [`Error::Unavailable`] is a database that cannot be reached right now
/// (map it to 503: the client may retry).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The thing asked for does not exist (or, for a deleted package or
    /// version, was purged).
    #[error("{what} `{name}` not found")]
    NotFound {
        /// What was looked for: `user`, `organization`, `account`,
        /// `package`, `deleted package`, `version`, `tag`, `token`, ...
        what: &'static str,
        /// Its name or id as asked.
        name: String,
    },

    /// Something with that name or key exists already.
    #[error("{what} `{name}` already exists")]
    AlreadyExists {
        /// What was being created.
        what: &'static str,
        /// Its name or key.
        name: String,
    },

    /// The change contradicts the current state; the message says why and
    /// what to do instead.
    #[error("{reason}")]
    Conflict {
        /// Why, in words a user can act on.
        reason: String,
    },

    /// A deleted package or version can no longer be restored: its
    /// [restore window](crate::PackageRecords::restore_window) (by
    /// default [`RESTORE_WINDOW`](crate::RESTORE_WINDOW)) has passed.
    #[error("{what} `{name}` was deleted at {deleted_at} (Unix time) and can no longer be restored: its restore window has passed")]
    RestoreWindowPassed {
        /// `package` or `version`.
        what: &'static str,
        /// Its name or id.
        name: String,
        /// When it was deleted.
        deleted_at: Timestamp,
    },

    /// A pagination cursor that this store did not hand out.
    #[error(
        "invalid page cursor `{cursor}`: pass back the `next` cursor of a previous page unchanged"
    )]
    InvalidCursor {
        /// The cursor as given.
        cursor: String,
    },

    /// A value does not fit the store (for example a timestamp or a size
    /// beyond 2^63).
    #[error("{what} is out of range: {value}")]
    OutOfRange {
        /// What the value is.
        what: &'static str,
        /// The value.
        value: String,
    },

    /// Stored data could not be read back as the type it should be: the
    /// database was edited by hand or written by an incompatible program.
    #[error("corrupt {what} in the package store: {detail}")]
    Corrupt {
        /// Which stored value.
        what: &'static str,
        /// What was wrong with it.
        detail: String,
    },

    /// The database file was written by a newer version of this crate.
    #[error("the package store's schema version {found} is newer than this program supports ({supported}); upgrade the program")]
    SchemaTooNew {
        /// The version found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// The database could not be reached, or did not answer in time: the
    /// connection was refused or lost, no pooled connection was free within
    /// the pool's wait timeout, the server is shutting down or out of
    /// connections. A change that fails so was rolled back, unless the
    /// connection was lost while it committed (then it may have been
    /// applied: read before repeating it). Retrying later may succeed.
    /// Never an answer about the data: a registry answers 503, not 404 or
    /// 500.
    #[error("the package store's database is unavailable while {operation}: {source}")]
    Unavailable {
        /// What the store was doing.
        operation: &'static str,
        /// The driver's or the pool's error.
        #[source]
        source: BoxError,
    },

    /// The database failed.
    #[error("package store database error while {operation}: {source}")]
    Database {
        /// What the store was doing.
        operation: &'static str,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// A [`Error::NotFound`].
    pub fn not_found(what: &'static str, name: impl ToString) -> Error {
        Error::NotFound {
            what,
            name: name.to_string(),
        }
    }

    /// An [`Error::AlreadyExists`].
    pub fn already_exists(what: &'static str, name: impl ToString) -> Error {
        Error::AlreadyExists {
            what,
            name: name.to_string(),
        }
    }

    /// An [`Error::Conflict`].
    pub fn conflict(reason: impl Into<String>) -> Error {
        Error::Conflict {
            reason: reason.into(),
        }
    }

    /// An [`Error::Database`] caused by `source` while doing `operation`.
    pub fn database(operation: &'static str, source: impl Into<BoxError>) -> Error {
        Error::Database {
            operation,
            source: source.into(),
        }
    }

    /// An [`Error::Unavailable`] caused by `source` while doing `operation`.
    pub fn unavailable(operation: &'static str, source: impl Into<BoxError>) -> Error {
        Error::Unavailable {
            operation,
            source: source.into(),
        }
    }

    /// An [`Error::InvalidCursor`] for `cursor` (its first 100
    /// characters), for a store that cannot read a cursor it is given.
    pub fn invalid_cursor(cursor: &crate::page::Cursor) -> Error {
        Error::InvalidCursor {
            cursor: cursor.as_str().chars().take(100).collect(),
        }
    }

    /// An [`Error::Corrupt`], for a store that reads back a value it could
    /// not have written.
    pub fn corrupt(what: &'static str, detail: impl ToString) -> Error {
        Error::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }

    /// Whether this is [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Whether this is [`Error::AlreadyExists`].
    pub fn is_already_exists(&self) -> bool {
        matches!(self, Error::AlreadyExists { .. })
    }

    /// Whether this is [`Error::Unavailable`]: the database cannot be
    /// reached right now, and a retry later may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable { .. })
    }

    /// Whether this is a failure of the store itself ([`Error::Database`],
    /// [`Error::Unavailable`], [`Error::Corrupt`] or
    /// [`Error::SchemaTooNew`]) rather than an answer about the data.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Error::Database { .. }
                | Error::Unavailable { .. }
                | Error::Corrupt { .. }
                | Error::SchemaTooNew { .. }
        )
    }
}
