//! `forward!`: a storage trait implemented by a wrapper that answers some
//! methods itself and hands every other one to a field.

/// Implements `$trait` for a wrapper type: first the methods written out in
/// full, then one line per method that asks the field `$field` (or, with
/// `to pointee:`, what a smart pointer points to) the same question and
/// returns its answer.
///
/// ```ignore
/// forward! {
///     impl[B: BlobStore] BlobStore for Wrapper<B> {
///         async fn blob_size(&self, digest: &Digest) -> Result<u64> { ... }
///     }
///     to blobs:
///     fn delete_blob(digest: &Digest) -> ();
/// }
/// ```
macro_rules! forward {
    // A smart pointer: ask what it points to.
    (
        impl[$($generics:tt)*] $trait:ident for $type:ty { $($written:tt)* }
        to pointee:
        $( fn $name:ident($($arg:ident: $arg_type:ty),* $(,)?) -> $ret:ty; )*
    ) => {
        #[async_trait::async_trait]
        impl<$($generics)*> $trait for $type {
            $($written)*

            $(
                async fn $name(&self, $($arg: $arg_type),*) -> $crate::Result<$ret> {
                    (**self).$name($($arg),*).await
                }
            )*
        }
    };
    (
        impl[$($generics:tt)*] $trait:ident for $type:ty { $($written:tt)* }
        to $field:ident:
        $( fn $name:ident($($arg:ident: $arg_type:ty),* $(,)?) -> $ret:ty; )*
    ) => {
        #[async_trait::async_trait]
        impl<$($generics)*> $trait for $type {
            $($written)*

            $(
                async fn $name(&self, $($arg: $arg_type),*) -> $crate::Result<$ret> {
                    self.$field.$name($($arg),*).await
                }
            )*
        }
    };
}

pub(crate) use forward;
