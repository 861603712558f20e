//! The path classification and parsing, case by case.

use super::*;
use wharf_storage::UploadId;

const DIGEST: &str = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

#[test]
fn paths_are_classified_by_their_last_two_segments() {
    let table = [
        ("/v2/", RouteKind::Base),
        ("/v2", RouteKind::Base),
        ("/v2/_catalog", RouteKind::Catalog),
        ("/v2/a/tags/list", RouteKind::TagsList),
        ("/v2/a/b/c/tags/list", RouteKind::TagsList),
        ("/v2/a/manifests/latest", RouteKind::Manifest),
        ("/v2/team/manifests/manifests/latest", RouteKind::Manifest),
        ("/v2/a/blobs/sha256:00", RouteKind::Blob),
        ("/v2/x/blobs/blobs/sha256:00", RouteKind::Blob),
        ("/v2/a/blobs/uploads/", RouteKind::UploadStart),
        ("/v2/a/blobs/uploads", RouteKind::UploadStart),
        ("/v2/a/blobs/uploads/abc-123", RouteKind::Upload),
        ("/v2/a/b/blobs/uploads/blobs/uploads/x", RouteKind::Upload),
        ("/v2/a/referrers/sha256:00", RouteKind::Referrers),
        ("/v2/a/tags/other", RouteKind::NotFound),
        ("/v2/a/uploads/x", RouteKind::NotFound),
        ("/v2/a", RouteKind::NotFound),
        ("/v3/a/manifests/x", RouteKind::NotFound),
        ("/metrics", RouteKind::Metrics),
        ("/", RouteKind::NotFound),
    ];
    for (path, kind) in table {
        assert_eq!(RouteKind::classify(path), kind, "{path}");
    }
}

#[test]
fn requests_are_labelled_from_the_route_they_matched() {
    let table = [
        (None, "/v2/a/manifests/latest", RouteKind::NotFound),
        (None, "/anything", RouteKind::NotFound),
        (
            Some("/v2/{*path}"),
            "/v2/a/manifests/latest",
            RouteKind::Manifest,
        ),
        (Some("/v2/{*path}"), "/v2/a", RouteKind::NotFound),
        (Some("/v2/"), "/v2/", RouteKind::Base),
        (Some("/metrics"), "/metrics", RouteKind::Metrics),
        (Some("/token"), "/token", RouteKind::Token),
        (
            Some("/{owner}/packages/container/{*name}"),
            "/alice/packages/container/app",
            RouteKind::PagePackage,
        ),
        (
            Some("/{owner}/packages"),
            "/alice/packages",
            RouteKind::PageOwner,
        ),
        (
            Some("/{owner}/packages/"),
            "/alice/packages/",
            RouteKind::PageOwner,
        ),
        (Some("/{owner}"), "/alice", RouteKind::PageOwner),
        (Some("/healthz"), "/healthz", RouteKind::Other),
    ];
    for (matched, path, kind) in table {
        assert_eq!(
            RouteKind::of_request(matched, path, true),
            kind,
            "{matched:?} {path}"
        );
    }
    #[cfg(feature = "ghcr")]
    for (path, rest_api, kind) in [
        (
            "/users/alice/packages/container/app/versions",
            true,
            RouteKind::ApiVersions,
        ),
        (
            "/orgs/acme/packages/container/x/y/z",
            true,
            RouteKind::NotFound,
        ),
        ("/users/alice/packages", false, RouteKind::NotFound),
    ] {
        assert_eq!(RouteKind::of_request(None, path, rest_api), kind, "{path}");
    }
}

#[test]
fn route_labels_are_distinct() {
    let labels: std::collections::HashSet<&str> =
        RouteKind::ALL.iter().map(|k| k.template()).collect();
    assert_eq!(labels.len(), RouteKind::ALL.len());
}

#[test]
fn routes_parse_their_parameters() {
    let name = |s: &str| RepositoryName::parse(s).expect("name");
    let digest = Digest::parse(DIGEST).expect("digest");
    let table: Vec<(String, Route)> = vec![
        ("/v2/".into(), Route::Base),
        ("/v2/_catalog".into(), Route::Catalog),
        (
            "/v2/owner/app/release/tags/list".into(),
            Route::TagsList {
                name: name("owner/app/release"),
            },
        ),
        (
            "/v2/team/manifests/manifests/v1.0".into(),
            Route::Manifest {
                name: name("team/manifests"),
                reference: ManifestSegment::Reference(ManifestRef::Tag(
                    Tag::parse("v1.0").expect("tag"),
                )),
            },
        ),
        (
            format!("/v2/a/manifests/{DIGEST}"),
            Route::Manifest {
                name: name("a"),
                reference: ManifestSegment::Reference(ManifestRef::Digest(digest.clone())),
            },
        ),
        (
            format!("/v2/a/blobs/{}", DIGEST.replace(':', "%3A")),
            Route::Blob {
                name: name("a"),
                digest: digest.clone(),
            },
        ),
        (
            "/v2/a/b/blobs/uploads/".into(),
            Route::UploadStart { name: name("a/b") },
        ),
        (
            "/v2/a/blobs/uploads/0123456789abcdef0123456789abcdef".into(),
            Route::Upload {
                name: name("a"),
                id: "0123456789abcdef0123456789abcdef".parse().expect("id"),
            },
        ),
        (
            format!("/v2/a/referrers/{DIGEST}"),
            Route::Referrers {
                name: name("a"),
                digest,
            },
        ),
    ];
    for (path, route) in table {
        assert_eq!(Route::parse(&path).expect(&path), Some(route), "{path}");
    }
}

#[test]
fn invalid_parameters_map_to_their_error_codes() {
    let table = [
        ("/v2/UPPER/manifests/latest", ErrorCode::NameInvalid),
        ("/v2/a//b/tags/list", ErrorCode::NameInvalid),
        ("/v2/a/blobs/sha256:zz", ErrorCode::DigestInvalid),
        ("/v2/a/blobs/latest", ErrorCode::DigestInvalid),
        ("/v2/a/referrers/nope", ErrorCode::DigestInvalid),
        ("/v2/a/blobs/uploads/bad%20id", ErrorCode::BlobUploadUnknown),
        ("/v2/a/blobs/uploads/ABCDEF", ErrorCode::BlobUploadUnknown),
    ];
    for (path, code) in table {
        let err = Route::parse(path).expect_err(path);
        assert_eq!(err.code(), code, "{path}");
    }
    for (path, code) in [
        ("/v2/a/manifests/sha256:short", ErrorCode::DigestInvalid),
        ("/v2/a/manifests/-bad-tag", ErrorCode::ManifestInvalid),
        (
            "/v2/a/manifests/.INVALID_MANIFEST_NAME",
            ErrorCode::ManifestInvalid,
        ),
    ] {
        let Ok(Some(Route::Manifest { reference, .. })) = Route::parse(path) else {
            panic!("{path}: not a manifest route");
        };
        let err = reference.reference().expect_err(path);
        assert_eq!(err.code(), code, "{path}");
    }
}

#[test]
fn unknown_shapes_are_not_routes() {
    for path in ["/v3/", "/v2/a", "/v2/a/tags/x", "/healthz"] {
        assert_eq!(Route::parse(path).expect(path), None, "{path}");
    }
}

#[test]
fn percent_decoding_handles_escapes_and_leaves_invalid_ones() {
    assert_eq!(decode("sha256%3Aab"), "sha256:ab");
    assert_eq!(decode("sha256%3aab"), "sha256:ab");
    assert_eq!(decode("plain"), "plain");
    assert_eq!(decode("bad%zz"), "bad%zz");
    assert_eq!(decode("end%3"), "end%3");
    assert_eq!(decode("%"), "%");
}

proptest::proptest! {
    /// Names made of components that look like endpoint markers still
    /// round-trip: only the last segments decide the endpoint.
    #[test]
    fn names_with_marker_components_round_trip(
        components in proptest::collection::vec(
            proptest::sample::select(vec!["manifests", "blobs", "uploads", "tags", "list", "referrers", "app", "v2"]),
            1..5,
        ),
        tag in "[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,20}",
    ) {
        let name = components.join("/");
        let expected_name = RepositoryName::parse(&name).expect("name");
        let digest = Digest::parse(DIGEST).expect("digest");
        let id: UploadId = "0123456789abcdef0123456789abcdef".parse().expect("id");
        let cases = [
            (format!("/v2/{name}/manifests/{tag}"), Route::Manifest {
                name: expected_name.clone(),
                reference: ManifestSegment::Reference(ManifestRef::Tag(
                    Tag::parse(&tag).expect("tag"),
                )),
            }),
            (format!("/v2/{name}/blobs/{DIGEST}"), Route::Blob { name: expected_name.clone(), digest: digest.clone() }),
            (format!("/v2/{name}/blobs/uploads/"), Route::UploadStart { name: expected_name.clone() }),
            (format!("/v2/{name}/blobs/uploads/{id}"), Route::Upload { name: expected_name.clone(), id }),
            (format!("/v2/{name}/tags/list"), Route::TagsList { name: expected_name.clone() }),
            (format!("/v2/{name}/referrers/{DIGEST}"), Route::Referrers { name: expected_name.clone(), digest }),
        ];
        for (path, route) in cases {
            proptest::prop_assert_eq!(Route::parse(&path).expect("parse"), Some(route), "{}", path);
        }
    }
}
