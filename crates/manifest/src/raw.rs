//! The JSON document as written, before validation: strings borrowed from
//! the input where they contain no escapes, numbers kept as JSON numbers so
//! that a negative or fractional size is reported with its path rather than
//! as a type error.
//!
//! Unknown fields are skipped (the image-spec says they must be ignored, and
//! the original bytes are kept anyway); duplicate known fields and
//! duplicate annotation keys are refused, so that no two parsers can read
//! two different manifests out of the same bytes.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Number;

use crate::error::Error;

/// A string borrowed from the input when it has no escapes.
#[derive(Debug)]
pub(crate) struct Str<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for StrVisitor<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor(std::marker::PhantomData))
    }
}

/// A JSON number, any kind: the rules decide what a negative or fractional
/// one means where it appears.
#[derive(Debug)]
pub(crate) struct Num(pub Number);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v.into()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Num, E> {
                Number::from_f64(v)
                    .map(Num)
                    .ok_or_else(|| E::custom("not a finite number"))
            }
        }
        deserializer.deserialize_any(NumVisitor)
    }
}

/// Annotations: a string-to-string map whose keys must be unique.
#[derive(Debug, Default)]
pub(crate) struct Annotations(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Annotations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = Annotations;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of string values (annotations)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Annotations, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<String>()?;
                    if out.contains_key(&key) {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate annotation key `{key}`; keys must be unique"
                        )));
                    }
                    out.insert(key, value);
                }
                Ok(Annotations(out))
            }
        }
        deserializer.deserialize_map(MapVisitor)
    }
}

/// Implements `Deserialize` for a struct whose derived implementation is
/// generated with `#[serde(remote = "Self")]`, accepting only a JSON
/// object: serde's derive would also accept an array of the fields in
/// order, which no manifest format allows.
macro_rules! object_only {
    ($ty:ident $(<$lt:lifetime>)?, $expecting:literal) => {
        impl<'de $(: $lt, $lt)?> Deserialize<'de> for $ty $(<$lt>)? {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct ObjectVisitor $(<$lt>)? (std::marker::PhantomData<($(&$lt (),)?)>);
                impl<'de $(: $lt, $lt)?> Visitor<'de> for ObjectVisitor $(<$lt>)? {
                    type Value = $ty $(<$lt>)?;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                        $ty::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    }
                }
                deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
            }
        }
    };
}

object_only!(RawManifest<'a>, "a JSON object (a manifest or an index)");
object_only!(RawDescriptor<'a>, "a descriptor object");
object_only!(RawPlatform, "a platform object");

/// A manifest or index, whichever fields it has.
#[derive(Debug, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub(crate) struct RawManifest<'a> {
    #[serde(default)]
    pub schema_version: Option<Num>,
    #[serde(default, borrow)]
    pub media_type: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub artifact_type: Option<Str<'a>>,
    #[serde(default, borrow)]
    pub config: Option<RawDescriptor<'a>>,
    #[serde(default, borrow)]
    pub layers: Option<Vec<RawDescriptor<'a>>>,
    #[serde(default, borrow)]
    pub manifests: Option<Vec<RawDescriptor<'a>>>,
    #[serde(default, borrow)]
    pub subject: Option<RawDescriptor<'a>>,
    #[serde(default)]
    pub annotations: Option<Annotations>,
}

/// A descriptor as written.
#[derive(Debug, Deserialize)]
#[serde(remote = "Self", rename_all = "camelCase")]
pub(crate) struct RawDescriptor<'a> {
    #[serde(borrow)]
    pub media_type: Str<'a>,
    #[serde(borrow)]
    pub digest: Str<'a>,
    pub size: Num,
    #[serde(default)]
    pub urls: Option<Vec<String>>,
    #[serde(default)]
    pub annotations: Option<Annotations>,
    #[serde(default)]
    pub platform: Option<RawPlatform>,
    #[serde(default, borrow)]
    pub artifact_type: Option<Str<'a>>,
}

/// A platform as written.
#[derive(Debug, Deserialize)]
#[serde(remote = "Self")]
pub(crate) struct RawPlatform {
    pub architecture: String,
    pub os: String,
    #[serde(default, rename = "os.version")]
    pub os_version: Option<String>,
    #[serde(default, rename = "os.features")]
    pub os_features: Option<Vec<String>>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub features: Option<Vec<String>>,
}

/// Parses the document. On a data error (as opposed to a syntax error) the
/// input is parsed a second time, tracking the path, to say where: errors
/// are rare, so the common case pays nothing for it.
pub(crate) fn parse(bytes: &[u8]) -> Result<RawManifest<'_>, Error> {
    serde_json::from_slice(bytes).map_err(|err| locate(bytes, err))
}

fn locate(bytes: &[u8], err: serde_json::Error) -> Error {
    if !err.is_data() {
        return Error::Syntax {
            line: err.line(),
            column: err.column(),
            message: bare_message(&err),
        };
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, RawManifest<'_>>(&mut de) {
        Err(tracked) => {
            let inner = tracked.inner();
            let message = bare_message(inner);
            let path = render_path(tracked.path(), &message);
            Error::Structure {
                path,
                line: inner.line(),
                column: inner.column(),
                message,
            }
        }
        // Unreachable in practice: the same input, the same deserializer.
        Ok(_) => Error::Structure {
            path: String::new(),
            line: err.line(),
            column: err.column(),
            message: bare_message(&err),
        },
    }
}

/// serde_json's message without the " at line L column C" it appends.
fn bare_message(err: &serde_json::Error) -> String {
    let full = err.to_string();
    let position = format!(" at line {} column {}", err.line(), err.column());
    match full.strip_suffix(&position) {
        Some(bare) => bare.to_owned(),
        None => full,
    }
}

/// `layers[2].digest`; a key that is not a plain identifier is quoted
/// (`annotations["org.example.key"]`). Errors about a missing or duplicate
/// field are reported by serde at the enclosing object, so the field is
/// appended to point at it.
fn render_path(path: &serde_path_to_error::Path, message: &str) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => push_key(&mut out, key),
            Segment::Unknown => push_key(&mut out, "?"),
        }
    }
    for prefix in ["missing field `", "duplicate field `"] {
        if let Some(field) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split('`').next())
        {
            push_key(&mut out, field);
        }
    }
    out
}

fn push_key(out: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.' || b == b'?')
        && !key.starts_with('.');
    // Keys such as `os.version` are plain field names in the specs; but a
    // dotted annotation key must be quoted to stay unambiguous.
    if plain && (!key.contains('.') || key == "os.version" || key == "os.features") {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(key);
    } else {
        out.push_str(&format!("[{}]", serde_json::Value::from(key)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let raw = parse(br#"{"mediaType":"a/b","artifactType":"a\/c"}"#).unwrap();
        assert!(matches!(raw.media_type.unwrap().0, Cow::Borrowed("a/b")));
        assert!(matches!(raw.artifact_type.unwrap().0, Cow::Owned(ref s) if s == "a/c"));
    }

    #[test]
    fn data_errors_are_located() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"layers":[{"mediaType":"a/b","digest":"d","size":"1"}]}"#,
                "layers[0].size",
            ),
            (
                r#"{"layers":[{"mediaType":"a/b","size":1}]}"#,
                "layers[0].digest",
            ),
            (
                r#"{"config":{"mediaType":"a/b","digest":"d","size":1,"platform":{"os":"linux"}}}"#,
                "config.platform.architecture",
            ),
            (
                r#"{"annotations":{"org.example.key":1}}"#,
                r#"annotations["org.example.key"]"#,
            ),
            (r#"{"annotations":{"k":"1","k":"2"}}"#, "annotations"),
            (r#"{"layers":[],"layers":[]}"#, "layers"),
            (r#"[]"#, ""),
        ];
        for (input, path) in cases {
            match parse(input.as_bytes()) {
                Err(Error::Structure { path: got, .. }) => assert_eq!(&got, path, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = parse(b"{\n  \"schemaVersion\": 2,\n  \"layers\": [,]\n}").unwrap_err();
        match err {
            Error::Syntax {
                line,
                column,
                message,
            } => {
                assert_eq!((line, column), (3, 14));
                assert!(!message.contains("at line"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
