use std::sync::Arc;

use crate::error::Error;
use crate::grammar;

/// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
///
/// Ordered lexically by its bytes, which is the order `tags/list` uses.
///
/// ```
/// use wharf_reference::Tag;
///
/// let t: Tag = "v1.14.1".parse().unwrap();
/// assert_eq!(t.as_str(), "v1.14.1");
/// assert!(".hidden".parse::<Tag>().is_err());
/// assert!("a".repeat(129).parse::<Tag>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(Arc<str>);

impl Tag {
    /// Parses a tag. Equivalent to `s.parse()`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        grammar::tag(s)?;
        Ok(Tag(s.into()))
    }

    /// Wraps a string that has already been checked by [`grammar::tag`].
    pub(crate) fn from_checked(s: &str) -> Self {
        Tag(s.into())
    }

    /// The tag as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::string_type!(Tag: Error, "a tag string"; Debug, Borrow);

impl std::ops::Deref for Tag {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}
