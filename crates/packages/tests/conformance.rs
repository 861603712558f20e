//! Every store passes the conformance suite: one test per backend and
//! case, named `backend::trait::case`.

use wharf_packages::testkit::{CachedSqliteFixture, SqliteFileFixture, SqliteMemoryFixture};

wharf_packages::package_store_tests!(sqlite_in_memory, SqliteMemoryFixture::new);
wharf_packages::package_store_tests!(sqlite_file, SqliteFileFixture::new);
wharf_packages::package_store_tests!(cached_sqlite_file, CachedSqliteFixture::new);

/// A fresh database on the test process's PostgreSQL server, or `None`
/// (after a loud message, or a failure under WHARF_REQUIRE_TEST_SERVERS=1)
/// when PostgreSQL is not installed.
#[cfg(feature = "postgres")]
fn fresh_database() -> Option<String> {
    wharf_test_servers::postgres().map(|pg| pg.fresh_database())
}

#[cfg(feature = "postgres")]
wharf_packages::package_store_tests!(postgres, || fresh_database()
    .map(wharf_packages::testkit::PgFixture::new));
#[cfg(feature = "postgres")]
wharf_packages::package_store_tests!(cached_postgres, || fresh_database()
    .map(wharf_packages::testkit::CachedPgFixture::new));
