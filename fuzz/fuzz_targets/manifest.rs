//! Any bytes, with and without a Content-Type: manifest parsing never
//! panics; what parses keeps the exact input and its SHA-256 digest, and
//! its accessors agree with each other.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_manifest::{Manifest, ParseOptions, Strictness};
use wharf_reference::Digest;

/// Content-Types a client might send, chosen by the first input byte.
const CONTENT_TYPES: &[Option<&str>] = &[
    None,
    Some("application/vnd.oci.image.manifest.v1+json"),
    Some("application/vnd.oci.image.index.v1+json"),
    Some("application/vnd.docker.distribution.manifest.v2+json"),
    Some("application/vnd.docker.distribution.manifest.list.v2+json"),
    Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
    Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
    Some("application/json"),
    Some(""),
    Some("not a media type"),
];

const STRICTNESS: [Strictness; 3] = [
    Strictness::Images,
    Strictness::Artifacts,
    Strictness::Permissive,
];

fuzz_target!(|data: &[u8]| {
    let (selector, body) = match data.split_first() {
        Some((first, rest)) => (*first as usize, rest),
        None => (0, data),
    };
    let content_type = CONTENT_TYPES[selector % CONTENT_TYPES.len()];
    let mut options = ParseOptions::default();
    options.strictness = STRICTNESS[(selector / 16) % STRICTNESS.len()];

    // Without a Content-Type, then with the chosen one.
    for content_type in [None, content_type] {
        match Manifest::parse_with(body.to_vec(), content_type, &options) {
            Ok(m) => check(&m, body),
            Err(e) => {
                // Every error renders and maps to a code.
                let _ = (e.code().as_str(), e.path(), e.line_column(), e.to_string());
            }
        }
    }
});

fn check(m: &Manifest, body: &[u8]) {
    assert_eq!(m.bytes().as_ref(), body, "the bytes are kept exactly");
    assert_eq!(
        m.digest(),
        &Digest::sha256(body),
        "the digest is over the bytes"
    );
    assert_eq!(m.size(), body.len() as u64);
    assert!(m.media_type().is_manifest());
    assert_eq!(m.is_index(), m.as_index().is_some());
    if m.is_index() {
        assert_eq!(m.required_blobs().count(), 0);
        assert!(m.layers().is_empty() && m.config().is_none());
        assert!(m
            .child_manifests()
            .iter()
            .all(|d| d.media_type.is_manifest()));
        assert!(m.to_oci_image_index().is_some());
    } else {
        assert!(m.child_manifests().is_empty());
        assert_eq!(
            m.required_blobs().count() + m.foreign_blobs().count(),
            m.layers().len() + 1
        );
        assert!(m.to_oci_image_manifest().is_some());
    }
    let referrer = m.descriptor();
    assert_eq!(&referrer.digest, m.digest());
    let json = serde_json::to_vec(&referrer).expect("a descriptor serializes");
    let back: wharf_manifest::Descriptor =
        serde_json::from_slice(&json).expect("a serialized descriptor reads back");
    assert_eq!(back, referrer);
}
