//! Every backend passes the conformance suite: one test per backend and
//! case, named `backend::trait::case`.

use wharf_storage::testkit::{CompositeFixture, FsFixture, MemoryFixture};

wharf_storage::storage_tests!(memory, MemoryFixture::default);
wharf_storage::storage_tests!(fs, FsFixture::new);
wharf_storage::storage_tests!(composite, CompositeFixture::default);
