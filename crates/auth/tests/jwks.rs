//! RS256 and ES256 bearer tokens of an external token server, verified
//! against its JWKS (feature `jwks`).
#![cfg(feature = "jwks")]

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use rsa::signature::SignatureEncoding as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use sha2::Sha256;
use wharf_auth::protocol::{
    BearerVerifier, Jwks, JwksVerifier, ScopeActions, SigningKey, Timestamp, TokenSigner,
};
use wharf_auth::Error;

#[macro_use]
mod common;

const NOW: Timestamp = Timestamp::from_unix_seconds(1_700_000_000);
const ISSUER: &str = "https://auth.example";
const AUDIENCE: &str = "registry.example";

// Test-only keys, made with `openssl genpkey`; they protect nothing.
const RSA_PEM: &str = include_str!("keys/rsa-2048.pem");
const RSA_OTHER_PEM: &str = include_str!("keys/rsa-2048-other.pem");
const RSA_SHORT_PEM: &str = include_str!("keys/rsa-1024.pem");
/// Fixed P-256 private scalars.
const EC_SCALAR: [u8; 32] = [7; 32];
const EC_OTHER_SCALAR: [u8; 32] = [9; 32];

fn rsa_key(pem: &str) -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("test RSA key")
}

fn ec_key(scalar: &[u8; 32]) -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(scalar).expect("test P-256 key")
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_jwk(kid: &str, key: &rsa::RsaPrivateKey) -> Value {
    json!({
        "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
        "n": b64(&key.n().to_bytes_be()),
        "e": b64(&key.e().to_bytes_be()),
    })
}

fn ec_jwk(kid: &str, key: &p256::ecdsa::SigningKey) -> Value {
    let point = key.verifying_key().to_encoded_point(false);
    json!({
        "kty": "EC", "crv": "P-256", "kid": kid,
        "x": b64(point.x().expect("x")),
        "y": b64(point.y().expect("y")),
    })
}

fn jwks() -> Jwks {
    let document = json!({ "keys": [
        rsa_jwk("rsa-1", &rsa_key(RSA_PEM)),
        ec_jwk("ec-1", &ec_key(&EC_SCALAR)),
    ]});
    Jwks::from_json(document.to_string().as_bytes()).expect("valid JWKS")
}

fn verifier() -> JwksVerifier {
    JwksVerifier::new(jwks(), ISSUER, AUDIENCE)
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "alice",
        "aud": AUDIENCE,
        "exp": NOW.unix_seconds() + 300,
        "nbf": NOW.unix_seconds(),
        "iat": NOW.unix_seconds(),
        "jti": "abc",
        "access": [{ "type": "repository", "name": "acme/app", "actions": ["pull"] }],
    })
}

/// How a test token is signed.
enum Key<'a> {
    Rsa(&'a rsa::RsaPrivateKey),
    Ec(&'a p256::ecdsa::SigningKey),
    Hmac(&'a [u8]),
    None,
}

fn sign(header: &Value, claims: &Value, key: Key<'_>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = match key {
        Key::Rsa(key) => rsa::pkcs1v15::SigningKey::<Sha256>::new(key.clone())
            .sign(input.as_bytes())
            .to_vec(),
        Key::Ec(key) => {
            let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
            signature.to_bytes().to_vec()
        }
        Key::Hmac(secret) => Hmac::<Sha256>::new_from_slice(secret)
            .expect("any key length")
            .chain_update(input.as_bytes())
            .finalize()
            .into_bytes()
            .to_vec(),
        Key::None => Vec::new(),
    };
    format!("{input}.{}", b64(&signature))
}

fn rs256(claims: &Value) -> String {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": "rsa-1" });
    sign(&header, claims, Key::Rsa(&rsa_key(RSA_PEM)))
}

fn es256(claims: &Value) -> String {
    let header = json!({ "alg": "ES256", "typ": "JWT", "kid": "ec-1" });
    sign(&header, claims, Key::Ec(&ec_key(&EC_SCALAR)))
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().expect("object").remove(key);
    claims
}

// ------------------------------------------------------------ accepted

#[test]
fn rs256_and_es256_tokens_verify_with_their_claims() {
    let verifier = verifier();
    for token in [rs256(&claims()), es256(&claims())] {
        let verified = verifier.verify(&token, NOW).expect("valid token");
        assert_eq!(verified.iss, ISSUER);
        assert_eq!(verified.sub, "alice");
        assert_eq!(verified.aud, AUDIENCE);
        assert_eq!(verified.exp.unix_seconds(), NOW.unix_seconds() + 300);
        assert_eq!(verified.jti, "abc");
        assert!(verified.allows(&"acme/app".parse().expect("name"), ScopeActions::PULL));
        assert!(!verified.allows(&"acme/app".parse().expect("name"), ScopeActions::PUSH));
        assert_eq!(verified.tid, None);
    }
}

#[test]
fn a_registry_holds_any_verifier_behind_the_trait() {
    let signer = TokenSigner::new(
        &SigningKey::from_bytes(&[1; 32]).expect("key"),
        ISSUER,
        AUDIENCE,
        Duration::from_secs(300),
    );
    let own = signer
        .issue(
            "alice",
            &"repository:acme/app:pull".parse().expect("scope"),
            NOW,
        )
        .expect("issue")
        .token;
    let verifiers: Vec<Arc<dyn BearerVerifier>> = vec![Arc::new(signer), Arc::new(verifier())];
    assert!(verifiers[0].verify(&own, NOW).is_ok());
    assert!(verifiers[1].verify(&rs256(&claims()), NOW).is_ok());
    // Neither accepts the other's tokens.
    assert_refused!(
        verifiers[0].verify(&rs256(&claims()), NOW),
        Error::UnsupportedAlgorithm { .. }
    );
    assert_refused!(
        verifiers[1].verify(&own, NOW),
        Error::UnsupportedAlgorithm { .. }
    );
}

#[test]
fn an_audience_array_holding_the_service_is_accepted() {
    let token = es256(&with(claims(), "aud", json!(["other.example", AUDIENCE])));
    assert_eq!(verifier().verify(&token, NOW).expect("valid").aud, AUDIENCE);
}

#[test]
fn optional_claims_may_be_missing_and_a_tid_is_not_trusted() {
    let bare = ["nbf", "iat", "jti", "sub", "access"]
        .into_iter()
        .fold(claims(), without);
    let verified = verifier().verify(&rs256(&bare), NOW).expect("valid");
    assert_eq!(verified.sub, "");
    assert!(verified.access.is_empty());

    let token = rs256(&with(claims(), "tid", json!("1")));
    assert_eq!(verifier().verify(&token, NOW).expect("valid").tid, None);
}

// ------------------------------------------------------------ refused

#[test]
fn a_tampered_payload_fails() {
    for token in [rs256(&claims()), es256(&claims())] {
        let mut parts: Vec<&str> = token.split('.').collect();
        let pushy = with(
            claims(),
            "access",
            json!([{ "type": "repository", "name": "acme/app", "actions": ["pull", "push"] }]),
        );
        let forged_payload = b64(pushy.to_string().as_bytes());
        parts[1] = &forged_payload;
        assert_eq!(
            verifier().verify(&parts.join("."), NOW),
            Err(Error::InvalidSignature)
        );
    }
}

#[test]
fn a_flipped_signature_bit_fails() {
    for token in [rs256(&claims()), es256(&claims())] {
        let (input, signature) = token.rsplit_once('.').expect("three parts");
        let mut signature = URL_SAFE_NO_PAD.decode(signature).expect("b64");
        signature[10] ^= 1;
        let token = format!("{input}.{}", b64(&signature));
        assert_eq!(verifier().verify(&token, NOW), Err(Error::InvalidSignature));
    }
}

#[test]
fn a_token_signed_by_another_key_fails() {
    let header = json!({ "alg": "RS256", "kid": "rsa-1" });
    let token = sign(&header, &claims(), Key::Rsa(&rsa_key(RSA_OTHER_PEM)));
    assert_eq!(verifier().verify(&token, NOW), Err(Error::InvalidSignature));
    let header = json!({ "alg": "ES256", "kid": "ec-1" });
    let token = sign(&header, &claims(), Key::Ec(&ec_key(&EC_OTHER_SCALAR)));
    assert_eq!(verifier().verify(&token, NOW), Err(Error::InvalidSignature));
}

#[test]
fn an_unknown_or_missing_kid_fails() {
    let header = json!({ "alg": "RS256", "kid": "rsa-2" });
    let token = sign(&header, &claims(), Key::Rsa(&rsa_key(RSA_PEM)));
    assert_eq!(
        verifier().verify(&token, NOW),
        Err(Error::UnknownKeyId {
            kid: Some("rsa-2".to_owned())
        })
    );
    let header = json!({ "alg": "RS256" });
    let token = sign(&header, &claims(), Key::Rsa(&rsa_key(RSA_PEM)));
    assert_eq!(
        verifier().verify(&token, NOW),
        Err(Error::UnknownKeyId { kid: None })
    );
}

#[test]
fn expiry_and_not_before_are_checked_with_a_small_leeway() {
    let token = rs256(&claims());
    let exp = NOW.saturating_add(Duration::from_secs(300));
    let leeway = JwksVerifier::DEFAULT_LEEWAY;
    assert!(verifier()
        .verify(&token, exp.saturating_add(leeway - Duration::from_secs(1)))
        .is_ok());
    assert_eq!(
        verifier().verify(&token, exp.saturating_add(leeway)),
        Err(Error::JwtExpired { expired_at: exp })
    );
    let strict = verifier().with_leeway(Duration::ZERO);
    assert_eq!(
        strict.verify(&token, exp),
        Err(Error::JwtExpired { expired_at: exp })
    );

    let not_before = NOW.saturating_add(Duration::from_secs(120));
    let early = es256(&with(claims(), "nbf", json!(not_before.unix_seconds())));
    assert_eq!(
        verifier().verify(&early, NOW),
        Err(Error::JwtNotYetValid { not_before })
    );
    assert!(verifier()
        .verify(&early, NOW.saturating_add(Duration::from_secs(100)))
        .is_ok());
}

#[test]
fn a_wrong_audience_or_issuer_fails() {
    let wrong = [
        (
            "aud",
            "other.example",
            Error::WrongAudience {
                expected: AUDIENCE.to_owned(),
                actual: "other.example".to_owned(),
            },
        ),
        (
            "iss",
            "https://evil.example",
            Error::WrongIssuer {
                expected: ISSUER.to_owned(),
                actual: "https://evil.example".to_owned(),
            },
        ),
    ];
    for (claim, value, error) in wrong {
        let token = rs256(&with(claims(), claim, json!(value)));
        assert_eq!(verifier().verify(&token, NOW), Err(error), "{claim}");
    }
    let token = es256(&with(claims(), "aud", json!(["a.example", "b.example"])));
    assert_refused!(verifier().verify(&token, NOW), Error::WrongAudience { .. });
}

#[test]
fn alg_none_is_never_accepted() {
    let valid = rs256(&claims());
    let valid_signature = valid.rsplit('.').next().expect("signature");
    for alg in ["none", "None", "NONE"] {
        for kid in ["rsa-1", "ec-1"] {
            let header = json!({ "alg": alg, "typ": "JWT", "kid": kid });
            let unsigned = sign(&header, &claims(), Key::None);
            let reused = format!(
                "{}.{valid_signature}",
                unsigned.rsplit_once('.').expect("parts").0
            );
            for token in [unsigned, reused] {
                assert_unsupported_algorithm(&token, &format!("alg {alg}, kid {kid}"));
            }
        }
    }
}

/// Asserts that the verifier refuses `token` for its algorithm.
fn assert_unsupported_algorithm(token: &str, what: &str) {
    assert!(
        matches!(
            verifier().verify(token, NOW),
            Err(Error::UnsupportedAlgorithm { .. })
        ),
        "{what}"
    );
}

#[test]
fn an_hs256_token_keyed_with_the_public_key_is_refused() {
    // Algorithm confusion: a verifier that fed the RSA public key to HMAC
    // would accept these. Try the public key in every form an attacker
    // could guess.
    let public = rsa_key(RSA_PEM).to_public_key();
    let pem = public
        .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
        .expect("pem");
    let der = public.to_public_key_der().expect("der");
    let n = public.n().to_bytes_be();
    let jwk = rsa_jwk("rsa-1", &rsa_key(RSA_PEM)).to_string();
    for secret in [pem.as_bytes(), der.as_bytes(), &n, jwk.as_bytes()] {
        for alg in ["HS256", "HS384", "HS512"] {
            let header = json!({ "alg": alg, "typ": "JWT", "kid": "rsa-1" });
            let token = sign(&header, &claims(), Key::Hmac(secret));
            assert_unsupported_algorithm(&token, alg);
        }
    }
}

#[test]
fn the_alg_must_fit_the_key_named() {
    // An RSA signature presented as ES256 for the RSA key, and the other
    // way round.
    let header = json!({ "alg": "ES256", "kid": "rsa-1" });
    let token = sign(&header, &claims(), Key::Ec(&ec_key(&EC_SCALAR)));
    assert_eq!(
        verifier().verify(&token, NOW),
        Err(Error::UnsupportedAlgorithm {
            alg: "ES256".to_owned(),
            accepted: "RS256 for this RSA key"
        })
    );
    let header = json!({ "alg": "RS256", "kid": "ec-1" });
    let token = sign(&header, &claims(), Key::Rsa(&rsa_key(RSA_PEM)));
    assert_unsupported_algorithm(&token, "RS256 for the EC key");
    for alg in ["RS384", "PS256", "ES384", "EdDSA"] {
        let header = json!({ "alg": alg, "kid": "rsa-1" });
        let token = sign(&header, &claims(), Key::Rsa(&rsa_key(RSA_PEM)));
        assert_unsupported_algorithm(&token, alg);
    }
}

#[test]
fn malformed_tokens_fail_without_panicking() {
    let valid = es256(&claims());
    for token in [
        "",
        ".",
        "..",
        "a.b.c",
        "e30.e30.",
        &valid[..valid.len() - 5],
        &valid.replace('.', ""),
        &format!("{valid}.extra"),
        &"a".repeat(9000),
    ] {
        assert!(verifier().verify(token, NOW).is_err(), "{token:.20}");
    }
    let header = json!({ "alg": "ES256", "kid": "ec-1", "crit": ["exp"] });
    let token = sign(&header, &claims(), Key::Ec(&ec_key(&EC_SCALAR)));
    assert_refused!(verifier().verify(&token, NOW), Error::MalformedJwt { .. });
}

// ------------------------------------------------------------ the JWKS

#[test]
fn keys_for_other_uses_types_and_curves_are_skipped() {
    let document = json!({ "keys": [
        rsa_jwk("rsa-1", &rsa_key(RSA_PEM)),
        with(rsa_jwk("enc", &rsa_key(RSA_OTHER_PEM)), "use", json!("enc")),
        with(rsa_jwk("ps", &rsa_key(RSA_OTHER_PEM)), "alg", json!("PS256")),
        without(rsa_jwk("no-kid", &rsa_key(RSA_OTHER_PEM)), "kid"),
        { "kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" },
        { "kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA" },
        { "kty": "oct", "kid": "hmac", "k": "c2VjcmV0" },
    ]});
    let jwks = Jwks::from_json(document.to_string().as_bytes()).expect("valid");
    assert_eq!(jwks.key_ids().collect::<Vec<_>>(), ["rsa-1"]);
    // Not even an HS256 token made with the `oct` key's secret gets in.
    let verifier = JwksVerifier::new(jwks, ISSUER, AUDIENCE);
    let token = sign(
        &json!({ "alg": "HS256", "kid": "hmac" }),
        &claims(),
        Key::Hmac(b"secret"),
    );
    assert_refused!(
        verifier.verify(&token, NOW),
        Error::UnsupportedAlgorithm { .. }
    );
}

#[test]
fn unusable_key_sets_are_refused() {
    let cases = [
        ("not JSON", "{".to_owned()),
        ("no keys member", json!({}).to_string()),
        ("no usable key", json!({ "keys": [] }).to_string()),
        (
            "duplicate kid",
            json!({ "keys": [
                rsa_jwk("k", &rsa_key(RSA_PEM)),
                ec_jwk("k", &ec_key(&EC_SCALAR)),
            ]})
            .to_string(),
        ),
        (
            "short RSA key",
            json!({ "keys": [rsa_jwk("short", &rsa_key(RSA_SHORT_PEM))] }).to_string(),
        ),
        (
            "RSA key for HS256",
            json!({ "keys": [with(rsa_jwk("k", &rsa_key(RSA_PEM)), "alg", json!("HS256"))] })
                .to_string(),
        ),
        (
            "EC key for RS256",
            json!({ "keys": [with(ec_jwk("k", &ec_key(&EC_SCALAR)), "alg", json!("RS256"))] })
                .to_string(),
        ),
        (
            "point off the curve",
            json!({ "keys": [with(ec_jwk("k", &ec_key(&EC_SCALAR)), "y", json!(b64(&[1; 32])))] })
                .to_string(),
        ),
        (
            "missing modulus",
            json!({ "keys": [without(rsa_jwk("k", &rsa_key(RSA_PEM)), "n")] }).to_string(),
        ),
        (
            "padded base64",
            json!({ "keys": [with(ec_jwk("k", &ec_key(&EC_SCALAR)), "x", json!("AAAA=="))] })
                .to_string(),
        ),
    ];
    for (what, document) in cases {
        assert!(
            matches!(
                Jwks::from_json(document.as_bytes()),
                Err(Error::InvalidJwks { .. })
            ),
            "{what}"
        );
    }
}

#[test]
fn debug_output_names_keys_not_material() {
    let shown = format!("{:?}", verifier());
    assert!(
        shown.contains("rsa-1") && shown.contains("RS256"),
        "{shown}"
    );
    assert!(shown.contains("ec-1") && shown.contains("ES256"), "{shown}");
    assert!(shown.len() < 400, "{shown}");
}
