//! The package REST API: the first line is a request path (with its query),
//! the rest a JSON body. Parsing never panics; a parsed path written back
//! (segments percent-encoded as clients do, a package name's `/` as `%2F`)
//! parses to the same route; every route answers some methods; grantees,
//! visibilities, roles and repositories that parse round-trip; a body
//! that parses as a settings patch or a grant is a JSON object and survives
//! being written back; paging stays within GitHub's bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use wharf_auth::{Grantee, Role, SourceRepository, Visibility};
use wharf_server::fuzzing::{self, ApiRoute, OwnerPath, Target};

fuzz_target!(|data: &[u8]| {
    let (line, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(line) = std::str::from_utf8(line) {
        let (path, query) = line.split_once('?').unwrap_or((line, ""));
        check_path(path);
        check_paging(query);
    }
    check_patch(body);
    check_grant(body);
});

fn check_path(path: &str) {
    let Some(route) = fuzzing::api_route(path) else {
        return;
    };
    let allowed = fuzzing::api_allowed(&route);
    assert!(!allowed.is_empty());
    assert!(allowed
        .split(", ")
        .all(|m| ["GET", "PATCH", "PUT", "POST", "DELETE"].contains(&m)));
    let written = write(&route);
    assert_eq!(
        fuzzing::api_route(&written).as_ref(),
        Some(&route),
        "{path:?} written as {written:?}"
    );
    if let ApiRoute::Package {
        target: Target::Grant(grantee),
        ..
    } = &route
    {
        if let Ok(g) = grantee.parse::<Grantee>() {
            assert_eq!(g.to_string().parse::<Grantee>().ok(), Some(g));
        }
    }
}

/// The path a client would send for `route`.
fn write(route: &ApiRoute) -> String {
    let (owner, rest) = match route {
        ApiRoute::List(owner) => (owner, None),
        ApiRoute::Package {
            owner,
            package_type,
            package,
            target,
        } => (owner, Some((package_type, package, target))),
    };
    let mut path = match owner {
        OwnerPath::Me => "/user/packages".to_owned(),
        OwnerPath::User(login) => format!("/users/{}/packages", encode(login)),
        OwnerPath::Org(login) => format!("/orgs/{}/packages", encode(login)),
    };
    if let Some((package_type, package, target)) = rest {
        path.push_str(&format!("/{}/{}", encode(package_type), encode(package)));
        match target {
            Target::Package => {}
            Target::RestorePackage => path.push_str("/restore"),
            Target::Versions => path.push_str("/versions"),
            // Version ids are taken as they are, not decoded.
            Target::Version(id) => path.push_str(&format!("/versions/{id}")),
            Target::RestoreVersion(id) => path.push_str(&format!("/versions/{id}/restore")),
            Target::Grants => path.push_str("/grants"),
            Target::Grant(grantee) => path.push_str(&format!("/grants/{}", encode(grantee))),
        }
        // A last empty segment needs a `/` after it to count.
        if path.ends_with('/') {
            path.push('/');
        }
    }
    path
}

/// Percent-encodes `/`, `%` and everything that is not printable ASCII.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b == b'/' || b == b'%' || !(0x21..0x7f).contains(&b) {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

fn check_paging(query: &str) {
    let Some(paging) = fuzzing::api_paging(query) else {
        return;
    };
    match paging {
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

fn check_patch(body: &[u8]) {
    let patch = match fuzzing::package_patch(body) {
        Ok(patch) => patch,
        Err((status, message)) => {
            assert_eq!(status, 400);
            assert!(message.starts_with("Problems parsing JSON"), "{message}");
            return;
        }
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
        if let Ok(repository) = r.parse::<SourceRepository>() {
            assert_eq!(
                repository.to_string().parse::<SourceRepository>().ok(),
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
    let grant = match fuzzing::grant_body(body) {
        Ok(grant) => grant,
        Err((status, message)) => {
            assert_eq!(status, 400);
            assert!(message.starts_with("Problems parsing JSON"), "{message}");
            return;
        }
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
