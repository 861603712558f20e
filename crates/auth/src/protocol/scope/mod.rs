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
use std::str::FromStr;

use wharf_reference::RepositoryName;

use crate::error::{excerpt, Error};

pub(crate) mod access_claim;
mod actions;
mod resource;
mod set;
#[cfg(test)]
mod tests;

pub use actions::ScopeActions;
pub use resource::{Resource, ResourceClass};
pub use set::ScopeSet;

use resource::resource_type_value;

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
    pub(super) fn merged_with(&self, other: &Scope) -> Scope {
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

wharf_reference::debug_as_display!(Scope);

impl FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Scope, Error> {
        Scope::parse(s)
    }
}

wharf_reference::serde_as_string!(Scope);
