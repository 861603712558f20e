//! Archived repositories: a repository's content set aside whole, so that
//! its name starts empty while the content can still be restored.

use std::str::FromStr;

use wharf_reference::RepositoryName;

/// The name of an archive: 1 to 128 lower-case ASCII letters, digits, `-`
/// and `_`, starting with a letter or digit. The caller picks it (a
/// registry derives it from the deleted package's id), so it can find the
/// archive again from its own records.
///
/// Valid by construction, so it is safe to use as a path component.
///
/// ```
/// use wharf_storage::ArchiveKey;
///
/// let key: ArchiveKey = "package-42".parse().unwrap();
/// assert_eq!(key.as_str(), "package-42");
/// assert!("../etc".parse::<ArchiveKey>().is_err());
/// assert!(".hidden".parse::<ArchiveKey>().is_err());
/// assert!("Upper".parse::<ArchiveKey>().is_err());
/// assert!("".parse::<ArchiveKey>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ArchiveKey(String);

/// The longest [`ArchiveKey`].
const MAX_KEY_LEN: usize = 128;

impl ArchiveKey {
    /// The key as it appears in paths.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a string is not an [`ArchiveKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "an archive key is 1 to 128 lower-case letters, digits, `-` and `_`, \
     starting with a letter or digit; got {0:?}"
)]
pub struct InvalidArchiveKey(pub String);

impl FromStr for ArchiveKey {
    type Err = InvalidArchiveKey;

    fn from_str(s: &str) -> Result<Self, InvalidArchiveKey> {
        let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let valid = !s.is_empty()
            && s.len() <= MAX_KEY_LEN
            && s.as_bytes().first().is_some_and(allowed)
            && s.bytes().all(|b| allowed(&b) || b == b'-' || b == b'_');
        if valid {
            Ok(ArchiveKey(s.to_owned()))
        } else {
            Err(InvalidArchiveKey(s.to_owned()))
        }
    }
}

display_and_serde_as_str!(ArchiveKey);

/// An archive, as [`RepositoryStore::list_archives`](crate::RepositoryStore::list_archives)
/// lists it. Non-exhaustive so that fields can be added in a minor release:
/// a backend builds it with [`Archive::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Archive {
    /// Its key.
    pub key: ArchiveKey,
    /// The repository its content was taken from.
    pub repository: RepositoryName,
}

impl Archive {
    /// The archive `key`, holding what was taken from `repository`.
    pub fn new(key: ArchiveKey, repository: RepositoryName) -> Self {
        Archive { key, repository }
    }
}
