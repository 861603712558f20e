//! `/v2/...` request paths as the registry routes them. Parsing never
//! panics; it agrees with the cheap classification metrics and logs use;
//! errors carry the code of the part that is wrong; a parsed route written
//! back as a path (canonical name, reference, digest or upload id) parses
//! to the same route; percent-decoding inverts percent-encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_server::fuzzing::{self, ManifestSegment, Route};
use wharf_server::{ErrorCode, ManifestRef, RouteKind};

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else {
        return;
    };
    let kind = RouteKind::classify(path);
    match fuzzing::route(path) {
        Ok(Some(route)) => {
            assert_eq!(kind_of(&route), kind, "{path:?}");
            assert!(!fuzzing::allowed_methods(&route).is_empty());
            let written = write(&route);
            assert_eq!(
                fuzzing::route(&written).ok(),
                Some(Some(route.clone())),
                "{path:?} written as {written:?}"
            );
            if let Route::Manifest { reference, .. } = route {
                match reference.clone() {
                    ManifestSegment::Reference(r) => {
                        assert_eq!(
                            fuzzing::manifest_reference(reference).ok().as_ref(),
                            Some(&r)
                        );
                        assert_eq!(ManifestRef::parse(&r.to_string()).ok(), Some(r));
                    }
                    ManifestSegment::Invalid(segment) => {
                        assert!(ManifestRef::parse(&segment).is_err());
                        let code = fuzzing::manifest_reference(reference)
                            .expect_err("invalid")
                            .code();
                        assert!(
                            matches!(code, ErrorCode::ManifestInvalid | ErrorCode::DigestInvalid),
                            "{code:?}"
                        );
                    }
                }
            }
        }
        Ok(None) => assert!(
            matches!(
                kind,
                RouteKind::Other | RouteKind::Metrics | RouteKind::NotFound
            ),
            "{path:?} is {kind:?} but no route"
        ),
        Err(err) => {
            assert!(
                !matches!(
                    kind,
                    RouteKind::Other
                        | RouteKind::Metrics
                        | RouteKind::NotFound
                        | RouteKind::Base
                        | RouteKind::Catalog
                ),
                "{path:?}: {kind:?} cannot fail"
            );
            let code = err.code();
            assert!(
                matches!(
                    code,
                    ErrorCode::NameInvalid
                        | ErrorCode::DigestInvalid
                        | ErrorCode::BlobUploadUnknown
                ),
                "{path:?}: {code:?}"
            );
        }
    }

    assert_eq!(fuzzing::decode_segment(&encode(path)), path);
});

fn kind_of(route: &Route) -> RouteKind {
    match route {
        Route::Base => RouteKind::Base,
        Route::Catalog => RouteKind::Catalog,
        Route::TagsList { .. } => RouteKind::TagsList,
        Route::Manifest { .. } => RouteKind::Manifest,
        Route::Blob { .. } => RouteKind::Blob,
        Route::UploadStart { .. } => RouteKind::UploadStart,
        Route::Upload { .. } => RouteKind::Upload,
        Route::Referrers { .. } => RouteKind::Referrers,
    }
}

/// The path a client would send for `route`.
fn write(route: &Route) -> String {
    match route {
        Route::Base => "/v2/".to_owned(),
        Route::Catalog => "/v2/_catalog".to_owned(),
        Route::TagsList { name } => format!("/v2/{name}/tags/list"),
        Route::Manifest { name, reference } => {
            let segment = match reference {
                ManifestSegment::Reference(r) => r.to_string(),
                ManifestSegment::Invalid(s) => encode(s),
            };
            format!("/v2/{name}/manifests/{segment}")
        }
        Route::Blob { name, digest } => format!("/v2/{name}/blobs/{digest}"),
        Route::UploadStart { name } => format!("/v2/{name}/blobs/uploads/"),
        Route::Upload { name, id } => format!("/v2/{name}/blobs/uploads/{id}"),
        Route::Referrers { name, digest } => format!("/v2/{name}/referrers/{digest}"),
    }
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
