//! Keyset pagination: a page of records and the cursor of the next one.

use std::fmt;

/// Where the next page of a listing starts. Opaque: pass back the `next`
/// cursor of a [`Page`] unchanged (in a `Link` header or a query
/// parameter). A cursor stays valid while records are added and removed:
/// the next page starts after the last record seen, never skipping or
/// repeating one that did not move.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// A cursor from its string form, as received from a client. It is
    /// checked when used ([`Error::InvalidCursor`](crate::Error::InvalidCursor)).
    pub fn new(s: impl Into<String>) -> Cursor {
        Cursor(s.into())
    }

    /// The string form, to hand to a client.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which page of a listing to return.
///
/// ```
/// use wharf_packages::PageRequest;
///
/// let first = PageRequest::first(30);
/// assert_eq!(first.limit, 30);
/// assert!(first.after.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// The most records to return. `0` returns an empty page.
    pub limit: usize,
    /// Start after this cursor (`None`: from the beginning).
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The first `limit` records.
    pub fn first(limit: usize) -> PageRequest {
        PageRequest { limit, after: None }
    }

    /// At most `limit` records after `cursor`.
    pub fn after(cursor: Cursor, limit: usize) -> PageRequest {
        PageRequest {
            limit,
            after: Some(cursor),
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Page<T> {
    /// The records, in the listing's order.
    pub items: Vec<T>,
    /// The cursor of the next page, when more records follow; `None` on
    /// the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// A last page holding `items`.
    pub fn last(items: Vec<T>) -> Page<T> {
        Page { items, next: None }
    }
}
