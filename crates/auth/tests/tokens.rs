//! Personal access tokens and registry bearer tokens.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use wharf_auth::{
    Error, Identity, PersonalAccessToken, Principal, ScopeActions, ScopeSet, SigningKey,
    StoredToken, Timestamp, TokenHash, TokenSigner, PAT_PREFIX,
};

#[macro_use]
mod common;

const NOW: Timestamp = Timestamp::from_unix_seconds(1_700_000_000);

fn later(seconds: u64) -> Timestamp {
    NOW.saturating_add(Duration::from_secs(seconds))
}

fn earlier(seconds: u64) -> Timestamp {
    NOW.saturating_sub(Duration::from_secs(seconds))
}

fn seeded_token(seed: u64) -> PersonalAccessToken {
    PersonalAccessToken::generate_with(&mut StdRng::seed_from_u64(seed)).expect("rng works")
}

// ---------------------------------------------------------------- PATs

#[test]
fn generated_tokens_are_prefixed_base62_and_checksummed() {
    for seed in 0..200 {
        let token = seeded_token(seed);
        let s = token.expose_secret();
        assert!(s.starts_with(PAT_PREFIX), "{s}");
        assert_eq!(s.len(), 56, "{s}");
        assert!(s[PAT_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(PersonalAccessToken::parse(s).as_ref(), Ok(&token));
    }
}

#[test]
fn generated_tokens_differ_and_seeded_ones_reproduce() {
    let a = PersonalAccessToken::generate().expect("os rng");
    let b = PersonalAccessToken::generate().expect("os rng");
    assert_ne!(a, b);
    assert_eq!(seeded_token(7), seeded_token(7));
    assert_ne!(seeded_token(7), seeded_token(8));
}

#[test]
fn the_random_part_uses_the_whole_alphabet() {
    // 400 tokens × 40 characters: every base62 digit turns up.
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..400 {
        let token = seeded_token(seed);
        seen.extend(token.expose_secret()[PAT_PREFIX.len()..PAT_PREFIX.len() + 40].chars());
    }
    assert_eq!(seen.len(), 62);
}

#[test]
fn any_single_character_change_is_caught_by_the_checksum() {
    let token = seeded_token(1);
    let s = token.expose_secret();
    for i in PAT_PREFIX.len()..s.len() {
        let original = s.as_bytes()[i];
        let replacement = if original == b'a' { 'b' } else { 'a' };
        let mut typo = s.to_owned();
        typo.replace_range(i..=i, &replacement.to_string());
        assert!(PersonalAccessToken::parse(&typo).is_err(), "position {i}");
    }
}

#[test]
fn malformed_tokens_are_rejected_with_a_reason() {
    let good = seeded_token(2);
    let good = good.expose_secret();
    let cases = [
        ("", "does not start with `wharf_pat_`"),
        ("ghp_0123456789", "does not start with `wharf_pat_`"),
        (&good[..good.len() - 1], "not 56 characters"),
        (&format!("{good}0"), "not 56 characters"),
        (
            &format!("{}-{}", &good[..20], &good[21..]),
            "other than letters and digits",
        ),
    ];
    for (input, reason) in cases {
        match PersonalAccessToken::parse(input) {
            Err(Error::MalformedToken { reason: got }) => {
                assert!(got.contains(reason), "{input}: {got}")
            }
            other => panic!("{input}: {other:?}"),
        }
    }
}

#[test]
fn a_failing_random_number_generator_is_an_error_not_a_panic() {
    struct Broken;
    impl rand::TryRngCore for Broken {
        type Error = std::io::Error;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Err(std::io::Error::other("entropy source unavailable"))
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Err(std::io::Error::other("entropy source unavailable"))
        }
        fn try_fill_bytes(&mut self, _: &mut [u8]) -> Result<(), Self::Error> {
            Err(std::io::Error::other("entropy source unavailable"))
        }
    }
    impl rand::TryCryptoRng for Broken {}
    assert_refused!(
        PersonalAccessToken::generate_with(&mut Broken),
        Error::Randomness { .. }
    );
    assert_refused!(
        SigningKey::generate_with(&mut Broken),
        Error::Randomness { .. }
    );
}

#[test]
fn stored_tokens_authenticate_until_expired_or_revoked() {
    let token = seeded_token(3);
    let other = seeded_token(4);
    let stored = |expires_at: Option<Timestamp>, revoked: bool| {
        let mut stored = StoredToken::new(
            &token,
            "octocat".parse().expect("login"),
            "read:packages".parse().expect("scopes"),
            expires_at,
        );
        stored.revoked = revoked;
        stored
    };
    #[derive(Debug, PartialEq)]
    enum Outcome {
        Authenticated,
        Expired,
        Revoked,
        Mismatch,
    }
    use Outcome::*;
    #[rustfmt::skip]
    let cases = [
        // record                         presented  outcome
        (stored(None, false),             &token,    Authenticated),
        (stored(Some(later(1)), false),   &token,    Authenticated),
        (stored(Some(NOW), false),        &token,    Expired),
        (stored(Some(earlier(1)), false), &token,    Expired),
        (stored(None, true),              &token,    Revoked),
        (stored(Some(earlier(1)), true),  &token,    Revoked),
        // A wrong token learns nothing about revocation or expiry.
        (stored(None, false),             &other,    Mismatch),
        (stored(Some(earlier(1)), true),  &other,    Mismatch),
    ];
    let alice = Principal::User {
        login: "octocat".parse().expect("login"),
        scopes: "read:packages".parse().expect("scopes"),
    };
    for (i, (record, presented, expected)) in cases.into_iter().enumerate() {
        let got = match record.authenticate(presented.expose_secret(), NOW) {
            Ok(principal) => {
                assert_eq!(principal, alice, "case {i}");
                Authenticated
            }
            Err(Error::TokenExpired { .. }) => Expired,
            Err(Error::TokenRevoked) => Revoked,
            Err(Error::TokenMismatch) => Mismatch,
            Err(other) => panic!("case {i}: {other}"),
        };
        assert_eq!(got, expected, "case {i}");
    }
}

#[test]
fn the_stored_record_holds_the_hash_never_the_token() {
    let token = seeded_token(5);
    let stored = StoredToken::new(
        &token,
        "octocat".parse().expect("login"),
        "write:packages, delete:packages".parse().expect("scopes"),
        Some(later(86_400)),
    );
    let json = serde_json::to_string(&stored).expect("serializes");
    assert!(!json.contains(token.expose_secret()), "{json}");
    assert!(json.contains(&stored.hash.to_string()));
    assert!(
        json.contains(r#""scopes":["write:packages","delete:packages"]"#),
        "{json}"
    );
    let back: StoredToken = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, stored);
    assert_eq!(TokenHash::of(token.expose_secret()), stored.hash);
    assert!(!format!("{token:?}").contains(token.expose_secret()));
}

#[test]
fn token_hashes_are_64_lowercase_hex_digits() {
    let hash = TokenHash::of("x");
    assert_eq!(hash.to_string().len(), 64);
    assert_eq!(hash.to_string().parse::<TokenHash>(), Ok(hash));
    assert!(hash
        .to_string()
        .to_uppercase()
        .parse::<TokenHash>()
        .is_err());
    assert!("abc".parse::<TokenHash>().is_err());
}

// ---------------------------------------------------------------- JWTs

fn key(byte: u8) -> SigningKey {
    SigningKey::from_bytes(&[byte; 32]).expect("long enough")
}

fn signer() -> TokenSigner {
    TokenSigner::new(
        &key(1),
        "https://registry.example/token",
        "registry.example",
        Duration::from_secs(300),
    )
}

fn granted() -> ScopeSet {
    "repository:octocat/app:pull,push registry:catalog:*"
        .parse()
        .expect("valid")
}

fn issue(signer: &TokenSigner) -> String {
    signer
        .issue_with_rng(
            &mut StdRng::seed_from_u64(9),
            &Identity::User("octocat".parse().expect("login")),
            &granted(),
            NOW,
        )
        .expect("issues")
        .token
}

#[test]
fn an_issued_token_carries_the_claims_of_the_token_specification() {
    let issued = signer()
        .issue(
            &Identity::User("octocat".parse().expect("login")),
            &granted(),
            NOW,
        )
        .expect("issues");
    assert_eq!(issued.expires_in, 300);
    assert_eq!(issued.issued_at, NOW);
    let mut parts = issued.token.split('.');
    let header = URL_SAFE_NO_PAD
        .decode(parts.next().expect("header"))
        .expect("base64url");
    assert_eq!(header, br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD
        .decode(parts.next().expect("payload"))
        .expect("base64url");
    let payload: serde_json::Value = serde_json::from_slice(&payload).expect("json");
    let jti = payload["jti"].as_str().expect("jti").to_owned();
    assert_eq!(jti.len(), 22);
    assert_eq!(
        payload,
        serde_json::json!({
            "iss": "https://registry.example/token",
            "sub": "octocat",
            "aud": "registry.example",
            "exp": 1_700_000_300,
            "nbf": 1_700_000_000,
            "iat": 1_700_000_000,
            "jti": jti,
            "access": [
                {"type": "registry", "name": "catalog", "actions": ["*"]},
                {"type": "repository", "name": "octocat/app", "actions": ["pull", "push"]},
            ],
        })
    );
    assert_eq!(
        URL_SAFE_NO_PAD
            .decode(parts.next().expect("signature"))
            .expect("b64")
            .len(),
        32
    );
    assert_eq!(signer().verify(&issued.token, NOW), Ok(issued.claims));
}

#[test]
fn verified_claims_answer_what_the_token_grants() {
    let claims = signer().verify(&issue(&signer()), NOW).expect("valid");
    let app = "octocat/app".parse().expect("name");
    let other = "octocat/other".parse().expect("name");
    assert!(claims.allows(&app, ScopeActions::PULL | ScopeActions::PUSH));
    assert!(!claims.allows(&app, ScopeActions::DELETE));
    assert!(!claims.allows(&other, ScopeActions::PULL));
    assert!(claims.permits(&"registry:catalog:*".parse().expect("scope")));
    assert_eq!(
        claims.identity(),
        Ok(Identity::User("octocat".parse().expect("login")))
    );
}

#[test]
fn tokens_are_valid_from_nbf_to_exp_give_or_take_the_leeway() {
    let signer = signer().with_leeway(Duration::from_secs(30));
    let token = issue(&signer);
    #[rustfmt::skip]
    let cases = [
        // now                  valid
        (earlier(31),           false), // before nbf − leeway
        (earlier(30),           true),
        (NOW,                   true),
        (later(300),            true),  // at exp, within leeway
        (later(329),            true),
        (later(330),            false), // exp + leeway
    ];
    for (now, valid) in cases {
        let result = signer.verify(&token, now);
        assert_eq!(result.is_ok(), valid, "at {now}: {result:?}");
        if !valid {
            assert_refused!(
                result,
                Error::JwtExpired { .. } | Error::JwtNotYetValid { .. }
            );
        }
    }
}

#[test]
fn tokens_for_another_service_issuer_or_key_are_refused() {
    let token = issue(&signer());
    let ttl = Duration::from_secs(300);
    let other_service = TokenSigner::new(
        &key(1),
        "https://registry.example/token",
        "other.example",
        ttl,
    );
    let other_issuer = TokenSigner::new(
        &key(1),
        "https://evil.example/token",
        "registry.example",
        ttl,
    );
    let other_key = TokenSigner::new(
        &key(2),
        "https://registry.example/token",
        "registry.example",
        ttl,
    );
    assert_refused!(
        other_service.verify(&token, NOW),
        Error::WrongAudience { .. }
    );
    assert_refused!(other_issuer.verify(&token, NOW), Error::WrongIssuer { .. });
    assert_eq!(other_key.verify(&token, NOW), Err(Error::InvalidSignature));
}

fn forge(header: &str, payload: &str, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload),
        signature
    )
}

#[test]
fn only_hs256_is_accepted() {
    let token = issue(&signer());
    let payload = token.split('.').nth(1).expect("payload");
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).expect("b64")).expect("utf8");
    let signature = token.split('.').nth(2).expect("signature");
    for alg in ["none", "None", "HS512", "RS256", "ES256", "hs256"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        for signature in ["", signature] {
            let forged = forge(&header, &payload, signature);
            assert!(
                matches!(
                    signer().verify(&forged, NOW),
                    Err(Error::UnsupportedAlgorithm { .. })
                ),
                "alg {alg}"
            );
        }
    }
    // An HS256 header spelled differently is fine, but still needs a valid signature.
    let forged = forge(r#"{"typ":"JWT","alg":"HS256"}"#, &payload, signature);
    assert_eq!(signer().verify(&forged, NOW), Err(Error::InvalidSignature));
    let forged = forge(r#"{"alg":"HS256","typ":"JOSE+JSON"}"#, &payload, signature);
    assert_refused!(signer().verify(&forged, NOW), Error::MalformedJwt { .. });
}

#[test]
fn any_single_character_change_invalidates_a_token() {
    let token = issue(&signer());
    for i in 0..token.len() {
        let original = token.as_bytes()[i];
        let replacement = match original {
            b'.' => "x",
            b'A' => "B",
            _ => "A",
        };
        let mut tampered = token.clone();
        tampered.replace_range(i..=i, replacement);
        assert!(signer().verify(&tampered, NOW).is_err(), "position {i}");
    }
}

#[test]
fn malformed_tokens_are_refused() {
    for token in [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "a.b.c.d",
        "..",
        &"a".repeat(9000),
    ] {
        assert!(signer().verify(token, NOW).is_err(), "{token:.20}");
    }
}

#[test]
fn signing_keys_must_be_at_least_32_bytes() {
    assert_eq!(
        SigningKey::from_bytes(&[0; 31]),
        Err(Error::KeyTooShort { len: 31, min: 32 })
    );
    assert!(SigningKey::from_bytes(&[0; 64]).is_ok());
    assert!(!format!("{:?}", key(7)).contains('7'));
    assert!(!format!("{:?}", signer()).contains("[1"));
}

#[test]
fn anonymous_and_workflow_subjects_round_trip_through_a_token() {
    for subject in [
        Identity::Anonymous,
        Identity::Workflow("octocat/app".parse().expect("repository")),
    ] {
        let issued = signer()
            .issue(&subject, &ScopeSet::new(), NOW)
            .expect("issues");
        let claims = signer().verify(&issued.token, NOW).expect("valid");
        assert_eq!(claims.identity(), Ok(subject));
        assert!(claims.access.is_empty());
    }
}

proptest! {
    #[test]
    fn any_granted_scope_set_survives_issue_and_verify(
        names in prop::collection::vec("[a-z0-9]{1,8}/[a-z0-9]{1,8}", 0..5),
        actions in prop::collection::vec(0u8..16, 0..5),
    ) {
        let scopes: Vec<String> = names
            .iter()
            .zip(actions.iter().chain(std::iter::repeat(&1)))
            .map(|(name, bits)| {
                let list: Vec<&str> = [(1, "pull"), (2, "push"), (4, "delete"), (8, "*")]
                    .into_iter()
                    .filter(|(bit, _)| bits & bit != 0)
                    .map(|(_, a)| a)
                    .collect();
                format!("repository:{name}:{}", list.join(","))
            })
            .collect();
        let granted = ScopeSet::from_request(scopes.iter().map(String::as_str)).expect("valid");
        let issued = signer().issue(&Identity::Anonymous, &granted, NOW).expect("issues");
        prop_assert_eq!(signer().verify(&issued.token, NOW).map(|c| c.access), Ok(granted));
    }

    #[test]
    fn verifying_arbitrary_input_never_panics(input in any::<String>()) {
        prop_assert!(signer().verify(&input, NOW).is_err());
    }

    #[test]
    fn verifying_near_jwts_never_panics(
        header in "[A-Za-z0-9_-]{0,60}",
        payload in "[A-Za-z0-9_-]{0,200}",
        signature in "[A-Za-z0-9_-]{0,50}",
    ) {
        let token = format!("{header}.{payload}.{signature}");
        prop_assert!(signer().verify(&token, NOW).is_err());
    }
}

#[test]
fn the_signer_verifies_through_the_bearer_verifier_trait() {
    use std::sync::Arc;
    use wharf_auth::BearerVerifier;

    let verifier: Arc<dyn BearerVerifier> = Arc::new(signer());
    let token = issue(&signer());
    assert_eq!(verifier.verify(&token, NOW), signer().verify(&token, NOW),);
    assert!(verifier.verify(&token, NOW).is_ok());
    let payload = token.split('.').nth(1).expect("payload");
    let unsigned = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
    assert_refused!(
        verifier.verify(&unsigned, NOW),
        Error::UnsupportedAlgorithm { alg, accepted: "HS256" } if alg == "none"
    );
}
