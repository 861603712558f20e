//! Serde support for the string-shaped types: they travel as their
//! canonical string and are parsed (and so validated) on the way in.

/// Implements `Serialize` and `Deserialize` for `$ty` as its `Display`
/// string, parsed with `FromStr` on the way in; `$expecting` says what the
/// string should be. Also used by wharf-auth for its string-shaped types
/// (the caller needs `serde` as a dependency).
#[doc(hidden)]
#[macro_export]
macro_rules! serde_as_string {
    ($ty:ty, $expecting:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$ty, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                d.deserialize_str(Visitor)
            }
        }
    };
}

serde_as_string!(crate::Digest, "a digest string such as `sha256:<64 hex>`");
serde_as_string!(crate::Tag, "a tag string");
serde_as_string!(
    crate::RepositoryName,
    "a repository name such as `owner/image`"
);
serde_as_string!(
    crate::Reference,
    "an image reference such as `ghcr.io/owner/image:tag`"
);
