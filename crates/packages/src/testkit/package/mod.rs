//! The cases of [`PackageRecords`]: packages,
//! grants, metadata, versions and tags, deletion, restoring and purging,
//! source repository collaborators, the access context, concurrency.

#[allow(unused_imports)]
use super::*;

mod access;
mod concurrency;
mod deletion;
mod retention;
mod settings;
mod versions;

pub use access::*;
pub use concurrency::*;
pub use deletion::*;
pub use retention::*;
pub use settings::*;
pub use versions::*;
