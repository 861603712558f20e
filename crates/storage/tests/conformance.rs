//! Both backends pass the conformance suite, one test per case.

mod memory {
    wharf_storage::conformance_tests!(wharf_storage::testkit::MemoryFixture::default);
}

mod fs {
    wharf_storage::conformance_tests!(wharf_storage::testkit::FsFixture::new);
}

/// `run_all` runs the same suite in one test, for harnesses that prefer it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_passes_for_the_memory_backend() {
    wharf_storage::testkit::run_all(wharf_storage::testkit::MemoryFixture::default).await;
}
