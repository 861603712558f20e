//! What the SQL backends share: values as they store them (timestamps as
//! Unix seconds in a signed 64-bit integer, sizes and counts as signed
//! 64-bit integers, names as their text, structured values as JSON) and
//! reading them back, where a value the store could not have written is
//! [`Error::Corrupt`]; keyset pages; the purge's cutoff; and the rows
//! both read ([`rows`]).

use std::collections::BTreeSet;
use std::fmt::Display;
use std::str::FromStr;

use wharf_auth::{Login, Timestamp};
use wharf_reference::{Digest, RepositoryName};

use crate::error::Error;
use std::time::Duration;

use crate::package::{ensure_restorable_within, PackageRecord};
use crate::page::{Cursor, Page, PageRequest};
use crate::retention::RetainedPackage;
use crate::store::PurgedVersion;
use crate::version::VersionRecord;

mod methods;
mod rows;

pub(crate) use methods::{borrowed, sql_store_traits, store_methods};
pub(crate) use rows::{
    repository_access, retention_from_sql, retention_to_sql, token_hash_taken, AccountRow,
    ExpiredVersionRow, FromColumns, NewAccount, NewToken, PackageRow, RecentTokenUses,
    RetainedPackageRow, TokenRow, TokenUse,
};
// Only the SQLite store declares rows of its own (a version's columns).
#[cfg(feature = "sqlite")]
pub(crate) use rows::row_struct;

/// A timestamp as a stored integer (Unix seconds).
pub(crate) fn time_to_sql(time: Timestamp) -> Result<i64, Error> {
    i64::try_from(time.unix_seconds()).map_err(|_| Error::OutOfRange {
        what: "timestamp",
        value: time.to_string(),
    })
}

/// An optional timestamp as a stored integer or NULL.
pub(crate) fn opt_time_to_sql(time: Option<Timestamp>) -> Result<Option<i64>, Error> {
    time.map(time_to_sql).transpose()
}

/// A stored timestamp.
pub(crate) fn time_from_sql(value: i64) -> Result<Timestamp, Error> {
    u64::try_from(value)
        .map(Timestamp::from_unix_seconds)
        .map_err(|_| Error::corrupt("timestamp", format!("negative value {value}")))
}

/// An optional stored timestamp.
pub(crate) fn opt_time_from_sql(value: Option<i64>) -> Result<Option<Timestamp>, Error> {
    value.map(time_from_sql).transpose()
}

/// A size or count as a stored (signed 64-bit) integer.
pub(crate) fn u64_to_sql(what: &'static str, value: u64) -> Result<i64, Error> {
    i64::try_from(value).map_err(|_| Error::OutOfRange {
        what,
        value: value.to_string(),
    })
}

/// A stored size or count.
pub(crate) fn u64_from_sql(what: &'static str, value: i64) -> Result<u64, Error> {
    u64::try_from(value).map_err(|_| Error::corrupt(what, format!("negative value {value}")))
}

/// Parses a stored string as `T`.
pub(crate) fn parse<T>(what: &'static str, stored: &str) -> Result<T, Error>
where
    T: FromStr,
    T::Err: Display,
{
    stored
        .parse()
        .map_err(|e| Error::corrupt(what, format!("`{stored}`: {e}")))
}

/// Parses stored JSON as `T`.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    stored: &str,
) -> Result<T, Error> {
    serde_json::from_str(stored).map_err(|e| Error::corrupt(what, e))
}

/// Serializes `value` as JSON for storage.
pub(crate) fn to_json<T: serde::Serialize>(what: &'static str, value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::OutOfRange {
        what,
        value: e.to_string(),
    })
}

// ------------------------------------------------- keyset pages
//
// One row more than the page holds is asked for, to learn whether another
// page follows.

/// A page size as an SQL `LIMIT`, plus one row to learn whether another
/// page follows.
pub(crate) fn limit_plus_one(limit: usize) -> i64 {
    i64::try_from(limit).map_or(i64::MAX, |n| n.saturating_add(1))
}

/// The page of `rows` (read with [`limit_plus_one`]): the first `limit`
/// converted, and the cursor of the last of them when a further row shows
/// that another page follows.
pub(crate) fn page_of<R, T>(
    rows: Vec<R>,
    limit: usize,
    convert: impl FnMut(R) -> Result<T, Error>,
    cursor: impl FnOnce(&T) -> Cursor,
) -> Result<Page<T>, Error> {
    let more = rows.len() > limit;
    let items = rows
        .into_iter()
        .take(limit)
        .map(convert)
        .collect::<Result<Vec<_>, _>>()?;
    let next = more.then(|| items.last()).flatten().map(cursor);
    Ok(Page { items, next })
}

/// `limit` as an SQL `LIMIT`.
pub(crate) fn sql_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Where a page of an owner's packages (in name order, then id) starts:
/// after the `NAME ID` of its cursor, or before every package.
pub(crate) fn packages_after(page: &PageRequest) -> Result<(String, i64), Error> {
    match &page.after {
        None => Ok((String::new(), i64::MIN)),
        Some(cursor) => cursor
            .as_str()
            .rsplit_once(' ')
            .and_then(|(name, id)| Some((name.to_owned(), id.parse::<i64>().ok()?)))
            .ok_or_else(|| Error::invalid_cursor(cursor)),
    }
}

/// The cursor of the page of packages after `last`.
pub(crate) fn package_cursor(last: &PackageRecord) -> Cursor {
    Cursor::new(format!("{} {}", last.package.name, last.id))
}

/// The row id a page's cursor names, or `first` for the first page.
fn id_of_cursor(page: &PageRequest, first: i64) -> Result<i64, Error> {
    match &page.after {
        None => Ok(first),
        Some(cursor) => cursor
            .as_str()
            .parse::<i64>()
            .map_err(|_| Error::invalid_cursor(cursor)),
    }
}

/// Where a page of versions (newest first) starts: before the version id
/// of its cursor, or with the newest.
pub(crate) fn versions_before(page: &PageRequest) -> Result<i64, Error> {
    id_of_cursor(page, i64::MAX)
}

/// The cursor of the page of versions after `last`.
pub(crate) fn version_cursor(last: &VersionRecord) -> Cursor {
    Cursor::new(last.id.to_string())
}

// ------------------------------------------------- retention

/// Whose retention policy is read or set: a live package's own, or an
/// organization's default.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PolicyHolder<'a> {
    /// The live package of this name.
    Package(&'a RepositoryName),
    /// The organization with this login.
    Organization(&'a Login),
}

impl PolicyHolder<'_> {
    /// The table whose `retention` column holds the policy.
    pub(crate) fn table(self) -> &'static str {
        match self {
            PolicyHolder::Package(_) => "packages",
            PolicyHolder::Organization(_) => "accounts",
        }
    }
}

/// Where a page of retained packages starts: after the package id of its
/// cursor.
pub(crate) fn retained_after(page: &PageRequest) -> Result<i64, Error> {
    id_of_cursor(page, i64::MIN)
}

/// The page of retained packages of `rows`.
pub(crate) fn retained_page(
    rows: Vec<RetainedPackageRow>,
    limit: usize,
) -> Result<Page<RetainedPackage>, Error> {
    let page = page_of(
        rows,
        limit,
        RetainedPackageRow::into_retained,
        |last: &Option<RetainedPackage>| {
            Cursor::new(last.as_ref().map_or_else(String::new, |p| p.id.to_string()))
        },
    )?;
    Ok(Page {
        items: page.items.into_iter().flatten().collect(),
        next: page.next,
    })
}

// ------------------------------------------------- restorable deletion

/// What one call of `purge_expired` may remove.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PurgeBounds {
    /// The stored time at or before which a deletion has expired (exactly
    /// the complement of `is_restorable_within`); -1, which no stored time
    /// is at or before, when none can have.
    pub(crate) cutoff: i64,
    /// The most records to remove: at least one.
    pub(crate) limit: usize,
}

impl PurgeBounds {
    /// The bounds of a purge at `now` of at most `limit` records, for a
    /// restore `window`.
    pub(crate) fn new(now: Timestamp, window: Duration, limit: usize) -> Result<Self, Error> {
        // Whole seconds, as `Timestamp::saturating_add` counts them.
        let cutoff = match now.unix_seconds().checked_sub(window.as_secs()) {
            Some(cutoff) => time_to_sql(Timestamp::from_unix_seconds(cutoff))?,
            None => -1,
        };
        Ok(PurgeBounds {
            cutoff,
            limit: limit.max(1),
        })
    }
}

/// The manifests of `purged` versions, each once: those a purge must check
/// are still referenced.
pub(crate) fn purged_manifests(purged: &[PurgedVersion]) -> BTreeSet<(&RepositoryName, &Digest)> {
    purged
        .iter()
        .map(|version| (&version.name, &version.digest))
        .collect()
}

/// Checks that `deleted`, the latest deleted package named `name`, can be
/// restored at `now`: no package took its name since (`name_taken`), and
/// it was deleted less than `window` ago.
pub(crate) fn ensure_package_restorable(
    name: &RepositoryName,
    deleted: &PackageRecord,
    name_taken: bool,
    now: Timestamp,
    window: Duration,
) -> Result<(), Error> {
    let deleted_at = deleted
        .deleted_at
        .ok_or_else(|| Error::corrupt("package", "a deleted package without deletion time"))?;
    if name_taken {
        return Err(Error::conflict(format!(
            "a new package named {name} was published after the old one was deleted; \
             delete or rename the new package to restore the old one"
        )));
    }
    ensure_restorable_within("package", name, deleted_at, now, window)
}

/// Checks that `version` of the package `name` can be restored at `now`:
/// it is deleted, less than `window` ago.
pub(crate) fn ensure_version_restorable(
    name: &RepositoryName,
    version: &VersionRecord,
    now: Timestamp,
    window: Duration,
) -> Result<(), Error> {
    let Some(deleted_at) = version.deleted_at else {
        return Err(Error::conflict(format!(
            "version {} of {name} is not deleted",
            version.id
        )));
    };
    ensure_restorable_within(
        "version",
        format!("{name}@{}", version.digest),
        deleted_at,
        now,
        window,
    )
}

/// A table whose rows are deleted restorably: `deleted_at` is set, and
/// cleared again on restore.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SoftDeleted {
    /// `packages`.
    Packages,
    /// `versions`.
    Versions,
}

impl SoftDeleted {
    /// The table, and what deleting a row of it (`deleted` true) or
    /// restoring one (`deleted` false) is called.
    pub(crate) fn table_and_operation(self, deleted: bool) -> (&'static str, &'static str) {
        match (self, deleted) {
            (SoftDeleted::Packages, true) => ("packages", "deleting a package"),
            (SoftDeleted::Packages, false) => ("packages", "restoring a package"),
            (SoftDeleted::Versions, true) => ("versions", "deleting a version"),
            (SoftDeleted::Versions, false) => ("versions", "restoring a version"),
        }
    }
}
