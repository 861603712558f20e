//! A crash in the middle of archiving or restoring a repository leaves it,
//! once the storage is opened again, wholly archived or wholly restored:
//! never split between its name and its archive, never half an archive.
//!
//! Each case builds on disk the state a crash would leave at one step of
//! the documented layout (`archives/<key>/origin`, `journal`, the content
//! directories, `archives/.tmp/`), then reopens.
//!
//! Also: an archive reads back whole where it is
//! ([`FsStorage::archived_content`]), without moving.

use std::fs;
use std::path::Path;

use wharf_reference::{Digest, MediaType, RepositoryName};
use wharf_storage::testkit::{everything, upload};
use wharf_storage::{Archive, ArchiveKey, FsStorage, ManifestPut, PageRequest, RepositoryStore};

const OCI_MANIFEST: MediaType = MediaType::OCI_IMAGE_MANIFEST;

fn name() -> RepositoryName {
    "acme/vault".parse().expect("name")
}

fn key() -> ArchiveKey {
    "package-7".parse().expect("key")
}

/// A repository with a linked blob, a manifest and a tag.
async fn filled(root: &Path) -> (Digest, Digest) {
    let storage = FsStorage::open(root).expect("open");
    let layer = upload(&storage, &name(), b"layer", 2).await;
    let bytes = br#"{"schemaVersion":2}"#.to_vec();
    let manifest = Digest::sha256(&bytes);
    storage
        .put_manifest(
            &name(),
            ManifestPut::new(manifest.clone(), OCI_MANIFEST, bytes),
        )
        .await
        .expect("manifest");
    storage
        .set_tag(&name(), &"v1".parse().expect("tag"), &manifest)
        .await
        .expect("tag");
    (layer, manifest)
}

/// A new directory holding a [`filled`] repository, archived through a
/// storage opened for it; with the repository's layer and manifest.
async fn archived() -> (tempfile::TempDir, Digest, Digest) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (layer, manifest) = filled(dir.path()).await;
    FsStorage::open(dir.path())
        .expect("open")
        .archive_repository(&name(), &key())
        .await
        .expect("archive");
    (dir, layer, manifest)
}

/// Every archive, in one page.
async fn archives(storage: &FsStorage) -> Vec<Archive> {
    everything(storage.list_archives(&PageRequest::all()).await)
}

fn write_archive_files(root: &Path, op: &str, with_journal: bool) {
    let archive = root.join("archives").join(key().as_str());
    fs::create_dir_all(&archive).expect("archive dir");
    fs::write(archive.join("origin"), r#"{"repository":"acme/vault"}"#).expect("origin");
    if with_journal {
        fs::write(
            archive.join("journal"),
            format!(r#"{{"op":"{op}","repository":"acme/vault"}}"#),
        )
        .expect("journal");
    }
}

fn move_dir(root: &Path, dir: &str, to_archive: bool) {
    let repository = root.join("repositories/acme/vault").join(dir);
    let archive = root.join("archives").join(key().as_str()).join(dir);
    if to_archive {
        fs::rename(repository, archive).expect("move");
    } else {
        fs::rename(archive, repository).expect("move");
    }
}

async fn is_archived(storage: &FsStorage, layer: &Digest, manifest: &Digest) -> bool {
    let linked = storage.is_blob_linked(&name(), layer).await.expect("link");
    let stored = storage.get_manifest(&name(), manifest).await.is_ok();
    let tagged = storage
        .resolve_tag(&name(), &"v1".parse().expect("tag"))
        .await
        .is_ok();
    let listed = !archives(storage).await.is_empty();
    match (linked, stored, tagged, listed) {
        (false, false, false, true) => true,
        (true, true, true, false) => false,
        split => panic!("the repository is split between its name and its archive: {split:?}"),
    }
}

#[tokio::test]
async fn an_archive_interrupted_after_its_journal_is_finished_at_open() {
    for moved in 0..=3 {
        let dir = tempfile::tempdir().expect("tempdir");
        let (layer, manifest) = filled(dir.path()).await;
        write_archive_files(dir.path(), "archive", true);
        for content in ["_links", "_manifests", "_tags"].iter().take(moved) {
            move_dir(dir.path(), content, true);
        }
        let storage = FsStorage::open(dir.path()).expect("reopen");
        assert!(
            is_archived(&storage, &layer, &manifest).await,
            "after {moved} directories moved"
        );
        assert!(!dir
            .path()
            .join("archives")
            .join(key().as_str())
            .join("journal")
            .exists());
        storage
            .restore_repository(&key(), &name())
            .await
            .expect("restorable");
        assert!(!is_archived(&storage, &layer, &manifest).await);
    }
}

#[tokio::test]
async fn a_restore_interrupted_after_its_journal_is_finished_at_open() {
    for moved in 0..=3 {
        let (dir, layer, manifest) = archived().await;
        write_archive_files(dir.path(), "restore", true);
        for content in ["_links", "_manifests", "_tags"].iter().take(moved) {
            move_dir(dir.path(), content, false);
        }
        let storage = FsStorage::open(dir.path()).expect("reopen");
        assert!(
            !is_archived(&storage, &layer, &manifest).await,
            "after {moved} directories moved"
        );
        assert!(!dir.path().join("archives").join(key().as_str()).exists());
    }
}

#[tokio::test]
async fn archives_half_created_or_half_removed_are_dropped_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (layer, manifest) = filled(dir.path()).await;
    // Assembled but never renamed into place; and renamed away to be
    // removed, then the crash.
    for leftover in ["0123", "4567"] {
        let path = dir.path().join("archives/.tmp").join(leftover);
        fs::create_dir_all(path.join("_links/sha256")).expect("leftover");
        fs::write(path.join("origin"), r#"{"repository":"acme/vault"}"#).expect("origin");
    }
    let storage = FsStorage::open(dir.path()).expect("reopen");
    assert!(!is_archived(&storage, &layer, &manifest).await);
    assert_eq!(
        fs::read_dir(dir.path().join("archives/.tmp"))
            .expect("tmp")
            .count(),
        0
    );
}

#[tokio::test]
async fn a_complete_archive_is_left_alone_at_open() {
    let (dir, layer, manifest) = archived().await;
    let storage = FsStorage::open(dir.path()).expect("reopen");
    assert!(is_archived(&storage, &layer, &manifest).await);
    let archives = archives(&storage).await;
    assert_eq!(archives[0].key, key());
    assert_eq!(archives[0].repository, name());
}

#[tokio::test]
async fn archived_content_reads_links_manifests_and_tags_without_restoring() {
    let (dir, layer, manifest) = archived().await;
    let storage = FsStorage::open(dir.path()).expect("open");
    let content = storage.archived_content(&key()).await.expect("read");
    assert_eq!(content.repository, name());
    assert_eq!(content.links, vec![layer]);
    assert_eq!(content.manifests.len(), 1);
    assert_eq!(content.manifests[0].digest, manifest);
    assert_eq!(content.manifests[0].media_type, OCI_MANIFEST);
    assert_eq!(
        content.manifests[0].bytes.as_ref(),
        br#"{"schemaVersion":2}"#
    );
    assert_eq!(content.tags, vec![("v1".parse().expect("tag"), manifest)]);
    // Still archived, and the name still empty.
    assert_eq!(archives(&storage).await.len(), 1);
    assert!(everything(storage.list_manifests(&name(), &PageRequest::all()).await).is_empty());
    let missing: ArchiveKey = "package-8".parse().expect("key");
    assert!(matches!(
        storage.archived_content(&missing).await,
        Err(wharf_storage::Error::ArchiveNotFound(_))
    ));
}
