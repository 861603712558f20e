//! Registry bearer tokens. The input is either a whole token, or the JSON
//! of a payload (optionally after a JOSE header line) that the target signs
//! with the registry's key, so that the claims parser is reached. Verifying
//! never panics; a verified token is for this service and issuer and
//! current; its claims re-encode and re-sign to a token that verifies to
//! the same claims; its subject round-trips; a token issued for the same
//! subject and access verifies with them; a changed signature is refused.
#![no_main]

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use wharf_auth::{Claims, Identity, SigningKey, Timestamp, TokenSigner};

const KEY: &[u8; 32] = b"wharf fuzzing key, 32 bytes long";
const ISSUER: &str = "https://registry.example/token";
const SERVICE: &str = "registry.example";
const NOW: u64 = 1_700_000_000;
/// `{"alg":"HS256","typ":"JWT"}`
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

fn signer() -> TokenSigner {
    let key = SigningKey::from_bytes(KEY).expect("a 32-byte key");
    TokenSigner::new(&key, ISSUER, SERVICE, Duration::from_secs(300))
}

/// `header.payload.signature`, signed as the registry signs.
fn sign(header: &str, payload: &[u8]) -> String {
    let mut token = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).expect("any key length");
    mac.update(token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
    token
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let now = Timestamp::from_unix_seconds(NOW);
    let signer = signer();
    let token = if mode % 2 == 0 {
        let Ok(token) = std::str::from_utf8(rest) else {
            return;
        };
        token.to_owned()
    } else {
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) if mode % 4 == 3 => sign(&URL_SAFE_NO_PAD.encode(&rest[..i]), &rest[i + 1..]),
            _ => sign(HEADER, rest),
        }
    };
    let claims = match signer.verify(&token, now) {
        Ok(claims) => claims,
        Err(err) => {
            assert!(!err.to_string().is_empty());
            return;
        }
    };
    check(&signer, &token, &claims, now);
});

fn check(signer: &TokenSigner, token: &str, claims: &Claims, now: Timestamp) {
    assert_eq!(claims.aud, SERVICE);
    assert_eq!(claims.iss, ISSUER);
    let leeway = TokenSigner::DEFAULT_LEEWAY;
    assert!(
        now < claims.exp.saturating_add(leeway),
        "expired: {claims:?}"
    );
    assert!(
        now.saturating_add(leeway) >= claims.nbf,
        "not yet valid: {claims:?}"
    );
    for scope in &claims.access {
        assert!(claims.permits(scope));
        if let Some(name) = scope.resource().repository_name() {
            assert!(claims.allows(name, scope.actions()));
        }
    }

    // The claims re-encode, and the re-signed token gives them back.
    let payload = serde_json::to_vec(claims).expect("claims serialize");
    let again = signer
        .verify(&sign(HEADER, &payload), now)
        .expect("re-encoded claims verify");
    assert_eq!(&again, claims);

    // A changed signature is refused.
    let (signed, signature) = token.rsplit_once('.').expect("three parts");
    let mut changed = signature.to_owned();
    let first = if changed.starts_with('A') { "B" } else { "A" };
    changed.replace_range(..changed.chars().next().map_or(0, char::len_utf8), first);
    assert!(signer.verify(&format!("{signed}.{changed}"), now).is_err());

    // The subject round-trips, and a token issued to it with the same
    // access verifies with both.
    if let Ok(identity) = claims.identity() {
        assert_eq!(
            Identity::from_subject(&identity.subject()).ok(),
            Some(identity.clone())
        );
        let issued = signer
            .issue(&identity, &claims.access, now)
            .expect("issues");
        let fresh = signer
            .verify(&issued.token, now)
            .expect("a fresh token verifies");
        assert_eq!(fresh.access, claims.access);
        assert_eq!(fresh.sub, identity.subject());
        assert_eq!(fresh, issued.claims);
    }
}
