//! Every store passes the conformance suite, one test per case.

mod sqlite_in_memory {
    wharf_packages::conformance_tests!(wharf_packages::testkit::SqliteMemoryFixture::new);
}

mod sqlite_file {
    wharf_packages::conformance_tests!(wharf_packages::testkit::SqliteFileFixture::new);
}

mod cached_sqlite_file {
    wharf_packages::conformance_tests!(wharf_packages::testkit::CachedSqliteFixture::new);
}
