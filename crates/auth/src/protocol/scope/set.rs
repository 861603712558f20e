//! [`ScopeSet`]: all the scopes of one request, at most one per resource.

use std::fmt;
use std::str::FromStr;

use super::{Resource, Scope, ScopeActions};
use crate::error::Error;

/// All the scopes of one request, at most one per resource: what a client
/// asked the token endpoint for (`?scope=a&scope=b`, or several
/// space-separated in one value), what a token grants, or what a
/// challenge says a request needs.
///
/// Scopes about the same resource merge (their actions are united), and
/// the set is ordered by resource, so equal sets compare and display
/// equal.
///
/// ```
/// use wharf_auth::ScopeSet;
///
/// let asked = ScopeSet::from_request([
///     "repository:octocat/app:pull",
///     "repository:octocat/base:pull repository:octocat/app:push",
/// ])?;
/// assert_eq!(
///     asked.to_string(),
///     "repository:octocat/app:pull,push repository:octocat/base:pull"
/// );
///
/// let allowed: ScopeSet = "repository:octocat/app:pull repository:octocat/base:*".parse()?;
/// let granted = asked.intersect(&allowed);
/// assert_eq!(
///     granted.to_string(),
///     "repository:octocat/app:pull repository:octocat/base:pull"
/// );
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// The empty set.
    pub const fn new() -> ScopeSet {
        ScopeSet(Vec::new())
    }

    /// The scopes of a request: each value (one `scope` query parameter or
    /// form field) holds one or more scopes separated by spaces.
    pub fn from_request<'a, I>(values: I) -> Result<ScopeSet, Error>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut scopes: Vec<Scope> = values
            .into_iter()
            .flat_map(|value| value.split(' ').filter(|s| !s.is_empty()))
            .map(Scope::parse)
            .collect::<Result<_, _>>()?;
        // Sort, then merge neighbours: O(n log n) however many a client sends.
        scopes.sort_by(|a, b| a.resource.key().cmp(&b.resource.key()));
        let mut merged: Vec<Scope> = Vec::with_capacity(scopes.len());
        for scope in scopes {
            match merged.last_mut() {
                Some(last) if last.resource.same_as(&scope.resource) => {
                    *last = last.merged_with(&scope);
                }
                _ => merged.push(scope),
            }
        }
        Ok(ScopeSet(merged))
    }

    /// Adds `scope`, uniting its actions with those already held for the
    /// same resource.
    pub fn insert(&mut self, scope: Scope) {
        match self.position(&scope.resource) {
            Ok(i) => self.0[i] = self.0[i].merged_with(&scope),
            Err(i) => self.0.insert(i, scope),
        }
    }

    /// The scope held for `resource` (class ignored).
    pub fn get(&self, resource: &Resource) -> Option<&Scope> {
        self.position(resource).ok().map(|i| &self.0[i])
    }

    /// The actions held for `resource` (none if it is absent).
    pub fn actions_for(&self, resource: &Resource) -> ScopeActions {
        self.get(resource)
            .map_or(ScopeActions::NONE, |scope| scope.actions)
    }

    /// Whether this set allows everything `scope` asks for.
    pub fn allows(&self, scope: &Scope) -> bool {
        self.actions_for(&scope.resource).contains(scope.actions)
    }

    /// What both sets allow: per resource, the common actions. Resources
    /// with no common action are left out. Commutative.
    pub fn intersect(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(
            self.0
                .iter()
                .filter_map(|scope| {
                    let theirs = other.get(&scope.resource)?;
                    scope.intersect(theirs).filter(|s| !s.actions.is_empty())
                })
                .collect(),
        )
    }

    /// The scopes, ordered by resource.
    pub fn iter(&self) -> std::slice::Iter<'_, Scope> {
        self.0.iter()
    }

    /// How many resources the set is about.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is about no resource.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, resource: &Resource) -> Result<usize, usize> {
        let key = resource.key();
        self.0.binary_search_by(|s| s.resource.key().cmp(&key))
    }
}

impl fmt::Display for ScopeSet {
    /// The scopes separated by spaces, as a challenge's `scope` parameter
    /// and a token request's `scope` form field carry them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, scope) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{scope}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl FromStr for ScopeSet {
    type Err = Error;
    /// Parses space-separated scopes.
    fn from_str(s: &str) -> Result<ScopeSet, Error> {
        ScopeSet::from_request([s])
    }
}

collect_by_insert!(ScopeSet, Scope);

impl<'a> IntoIterator for &'a ScopeSet {
    type Item = &'a Scope;
    type IntoIter = std::slice::Iter<'a, Scope>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<Scope> for ScopeSet {
    fn from(scope: Scope) -> Self {
        ScopeSet(vec![scope])
    }
}

/// Stored as a list of scope strings.
impl serde::Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl<'de> serde::Deserialize<'de> for ScopeSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Scope>::deserialize(d)?.into_iter().collect())
    }
}
