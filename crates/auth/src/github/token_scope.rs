//! Personal access token scopes, as GitHub's classic tokens carry them.

use std::fmt;
use std::str::FromStr;

use crate::error::{excerpt, Error};

/// One scope of a personal access token.
///
/// Only the package scopes matter to a registry; `repo` is accepted because
/// GitHub selects it together with `write:packages` by default, but it
/// grants nothing on packages by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenScope {
    /// `read:packages`: pull images and read package metadata.
    ReadPackages,
    /// `write:packages`: everything `read:packages` allows, plus push images
    /// and write package metadata.
    WritePackages,
    /// `delete:packages`: delete (and, with `write:packages`, restore)
    /// packages and versions the user administers.
    DeletePackages,
    /// `repo`: source repository access. Kept for compatibility; grants
    /// nothing on packages.
    Repo,
}

impl TokenScope {
    /// Every scope, in canonical order.
    pub const ALL: [TokenScope; 4] = [
        TokenScope::ReadPackages,
        TokenScope::WritePackages,
        TokenScope::DeletePackages,
        TokenScope::Repo,
    ];

    /// The scope as GitHub spells it (`read:packages`).
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenScope::ReadPackages => "read:packages",
            TokenScope::WritePackages => "write:packages",
            TokenScope::DeletePackages => "delete:packages",
            TokenScope::Repo => "repo",
        }
    }

    /// Parses a scope as GitHub spells it. Equivalent to `s.parse()`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        TokenScope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| Error::UnknownTokenScope { scope: excerpt(s) })
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

wharf_reference::string_type!(TokenScope: Error, "a token scope such as `read:packages`");

/// The set of scopes a personal access token was created with.
///
/// The set holds what was chosen; the `can_*` methods answer what it
/// allows (`write:packages` implies `read:packages`). It parses from, and
/// displays as, the list GitHub shows (`read:packages, write:packages`);
/// commas and whitespace both separate. Unknown scopes are an error.
///
/// ```
/// use wharf_auth::{TokenScope, TokenScopes};
///
/// let scopes: TokenScopes = "repo, write:packages".parse()?;
/// assert!(scopes.contains(TokenScope::WritePackages));
/// assert!(scopes.can_read_packages()); // write implies read
/// assert!(!scopes.can_delete_packages());
/// assert_eq!(scopes.to_string(), "write:packages, repo");
///
/// assert!("admin:org".parse::<TokenScopes>().is_err());
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TokenScopes(u8);

impl TokenScopes {
    /// No scopes.
    pub const fn empty() -> Self {
        TokenScopes(0)
    }

    /// Every scope: what an interactive session of the user may do.
    pub const fn all() -> Self {
        TokenScopes(0b1111)
    }

    /// This set with `scope` added.
    #[must_use]
    pub const fn with(self, scope: TokenScope) -> Self {
        TokenScopes(self.0 | scope.bit())
    }

    /// Adds `scope`.
    pub fn insert(&mut self, scope: TokenScope) {
        self.0 |= scope.bit();
    }

    /// Whether `scope` was chosen for the token (no implication applied).
    pub const fn contains(self, scope: TokenScope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether no scope was chosen.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The chosen scopes, in canonical order.
    pub fn iter(self) -> impl Iterator<Item = TokenScope> {
        TokenScope::ALL
            .into_iter()
            .filter(move |scope| self.contains(*scope))
    }

    /// Whether the token may read packages: `read:packages` or
    /// `write:packages`.
    pub const fn can_read_packages(self) -> bool {
        self.contains(TokenScope::ReadPackages) || self.contains(TokenScope::WritePackages)
    }

    /// Whether the token may write packages: `write:packages`.
    pub const fn can_write_packages(self) -> bool {
        self.contains(TokenScope::WritePackages)
    }

    /// Whether the token may delete packages: `delete:packages` together
    /// with read access (GitHub asks for `read:packages` and
    /// `delete:packages`).
    pub const fn can_delete_packages(self) -> bool {
        self.contains(TokenScope::DeletePackages) && self.can_read_packages()
    }
}

impl fmt::Display for TokenScopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Debug for TokenScopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(TokenScope::as_str))
            .finish()
    }
}

impl FromStr for TokenScopes {
    type Err = Error;
    /// Parses a list separated by commas and/or whitespace; the empty
    /// string is the empty set.
    fn from_str(s: &str) -> Result<Self, Error> {
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|item| !item.is_empty())
            .map(TokenScope::from_str)
            .collect()
    }
}

collect_by_insert!(TokenScopes, TokenScope);

impl From<TokenScope> for TokenScopes {
    fn from(scope: TokenScope) -> Self {
        TokenScopes::empty().with(scope)
    }
}

// Stored as a list of scope strings (`["read:packages", "repo"]`).
crate::serde_list::serde_as_list!(
    TokenScopes,
    elements: TokenScopes::iter,
    expecting: "a list of token scopes such as [\"read:packages\"]",
    add: |scopes, scope: TokenScope| {
        scopes.insert(scope);
        Ok(())
    },
);
