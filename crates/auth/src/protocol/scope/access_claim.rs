//! The JWT `access` claim form of a [`ScopeSet`]: a list of
//! `{"type", "name", "actions"}` objects, as in distribution's token
//! specification. Classes are not written (they are deprecated).

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

pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ScopeSet, D::Error> {
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
