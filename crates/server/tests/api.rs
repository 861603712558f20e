//! The API as a table: one row per behaviour (method, path, request headers
//! and body; expected status, headers, error code and body), run in order
//! against a fixture, on the memory and the filesystem backends.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;
use wharf_reference::Digest;

/// One row of the table.
struct Case {
    what: &'static str,
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    expect_headers: Vec<(&'static str, String)>,
    absent_headers: Vec<&'static str>,
    code: Option<&'static str>,
    expect_body: Option<Vec<u8>>,
    expect_json: Option<serde_json::Value>,
}

fn case(what: &'static str, method: Method, path: impl Into<String>, status: u16) -> Case {
    Case {
        what,
        method,
        path: path.into(),
        headers: Vec::new(),
        body: Vec::new(),
        status,
        expect_headers: Vec::new(),
        absent_headers: Vec::new(),
        code: None,
        expect_body: None,
        expect_json: None,
    }
}

impl Case {
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    fn expect(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.expect_headers.push((name, value.into()));
        self
    }
    fn absent(mut self, name: &'static str) -> Self {
        self.absent_headers.push(name);
        self
    }
    fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }
    fn expect_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.expect_body = Some(body.into());
        self
    }
    fn expect_json(mut self, value: serde_json::Value) -> Self {
        self.expect_json = Some(value);
        self
    }
}

async fn run(server: &TestServer, cases: Vec<Case>) {
    for (row, c) in cases.into_iter().enumerate() {
        let label = format!(
            "[{:?}] row {row} `{}`: {} {}",
            server.backend, c.what, c.method, c.path
        );
        let headers: Vec<(&str, &str)> = c.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let reply = server
            .send(c.method.clone(), &c.path, &headers, c.body)
            .await;
        assert_eq!(
            reply.status.as_u16(),
            c.status,
            "{label}: status; body {:?}",
            String::from_utf8_lossy(&reply.body)
        );
        for (name, value) in &c.expect_headers {
            assert_eq!(
                reply.header(name),
                Some(value.as_str()),
                "{label}: header {name}"
            );
        }
        for name in &c.absent_headers {
            assert_eq!(
                reply.header(name),
                None,
                "{label}: header {name} should be absent"
            );
        }
        if let Some(code) = c.code {
            assert_eq!(
                reply.error_code().as_deref(),
                Some(code),
                "{label}: error code"
            );
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{label}"
            );
        }
        if let Some(body) = &c.expect_body {
            assert_eq!(&reply.body[..], &body[..], "{label}: body");
        }
        if let Some(value) = &c.expect_json {
            assert_eq!(&reply.json(), value, "{label}: JSON body");
        }
    }
}

struct Fixture {
    layer: Vec<u8>,
    layer_digest: Digest,
    manifest: Vec<u8>,
    manifest_digest: Digest,
    sig: Digest,
    sbom: Digest,
    other_blob: Digest,
}

/// `team/app` holds an image tagged v1, v2 and v3 with a signature and an
/// SBOM referring to it; `team/other` holds one more blob.
async fn fixture(server: &TestServer) -> Fixture {
    let (manifest, manifest_digest) = server.push_image("team/app", "v1", "app").await;
    for tag in ["v2", "v3"] {
        let reply = server
            .push_manifest("team/app", tag, OCI_MANIFEST, &manifest)
            .await;
        assert_eq!(reply.status, 201);
    }
    let layer = b"layer of app".to_vec();
    let layer_digest = Digest::sha256(&layer);
    let empty = server.push_blob("team/app", b"{}").await;
    let mut referrers = Vec::new();
    for (artifact_type, note) in [
        ("application/vnd.example.sig", "signed"),
        ("application/vnd.example.sbom", "spdx"),
    ] {
        let bytes = artifact_manifest(
            artifact_type,
            &empty,
            (&manifest_digest, manifest.len()),
            note,
        );
        let digest = Digest::sha256(&bytes);
        let reply = server
            .push_manifest("team/app", digest.as_str(), OCI_MANIFEST, &bytes)
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        assert_eq!(reply.header("oci-subject"), Some(manifest_digest.as_str()));
        referrers.push(digest);
    }
    let other_blob = server.push_blob("team/other", b"only in other").await;
    Fixture {
        layer,
        layer_digest,
        manifest,
        manifest_digest,
        sbom: referrers.pop().expect("sbom"),
        sig: referrers.pop().expect("sig"),
        other_blob,
    }
}

fn table(f: &Fixture) -> Vec<Case> {
    use Method as M;
    let len = f.layer.len();
    let layer = &f.layer_digest;
    let blob = |digest: &Digest| format!("/v2/team/app/blobs/{digest}");
    let missing = Digest::sha256(b"never pushed");
    let manifest = &f.manifest_digest;
    vec![
        // The version check.
        case("base", M::GET, "/v2/", 200)
            .expect("docker-distribution-api-version", "registry/2.0")
            .expect_json(json!({})),
        case("base without slash", M::GET, "/v2", 200),
        case("unknown path", M::GET, "/v3/", 404),
        // Blobs.
        case("blob head", M::HEAD, blob(layer), 200)
            .expect("content-length", len.to_string())
            .expect("docker-content-digest", layer.to_string())
            .expect("accept-ranges", "bytes")
            .expect("content-type", "application/octet-stream"),
        case("blob get", M::GET, blob(layer), 200)
            .expect("content-length", len.to_string())
            .expect("docker-content-digest", layer.to_string())
            .expect("x-content-type-options", "nosniff")
            .expect_body(f.layer.clone()),
        case("blob get with escaped digest", M::GET, blob(layer).replace(':', "%3A"), 200),
        case("range: first byte", M::GET, blob(layer), 206)
            .header("range", "bytes=0-0")
            .expect("content-range", format!("bytes 0-0/{len}"))
            .expect("content-length", "1")
            .expect_body(&f.layer[..1]),
        case("range: last byte", M::GET, blob(layer), 206)
            .header("range", format!("bytes={}-{}", len - 1, len - 1))
            .expect("content-range", format!("bytes {}-{}/{len}", len - 1, len - 1))
            .expect_body(&f.layer[len - 1..]),
        case("range: open end", M::GET, blob(layer), 206)
            .header("range", "bytes=6-")
            .expect("content-range", format!("bytes 6-{}/{len}", len - 1))
            .expect_body(&f.layer[6..]),
        case("range: suffix", M::GET, blob(layer), 206)
            .header("range", "bytes=-3")
            .expect("content-range", format!("bytes {}-{}/{len}", len - 3, len - 1))
            .expect_body(&f.layer[len - 3..]),
        case("range: end past the blob is clipped", M::GET, blob(layer), 206)
            .header("range", "bytes=2-999999")
            .expect_body(&f.layer[2..]),
        case("range: unsatisfiable", M::GET, blob(layer), 416)
            .header("range", format!("bytes={len}-"))
            .expect("content-range", format!("bytes */{len}")),
        case("range: multiple ranges are ignored", M::GET, blob(layer), 200)
            .header("range", "bytes=0-1,4-5")
            .expect_body(f.layer.clone()),
        case("blob unknown", M::GET, blob(&missing), 404).code("BLOB_UNKNOWN"),
        case("blob head unknown", M::HEAD, blob(&missing), 404),
        case("blob of another repository", M::GET, blob(&f.other_blob), 404)
            .code("BLOB_UNKNOWN"),
        case("blob in unknown repository", M::GET, format!("/v2/nobody/blobs/{layer}"), 404)
            .code("BLOB_UNKNOWN"),
        case("invalid digest", M::GET, "/v2/team/app/blobs/sha256:xyz", 400)
            .code("DIGEST_INVALID"),
        case("invalid name", M::GET, format!("/v2/Team/App/blobs/{layer}"), 400)
            .code("NAME_INVALID"),
        case("blob put is not a method", M::PUT, blob(layer), 405)
            .code("UNSUPPORTED")
            .expect("allow", "GET, HEAD, DELETE"),
        // Manifests.
        case("manifest by tag", M::GET, "/v2/team/app/manifests/v1", 200)
            .expect("content-type", OCI_MANIFEST)
            .expect("docker-content-digest", manifest.to_string())
            .expect("content-length", f.manifest.len().to_string())
            .expect_body(f.manifest.clone()),
        case("manifest by digest", M::GET, format!("/v2/team/app/manifests/{manifest}"), 200)
            .expect("x-content-type-options", "nosniff")
            .expect_body(f.manifest.clone()),
        case("manifest head", M::HEAD, "/v2/team/app/manifests/v2", 200)
            .expect("content-type", OCI_MANIFEST)
            .expect("content-length", f.manifest.len().to_string())
            .expect("docker-content-digest", manifest.to_string()),
        case("manifest served as stored whatever Accept says", M::GET, "/v2/team/app/manifests/v1", 200)
            .header("accept", DOCKER_MANIFEST)
            .expect("content-type", OCI_MANIFEST),
        case("manifest unknown tag", M::GET, "/v2/team/app/manifests/nope", 404)
            .code("MANIFEST_UNKNOWN"),
        case("manifest unknown digest", M::GET, format!("/v2/team/app/manifests/{missing}"), 404)
            .code("MANIFEST_UNKNOWN"),
        case("manifest head unknown", M::HEAD, "/v2/team/app/manifests/nope", 404),
        // No manifest can exist under a reference that is neither a tag nor
        // a digest: a read is a miss, a write is invalid.
        case("manifest invalid tag", M::GET, "/v2/team/app/manifests/-x", 404)
            .code("MANIFEST_UNKNOWN"),
        case("manifest invalid name", M::GET, "/v2/team/app/manifests/.INVALID_MANIFEST_NAME", 404)
            .code("MANIFEST_UNKNOWN"),
        case("manifest head invalid name", M::HEAD, "/v2/team/app/manifests/.INVALID_MANIFEST_NAME", 404),
        case("manifest invalid digest", M::GET, "/v2/team/app/manifests/sha256:short", 404)
            .code("MANIFEST_UNKNOWN"),
        case("manifest put invalid name", M::PUT, "/v2/team/app/manifests/.INVALID_MANIFEST_NAME", 400)
            .header("content-type", OCI_MANIFEST)
            .body(f.manifest.clone())
            .code("MANIFEST_INVALID"),
        case("manifest delete invalid name", M::DELETE, "/v2/team/app/manifests/-x", 400)
            .code("MANIFEST_INVALID"),
        case("manifest post is not a method", M::POST, "/v2/team/app/manifests/v1", 405)
            .code("UNSUPPORTED")
            .expect("allow", "GET, HEAD, PUT, DELETE"),
        // Tags.
        case("tags", M::GET, "/v2/team/app/tags/list", 200)
            .absent("link")
            .expect_json(json!({"name": "team/app", "tags": ["v1", "v2", "v3"]})),
        case("tags first page", M::GET, "/v2/team/app/tags/list?n=2", 200)
            .expect("link", "</v2/team/app/tags/list?n=2&last=v2>; rel=\"next\"")
            .expect_json(json!({"name": "team/app", "tags": ["v1", "v2"]})),
        case("tags last page", M::GET, "/v2/team/app/tags/list?n=2&last=v2", 200)
            .absent("link")
            .expect_json(json!({"name": "team/app", "tags": ["v3"]})),
        case("tags n=0", M::GET, "/v2/team/app/tags/list?n=0", 200)
            .expect_json(json!({"name": "team/app", "tags": []})),
        case("tags of unknown repository", M::GET, "/v2/nobody/tags/list", 404)
            .code("NAME_UNKNOWN"),
        case("tags with invalid n", M::GET, "/v2/team/app/tags/list?n=abc", 400),
        // Catalog.
        case("catalog", M::GET, "/v2/_catalog", 200)
            .expect_json(json!({"repositories": ["team/app", "team/other"]})),
        case("catalog first page", M::GET, "/v2/_catalog?n=1", 200)
            .expect("link", "</v2/_catalog?n=1&last=team%2Fapp>; rel=\"next\"")
            .expect_json(json!({"repositories": ["team/app"]})),
        case("catalog next page", M::GET, "/v2/_catalog?n=1&last=team%2Fapp", 200)
            .absent("link")
            .expect_json(json!({"repositories": ["team/other"]})),
        // Referrers.
        case("referrers", M::GET, format!("/v2/team/app/referrers/{manifest}"), 200)
            .expect("content-type", OCI_INDEX)
            .absent("oci-filters-applied"),
        case("referrers filtered", M::GET, format!("/v2/team/app/referrers/{manifest}?artifactType=application/vnd.example.sig"), 200)
            .expect("oci-filters-applied", "artifactType")
            .expect_json(json!({
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [{
                    "mediaType": OCI_MANIFEST,
                    "digest": f.sig.to_string(),
                    "size": artifact_manifest("application/vnd.example.sig", &Digest::sha256(b"{}"), (manifest, f.manifest.len()), "signed").len(),
                    "artifactType": "application/vnd.example.sig",
                    "annotations": {"org.example.note": "signed"},
                }],
            })),
        case("referrers of unknown subject", M::GET, format!("/v2/team/app/referrers/{missing}"), 200)
            .expect_json(json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})),
        case("referrers in unknown repository", M::GET, format!("/v2/nobody/referrers/{missing}"), 200),
        case("referrers with invalid digest", M::GET, "/v2/team/app/referrers/latest", 400)
            .code("DIGEST_INVALID"),
        // Cross-repository mounts.
        case("mount from a repository holding the blob", M::POST,
            format!("/v2/team/app/blobs/uploads/?mount={}&from=team/other", f.other_blob), 201)
            .expect("location", blob(&f.other_blob))
            .expect("docker-content-digest", f.other_blob.to_string()),
        case("mounted blob is served", M::GET, blob(&f.other_blob), 200)
            .expect_body(&b"only in other"[..]),
        case("mount of a missing blob falls back to an upload", M::POST,
            format!("/v2/team/app/blobs/uploads/?mount={missing}&from=team/other"), 202)
            .expect("range", "0-0"),
        case("mount from a repository without the blob falls back", M::POST,
            format!("/v2/team/other/blobs/uploads/?mount={layer}&from=nobody"), 202),
        case("mount without from falls back", M::POST,
            format!("/v2/team/other/blobs/uploads/?mount={layer}"), 202),
        case("mount with invalid digest", M::POST, "/v2/team/app/blobs/uploads/?mount=x&from=team/other", 400)
            .code("DIGEST_INVALID"),
        // Uploads: errors.
        case("unknown upload", M::GET, "/v2/team/app/blobs/uploads/0123456789abcdef0123456789abcdef", 404)
            .code("BLOB_UPLOAD_UNKNOWN"),
        case("malformed upload id", M::PATCH, "/v2/team/app/blobs/uploads/not-an-id", 404)
            .code("BLOB_UPLOAD_UNKNOWN"),
        case("cancel unknown upload", M::DELETE, "/v2/team/app/blobs/uploads/0123456789abcdef0123456789abcdef", 404)
            .code("BLOB_UPLOAD_UNKNOWN"),
        case("monolithic push with wrong digest", M::POST,
            format!("/v2/team/app/blobs/uploads/?digest={missing}"), 400)
            .body(&b"something else"[..])
            .code("DIGEST_INVALID"),
        case("monolithic push of an empty blob", M::POST,
            format!("/v2/team/app/blobs/uploads/?digest={}", Digest::sha256(b"")), 201),
        // Deletes.
        case("delete blob link", M::DELETE, blob(&f.other_blob), 202),
        case("deleted blob is gone from the repository", M::GET, blob(&f.other_blob), 404)
            .code("BLOB_UNKNOWN"),
        case("but still in the other one", M::GET, format!("/v2/team/other/blobs/{}", f.other_blob), 200),
        case("delete blob again", M::DELETE, blob(&f.other_blob), 404).code("BLOB_UNKNOWN"),
        case("delete tag", M::DELETE, "/v2/team/app/manifests/v3", 202),
        case("deleted tag is unknown", M::GET, "/v2/team/app/manifests/v3", 404)
            .code("MANIFEST_UNKNOWN"),
        case("other tags remain", M::GET, "/v2/team/app/manifests/v2", 200),
        case("delete unknown tag", M::DELETE, "/v2/team/app/manifests/v3", 404)
            .code("MANIFEST_UNKNOWN"),
        case("delete referrer by digest", M::DELETE, format!("/v2/team/app/manifests/{}", f.sbom), 202),
        case("deleted referrer leaves the index", M::GET,
            format!("/v2/team/app/referrers/{manifest}?artifactType=application/vnd.example.sbom"), 200)
            .expect_json(json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []})),
        case("delete manifest by digest", M::DELETE, format!("/v2/team/app/manifests/{manifest}"), 202),
        case("its tags went with it", M::GET, "/v2/team/app/manifests/v1", 404)
            .code("MANIFEST_UNKNOWN"),
        case("tags list is empty", M::GET, "/v2/team/app/tags/list", 200)
            .expect_json(json!({"name": "team/app", "tags": []})),
        case("delete unknown manifest", M::DELETE, format!("/v2/team/app/manifests/{missing}"), 404)
            .code("MANIFEST_UNKNOWN"),
    ]
}

async fn the_api_table_holds_on_every_backend(backend: Backend) {
    let server = start(backend).await;
    let f = fixture(&server).await;
    let cases = table(&f);
    run(&server, cases).await;
}
on_each_backend!(the_api_table_holds_on_every_backend);

async fn referrers_list_every_referring_manifest_with_its_descriptor(backend: Backend) {
    let server = start(backend).await;
    let f = fixture(&server).await;
    let reply = server
        .get(&format!("/v2/team/app/referrers/{}", f.manifest_digest))
        .await;
    assert_eq!(reply.status, 200);
    let index = reply.json();
    assert_eq!(index["schemaVersion"], 2);
    let mut entries: Vec<(String, String)> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            (
                m["digest"].as_str().expect("digest").to_owned(),
                m["artifactType"].as_str().expect("artifactType").to_owned(),
            )
        })
        .collect();
    entries.sort();
    let mut expected = vec![
        (f.sig.to_string(), "application/vnd.example.sig".to_owned()),
        (
            f.sbom.to_string(),
            "application/vnd.example.sbom".to_owned(),
        ),
    ];
    expected.sort();
    assert_eq!(entries, expected, "{backend:?}");
}
on_each_backend!(referrers_list_every_referring_manifest_with_its_descriptor);

async fn referrers_page_with_a_link_to_the_next_page(backend: Backend) {
    let server = start(backend).await;
    let f = fixture(&server).await;
    let mut expected = [f.sig.to_string(), f.sbom.to_string()];
    expected.sort();
    let first = server
        .get(&format!("/v2/team/app/referrers/{}?n=1", f.manifest_digest))
        .await;
    assert_eq!(first.status, 200);
    let digests = |reply: &common::Reply| -> Vec<String> {
        reply.json()["manifests"]
            .as_array()
            .expect("manifests")
            .iter()
            .map(|m| m["digest"].as_str().expect("digest").to_owned())
            .collect()
    };
    assert_eq!(digests(&first), expected[..1], "{backend:?}");
    let link = first.header("link").expect("a Link to the next page");
    let next = link
        .strip_prefix('<')
        .and_then(|l| l.split_once(">; rel=\"next\""))
        .map(|(path, _)| path.to_owned())
        .expect("Link: <...>; rel=\"next\"");
    let second = server.get(&next).await;
    assert_eq!(second.status, 200);
    assert_eq!(digests(&second), expected[1..], "{backend:?}");
    assert!(second.header("link").is_none(), "the last page has no Link");

    // A filtered walk keeps its filter in the Link.
    let filtered = server
        .get(&format!(
            "/v2/team/app/referrers/{}?n=1&artifactType=application/vnd.example.sig",
            f.manifest_digest
        ))
        .await;
    assert_eq!(digests(&filtered), vec![f.sig.to_string()]);
    assert!(filtered.header("link").is_none());
}
on_each_backend!(referrers_page_with_a_link_to_the_next_page);
