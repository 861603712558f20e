//! Checks more than one fuzz target makes.

use wharf_auth::{Scope, ScopeSet};

/// Checks the scope set made from the `scope` values of a token request:
/// every space-separated part of them parses, the set allows each, has an
/// entry for each one's resource, and holds one entry per resource.
pub fn check_requested_scopes<'a>(set: &ScopeSet, values: impl IntoIterator<Item = &'a str>) {
    let asked: Vec<Scope> = values
        .into_iter()
        .flat_map(|v| v.split(' ').filter(|s| !s.is_empty()))
        .map(|s| Scope::parse(s).expect("every part of an accepted request parses"))
        .collect();
    assert!(set.len() <= asked.len());
    for scope in &asked {
        assert!(set.allows(scope), "{set} must allow {scope}");
        assert!(set.get(scope.resource()).is_some());
    }
    for pair in set.iter().collect::<Vec<_>>().windows(2) {
        assert!(
            !pair[0].resource().same_as(pair[1].resource()),
            "one entry per resource: {set}"
        );
    }
}
