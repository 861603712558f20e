//! The crash-safe primitives: write a temporary file, fsync it, rename it
//! into place, fsync the directory; and the private modes everything is
//! created with.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::str::FromStr;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

use super::corrupt;
use super::layout::Layout;

/// The mode of every directory storage creates: its owner's alone, so that
/// no other local user lists, let alone reads, private images.
pub(crate) const DIR_MODE: u32 = 0o700;

/// The mode of every file storage creates (blobs, manifests, tags, upload
/// data, archives): read and write for its owner only. A mode given at
/// creation can only be narrowed by the umask, so this holds under any.
pub(crate) const FILE_MODE: u32 = 0o600;

/// Creates (or truncates) the file at `path` for writing, with
/// [`FILE_MODE`].
pub(crate) fn create_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(FILE_MODE);
    options.open(path)
}

/// Creates the directory `dir` (not its parents), with [`DIR_MODE`].
pub(crate) fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    builder.mode(DIR_MODE);
    builder.create(dir)
}

/// Takes group and other permissions away from `dir`, made before storage
/// created its directories private (or by hand): whatever is below it is
/// then out of other users' reach, whatever the modes of older files.
pub(crate) fn make_private(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        let mode = fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Makes a rename or unlink in `dir` durable.
pub(crate) fn fsync_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() {
        return File::open(".")?.sync_all();
    }
    File::open(dir)?.sync_all()
}

/// Creates `dir` and any missing parents (with [`DIR_MODE`]), fsyncing the
/// parent of every directory created so that the new entries survive a
/// crash.
///
/// A relative path's last ancestor is the empty path, which names the
/// current directory: it exists, and is never created.
pub(crate) fn create_dirs(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    match create_dir(dir) {
        Ok(()) => {}
        // Another writer created it concurrently: fine.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => return Ok(()),
        Err(e) => return Err(e),
    }
    match dir.parent() {
        Some(parent) => fsync_dir(parent),
        None => Ok(()),
    }
}

/// Moves a complete, fsynced file to `target`, atomically replacing whatever
/// was there, and makes the rename durable.
pub(crate) fn rename_into_place(from: &Path, target: &Path) -> io::Result<()> {
    let parent = target
        .parent()
        .ok_or_else(|| io::Error::other("target has no parent directory"))?;
    create_dirs(parent)?;
    fs::rename(from, target)?;
    fsync_dir(parent)
}

/// Writes `contents` to `target` so that a reader (or a crash) sees either
/// the old file or the complete new one, never a partial one.
pub(crate) fn write_file(layout: &Layout, target: &Path, contents: &[u8]) -> Result<()> {
    let temp = layout.temp_file();
    let written = (|| {
        let mut file = create_file(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        rename_into_place(&temp, target)
    })();
    written.map_err(|e| {
        let _ = fs::remove_file(&temp);
        Error::io(format!("write {}", target.display()), e)
    })
}

/// What an operation on a path gave, `None` if it failed because nothing
/// is there.
pub(crate) fn if_exists<T>(result: io::Result<T>) -> io::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// [`if_exists`], any other failure reported as `"{verb} {path}"`.
pub(crate) fn present<T>(result: io::Result<T>, verb: &str, path: &Path) -> Result<Option<T>> {
    if_exists(result).map_err(|e| Error::io(format!("{verb} {}", path.display()), e))
}

/// Removes `path` durably. Returns whether it existed.
pub(crate) fn remove_file(path: &Path) -> Result<bool> {
    let removed = remove_file_lazily(path)?;
    if removed {
        if let Some(parent) = path.parent() {
            fsync_dir(parent).map_err(|e| Error::io(format!("sync {}", parent.display()), e))?;
        }
    }
    Ok(removed)
}

/// Removes a file like [`remove_file`], without making the removal
/// durable: for garbage collection's removals, which a crash may undo
/// harmlessly (the next collection removes the file again).
pub(crate) fn remove_file_lazily(path: &Path) -> Result<bool> {
    Ok(present(fs::remove_file(path), "remove", path)?.is_some())
}

/// Reads a small file, `None` if it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    present(fs::read(path), "read", path)
}

/// The entries of a directory, empty if it does not exist.
pub(crate) fn read_dir_names(dir: &Path) -> Result<Vec<String>> {
    let Some(entries) = present(fs::read_dir(dir), "list", dir)? else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("list {}", dir.display()), e))?;
        // Names we wrote are ASCII; anything else is not ours and is skipped.
        if let Ok(name) = entry.file_name().into_string() {
            names.push(name);
        }
    }
    Ok(names)
}

/// The entries of a directory whose names parse as `K`, in no particular
/// order, empty if it does not exist. Names that do not parse are not ours
/// and are skipped.
pub(crate) fn read_dir_keys<K: FromStr>(dir: &Path) -> Result<Vec<K>> {
    Ok(read_dir_names(dir)?
        .into_iter()
        .filter_map(|name| name.parse().ok())
        .collect())
}

/// Reads and decodes a small JSON file, `None` if it does not exist.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let Some(bytes) = read_optional(path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| corrupt(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn what_storage_creates_is_its_owners_alone_and_an_open_root_is_closed() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| fs::metadata(path).expect("metadata").permissions().mode() & 0o777;
        let dir = tempfile::tempdir().expect("tempdir");
        let nested = dir.path().join("a/b");
        create_dirs(&nested).expect("create dirs");
        assert_eq!(mode(&dir.path().join("a")), DIR_MODE);
        assert_eq!(mode(&nested), DIR_MODE);
        let file = nested.join("f");
        create_file(&file).expect("create file");
        assert_eq!(mode(&file), FILE_MODE);

        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        make_private(dir.path()).expect("make private");
        assert_eq!(mode(dir.path()), 0o700);
        // Already private: left alone (an owner's own bits are kept).
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o500)).expect("chmod");
        make_private(dir.path()).expect("make private");
        assert_eq!(mode(dir.path()), 0o500);
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).expect("chmod");
    }

    #[test]
    fn the_empty_path_is_the_current_directory() {
        // The last ancestor of a relative path such as `registry-data/blobs`.
        create_dirs(Path::new("")).expect("create the empty path");
        fsync_dir(Path::new("")).expect("sync the current directory");
    }
}
