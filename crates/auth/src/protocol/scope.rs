//! Registry token scopes, as the Docker token protocol writes them:
//! `repository:octocat/app:pull,push`, `registry:catalog:*`.
//!
//! The grammar (distribution's `spec/auth/scope`), with the productions
//! named as the functions below are:
//!
//! ```text
//! scope              := resourcescope [ ' ' resourcescope ]*
//! resourcescope      := resourcetype ":" resourcename ":" action [ ',' action ]*
//! resourcetype       := resourcetypevalue [ '(' resourcetypevalue ')' ]
//! resourcetypevalue  := /[a-z0-9]+/
//! action             := /[a-z*]*/
//! ```
//!
//! A `resourcename` here is a [`RepositoryName`] (no registry host), or
//! `catalog` for the `registry` type. The type is everything before the
//! first `:` and the actions everything after the last, so a name holding a
//! `:` (a host with a port) is read whole and rejected by the name grammar
//! rather than split in the wrong place.

use std::fmt;
use std::ops::{BitAnd, BitOr};
use std::str::FromStr;
use std::sync::Arc;

use wharf_reference::RepositoryName;

use crate::error::{excerpt, Error};

/// A set of registry token actions: `pull`, `push`, `delete`, or `*` (all
/// of them).
///
/// `*` is the full set, so intersecting `*` with `pull,push` gives
/// `pull,push`, and `pull,push,delete` is a subset of `*` but not equal to
/// it (it does not carry the wildcard).
///
/// ```
/// use wharf_auth::ScopeActions;
///
/// let asked: ScopeActions = "pull,push".parse()?;
/// assert_eq!(asked & ScopeActions::PULL, ScopeActions::PULL);
/// assert_eq!(asked & ScopeActions::ALL, asked);
/// assert!(ScopeActions::ALL.contains(asked));
/// assert_eq!(ScopeActions::ALL.to_string(), "*");
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeActions(u8);

const PULL_BIT: u8 = 1;
const PUSH_BIT: u8 = 2;
const DELETE_BIT: u8 = 4;
const WILDCARD_BIT: u8 = 8;

impl ScopeActions {
    /// No action.
    pub const NONE: ScopeActions = ScopeActions(0);
    /// `pull`: read manifests and blobs.
    pub const PULL: ScopeActions = ScopeActions(PULL_BIT);
    /// `push`: write manifests and blobs.
    pub const PUSH: ScopeActions = ScopeActions(PUSH_BIT);
    /// `delete`: delete manifests, tags and blobs.
    pub const DELETE: ScopeActions = ScopeActions(DELETE_BIT);
    /// `*`: every action.
    pub const ALL: ScopeActions = ScopeActions(PULL_BIT | PUSH_BIT | DELETE_BIT | WILDCARD_BIT);

    /// Both sets together.
    #[must_use]
    pub const fn union(self, other: ScopeActions) -> ScopeActions {
        ScopeActions(self.0 | other.0)
    }

    /// The actions in both sets.
    #[must_use]
    pub const fn intersection(self, other: ScopeActions) -> ScopeActions {
        ScopeActions(self.0 & other.0)
    }

    /// Whether every action of `other` is in this set.
    pub const fn contains(self, other: ScopeActions) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The action names, as they are written in a scope: `["*"]` for the
    /// full set, otherwise a subset of `pull`, `push`, `delete` in that
    /// order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        let names: &'static [(u8, &'static str)] = if self.0 & WILDCARD_BIT != 0 {
            &[(WILDCARD_BIT, "*")]
        } else {
            &[
                (PULL_BIT, "pull"),
                (PUSH_BIT, "push"),
                (DELETE_BIT, "delete"),
            ]
        };
        names
            .iter()
            .filter(move |(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| *name)
    }

    /// One `action` of the grammar; `context` is what the error quotes.
    fn action(name: &str, context: &str) -> Result<ScopeActions, Error> {
        match name {
            "" => Ok(ScopeActions::NONE),
            "pull" => Ok(ScopeActions::PULL),
            "push" => Ok(ScopeActions::PUSH),
            "delete" => Ok(ScopeActions::DELETE),
            "*" => Ok(ScopeActions::ALL),
            other => Err(Error::UnknownAction {
                input: excerpt(context),
                action: excerpt(other),
            }),
        }
    }

    /// `action [ ',' action ]*`; empty actions (which the grammar allows)
    /// add nothing.
    fn action_list(s: &str, context: &str) -> Result<ScopeActions, Error> {
        s.split(',').try_fold(ScopeActions::NONE, |acc, name| {
            Ok(acc | ScopeActions::action(name, context)?)
        })
    }
}

impl BitOr for ScopeActions {
    type Output = ScopeActions;
    fn bitor(self, rhs: ScopeActions) -> ScopeActions {
        self.union(rhs)
    }
}

impl BitAnd for ScopeActions {
    type Output = ScopeActions;
    fn bitand(self, rhs: ScopeActions) -> ScopeActions {
        self.intersection(rhs)
    }
}

impl fmt::Display for ScopeActions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.names().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl fmt::Debug for ScopeActions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopeActions({self})")
    }
}

impl FromStr for ScopeActions {
    type Err = Error;
    /// Parses a comma-separated action list (`pull,push`).
    fn from_str(s: &str) -> Result<Self, Error> {
        ScopeActions::action_list(s, s)
    }
}

/// The JWT `access` form: a list of action names (`["pull", "push"]`).
impl serde::Serialize for ScopeActions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.names())
    }
}

impl<'de> serde::Deserialize<'de> for ScopeActions {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ScopeActions;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of actions such as [\"pull\", \"push\"]")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ScopeActions, A::Error> {
                let mut actions = ScopeActions::NONE;
                while let Some(name) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
                    actions = actions
                        | ScopeActions::action(&name, &name).map_err(serde::de::Error::custom)?;
                }
                Ok(actions)
            }
        }
        d.deserialize_seq(Visitor)
    }
}

/// The class of a resource type, as in `repository(plugin)`: lowercase
/// letters and digits.
///
/// Classes are deprecated: distribution treats `repository` and
/// `repository(plugin)` as the same resource, and so does this crate when
/// merging and intersecting scopes. A class is kept only so that a parsed
/// scope displays as it was written.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceClass(Arc<str>);

impl ResourceClass {
    /// Parses a class (`plugin`).
    pub fn parse(s: &str) -> Result<Self, Error> {
        if resource_type_value(s) {
            Ok(ResourceClass(s.into()))
        } else {
            Err(Error::InvalidScope {
                input: excerpt(s),
                reason: "a resource class is one or more lowercase letters and digits",
            })
        }
    }

    /// The class.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

wharf_reference::string_type!(ResourceClass: Error, "a resource class such as `plugin`"; Debug);

/// `resourcetypevalue := /[a-z0-9]+/`
fn resource_type_value(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// What a scope is about: one repository, or the registry's catalog.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Resource {
    /// `repository:<name>` (or `repository(<class>):<name>`).
    Repository {
        /// The repository.
        name: RepositoryName,
        /// The deprecated resource class, if one was written.
        class: Option<ResourceClass>,
    },
    /// `registry:catalog`: listing the registry's repositories.
    Catalog,
}

impl Resource {
    /// The resource of a repository, without class.
    pub fn repository(name: RepositoryName) -> Resource {
        Resource::Repository { name, class: None }
    }

    /// The resource type: `repository` or `registry`.
    pub fn resource_type(&self) -> &'static str {
        match self {
            Resource::Repository { .. } => "repository",
            Resource::Catalog => "registry",
        }
    }

    /// The resource name: the repository name, or `catalog`.
    pub fn name(&self) -> &str {
        match self {
            Resource::Repository { name, .. } => name.as_str(),
            Resource::Catalog => "catalog",
        }
    }

    /// The repository, for a repository resource.
    pub fn repository_name(&self) -> Option<&RepositoryName> {
        match self {
            Resource::Repository { name, .. } => Some(name),
            Resource::Catalog => None,
        }
    }

    /// The resource class, if one was written.
    pub fn class(&self) -> Option<&ResourceClass> {
        match self {
            Resource::Repository { class, .. } => class.as_ref(),
            Resource::Catalog => None,
        }
    }

    /// Whether both name the same resource, ignoring the deprecated class.
    pub fn same_as(&self, other: &Resource) -> bool {
        self.key() == other.key()
    }

    /// Identity for merging and ordering: type and name, class ignored.
    fn key(&self) -> (u8, &str) {
        match self {
            Resource::Catalog => (0, "catalog"),
            Resource::Repository { name, .. } => (1, name.as_str()),
        }
    }

    /// The same resource with `class` (a deprecated detail, so two
    /// resources that disagree about it meet at "no class").
    fn with_class_meeting(&self, other: &Resource) -> Resource {
        match (self, other) {
            (
                Resource::Repository { name, class },
                Resource::Repository {
                    class: other_class, ..
                },
            ) => Resource::Repository {
                name: name.clone(),
                class: if class == other_class {
                    class.clone()
                } else {
                    None
                },
            },
            _ => self.clone(),
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.resource_type())?;
        if let Some(class) = self.class() {
            write!(f, "({class})")?;
        }
        write!(f, ":{}", self.name())
    }
}

impl fmt::Debug for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Resource({self})")
    }
}

/// One resource scope: a resource and the actions on it
/// (`repository:octocat/app:pull,push`).
///
/// ```
/// use wharf_auth::{Scope, ScopeActions};
///
/// let asked: Scope = "repository:octocat/app:pull,push".parse()?;
/// let allowed: Scope = "repository:octocat/app:pull".parse()?;
/// let granted = asked.intersect(&allowed).expect("same repository");
/// assert_eq!(granted.to_string(), "repository:octocat/app:pull");
/// assert!(granted.allows(ScopeActions::PULL));
/// assert!(!granted.allows(ScopeActions::PUSH));
///
/// assert_eq!(Scope::catalog().to_string(), "registry:catalog:*");
/// assert!("repository:Octocat/App:pull".parse::<Scope>().is_err());
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    resource: Resource,
    actions: ScopeActions,
}

impl Scope {
    /// A scope of `actions` on `resource`.
    pub fn new(resource: Resource, actions: ScopeActions) -> Scope {
        Scope { resource, actions }
    }

    /// A scope of `actions` on the repository `name`.
    pub fn repository(name: RepositoryName, actions: ScopeActions) -> Scope {
        Scope::new(Resource::repository(name), actions)
    }

    /// `registry:catalog:*`.
    pub fn catalog() -> Scope {
        Scope::new(Resource::Catalog, ScopeActions::ALL)
    }

    /// Parses one resource scope. Equivalent to `s.parse()`.
    pub fn parse(s: &str) -> Result<Scope, Error> {
        resource_scope(s)
    }

    /// What the scope is about.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The actions.
    pub fn actions(&self) -> ScopeActions {
        self.actions
    }

    /// Whether every one of `actions` is allowed.
    pub fn allows(&self, actions: ScopeActions) -> bool {
        self.actions.contains(actions)
    }

    /// What both scopes allow: `None` when they are about different
    /// resources, otherwise the common actions (possibly none). The class
    /// survives only when both carry the same one. Commutative.
    pub fn intersect(&self, other: &Scope) -> Option<Scope> {
        self.resource.same_as(&other.resource).then(|| Scope {
            resource: self.resource.with_class_meeting(&other.resource),
            actions: self.actions & other.actions,
        })
    }

    /// This scope with the actions of `other`, about the same resource,
    /// added.
    fn merged_with(&self, other: &Scope) -> Scope {
        Scope {
            resource: self.resource.with_class_meeting(&other.resource),
            actions: self.actions | other.actions,
        }
    }
}

/// `resourcescope := resourcetype ":" resourcename ":" action [ ',' action ]*`
fn resource_scope(input: &str) -> Result<Scope, Error> {
    let invalid = |reason| Error::InvalidScope {
        input: excerpt(input),
        reason,
    };
    if input.is_empty() {
        return Err(invalid(
            "a scope is `type:name:actions`, and this one is empty",
        ));
    }
    let (resource_type, rest) = input
        .split_once(':')
        .ok_or_else(|| invalid("a scope is `type:name:actions`, and this one has no `:`"))?;
    let (name, actions) = rest
        .rsplit_once(':')
        .ok_or_else(|| invalid("a scope is `type:name:actions`, and this one has one `:`"))?;
    let (type_value, class) = resource_type_with_class(resource_type).ok_or_else(|| {
        invalid("a resource type is lowercase letters and digits, with an optional `(class)`")
    })?;
    let actions = ScopeActions::action_list(actions, input)?;
    let resource = match type_value {
        "repository" => Resource::Repository {
            name: RepositoryName::parse(name).map_err(|source| Error::InvalidResourceName {
                input: excerpt(input),
                source,
            })?,
            class: class.map(|c| ResourceClass(c.into())),
        },
        "registry" if class.is_some() => {
            return Err(invalid("the `registry` resource type takes no class"))
        }
        "registry" if name == "catalog" => Resource::Catalog,
        "registry" => {
            return Err(Error::UnknownRegistryResource {
                input: excerpt(input),
                name: excerpt(name),
            })
        }
        other => {
            return Err(Error::UnknownResourceType {
                input: excerpt(input),
                resource_type: excerpt(other),
            })
        }
    };
    Ok(Scope { resource, actions })
}

/// `resourcetype := resourcetypevalue [ '(' resourcetypevalue ')' ]`
fn resource_type_with_class(s: &str) -> Option<(&str, Option<&str>)> {
    let (value, class) = match s.split_once('(') {
        None => (s, None),
        Some((value, rest)) => (value, Some(rest.strip_suffix(')')?)),
    };
    let valid = resource_type_value(value) && class.is_none_or(resource_type_value);
    valid.then_some((value, class))
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource, self.actions)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({self})")
    }
}

impl FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Scope, Error> {
        Scope::parse(s)
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

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

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = ScopeSet::new();
        set.extend(iter);
        set
    }
}

impl Extend<Scope> for ScopeSet {
    fn extend<I: IntoIterator<Item = Scope>>(&mut self, iter: I) {
        for scope in iter {
            self.insert(scope);
        }
    }
}

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

/// The JWT `access` claim form of a [`ScopeSet`]: a list of
/// `{"type", "name", "actions"}` objects, as in distribution's token
/// specification. Classes are not written (they are deprecated).
pub(crate) mod access_claim {
    use super::{Resource, Scope, ScopeActions, ScopeSet};
    use serde::{Deserialize, Serialize};
    use std::borrow::Cow;
    use wharf_reference::RepositoryName;

    #[derive(Serialize, Deserialize)]
    struct Entry<'a> {
        #[serde(rename = "type", borrow)]
        resource_type: Cow<'a, str>,
        #[serde(borrow)]
        name: Cow<'a, str>,
        actions: ScopeActions,
    }

    pub(crate) fn serialize<S: serde::Serializer>(set: &ScopeSet, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(set.iter().map(|scope| Entry {
            resource_type: Cow::Borrowed(scope.resource.resource_type()),
            name: Cow::Borrowed(scope.resource.name()),
            actions: scope.actions,
        }))
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<ScopeSet, D::Error> {
        use serde::de::Error as _;
        let entries = Vec::<Entry<'de>>::deserialize(d)?;
        entries
            .into_iter()
            .map(|entry| {
                let resource = match (&*entry.resource_type, &*entry.name) {
                    ("registry", "catalog") => Resource::Catalog,
                    ("repository", name) => {
                        Resource::repository(RepositoryName::parse(name).map_err(D::Error::custom)?)
                    }
                    (other, name) => {
                        return Err(D::Error::custom(format_args!(
                            "unknown access entry `{}:{}`",
                            crate::error::excerpt(other),
                            crate::error::excerpt(name)
                        )))
                    }
                };
                Ok(Scope::new(resource, entry.actions))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Scope {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn scopes_parse_and_display_as_written() {
        for s in [
            "repository:octocat/app:pull",
            "repository:octocat/app:pull,push",
            "repository:octocat/app/release:pull,push,delete",
            "repository:octocat/app:*",
            "repository(plugin):octocat/app:pull",
            "registry:catalog:*",
            "repository:octocat/app:",
        ] {
            assert_eq!(scope(s).to_string(), s);
        }
    }

    #[test]
    fn scopes_normalize_action_order_and_duplicates() {
        let cases = [
            ("repository:a/b:push,pull", "repository:a/b:pull,push"),
            ("repository:a/b:pull,pull,,", "repository:a/b:pull"),
            ("repository:a/b:pull,*", "repository:a/b:*"),
            ("registry:catalog:", "registry:catalog:"),
        ];
        for (input, shown) in cases {
            assert_eq!(scope(input).to_string(), shown, "{input}");
        }
    }

    #[test]
    fn malformed_scopes_are_rejected_with_the_rule_they_break() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("repository", "no `:`"),
            ("repository:a/b", "one `:`"),
            ("Repository:a/b:pull", "resource type"),
            ("repository(:a/b:pull", "resource type"),
            ("repository(Plugin):a/b:pull", "resource type"),
            ("repository():a/b:pull", "resource type"),
            ("repository:A/b:pull", "invalid repository name"),
            (
                "repository:registry.example:5000/a/b:pull",
                "invalid repository name",
            ),
            ("repository:a/b:pull,write", "unknown action `write`"),
            ("repository:a/b:PULL", "unknown action"),
            ("namespace:a:pull", "unknown resource type `namespace`"),
            ("registry:users:*", "unknown registry resource"),
            ("registry(x):catalog:*", "takes no class"),
        ];
        for (input, expected) in cases {
            let error = Scope::parse(input).expect_err(input).to_string();
            assert!(error.contains(expected), "{input}: {error}");
        }
    }

    #[test]
    fn intersection_keeps_common_actions_of_the_same_resource_only() {
        let cases = [
            (
                "repository:a/b:pull,push",
                "repository:a/b:pull",
                Some("repository:a/b:pull"),
            ),
            (
                "repository:a/b:*",
                "repository:a/b:pull,push",
                Some("repository:a/b:pull,push"),
            ),
            (
                "repository:a/b:*",
                "repository:a/b:*",
                Some("repository:a/b:*"),
            ),
            (
                "repository:a/b:push",
                "repository:a/b:pull",
                Some("repository:a/b:"),
            ),
            (
                "repository(plugin):a/b:pull",
                "repository:a/b:pull",
                Some("repository:a/b:pull"),
            ),
            (
                "repository(plugin):a/b:pull",
                "repository(plugin):a/b:*",
                Some("repository(plugin):a/b:pull"),
            ),
            ("repository:a/b:pull", "repository:a/c:pull", None),
            ("registry:catalog:*", "repository:catalog:*", None),
        ];
        for (a, b, expected) in cases {
            let got = scope(a).intersect(&scope(b)).map(|s| s.to_string());
            assert_eq!(got.as_deref(), expected, "{a} ∩ {b}");
        }
    }

    #[test]
    fn a_request_merges_repeated_and_space_separated_scopes() {
        let set = ScopeSet::from_request([
            "repository:a/b:pull",
            "repository:a/c:pull  repository:a/b:push",
            "registry:catalog:*",
        ])
        .expect("valid request");
        assert_eq!(
            set.to_string(),
            "registry:catalog:* repository:a/b:pull,push repository:a/c:pull"
        );
        assert_eq!(set.len(), 3);
        assert!(set.allows(&scope("repository:a/b:push")));
        assert!(!set.allows(&scope("repository:a/c:push")));
        assert!(ScopeSet::from_request(["repository:a/b:pull bad"]).is_err());
        assert!(ScopeSet::from_request([""]).expect("empty").is_empty());
    }

    #[test]
    fn scope_sets_travel_as_lists_of_strings_and_as_jwt_access_entries() {
        let set: ScopeSet = "repository:a/b:pull,push registry:catalog:*"
            .parse()
            .expect("valid");
        let json = serde_json::to_string(&set).expect("serializes");
        assert_eq!(json, r#"["registry:catalog:*","repository:a/b:pull,push"]"#);
        assert_eq!(
            serde_json::from_str::<ScopeSet>(&json).expect("parses"),
            set
        );

        #[derive(serde::Serialize, serde::Deserialize)]
        struct Claim {
            #[serde(with = "access_claim")]
            access: ScopeSet,
        }
        let json = serde_json::to_string(&Claim {
            access: set.clone(),
        })
        .expect("serializes");
        assert_eq!(
            json,
            r#"{"access":[{"type":"registry","name":"catalog","actions":["*"]},{"type":"repository","name":"a/b","actions":["pull","push"]}]}"#
        );
        let back: Claim = serde_json::from_str(&json).expect("parses");
        assert_eq!(back.access, set);
        let bad = r#"{"access":[{"type":"namespace","name":"a","actions":["pull"]}]}"#;
        assert!(serde_json::from_str::<Claim>(bad).is_err());
    }
}
