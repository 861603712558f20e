//! The standard traits of the string-shaped types: they print and travel
//! as their canonical string and are parsed (and so validated) on the way
//! in. wharf-manifest and wharf-auth use the same macros for theirs.

/// Implements `Serialize` and `Deserialize` for `$ty` as its `Display`
/// string, parsed with `FromStr` on the way in; `$expecting` says what the
/// string should be. Without `$expecting`, the value is read as a `String`
/// first, so a value that is not a string is refused with serde's own
/// "expected a string". Also used by wharf-manifest, wharf-auth and
/// wharf-annotations for their string-shaped types (the caller needs
/// `serde` as a dependency).
#[doc(hidden)]
#[macro_export]
macro_rules! serde_as_string {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
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

/// Implements `Debug` for each type as its name around its `Display`
/// string, `Type(string)`: short, and what one would write to make it.
#[doc(hidden)]
#[macro_export]
macro_rules! debug_as_display {
    ($($ty:ident),+ $(,)?) => {$(
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($ty), "({})"), self)
            }
        }
    )+};
}

/// Implements the standard traits of a validated string type `$ty`, one
/// with `fn parse(&str) -> Result<Self, $err>` and `fn as_str(&self) ->
/// &str`:
///
/// - always `Display` (the string), `FromStr` (`parse`), `AsRef<str>`,
///   `PartialEq<str>`, `PartialEq<&str>`, and serde as the string
///   ([`serde_as_string!`], `$expecting` saying what it should be);
/// - after `;`, any of `Debug` (`Type(string)`, [`debug_as_display!`]), `Borrow` (`Borrow<str>`,
///   for types whose `Eq`, `Ord` and `Hash` are the string's) and
///   `OrdByStr` (`PartialEq`, `Eq`, `Hash`, `PartialOrd` and `Ord` by the
///   string, for types that hold more than it).
///
/// The caller needs `serde` as a dependency.
#[doc(hidden)]
#[macro_export]
macro_rules! string_type {
    ($ty:ident: $err:ty, $expecting:expr $(; $($extra:ident),+)?) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, $err> {
                $ty::parse(s)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        $crate::serde_as_string!($ty, $expecting);

        $($($crate::string_type!(@$extra $ty);)+)?
    };

    (@Debug $ty:ident) => {
        $crate::debug_as_display!($ty);
    };

    (@Borrow $ty:ident) => {
        impl std::borrow::Borrow<str> for $ty {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }
    };

    (@OrdByStr $ty:ident) => {
        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $ty {}

        impl std::hash::Hash for $ty {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state)
            }
        }

        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $ty {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }
    };
}

serde_as_string!(
    crate::Reference,
    "an image reference such as `ghcr.io/owner/image:tag`"
);

/// Defines a string type `$ty` checked by the grammar production
/// `$production` (`pub(crate) fn(&str) -> Result<(), Error>`): the
/// struct (an `Arc<str>`, compared, ordered and hashed as the string)
/// with `parse`, `from_checked` for strings the production already
/// accepted and `as_str`, and the traits of [`string_type!`] with the
/// extras after `;`.
macro_rules! checked_string {
    (
        $(#[$attr:meta])*
        pub struct $ty:ident checked by $production:path,
        $expecting:expr $(; $($extra:ident),+)?
    ) => {
        $(#[$attr])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(std::sync::Arc<str>);

        impl $ty {
            #[doc = concat!("Parses ", $expecting, ". Equivalent to `s.parse()`.")]
            pub fn parse(s: &str) -> Result<Self, $crate::Error> {
                $production(s)?;
                Ok($ty(s.into()))
            }

            #[doc = concat!("Wraps a string that has already been checked by [`", stringify!($production), "`].")]
            pub(crate) fn from_checked(s: &str) -> Self {
                $ty(s.into())
            }

            /// The whole string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        $crate::string_type!($ty: $crate::Error, $expecting $(; $($extra),+)?);
    };
}

pub(crate) use checked_string;
