//! `WWW-Authenticate` challenges built from any realm, service, scopes and
//! error description (lines of the input): the value is always a valid
//! HTTP header value, and a client parsing its auth-params gets back each
//! field (without the control characters a header cannot carry), the
//! scopes as `Display` writes them and the error code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_auth::{BasicChallenge, BearerChallenge, ChallengeError, DenyKind, ScopeSet};

const ERRORS: [Option<ChallengeError>; 4] = [
    None,
    Some(ChallengeError::InvalidRequest),
    Some(ChallengeError::InvalidToken),
    Some(ChallengeError::InsufficientScope),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(s) = std::str::from_utf8(rest) else {
        return;
    };
    let mut lines = s.split('\n');
    let realm = lines.next().unwrap_or_default();
    let service = lines.next().unwrap_or_default();
    let scopes: ScopeSet = lines
        .next()
        .and_then(|line| line.parse().ok())
        .unwrap_or_default();
    let description = lines.next();

    let mut challenge = BearerChallenge::new(realm, service).with_scopes(&scopes);
    let error = ERRORS[usize::from(selector) % ERRORS.len()];
    if let Some(error) = error {
        challenge = challenge.with_error(error);
    }
    if let Some(description) = description {
        challenge = challenge.with_error_description(description);
    }
    assert_eq!(challenge.scopes(), &scopes);
    let value = challenge.to_string();
    assert!(field_value(&value), "not a header value: {value:?}");
    let (scheme, params) = auth_params(&value);
    assert_eq!(scheme, "Bearer");
    let mut expected = vec![("realm", visible(realm)), ("service", visible(service))];
    if !scopes.is_empty() {
        expected.push(("scope", scopes.to_string()));
    }
    if let Some(error) = error {
        expected.push(("error", error.as_str().to_owned()));
    }
    if let Some(description) = description {
        expected.push(("error_description", visible(description)));
    }
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(params, expected, "{value}");

    // A denial for want of scope says so; other denials add no error.
    let denied = BearerChallenge::new(realm, service).for_denial(DenyKind::InsufficientScope);
    let (_, params) = auth_params(&denied.to_string());
    assert_eq!(
        params.last(),
        Some(&("error".to_owned(), "insufficient_scope".to_owned()))
    );
    let denied = BearerChallenge::new(realm, service).for_denial(DenyKind::NeedsAuthentication);
    let (_, params) = auth_params(&denied.to_string());
    assert!(params.iter().all(|(key, _)| key != "error"));

    let basic = BasicChallenge::new(realm).to_string();
    assert!(field_value(&basic), "{basic:?}");
    let (scheme, params) = auth_params(&basic);
    assert_eq!(scheme, "Basic");
    assert_eq!(
        params,
        vec![
            ("realm".to_owned(), visible(realm)),
            ("charset".to_owned(), "UTF-8".to_owned())
        ]
    );
});

/// Whether `value` is a valid field value (RFC 9110: visible ASCII,
/// space, tab and obs-text), as `http` accepts from bytes.
fn field_value(value: &str) -> bool {
    http::HeaderValue::from_bytes(value.as_bytes()).is_ok()
}

/// What a quoted-string can carry: everything but control characters
/// other than tab.
fn visible(s: &str) -> String {
    s.chars()
        .filter(|&c| c == '\t' || !c.is_control())
        .collect()
}

/// A client's reading of `<scheme> key="value",key="value"` (RFC 9110
/// auth-params with quoted-string values).
fn auth_params(value: &str) -> (&str, Vec<(String, String)>) {
    let (scheme, mut rest) = value.split_once(' ').expect("a scheme and parameters");
    let mut params = Vec::new();
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").expect("key=\"value\"");
        let mut out = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next().expect("a closing quote") {
                (_, '\\') => out.push(chars.next().expect("an escaped character").1),
                (i, '"') => break i,
                (_, c) => out.push(c),
            }
        };
        params.push((key.to_owned(), out));
        rest = &after[end + 1..];
        if !rest.is_empty() {
            rest = rest
                .strip_prefix(',')
                .expect("parameters are separated by `,`");
        }
    }
    (scheme, params)
}
