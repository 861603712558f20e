//! Throwaway servers for Wharf's tests: a PostgreSQL cluster made with
//! `initdb` in a temporary directory, and an S3-compatible server (moto's
//! `moto_server`), each started once per test process on a free port and
//! stopped when the process exits.
//!
//! No mock: the tests that claim a backend works with PostgreSQL or S3 run
//! against these real servers. Where the binaries cannot be found, the
//! accessors return `None` after printing, loudly, which server is missing
//! and how to install it; a test then returns early. Set
//! `WHARF_REQUIRE_TEST_SERVERS=1` (as `.ci/run` does) to make a missing
//! server a failure instead, so that nothing is skipped in CI.
//!
//! Each server is started under a small shell guard that reads its standard
//! input until end of file: when the test process exits, for whatever
//! reason, the pipe closes and the guard stops the server and removes its
//! files. Nothing is left running.
//!
//! ```no_run
//! if let Some(pg) = wharf_test_servers::postgres() {
//!     let url = pg.fresh_database();
//!     assert!(url.starts_with("postgres://"));
//! }
//! ```

use std::sync::OnceLock;

mod guard;
mod postgres;
mod s3;

pub use postgres::{postgres, Postgres};
pub use s3::{s3, S3};

/// Whether a missing server must fail the test rather than skip it
/// (`WHARF_REQUIRE_TEST_SERVERS=1`).
pub fn servers_required() -> bool {
    std::env::var_os("WHARF_REQUIRE_TEST_SERVERS").is_some_and(|v| v != "0" && !v.is_empty())
}

/// The server in `cell`, started by `start` on first use; `None` when it
/// cannot start (see [`unavailable`]).
fn started<T>(
    cell: &'static OnceLock<Option<T>>,
    start: fn() -> Result<T, String>,
    server: &str,
    install: &str,
) -> Option<&'static T> {
    cell.get_or_init(|| {
        start()
            .inspect_err(|why| unavailable(server, why, install))
            .ok()
    })
    .as_ref()
}

/// Reports that `server` cannot be had, and why: a panic when servers are
/// required, otherwise a loud message on standard error naming the tests
/// that will be skipped.
fn unavailable(server: &str, why: &str, install: &str) {
    let message = format!(
        "{server} is not available ({why}); install it ({install}) to run the {server} tests"
    );
    if servers_required() {
        panic!("{message} (WHARF_REQUIRE_TEST_SERVERS is set)");
    }
    eprintln!("\n*** SKIPPING every {server} test: {message} ***\n");
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free local port")
}

/// A name no other call in this process (or, very likely, any other
/// process) returns: for databases and buckets.
fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{}x{}x{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}
