//! [`Resource`]: what a scope is about, and the deprecated
//! [`ResourceClass`] of its type.

use std::fmt;
use std::sync::Arc;

use wharf_reference::RepositoryName;

use crate::error::{excerpt, Error};

/// The class of a resource type, as in `repository(plugin)`: lowercase
/// letters and digits.
///
/// Classes are deprecated: distribution treats `repository` and
/// `repository(plugin)` as the same resource, and so does this crate when
/// merging and intersecting scopes. A class is kept only so that a parsed
/// scope displays as it was written.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceClass(pub(super) Arc<str>);

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
pub(super) fn resource_type_value(s: &str) -> bool {
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
    pub(super) fn key(&self) -> (u8, &str) {
        match self {
            Resource::Catalog => (0, "catalog"),
            Resource::Repository { name, .. } => (1, name.as_str()),
        }
    }

    /// The same resource with `class` (a deprecated detail, so two
    /// resources that disagree about it meet at "no class").
    pub(super) fn with_class_meeting(&self, other: &Resource) -> Resource {
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

wharf_reference::debug_as_display!(Resource);
