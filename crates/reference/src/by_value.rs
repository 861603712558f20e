//! The conversions to and from the `oci-spec` crate's types, behind the
//! `oci-spec` feature, written once by reference with their by-value
//! twins derived.

/// Implements each conversion given by reference (`impl From<&A> for B`,
/// `impl TryFrom<&A> for B`) as written, and the by-value one (`From<A>
/// for B`, `TryFrom<A> for B`) by lending the value to it. Every impl is
/// behind the calling crate's `oci-spec` feature, and documented as such on
/// docs.rs; wharf-manifest uses it too.
#[doc(hidden)]
#[macro_export]
macro_rules! oci_spec_conversions {
    () => {};
    ($(#[$attr:meta])* impl From<&$a:ty> for $b:ty { $($body:tt)* } $($rest:tt)*) => {
        #[cfg(feature = "oci-spec")]
        #[cfg_attr(docsrs, doc(cfg(feature = "oci-spec")))]
        $(#[$attr])*
        impl From<&$a> for $b {
            $($body)*
        }

        #[cfg(feature = "oci-spec")]
        #[cfg_attr(docsrs, doc(cfg(feature = "oci-spec")))]
        impl From<$a> for $b {
            fn from(value: $a) -> Self {
                <$b>::from(&value)
            }
        }

        $crate::oci_spec_conversions!($($rest)*);
    };
    ($(#[$attr:meta])* impl TryFrom<&$a:ty> for $b:ty { type Error = $e:ty; $($body:tt)* } $($rest:tt)*) => {
        #[cfg(feature = "oci-spec")]
        #[cfg_attr(docsrs, doc(cfg(feature = "oci-spec")))]
        $(#[$attr])*
        impl TryFrom<&$a> for $b {
            type Error = $e;
            $($body)*
        }

        #[cfg(feature = "oci-spec")]
        #[cfg_attr(docsrs, doc(cfg(feature = "oci-spec")))]
        impl TryFrom<$a> for $b {
            type Error = $e;
            fn try_from(value: $a) -> Result<Self, $e> {
                <$b>::try_from(&value)
            }
        }

        $crate::oci_spec_conversions!($($rest)*);
    };
}
