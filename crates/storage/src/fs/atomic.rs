//! The crash-safe primitives: write a temporary file, fsync it, rename it
//! into place, fsync the directory.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use crate::error::{Error, Result};

use super::layout::Layout;

/// Makes a rename or unlink in `dir` durable.
pub(crate) fn fsync_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() {
        return File::open(".")?.sync_all();
    }
    File::open(dir)?.sync_all()
}

/// Creates `dir` and any missing parents, fsyncing the parent of every
/// directory created so that the new entries survive a crash.
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
    match fs::create_dir(dir) {
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
        let mut file = File::create(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        rename_into_place(&temp, target)
    })();
    written.map_err(|e| {
        let _ = fs::remove_file(&temp);
        Error::io(format!("write {}", target.display()), e)
    })
}

/// Removes `path` durably. Returns whether it existed.
pub(crate) fn remove_file(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => {
            if let Some(parent) = path.parent() {
                fsync_dir(parent)
                    .map_err(|e| Error::io(format!("sync {}", parent.display()), e))?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(format!("remove {}", path.display()), e)),
    }
}

/// Reads a small file, `None` if it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("read {}", path.display()), e)),
    }
}

/// The entries of a directory, empty if it does not exist.
pub(crate) fn read_dir_names(dir: &Path) -> Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("list {}", dir.display()), e)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_path_is_the_current_directory() {
        // The last ancestor of a relative path such as `registry-data/blobs`.
        create_dirs(Path::new("")).expect("create the empty path");
        fsync_dir(Path::new("")).expect("sync the current directory");
    }
}
