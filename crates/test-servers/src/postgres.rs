//! A throwaway PostgreSQL cluster.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::guard::Guard;

/// A PostgreSQL server made for this test process: `initdb` in a temporary
/// directory, trust authentication for the `postgres` user on 127.0.0.1, no
/// fsync (the data is thrown away).
#[derive(Debug)]
pub struct Postgres {
    port: u16,
    bin: PathBuf,
    _guard: Guard,
}

/// The process's PostgreSQL server, started on first use; `None` (after a
/// loud message) when PostgreSQL is not installed and servers are not
/// required.
pub fn postgres() -> Option<&'static Postgres> {
    static SERVER: OnceLock<Option<Postgres>> = OnceLock::new();
    crate::started(
        &SERVER,
        Postgres::start,
        "PostgreSQL",
        "apt-get install postgresql, or set WHARF_PG_BIN to its bin directory",
    )
}

impl Postgres {
    fn start() -> Result<Postgres, String> {
        let bin = bin_dir().ok_or("no initdb found")?;
        let dir = tempfile::Builder::new()
            .prefix("wharf-pg-")
            .tempdir()
            .map_err(|e| format!("no temporary directory: {e}"))?
            .keep();
        let port = crate::free_port();
        let as_root = is_root();
        if as_root {
            // initdb refuses to run as root: the cluster belongs to
            // `postgres`, which must be able to reach its directory.
            let chown = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status();
            if !chown.is_ok_and(|s| s.success()) {
                return Err("cannot give the data directory to the postgres user".into());
            }
        }
        let run = if as_root {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let d = dir.display();
        let b = bin.display();
        let start = format!(
            "{run}{b}/initdb -D {d}/data -A trust -U postgres --no-sync >{d}/initdb.log 2>&1 \
               || {{ cat {d}/initdb.log >&2; exit 1; }}\n\
             {run}{b}/pg_ctl -D {d}/data -l {d}/log -w -o \
               \"-c listen_addresses=127.0.0.1 -p {port} -k {d} -c fsync=off \
               -c synchronous_commit=off -c full_page_writes=off -c max_connections=400\" \
               start >/dev/null || {{ cat {d}/log >&2; exit 1; }}"
        );
        let stop =
            format!("{run}{b}/pg_ctl -D {d}/data -m immediate -w stop >/dev/null 2>&1\nrm -rf {d}");
        let guard = Guard::spawn(&start, &stop).map_err(|e| e.to_string())?;
        Ok(Postgres {
            port,
            bin,
            _guard: guard,
        })
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of the server's `postgres` database.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The URL of database `name` on this server.
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates an empty database no other caller gets, and returns its URL.
    pub fn fresh_database(&self) -> String {
        let name = crate::unique_name("wharf_test_");
        let status = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(self.port.to_string())
            .arg(&name)
            .status()
            .expect("createdb runs");
        assert!(status.success(), "createdb {name} failed");
        self.database_url(&name)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// PostgreSQL's server binaries: `$WHARF_PG_BIN`, then Debian's
/// `/usr/lib/postgresql/VERSION/bin` (the newest), then `pg_config --bindir`.
fn bin_dir() -> Option<PathBuf> {
    let has_initdb = |p: &Path| p.join("initdb").is_file() && p.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("WHARF_PG_BIN") {
        return Some(PathBuf::from(dir)).filter(|p| has_initdb(p));
    }
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, p)| has_initdb(p))
        .collect();
    debian.sort();
    if let Some((_, dir)) = debian.pop() {
        return Some(dir);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    Some(dir).filter(|p| has_initdb(p))
}
