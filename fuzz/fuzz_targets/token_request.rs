//! The token endpoint's input: the query of `GET /token` or the form of
//! `POST /token`. Parsing never panics; the fields it keeps, written back
//! as a form, parse the same; the requested scopes, when valid, make a
//! scope set that allows each of them, has one entry per resource and
//! round-trips through its `Display`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_auth::ScopeSet;
use wharf_server::fuzzing::{self, TokenRequest};

fuzz_target!(|data: &[u8]| {
    let request = fuzzing::token_request(data);

    let mut form = url::form_urlencoded::Serializer::new(String::new());
    let fields = [
        ("service", &request.service),
        ("grant_type", &request.grant_type),
        ("username", &request.username),
        ("password", &request.password),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            form.append_pair(key, value);
        }
    }
    for scope in &request.scopes {
        form.append_pair("scope", scope);
    }
    let written = form.finish();
    same(
        &fuzzing::token_request(written.as_bytes()),
        &request,
        &written,
    );

    let Ok(asked) = ScopeSet::from_request(request.scopes.iter().map(String::as_str)) else {
        return;
    };
    wharf_fuzz::check_requested_scopes(&asked, request.scopes.iter().map(String::as_str));
    assert_eq!(asked.to_string().parse::<ScopeSet>().ok(), Some(asked));
});

fn same(a: &TokenRequest, b: &TokenRequest, written: &str) {
    assert_eq!(a.service, b.service, "{written}");
    assert_eq!(a.scopes, b.scopes, "{written}");
    assert_eq!(a.grant_type, b.grant_type, "{written}");
    assert_eq!(a.username, b.username, "{written}");
    assert_eq!(a.password, b.password, "{written}");
}
