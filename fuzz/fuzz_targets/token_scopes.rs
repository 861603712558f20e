//! Personal access token scopes (`read:packages, write:packages`), as an
//! administrator types them: parsing never panics; `Display` is canonical
//! and parses back equal; every listed scope is in the set; the `can_*`
//! answers follow GitHub's implications; serde round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_auth::{TokenScope, TokenScopes};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(one) = s.parse::<TokenScope>() {
        assert_eq!(one.to_string(), s);
        assert_eq!(one.as_str().parse::<TokenScope>().ok(), Some(one));
    }
    let scopes: TokenScopes = match s.parse() {
        Ok(scopes) => scopes,
        Err(err) => {
            assert!(!err.to_string().is_empty());
            return;
        }
    };
    for item in s
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|i| !i.is_empty())
    {
        let scope: TokenScope = item.parse().expect("each item of a valid list parses");
        assert!(scopes.contains(scope));
    }
    let shown = scopes.to_string();
    assert_eq!(shown.parse::<TokenScopes>().ok(), Some(scopes), "{shown}");
    assert_eq!(scopes.iter().collect::<TokenScopes>(), scopes);
    assert_eq!(scopes.is_empty(), scopes.iter().next().is_none());
    assert_eq!(shown.is_empty(), scopes.is_empty());

    assert!(!scopes.can_write_packages() || scopes.can_read_packages());
    assert!(!scopes.can_delete_packages() || scopes.can_read_packages());
    assert_eq!(
        scopes.can_read_packages(),
        scopes.contains(TokenScope::ReadPackages) || scopes.contains(TokenScope::WritePackages)
    );
    // `repo` alone grants nothing on packages.
    if scopes == TokenScopes::from(TokenScope::Repo) {
        assert!(!scopes.can_read_packages() && !scopes.can_delete_packages());
    }

    let json = serde_json::to_string(&scopes).expect("serializes");
    assert_eq!(
        serde_json::from_str::<TokenScopes>(&json).ok(),
        Some(scopes)
    );
});
