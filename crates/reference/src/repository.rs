use std::sync::Arc;

use crate::error::Error;
use crate::grammar;

/// A registry-side repository name, the `<name>` of `/v2/<name>/...`:
/// lower-case path components separated by `/`, at most 255 bytes, with no
/// registry host.
///
/// The first component is the namespace (the owning user or organization);
/// the rest is the package name, which is how permissions are keyed.
///
/// ```
/// use wharf_reference::RepositoryName;
///
/// let name: RepositoryName = "octocat/my-repo/release".parse().unwrap();
/// assert_eq!(name.namespace(), "octocat");
/// assert_eq!(name.package(), Some("my-repo/release"));
/// assert_eq!(name.components().count(), 3);
///
/// assert!("Octocat/app".parse::<RepositoryName>().is_err());
/// assert!("a//b".parse::<RepositoryName>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryName(Arc<str>);

impl RepositoryName {
    /// Parses a repository name. Equivalent to `s.parse()`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        grammar::path(s)?;
        Ok(RepositoryName(s.into()))
    }

    /// Wraps a string that has already been checked by [`grammar::path`].
    pub(crate) fn from_checked(s: &str) -> Self {
        RepositoryName(s.into())
    }

    /// The whole name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first path component: the owner (user or organization).
    pub fn namespace(&self) -> &str {
        self.0.split('/').next().unwrap_or(&self.0)
    }

    /// Everything after the namespace (`IMAGE_NAME` or `IMAGE_NAME/release`),
    /// or `None` for a single-component name.
    pub fn package(&self) -> Option<&str> {
        self.0.split_once('/').map(|(_, rest)| rest)
    }

    /// The `/`-separated components, in order.
    pub fn components(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.split('/')
    }
}

crate::string_type!(
    RepositoryName: Error,
    "a repository name such as `owner/image`";
    Debug,
    Borrow
);
