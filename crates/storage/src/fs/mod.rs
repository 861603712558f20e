//! The filesystem backend.

/// Storage in a directory tree. (Implementation in progress.)
#[derive(Debug)]
pub struct FsStorage {}
