//! Personal access tokens. Any string: parsing never panics; what parses is
//! kept exactly, hashes to a hash that matches it alone and round-trips
//! through its hex form, and authenticates against its stored record.
//! Tokens generated from the input as a seed parse back, and a changed
//! checksum character is always refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rand::{rngs::StdRng, SeedableRng};
use wharf_auth::{
    Login, PersonalAccessToken, Principal, StoredToken, Timestamp, TokenHash, TokenScopes,
    PAT_PREFIX,
};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(hash) = s.parse::<TokenHash>() {
            assert_eq!(hash.to_string(), s);
        }
        if let Ok(token) = PersonalAccessToken::parse(s) {
            check(&token, s);
        }
    }

    // A generated token (seeded by the input) parses back; changing one of
    // its checksum characters is always caught.
    let mut seed = [0u8; 32];
    let n = data.len().min(32);
    seed[..n].copy_from_slice(&data[..n]);
    let token =
        PersonalAccessToken::generate_with(&mut StdRng::from_seed(seed)).expect("generates");
    let secret = token.expose_secret();
    assert_eq!(
        PersonalAccessToken::parse(secret).ok().as_ref(),
        Some(&token)
    );
    check(&token, secret);
    let choice = data.get(32).copied().unwrap_or(0);
    let at = secret.len() - 1 - usize::from(choice % 6);
    let old = secret.as_bytes()[at];
    let new = BASE62[(BASE62.iter().position(|&b| b == old).expect("base62")
        + 1
        + usize::from(choice / 6) % 61)
        % 62];
    assert_ne!(old, new);
    let mut typo = secret.to_owned();
    typo.replace_range(at..=at, &char::from(new).to_string());
    assert!(
        PersonalAccessToken::parse(&typo).is_err(),
        "a changed checksum passed"
    );
});

fn check(token: &PersonalAccessToken, presented: &str) {
    assert_eq!(token.expose_secret(), presented);
    assert!(presented.starts_with(PAT_PREFIX));
    assert_eq!(presented.len(), 56);
    assert!(!format!("{token:?}").contains(presented));
    let hash = token.hash();
    assert_eq!(hash, TokenHash::of(presented));
    assert!(hash.matches(presented));
    assert!(!hash.matches(&presented[..presented.len() - 1]));
    assert_eq!(hash.to_string().parse::<TokenHash>().ok(), Some(hash));

    let owner = Login::parse("octocat").expect("login");
    let scopes: TokenScopes = "read:packages".parse().expect("scopes");
    let now = Timestamp::from_unix_seconds(1_700_000_000);
    let stored = StoredToken::new(token, owner.clone(), scopes, None);
    match stored.authenticate(presented, now) {
        Ok(Principal::User { login, scopes: s }) => {
            assert_eq!(login, owner);
            assert_eq!(s, scopes);
        }
        other => panic!("the stored token refused its own secret: {other:?}"),
    }
    assert!(stored.authenticate(&presented[1..], now).is_err());
}
