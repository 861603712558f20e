//! The names the REST API and tokens carry: logins, team slugs, source
//! repositories, grantees (`user:LOGIN`, `team:SLUG`,
//! `repository:OWNER/REPO`), token subjects, visibilities and roles. For
//! each: parsing never panics, `Display` is canonical (lowercase) and
//! parses back equal, serde round-trips, and each type's own rules hold
//! (a login is 1 to 39 characters, not reserved, no `--`).
#![no_main]

use std::fmt::{Debug, Display};
use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};
use wharf_auth::{
    CodeRepository, Grantee, Identity, Login, Role, TeamSlug, Visibility, MAX_LOGIN_LEN,
    RESERVED_LOGINS,
};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(login) = round_trip::<Login>(s) {
        assert_eq!(login.as_str(), s.to_ascii_lowercase());
        assert!((1..=MAX_LOGIN_LEN).contains(&login.as_str().len()));
        assert!(!RESERVED_LOGINS.contains(&login.as_str()));
        assert!(!login.as_str().contains("--"));
        assert!(!login.as_str().starts_with('-') && !login.as_str().ends_with('-'));
        assert_eq!(Login::parse(s).ok(), Some(login));
    }
    if let Some(team) = round_trip::<TeamSlug>(s) {
        assert_eq!(team.as_str(), s.to_ascii_lowercase());
        assert!(!team.as_str().contains('/'));
    }
    if let Some(repo) = round_trip::<CodeRepository>(s) {
        assert_eq!(repo.as_str(), format!("{}/{}", repo.owner(), repo.name()));
        assert!(Login::parse(repo.owner()).is_ok());
        assert!(!repo.name().contains('/'));
    }
    if let Some(grantee) = round_trip::<Grantee>(s) {
        let shown = grantee.to_string();
        let (kind, rest) = shown.split_once(':').expect("kind:name");
        match &grantee {
            Grantee::User(login) => assert_eq!((kind, rest), ("user", login.as_str())),
            Grantee::Team(team) => assert_eq!((kind, rest), ("team", team.as_str())),
            Grantee::Repository(repo) => assert_eq!((kind, rest), ("repository", repo.as_str())),
        }
    }
    if let Ok(identity) = Identity::from_subject(s) {
        let subject = identity.subject();
        assert_eq!(
            Identity::from_subject(&subject).ok().as_ref(),
            Some(&identity)
        );
        assert_eq!(
            subject,
            s.to_ascii_lowercase(),
            "a subject is kept, lowercased"
        );
        let json = serde_json::to_string(&identity).expect("serializes");
        assert_eq!(serde_json::from_str::<Identity>(&json).ok(), Some(identity));
    }
    if let Some(v) = round_trip::<Visibility>(s) {
        assert_eq!(v.to_string(), s);
    }
    if let Some(r) = round_trip::<Role>(s) {
        assert_eq!(r.to_string(), s);
    }
});

/// Parses `s`; what parses displays canonically, parses back equal and
/// round-trips through serde.
fn round_trip<T>(s: &str) -> Option<T>
where
    T: FromStr + Display + Debug + PartialEq + Serialize + DeserializeOwned,
    T::Err: Display,
{
    let value = match s.parse::<T>() {
        Ok(value) => value,
        Err(err) => {
            assert!(!err.to_string().is_empty());
            return None;
        }
    };
    let shown = value.to_string();
    let back: T = shown
        .parse()
        .unwrap_or_else(|e| panic!("{shown:?} (from {s:?}) does not parse: {e}"));
    assert_eq!(back, value);
    assert_eq!(back.to_string(), shown, "Display is canonical");
    let json = serde_json::to_string(&value).expect("serializes");
    let back: T = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, value);
    Some(value)
}
