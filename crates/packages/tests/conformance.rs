//! Every store passes the conformance suite: one test per backend and
//! case, named `backend::trait::case`.

use wharf_packages::testkit::{CachedSqliteFixture, SqliteFileFixture, SqliteMemoryFixture};

wharf_packages::package_store_tests!(sqlite_in_memory, SqliteMemoryFixture::new);
wharf_packages::package_store_tests!(sqlite_file, SqliteFileFixture::new);
wharf_packages::package_store_tests!(cached_sqlite_file, CachedSqliteFixture::new);
