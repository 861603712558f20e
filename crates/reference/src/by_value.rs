//! The by-value conversions to and from the `oci-spec` crate's types,
//! written once: each delegates to the by-reference one.

/// For each conversion written by reference (`From<&A> for B`,
/// `TryFrom<&A> for B`), implements the by-value one (`From<A> for B`,
/// `TryFrom<A> for B`) by lending the value to it. Each impl is behind the
/// calling crate's `oci-spec` feature, and documented as such on docs.rs,
/// like the conversions themselves; wharf-manifest uses it too.
#[doc(hidden)]
#[macro_export]
macro_rules! oci_spec_by_value {
    () => {};
    (From<$a:ty> for $b:ty; $($rest:tt)*) => {
        #[cfg(feature = "oci-spec")]
        #[cfg_attr(docsrs, doc(cfg(feature = "oci-spec")))]
        impl From<$a> for $b {
            fn from(value: $a) -> Self {
                <$b>::from(&value)
            }
        }
        $crate::oci_spec_by_value!($($rest)*);
    };
    (TryFrom<$a:ty> for $b:ty, Error = $e:ty; $($rest:tt)*) => {
        #[cfg(feature = "oci-spec")]
        #[cfg_attr(docsrs, doc(cfg(feature = "oci-spec")))]
        impl TryFrom<$a> for $b {
            type Error = $e;
            fn try_from(value: $a) -> Result<Self, $e> {
                <$b>::try_from(&value)
            }
        }
        $crate::oci_spec_by_value!($($rest)*);
    };
}
