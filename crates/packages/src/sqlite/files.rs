//! The database's files (the database, its write-ahead log and its
//! shared-memory index) and the private mode they are kept in.

#[cfg(unix)]
use std::fs;
use std::fs::OpenOptions;
use std::io;
#[cfg(unix)]
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The mode of the database's files: read and write for their owner only,
/// since they hold every account, grant and token hash.
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates the database file at `path` with [`FILE_MODE`] if it does not
/// exist, and takes group and other permissions away from it and from its
/// `-wal` and `-shm` files if they have any. SQLite gives the files it
/// creates beside a database the database's mode, so they are private too.
///
/// A mode given at creation can only be narrowed by the umask, so this
/// holds under any umask.
pub(crate) fn make_private(path: &Path) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options.open(path)?;
    for file in [
        path.to_path_buf(),
        beside(path, "-wal"),
        beside(path, "-shm"),
    ] {
        restrict(&file)?;
    }
    Ok(())
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Takes group and other permissions away from `file`, if it exists.
#[cfg(unix)]
fn restrict(file: &Path) -> io::Result<()> {
    let mode = match fs::metadata(file) {
        Ok(meta) => meta.permissions().mode(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if mode & 0o077 != 0 {
        fs::set_permissions(file, fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

/// Modes are a Unix notion: elsewhere there is nothing to take away.
#[cfg(not(unix))]
fn restrict(_file: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn a_new_database_file_is_private_and_old_ones_are_made_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("new.db");
        make_private(&db).expect("create");
        assert_eq!(mode(&db), 0o600);

        let old = dir.path().join("old.db");
        let wal = beside(&old, "-wal");
        for file in [&old, &wal] {
            fs::write(file, b"").expect("write");
            fs::set_permissions(file, fs::Permissions::from_mode(0o644)).expect("chmod");
        }
        make_private(&old).expect("restrict");
        assert_eq!(mode(&old), 0o600);
        assert_eq!(mode(&wal), 0o600);
        assert!(
            !beside(&old, "-shm").exists(),
            "only existing files are touched"
        );
    }
}
