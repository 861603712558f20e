//! What object store errors mean to this crate.

use crate::error::Error;

/// The service named in [`Error::Unavailable`].
pub(super) const SERVICE: &str = "object store";

/// An object store failure that is not a missing object or a lost race: the
/// store was unreachable, refused us, or kept failing after its client's
/// retries. Never reported as a missing blob.
pub(super) fn unavailable(context: impl Into<String>, source: object_store::Error) -> Error {
    Error::Unavailable {
        service: SERVICE,
        context: context.into(),
        source: Box::new(source),
    }
}

pub(super) fn is_not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

/// A create-only put that found the key taken (S3 answers 412 to
/// `If-None-Match: *`, other stores "already exists").
pub(super) fn is_taken(e: &object_store::Error) -> bool {
    matches!(
        e,
        object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }
    )
}
