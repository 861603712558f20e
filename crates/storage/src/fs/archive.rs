//! Archives on disk: a repository's content directories moved whole under
//! `archives/<key>/`, and back.
//!
//! A move of four directories is not one atomic step, so each archive or
//! restore first writes a journal entry naming the operation (fsynced,
//! renamed into place), then renames the directories, fsyncing both
//! parents of each, then removes the entry. [`Inner::recover_archives`]
//! runs at open and finishes any operation a crash interrupted: every
//! step is a rename that is simply redone for what has not moved yet, so
//! the repository ends either archived or restored, never split between
//! the two. Archives appear under their key only complete (assembled in
//! `archives/.tmp/`, then renamed), and are removed by first renaming them
//! back there.
//!
//! Archive operations of one process are serialized; several processes
//! must not archive or restore in one root at once.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::archive::{Archive, ArchiveKey};
use crate::error::{Error, Result};
use crate::manifest::StoredManifest;
use crate::page::{Page, PageRequest};
use crate::upload::UploadId;

use super::atomic::{
    create_dir, create_dirs, create_file, fsync_dir, if_exists, read_dir_keys, read_dir_names,
    read_json, write_file,
};
use super::layout::{digest_path, CONTENT, LINKS, MANIFESTS, TAGS};
use super::repositories::{read_manifest_file, read_tag_file};
use super::{corrupt, FsStorage, Inner};

/// The `origin` file of an archive.
#[derive(Debug, Serialize, Deserialize)]
struct Origin {
    repository: RepositoryName,
}

/// The `journal` file of an archive whose content is being moved.
#[derive(Debug, Serialize, Deserialize)]
struct Journal {
    op: Op,
    /// The repository the content moves out of (archive) or into
    /// (restore).
    repository: RepositoryName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Op {
    Archive,
    Restore,
}

/// Moves `from` to `to`, merging into `to` when it exists (a file in
/// `from` replaces its namesake), and makes the move durable. Nothing to do
/// when `from` does not exist, so a move interrupted midway is finished by
/// running it again.
fn move_tree(from: &Path, to: &Path) -> io::Result<()> {
    let Some(from_meta) = if_exists(fs::symlink_metadata(from))? else {
        return Ok(());
    };
    let parents = |from: &Path, to: &Path| -> io::Result<()> {
        for dir in [from.parent(), to.parent()].into_iter().flatten() {
            fsync_dir(dir)?;
        }
        Ok(())
    };
    let Some(to_meta) = if_exists(fs::symlink_metadata(to))? else {
        if let Some(parent) = to.parent() {
            create_dirs(parent)?;
        }
        fs::rename(from, to)?;
        return parents(from, to);
    };
    let to_is_dir = to_meta.is_dir();
    if from_meta.is_dir() && to_is_dir {
        for entry in fs::read_dir(from)? {
            let name = entry?.file_name();
            move_tree(&from.join(&name), &to.join(&name))?;
        }
        fs::remove_dir(from)?;
        return parents(from, to);
    }
    fs::rename(from, to)?;
    parents(from, to)
}

/// Whether `dir` holds a file anywhere below it.
fn holds_files(dir: &Path) -> io::Result<bool> {
    let Some(entries) = if_exists(fs::read_dir(dir))? else {
        return Ok(false);
    };
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_dir() || holds_files(&entry.path())? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Writes a small file durably, for a directory no reader sees yet.
fn write_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = create_file(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn to_json<T: Serialize>(value: &T, path: &Path) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| corrupt(path, e))
}

/// What an archive holds, as [`FsStorage::archived_content`] reads it.
/// Non-exhaustive so that fields can be added in a minor release.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArchivedContent {
    /// The repository its content was taken from.
    pub repository: RepositoryName,
    /// The blobs linked to it, in digest order.
    pub links: Vec<Digest>,
    /// Its manifests, in digest order.
    pub manifests: Vec<StoredManifest>,
    /// Its tags and the manifests they name, in tag order.
    pub tags: Vec<(Tag, Digest)>,
}

impl FsStorage {
    /// What archive `key` holds, read without moving it: for a copy of
    /// the whole storage (the
    /// [`RepositoryStore`](crate::RepositoryStore) API can only restore an
    /// archive, which changes the storage it reads). Its referrers are
    /// the manifests that have a subject.
    /// [`Error::ArchiveNotFound`] if there is no such archive.
    pub async fn archived_content(&self, key: &ArchiveKey) -> Result<ArchivedContent> {
        let key = key.clone();
        self.run(move |inner| inner.archived_content(&key)).await
    }
}

impl Inner {
    fn archive_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        // Guards no data: poisoning is moot.
        self.archives
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn archive_exists(&self, key: &ArchiveKey) -> bool {
        self.layout.archive_origin(key).is_file()
    }

    /// Serializes an operation on the archive `key`, which must exist.
    fn lock_existing(&self, key: &ArchiveKey) -> Result<std::sync::MutexGuard<'_, ()>> {
        let serialized = self.archive_lock();
        if !self.archive_exists(key) {
            return Err(Error::ArchiveNotFound(key.clone()));
        }
        Ok(serialized)
    }

    /// Moves the content directories of an archive's journaled operation,
    /// then ends it: the journal goes (archive), or the archive does
    /// (restore).
    fn run_journal(&self, key: &ArchiveKey, journal: &Journal) -> Result<()> {
        let archive = self.layout.archive(key);
        let repository = self.layout.repository(&journal.repository);
        for dir in CONTENT {
            let (from, to) = match journal.op {
                Op::Archive => (repository.join(dir), archive.join(dir)),
                Op::Restore => (archive.join(dir), repository.join(dir)),
            };
            move_tree(&from, &to).map_err(|e| {
                Error::io(format!("move {} to {}", from.display(), to.display()), e)
            })?;
        }
        match journal.op {
            Op::Archive => {
                super::atomic::remove_file(&self.layout.archive_journal(key))?;
                Ok(())
            }
            Op::Restore => self.discard_archive(key),
        }
    }

    /// Removes an archive directory: renamed out of sight first, so a
    /// crash midway never leaves half an archive under its key.
    fn discard_archive(&self, key: &ArchiveKey) -> Result<()> {
        let trash = self.layout.archives_tmp().join(UploadId::random().as_str());
        let archive = self.layout.archive(key);
        let context = || format!("remove archive {key}");
        fs::rename(&archive, &trash).map_err(|e| Error::io(context(), e))?;
        fsync_dir(&self.layout.archives()).map_err(|e| Error::io(context(), e))?;
        fs::remove_dir_all(&trash).map_err(|e| Error::io(context(), e))
    }

    pub(super) fn archive_repository(
        &self,
        repository: &RepositoryName,
        key: &ArchiveKey,
    ) -> Result<()> {
        let _serialized = self.archive_lock();
        // No manifest or tag is written into the name while its
        // directories move.
        let _repository = self.repository_locks.lock(repository);
        if self.archive_exists(key) {
            return Err(Error::ArchiveExists(key.clone()));
        }
        // Sessions first: one finished later would link into the name.
        self.cancel_idle_sessions(repository)?;
        let journal = Journal {
            op: Op::Archive,
            repository: repository.clone(),
        };
        let staging = self.layout.archives_tmp().join(UploadId::random().as_str());
        let archive = self.layout.archive(key);
        let origin = to_json(
            &Origin {
                repository: repository.clone(),
            },
            &archive,
        )?;
        let entry = to_json(&journal, &archive)?;
        let assembled = (|| {
            create_dir(&staging)?;
            write_new(&staging.join("origin"), &origin)?;
            write_new(&staging.join("journal"), &entry)?;
            fsync_dir(&staging)?;
            fs::rename(&staging, &archive)?;
            fsync_dir(&self.layout.archives())
        })();
        if let Err(e) = assembled {
            let _ = fs::remove_dir_all(&staging);
            return Err(match e.kind() {
                io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty => {
                    Error::ArchiveExists(key.clone())
                }
                _ => Error::io(format!("create archive {key}"), e),
            });
        }
        self.run_journal(key, &journal)
    }

    pub(super) fn restore_repository(
        &self,
        key: &ArchiveKey,
        repository: &RepositoryName,
    ) -> Result<()> {
        let _serialized = self.lock_existing(key)?;
        let _repository = self.repository_locks.lock(repository);
        let context = || format!("inspect repository {repository}");
        for dir in [
            self.layout.links(repository),
            self.layout.manifests(repository),
            self.layout.tags(repository),
        ] {
            if holds_files(&dir).map_err(|e| Error::io(context(), e))? {
                return Err(Error::RepositoryNotEmpty(repository.clone()));
            }
        }
        let journal = Journal {
            op: Op::Restore,
            repository: repository.clone(),
        };
        let path = self.layout.archive_journal(key);
        write_file(&self.layout, &path, &to_json(&journal, &path)?)?;
        self.run_journal(key, &journal)
    }

    pub(super) fn delete_archive(&self, key: &ArchiveKey) -> Result<()> {
        let _serialized = self.lock_existing(key)?;
        self.discard_archive(key)
    }

    /// What archive `key` holds, read where it is.
    fn archived_content(&self, key: &ArchiveKey) -> Result<ArchivedContent> {
        // Not restored or removed while it is read.
        let _serial = self.archive_lock();
        let origin: Origin = read_json(&self.layout.archive_origin(key))?
            .ok_or_else(|| Error::ArchiveNotFound(key.clone()))?;
        let dir = self.layout.archive(key);
        let links = self
            .digests_page(&dir.join(LINKS), &PageRequest::all())?
            .items;
        let manifest_dir = dir.join(MANIFESTS);
        let mut manifests = Vec::new();
        for digest in self.digests_page(&manifest_dir, &PageRequest::all())?.items {
            let path = digest_path(manifest_dir.clone(), &digest);
            let (header, bytes) =
                read_manifest_file(&path)?.ok_or_else(|| corrupt(&path, "listed, then gone"))?;
            manifests.push(StoredManifest::new(digest, header.media_type, bytes));
        }
        let tag_dir = dir.join(TAGS);
        let mut tags = Vec::new();
        let mut names: Vec<Tag> = read_dir_keys(&tag_dir)?;
        names.sort();
        for tag in names {
            let path = tag_dir.join(tag.as_str());
            let digest =
                read_tag_file(&path)?.ok_or_else(|| corrupt(&path, "listed, then gone"))?;
            tags.push((tag, digest));
        }
        Ok(ArchivedContent {
            repository: origin.repository,
            links,
            manifests,
            tags,
        })
    }

    /// A page of the archives: only the origins of the keys after `last`
    /// are read, until the page is full.
    pub(super) fn archives_page(&self, request: &PageRequest) -> Result<Page<Archive>> {
        let archive = |key: ArchiveKey| {
            // Removed since the listing: skipped.
            let origin: Option<Origin> = read_json(&self.layout.archive_origin(&key))?;
            Ok(origin.map(|origin| Archive::new(key, origin.repository)))
        };
        self.names_page(&self.layout.archives(), request, archive, |a| {
            a.key.as_str()
        })
    }

    /// At open: drops archives half created or half removed, and finishes
    /// every archive or restore a crash interrupted.
    pub(super) fn recover_archives(&self) -> Result<()> {
        let tmp = self.layout.archives_tmp();
        create_dirs(&tmp).map_err(|e| Error::io(format!("create {}", tmp.display()), e))?;
        for name in read_dir_names(&tmp)? {
            let path = tmp.join(name);
            fs::remove_dir_all(&path)
                .map_err(|e| Error::io(format!("remove {}", path.display()), e))?;
        }
        for key in read_dir_keys::<ArchiveKey>(&self.layout.archives())? {
            if let Some(journal) = read_json::<Journal>(&self.layout.archive_journal(&key))? {
                self.run_journal(&key, &journal)?;
            }
        }
        Ok(())
    }
}
