//! The package REST API's client input: the first line is a request path
//! with its query, the rest a JSON body. Parsing never panics; paging
//! stays within GitHub's bounds; a body that parses as a settings patch or
//! a grant is a JSON object and survives being written back; the
//! visibilities, roles and repositories in it round-trip. (The paths
//! themselves are routed by axum's router since the REST API moved to
//! axum routes, which no thin wrapper reaches.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;

use serde_json::{json, Value};
use wharf_auth::{CodeRepository, Role, Visibility};
use wharf_server::fuzzing;

fuzz_target!(|data: &[u8]| {
    let (line, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(line) = std::str::from_utf8(line) {
        let (_path, query) = line.split_once('?').unwrap_or((line, ""));
        check_paging(query);
    }
    check_patch(body);
    check_grant(body);
});

fn check_paging(query: &str) {
    // The first value of each key, as the API reads a query.
    let mut map = BTreeMap::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        map.entry(key.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    match fuzzing::api_paging(&map) {
        Ok((page, per_page, skip, wanted)) => {
            assert!(page >= 1);
            assert!((1..=100).contains(&per_page));
            assert_eq!(skip, (page - 1).saturating_mul(per_page));
            assert_eq!(wanted, skip.saturating_add(per_page).saturating_add(1));
        }
        Err((status, message)) => {
            assert_eq!(status, 400);
            assert!(message.contains("must be a positive integer"), "{message}");
        }
    }
}

/// What a body parsed as, or `None` when it was refused, as it must be:
/// with GitHub's 400 for a body that is not the JSON wanted.
fn accepted<T>(parsed: Result<T, fuzzing::Problem>) -> Option<T> {
    match parsed {
        Ok(value) => Some(value),
        Err((status, message)) => {
            assert_eq!(status, 400);
            assert!(message.starts_with("Problems parsing JSON"), "{message}");
            None
        }
    }
}

fn check_patch(body: &[u8]) {
    let Some(patch) = accepted(fuzzing::package_patch(body)) else {
        return;
    };
    // Only a JSON object is a settings body (a JSON array of the fields
    // in order was once accepted).
    assert!(
        serde_json::from_slice::<Value>(body).is_ok_and(|v| v.is_object()),
        "an accepted body is a JSON object"
    );
    if let Some(v) = &patch.visibility {
        if let Ok(visibility) = v.parse::<Visibility>() {
            assert_eq!(visibility.to_string(), *v);
        }
    }
    if let Some(Some(r)) = &patch.repository {
        if let Ok(repository) = r.parse::<CodeRepository>() {
            assert_eq!(
                repository.to_string().parse::<CodeRepository>().ok(),
                Some(repository)
            );
        }
    }
    // Written back as an object of the fields it has, it reads the same.
    let mut object = serde_json::Map::new();
    if let Some(v) = &patch.visibility {
        object.insert("visibility".into(), json!(v));
    }
    if let Some(r) = &patch.repository {
        object.insert("repository".into(), json!(r));
    }
    if let Some(i) = patch.inherit_access {
        object.insert("inherit_access".into(), json!(i));
    }
    let written = serde_json::to_vec(&Value::Object(object)).expect("serializes");
    let again = fuzzing::package_patch(&written).expect("a written-back patch parses");
    assert_eq!(again.visibility, patch.visibility);
    assert_eq!(again.repository, patch.repository);
    assert_eq!(again.inherit_access, patch.inherit_access);
}

fn check_grant(body: &[u8]) {
    let Some(grant) = accepted(fuzzing::grant_body(body)) else {
        return;
    };
    assert!(serde_json::from_slice::<Value>(body).is_ok_and(|v| v.is_object()));
    if let Ok(role) = grant.role.parse::<Role>() {
        assert_eq!(role.to_string(), grant.role);
    }
    let written = serde_json::to_vec(&json!({ "role": grant.role })).expect("serializes");
    assert_eq!(
        fuzzing::grant_body(&written).expect("parses").role,
        grant.role
    );
}
