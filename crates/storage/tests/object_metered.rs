//! The conformance suite over a metered `ObjectStorage`: counting requests
//! changes nothing a caller sees. Over object_store's local filesystem,
//! whose whole-object reads the meter turns from files into streams.

#![cfg(feature = "object-store")]

use std::sync::Arc;

use object_store::local::LocalFileSystem;
use wharf_storage::testkit::ObjectFixture;
use wharf_storage::{ListingOrder, MIN_PART_SIZE};

fn metered_local_fixture() -> ObjectFixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = LocalFileSystem::new_with_prefix(dir.path()).expect("local object store");
    ObjectFixture::new(Arc::new(store), |b| {
        b.part_size(MIN_PART_SIZE)
            .listing_order(ListingOrder::Unordered)
            .metered()
    })
    .keeping(dir)
}

wharf_storage::storage_tests!(object_metered, metered_local_fixture);
