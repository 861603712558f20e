//! Properties: random valid manifests, written with any whitespace, key
//! order and string escaping, validate and keep their exact bytes and
//! digest; arbitrary bytes and arbitrary JSON never panic.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use wharf_manifest::{Manifest, MediaType, ParseOptions, Strictness};
use wharf_reference::Digest;

// ---------------------------------------------------------------------------
// Valid documents.

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::array::uniform32(any::<u8>()).prop_map(|b| format!("sha256:{}", hex(&b))),
        1 => prop::collection::vec(any::<u8>(), 64).prop_map(|b| format!("sha512:{}", hex(&b))),
    ]
}

fn annotations() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[a-z][a-z0-9.-]{0,24}", any::<String>(), 0..4)
}

fn platform() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("linux".to_owned()),
            Just("windows".to_owned()),
            "[a-z0-9][a-z0-9._-]{0,8}"
        ],
        prop_oneof![
            Just("amd64".to_owned()),
            Just("arm64".to_owned()),
            "[a-z0-9][a-z0-9._-]{0,8}"
        ],
        prop::option::of("v[0-9]"),
        prop::option::of("[0-9]{1,2}\\.[0-9]\\.[0-9]{1,5}"),
        prop::collection::vec("[a-z0-9]{1,8}", 0..2),
    )
        .prop_map(|(os, architecture, variant, os_version, os_features)| {
            let mut p = json!({ "os": os, "architecture": architecture });
            if let Some(v) = variant {
                p["variant"] = json!(v);
            }
            if let Some(v) = os_version {
                p["os.version"] = json!(v);
            }
            if !os_features.is_empty() {
                p["os.features"] = json!(os_features);
            }
            p
        })
}

fn descriptor(media_types: Vec<&'static str>) -> impl Strategy<Value = Value> {
    (
        prop::sample::select(media_types),
        digest(),
        any::<u64>(),
        annotations(),
    )
        .prop_map(|(media_type, digest, size, annotations)| {
            let mut d = json!({ "mediaType": media_type, "digest": digest, "size": size });
            if !annotations.is_empty() {
                d["annotations"] = json!(annotations);
            }
            d
        })
}

fn layer() -> impl Strategy<Value = Value> {
    let ordinary = descriptor(vec![
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
        "application/vnd.in-toto+json",
    ]);
    let foreign = (
        descriptor(vec![
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        ]),
        prop::collection::vec(
            "https?://[a-z]{1,12}\\.example(:[0-9]{2,4})?/[a-z0-9/._-]{0,30}",
            0..3,
        ),
    )
        .prop_map(|(mut d, urls)| {
            if !urls.is_empty() {
                d["urls"] = json!(urls);
            }
            d
        });
    prop_oneof![4 => ordinary, 1 => foreign]
}

const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// A valid document, its media type, and whether it declares `mediaType`.
#[derive(Debug, Clone)]
struct Generated {
    doc: Value,
    media_type: &'static str,
    declared: bool,
}

impl Generated {
    /// `doc` with its `mediaType` when `declared` (always for Docker's
    /// types, which require it) and its annotations when there are any.
    fn new(
        mut doc: Value,
        media_type: &'static str,
        declared: bool,
        annotations: BTreeMap<String, String>,
    ) -> Generated {
        let declared = declared || media_type.contains("docker");
        if declared {
            doc["mediaType"] = json!(media_type);
        }
        if !annotations.is_empty() {
            doc["annotations"] = json!(annotations);
        }
        Generated {
            doc,
            media_type,
            declared,
        }
    }
}

fn image_manifest() -> impl Strategy<Value = Generated> {
    (
        prop::sample::select(vec![MANIFEST_TYPES[0], MANIFEST_TYPES[2]]),
        any::<bool>(),
        descriptor(vec![
            "application/vnd.oci.image.config.v1+json",
            "application/vnd.docker.container.image.v1+json",
            "application/vnd.oci.empty.v1+json",
            "application/vnd.cncf.helm.config.v1+json",
        ]),
        prop::collection::vec(layer(), 0..12),
        prop::option::of(prop::sample::select(vec![
            "application/spdx+json",
            "application/vnd.cncf.notary.signature",
        ])),
        prop::option::of(descriptor(vec![MANIFEST_TYPES[0], MANIFEST_TYPES[1]])),
        annotations(),
    )
        .prop_map(
            |(media_type, declared, config, layers, artifact_type, subject, annotations)| {
                let mut doc = json!({ "schemaVersion": 2, "config": config, "layers": layers });
                if let Some(t) = artifact_type {
                    doc["artifactType"] = json!(t);
                }
                if let Some(s) = subject {
                    doc["subject"] = s;
                }
                Generated::new(doc, media_type, declared, annotations)
            },
        )
}

fn index() -> impl Strategy<Value = Generated> {
    let entry = (
        descriptor(MANIFEST_TYPES.to_vec()),
        prop::option::of(platform()),
    )
        .prop_map(|(mut d, platform)| {
            if let Some(p) = platform {
                d["platform"] = p;
            }
            d
        });
    (
        prop::sample::select(vec![MANIFEST_TYPES[1], MANIFEST_TYPES[3]]),
        any::<bool>(),
        prop::collection::vec(entry, 0..10),
        annotations(),
    )
        .prop_map(|(media_type, declared, manifests, annotations)| {
            let doc = json!({ "schemaVersion": 2, "manifests": manifests });
            Generated::new(doc, media_type, declared, annotations)
        })
}

// ---------------------------------------------------------------------------
// Writing JSON with varying whitespace, key order and escapes.

#[derive(Debug, Clone)]
struct Style {
    /// Whitespace put around tokens, chosen per position from this list.
    spaces: Vec<&'static str>,
    /// Reorders object keys.
    key_seed: u64,
    /// Escape `/` and non-ASCII characters (forces owned strings).
    escape: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop::collection::vec(
            prop::sample::select(vec!["", " ", "\n", "\n    ", "\t", "\r\n"]),
            1..6,
        ),
        any::<u64>(),
        any::<bool>(),
    )
        .prop_map(|(spaces, key_seed, escape)| Style {
            spaces,
            key_seed,
            escape,
        })
}

struct Writer<'a> {
    style: &'a Style,
    out: String,
    n: usize,
}

impl Writer<'_> {
    fn space(&mut self) {
        self.n += 1;
        let s = self.style.spaces[self.n % self.style.spaces.len()];
        self.out.push_str(s);
    }

    fn string(&mut self, s: &str) {
        if !self.style.escape {
            self.out.push_str(&serde_json::to_string(s).unwrap());
            return;
        }
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '/' => self.out.push_str("\\/"),
                c if (c as u32) < 0x20 || !c.is_ascii() => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        self.out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn value(&mut self, v: &Value) {
        self.space();
        match v {
            Value::Object(map) => self.object(map),
            Value::Array(items) => {
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.value(item);
                }
                self.space();
                self.out.push(']');
            }
            Value::String(s) => self.string(s),
            other => self.out.push_str(&other.to_string()),
        }
        self.space();
    }

    fn object(&mut self, map: &Map<String, Value>) {
        let mut keys: Vec<&String> = map.keys().collect();
        let seed = self.style.key_seed;
        keys.sort_by_key(|k| {
            k.bytes()
                .fold(seed, |h, b| h.rotate_left(5) ^ u64::from(b))
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        });
        self.out.push('{');
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.space();
            self.string(key);
            self.space();
            self.out.push(':');
            self.value(&map[*key]);
        }
        self.space();
        self.out.push('}');
    }
}

fn write(v: &Value, style: &Style) -> Vec<u8> {
    let mut w = Writer {
        style,
        out: String::new(),
        n: 0,
    };
    w.value(v);
    w.out.into_bytes()
}

// ---------------------------------------------------------------------------
// Arbitrary JSON, biased towards manifest vocabulary so that it reaches deep.

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "schemaVersion", "mediaType", "artifactType", "config", "layers", "manifests",
            "subject", "annotations", "digest", "size", "urls", "platform", "os",
            "architecture", "variant", "os.version", "os.features", "features", "data",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        Just(json!(2)),
        prop::sample::select(MANIFEST_TYPES.to_vec()).prop_map(Value::from),
        digest().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        prop::sample::select(MANIFEST_TYPES.to_vec()).prop_map(|t| Some(t.to_owned())),
        Just(Some("application/json".to_owned())),
        any::<String>().prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_manifests_validate_and_keep_their_exact_bytes(
        generated in prop_oneof![image_manifest(), index()],
        style in style(),
        send_content_type in any::<bool>(),
        parameter in any::<bool>(),
    ) {
        let bytes = write(&generated.doc, &style);
        let content_type = send_content_type.then(|| {
            if parameter { format!("{}; charset=utf-8", generated.media_type) } else { generated.media_type.to_owned() }
        });
        let m = Manifest::parse(bytes.clone(), content_type.as_deref())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&bytes))))?;
        prop_assert_eq!(m.bytes().as_ref(), &bytes[..]);
        prop_assert_eq!(m.digest(), &Digest::sha256(&bytes));
        let expected_type = if generated.declared || send_content_type {
            MediaType::parse(generated.media_type).unwrap()
        } else if generated.media_type.contains("index") || generated.media_type.contains("list") {
            MediaType::OCI_IMAGE_INDEX
        } else {
            MediaType::OCI_IMAGE_MANIFEST
        };
        prop_assert_eq!(m.media_type(), &expected_type);

        let doc = &generated.doc;
        let expected_annotations: BTreeMap<String, String> =
            serde_json::from_value(doc.get("annotations").cloned().unwrap_or(json!({}))).unwrap();
        prop_assert_eq!(m.annotations(), &expected_annotations);
        if let Some(layers) = doc.get("layers").and_then(Value::as_array) {
            prop_assert_eq!(m.layers().len(), layers.len());
            prop_assert_eq!(m.required_blobs().count() + m.foreign_blobs().count(), layers.len() + 1);
            for (parsed, written) in m.layers().iter().zip(layers) {
                prop_assert_eq!(parsed.digest.as_str(), written["digest"].as_str().unwrap());
                prop_assert_eq!(Some(parsed.size), written["size"].as_u64());
            }
        } else {
            let manifests = doc["manifests"].as_array().unwrap();
            prop_assert_eq!(m.child_manifests().len(), manifests.len());
            prop_assert_eq!(m.required_blobs().count(), 0);
            prop_assert_eq!(m.platforms().count(), manifests.iter().filter(|e| e.get("platform").is_some()).count());
        }

        // The content does not depend on how the JSON was written.
        let canonical = Manifest::parse(serde_json::to_vec(doc).unwrap(), content_type.as_deref()).unwrap();
        prop_assert_eq!(canonical.content(), m.content());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), content_type in content_type()) {
        if let Ok(m) = Manifest::parse(bytes.clone(), content_type.as_deref()) {
            prop_assert_eq!(m.bytes().as_ref(), &bytes[..]);
        }
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value(), content_type in content_type(), strictness in prop::sample::select(vec![Strictness::Images, Strictness::Artifacts, Strictness::Permissive])) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let mut options = ParseOptions::default();
        options.strictness = strictness;
        match Manifest::parse_with(bytes.clone(), content_type.as_deref(), &options) {
            Ok(m) => prop_assert_eq!(m.digest(), &Digest::sha256(&bytes)),
            Err(e) => { let _ = (e.code(), e.path(), e.to_string()); }
        }
    }

    #[test]
    fn corrupted_manifests_never_panic(
        generated in prop_oneof![image_manifest(), index()],
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = serde_json::to_vec_pretty(&generated.doc).unwrap();
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(m) = Manifest::parse(bytes.clone(), None) {
            prop_assert_eq!(m.digest(), &Digest::sha256(&bytes));
        }
    }
}
