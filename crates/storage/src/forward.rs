//! `forward!`: a storage trait implemented by a wrapper that answers some
//! methods itself and hands every other one to a field.

/// Implements `$trait` ([`BlobStore`](crate::BlobStore),
/// [`UploadStore`](crate::UploadStore) or
/// [`RepositoryStore`](crate::RepositoryStore)) for a wrapper type: the
/// methods written out in full, and for every other method of the trait one
/// that asks the field `$field` (or, with `to pointee`, what a smart pointer
/// points to) the same question and returns its answer. The methods
/// written out are plain `async fn`s (no attributes or doc comments).
///
/// ```ignore
/// forward! {
///     impl[B: BlobStore] BlobStore for Wrapper<B> {
///         async fn blob_size(&self, digest: &Digest) -> Result<u64> { ... }
///     }
///     to blobs
/// }
/// ```
macro_rules! forward {
    // A smart pointer: ask what it points to.
    (
        impl[$($generics:tt)*] $trait:ident for $type:ty { $($written:tt)* }
        to pointee
    ) => {
        $crate::forward::trait_methods! { $trait => forward! {
            @impl($) [$($generics)*] $trait for $type { $($written)* } (self) [(**self)]
        } }
    };
    (
        impl[$($generics:tt)*] $trait:ident for $type:ty { $($written:tt)* }
        to $field:ident
    ) => {
        $crate::forward::trait_methods! { $trait => forward! {
            @impl($) [$($generics)*] $trait for $type { $($written)* } (self) [self.$field]
        } }
    };
    // Keeps the trait's methods not written out. `$d` is a `$` for the
    // helper macro's own variables.
    (
        @impl($d:tt) [$($generics:tt)*] $trait:ident for $type:ty {
            $( async fn $written:ident $params:tt -> $returns:ty $body:block )*
        }
        ($self:tt) [$receiver:expr]
        $( fn $name:ident $args:tt -> $ret:ty; )*
    ) => {
        const _: () = {
            // Goes through the methods one by one, dropping each written
            // one, then implements the trait with the written and the kept
            // methods (all in one impl, for `async_trait` to see them).
            macro_rules! keep_unwritten {
                $(
                    ([$d($d kept:tt)*] fn $written $d _args:tt -> $d _ret:ty; $d($d rest:tt)*) => {
                        keep_unwritten! { [$d($d kept)*] $d($d rest)* }
                    };
                )*
                ([$d($d kept:tt)*] fn $d name:ident $d args:tt -> $d ret:ty; $d($d rest:tt)*) => {
                    keep_unwritten! { [$d($d kept)* fn $d name $d args -> $d ret;] $d($d rest)* }
                };
                ([$d($d kept:tt)*]) => {
                    forward! {
                        @emit [$($generics)*] $trait for $type {
                            $( async fn $written $params -> $returns $body )*
                        }
                        ($self) [$receiver]
                        $d($d kept)*
                    }
                };
            }

            keep_unwritten! { [] $( fn $name $args -> $ret; )* }
        };
    };
    // `$self` and the receiver come from the same rule, so that `self`
    // means the same in both (macro hygiene).
    (
        @emit [$($generics:tt)*] $trait:ident for $type:ty { $($written:tt)* }
        ($self:tt) [$receiver:expr]
        $( fn $name:ident($($arg:ident: $arg_type:ty),* $(,)?) -> $ret:ty; )*
    ) => {
        #[async_trait::async_trait]
        impl<$($generics)*> $trait for $type {
            $($written)*

            $(
                async fn $name(&$self, $($arg: $arg_type),*) -> $crate::Result<$ret> {
                    $receiver.$name($($arg),*).await
                }
            )*
        }
    };
}

/// Calls `$callback` with `$args` followed by the methods of `$trait`, one
/// `fn name(argument: Type, ...) -> Answer;` each (the answer without its
/// `Result`). The one list of each trait's methods for [`forward!`]: a
/// required method added to a trait and not here fails to compile in every
/// wrapper, but one with a default body would quietly not be forwarded, so
/// add it here too.
macro_rules! trait_methods {
    (BlobStore => $callback:ident! { $($args:tt)* }) => {
        $callback! { $($args)*
            fn blob_size(digest: &wharf_reference::Digest) -> u64;
            fn read_blob(digest: &wharf_reference::Digest, range: Option<$crate::ByteRange>) -> $crate::BlobContent;
            fn put_blob(digest: &wharf_reference::Digest, body: $crate::ChunkStream) -> u64;
            fn delete_blob(digest: &wharf_reference::Digest) -> ();
            fn list_blobs(page: &$crate::PageRequest) -> $crate::Page<wharf_reference::Digest>;
            fn claim_blob(digest: &wharf_reference::Digest) -> u64;
            fn list_blob_entries(page: &$crate::PageRequest) -> $crate::Page<$crate::BlobEntry>;
            fn condemn_blob(digest: &wharf_reference::Digest) -> bool;
            fn pardon_blob(digest: &wharf_reference::Digest) -> ();
            fn execute_blob(digest: &wharf_reference::Digest) -> bool;
            fn condemned_blobs(page: &$crate::PageRequest) -> $crate::Page<wharf_reference::Digest>;
        }
    };
    (UploadStore => $callback:ident! { $($args:tt)* }) => {
        $callback! { $($args)*
            fn start_upload(repository: &wharf_reference::RepositoryName) -> $crate::UploadStatus;
            fn start_upload_for(repository: &wharf_reference::RepositoryName, owner: &str) -> $crate::UploadStatus;
            fn upload_sessions(page: &$crate::PageRequest) -> $crate::Page<$crate::UploadSession>;
            fn append_upload(repository: &wharf_reference::RepositoryName, id: &$crate::UploadId, offset: u64, body: $crate::ChunkStream) -> $crate::UploadStatus;
            fn upload_status(repository: &wharf_reference::RepositoryName, id: &$crate::UploadId) -> $crate::UploadStatus;
            fn finish_upload(repository: &wharf_reference::RepositoryName, id: &$crate::UploadId, expected: &wharf_reference::Digest) -> u64;
            fn upload_blob(repository: &wharf_reference::RepositoryName, digest: &wharf_reference::Digest, body: $crate::ChunkStream) -> u64;
            fn cancel_upload(repository: &wharf_reference::RepositoryName, id: &$crate::UploadId) -> ();
            fn cancel_uploads_in(repository: &wharf_reference::RepositoryName) -> usize;
            fn purge_expired_uploads(max_age: std::time::Duration) -> usize;
        }
    };
    (RepositoryStore => $callback:ident! { $($args:tt)* }) => {
        $callback! { $($args)*
            fn link_blob(repository: &wharf_reference::RepositoryName, digest: &wharf_reference::Digest) -> ();
            fn is_blob_linked(repository: &wharf_reference::RepositoryName, digest: &wharf_reference::Digest) -> bool;
            fn unlink_blob(repository: &wharf_reference::RepositoryName, digest: &wharf_reference::Digest) -> ();
            fn linked_blobs(repository: &wharf_reference::RepositoryName, page: &$crate::PageRequest) -> $crate::Page<wharf_reference::Digest>;
            fn put_manifest(repository: &wharf_reference::RepositoryName, manifest: $crate::ManifestPut) -> ();
            fn get_manifest(repository: &wharf_reference::RepositoryName, digest: &wharf_reference::Digest) -> $crate::StoredManifest;
            fn stat_manifest(repository: &wharf_reference::RepositoryName, digest: &wharf_reference::Digest) -> $crate::ManifestInfo;
            fn delete_manifest(repository: &wharf_reference::RepositoryName, digest: &wharf_reference::Digest) -> Vec<wharf_reference::Tag>;
            fn list_manifests(repository: &wharf_reference::RepositoryName, page: &$crate::PageRequest) -> $crate::Page<wharf_reference::Digest>;
            fn set_tag(repository: &wharf_reference::RepositoryName, tag: &wharf_reference::Tag, digest: &wharf_reference::Digest) -> ();
            fn resolve_tag(repository: &wharf_reference::RepositoryName, tag: &wharf_reference::Tag) -> wharf_reference::Digest;
            fn delete_tag(repository: &wharf_reference::RepositoryName, tag: &wharf_reference::Tag) -> wharf_reference::Digest;
            fn list_tags(repository: &wharf_reference::RepositoryName, page: &$crate::PageRequest) -> $crate::Page<wharf_reference::Tag>;
            fn tags_of(repository: &wharf_reference::RepositoryName, digest: &wharf_reference::Digest, page: &$crate::PageRequest) -> $crate::Page<wharf_reference::Tag>;
            fn list_referrers(repository: &wharf_reference::RepositoryName, subject: &wharf_reference::Digest, artifact_type: Option<&str>, page: &$crate::PageRequest) -> $crate::Page<$crate::Referrer>;
            fn list_repositories(page: &$crate::PageRequest) -> $crate::Page<wharf_reference::RepositoryName>;
            fn archive_repository(repository: &wharf_reference::RepositoryName, key: &$crate::ArchiveKey) -> ();
            fn restore_repository(key: &$crate::ArchiveKey, repository: &wharf_reference::RepositoryName) -> ();
            fn delete_archive(key: &$crate::ArchiveKey) -> ();
            fn list_archives(page: &$crate::PageRequest) -> $crate::Page<$crate::Archive>;
            fn confirm_link(repository: &wharf_reference::RepositoryName, digest: &wharf_reference::Digest) -> bool;
            fn unlink_blob_unused_since(repository: &wharf_reference::RepositoryName, digest: &wharf_reference::Digest, cutoff: std::time::SystemTime) -> bool;
            fn link_counts(digests: &[wharf_reference::Digest]) -> std::collections::HashMap<wharf_reference::Digest, u64>;
        }
    };
}

pub(crate) use {forward, trait_methods};
