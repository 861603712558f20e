//! Keyset pages read from SQLite: one row more than the page holds is
//! asked for, to learn whether another page follows.

use crate::error::Error;
use crate::page::{Cursor, Page};

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
