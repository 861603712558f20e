//! Both backends pass the conformance suite, one test per case.

mod memory {
    wharf_storage::conformance_tests!(wharf_storage::testkit::MemoryFixture::default);
}

mod fs {
    wharf_storage::conformance_tests!(wharf_storage::testkit::FsFixture::new);
}
