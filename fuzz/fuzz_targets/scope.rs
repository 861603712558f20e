//! Registry token scopes (`repository:octocat/app:pull,push`) as a client
//! sends them to the token endpoint, one `scope` per line: parsing never
//! panics; a scope's `Display` is canonical and parses back equal; a scope
//! set merges each resource once, allows every scope it was built from,
//! and survives `Display`, `FromIterator` and serde.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_auth::{Scope, ScopeActions, ScopeSet};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    for line in s.lines() {
        check_scope(line);
    }

    let values: Vec<&str> = s.split('\n').collect();
    let set = match ScopeSet::from_request(values.iter().copied()) {
        Ok(set) => set,
        Err(err) => {
            assert!(!err.to_string().is_empty());
            return;
        }
    };
    wharf_fuzz::check_requested_scopes(&set, values.iter().copied());

    let shown = set.to_string();
    let back: ScopeSet = shown.parse().expect("a scope set's Display parses");
    assert_eq!(back, set, "{shown}");
    assert_eq!(back.to_string(), shown);
    assert_eq!(set.iter().cloned().collect::<ScopeSet>(), set);
    let json = serde_json::to_string(&set).expect("serializes");
    assert_eq!(
        serde_json::from_str::<ScopeSet>(&json).expect("deserializes"),
        set
    );
    let nonempty: ScopeSet = set
        .iter()
        .filter(|s| !s.actions().is_empty())
        .cloned()
        .collect();
    assert_eq!(set.intersect(&set), nonempty);
});

fn check_scope(s: &str) {
    let Ok(scope) = Scope::parse(s) else {
        return;
    };
    let shown = scope.to_string();
    let back = Scope::parse(&shown).expect("a scope's Display parses");
    assert_eq!(back, scope, "{s:?} shown as {shown:?}");
    assert_eq!(back.to_string(), shown, "Display is canonical");
    let (_, actions) = shown.rsplit_once(':').expect("type:name:actions");
    assert_eq!(actions.parse::<ScopeActions>().ok(), Some(scope.actions()));
    assert!(scope.allows(scope.actions()));
    assert!(scope.allows(ScopeActions::NONE));
    assert_eq!(scope.intersect(&scope), Some(scope.clone()));
    let json = serde_json::to_string(&scope).expect("serializes");
    assert_eq!(serde_json::from_str::<Scope>(&json).ok(), Some(scope));
}
