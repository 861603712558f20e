//! Behaviour specific to each backend: configuration, on-disk layout, and
//! failures that only a real filesystem can produce.

use std::path::Path;
use std::sync::Arc;

use wharf_reference::{Digest, MediaType, RepositoryName};
use wharf_storage::prelude::*;
use wharf_storage::testkit::{body, read_all, resume_and_finish, stored_blobs};
use wharf_storage::{Error, FsStorage, ManifestPut, MemoryStorage, PageRequest};

mod servers;

use servers::repo;

/// A backend refuses content past the size limit, keeps the session as it
/// was before the refused append, and stores nothing for `put_blob`
/// (`name` labels the failures).
async fn size_limit_rejects_and_rolls_back_the_append(name: &str, s: Arc<dyn Storage>) {
    let r = repo("octo/app");
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([&b"012345"[..]]))
        .await
        .expect("within the limit");
    let over = s
        .append_upload(&r, &session.id, 6, body([&b"67"[..], &b"890"[..]]))
        .await;
    assert!(
        matches!(over, Err(Error::TooLarge { limit: 10 })),
        "{name}: {over:?}"
    );
    assert_eq!(
        s.upload_status(&r, &session.id)
            .await
            .expect("status")
            .offset,
        6,
        "{name}: the refused append is undone"
    );
    s.append_upload(&r, &session.id, 6, body([&b"6789"[..]]))
        .await
        .expect("exactly at the limit");
    s.finish_upload(&r, &session.id, &Digest::sha256(b"0123456789"))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));

    let big = b"0123456789A";
    let put = s.put_blob(&Digest::sha256(big), body([&big[..]])).await;
    assert!(
        matches!(put, Err(Error::TooLarge { .. })),
        "{name}: {put:?}"
    );
    assert_eq!(stored_blobs(&*s).await.len(), 1, "{name}");
}

#[tokio::test]
async fn memory_size_limit_rejects_and_rolls_back_the_append() {
    let s = Arc::new(MemoryStorage::new().with_max_blob_size(10));
    size_limit_rejects_and_rolls_back_the_append("memory", s).await;
}

#[tokio::test]
async fn fs_size_limit_rejects_and_rolls_back_the_append() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = Arc::new(
        FsStorage::open(dir.path())
            .expect("open")
            .with_max_blob_size(10),
    );
    size_limit_rejects_and_rolls_back_the_append("fs", s).await;
}

#[cfg(feature = "object-store")]
#[tokio::test]
async fn object_size_limit_rejects_and_rolls_back_the_append() {
    let blobs =
        wharf_storage::ObjectStorage::builder(Arc::new(object_store::memory::InMemory::new()))
            .max_blob_size(10)
            .build();
    let metadata = MemoryStorage::new().with_external_blobs();
    let s = Arc::new(wharf_storage::Composite::new(blobs, metadata));
    size_limit_rejects_and_rolls_back_the_append("object", s).await;
}

/// Stores `{"schemaVersion":2}` as a manifest of `media_type` in
/// `repository` and returns its digest.
async fn put_manifest(s: &FsStorage, repository: &RepositoryName, media_type: MediaType) -> Digest {
    let bytes = br#"{"schemaVersion":2}"#;
    let digest = Digest::sha256(bytes);
    s.put_manifest(
        repository,
        ManifestPut::new(digest.clone(), media_type, bytes.to_vec()),
    )
    .await
    .expect("manifest");
    digest
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under root");
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// After an upload, a manifest, a tag and a referrer, the tree holds exactly
/// the documented files and no temporary leftovers.
#[tokio::test]
async fn fs_layout_holds_exactly_the_documented_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = FsStorage::open(dir.path()).expect("open");
    let r = repo("octo/app");
    let layer = b"layer";
    let d = Digest::sha256(layer);
    let session = s.start_upload(&r).await.expect("start");
    s.append_upload(&r, &session.id, 0, body([&layer[..]]))
        .await
        .expect("append");
    s.finish_upload(&r, &session.id, &d).await.expect("finish");
    let md = put_manifest(&s, &r, MediaType::OCI_IMAGE_MANIFEST).await;
    s.set_tag(&r, &"v1".parse().expect("tag"), &md)
        .await
        .expect("tag");
    let sig = br#"{"schemaVersion":2,"sig":1}"#;
    let sd = Digest::sha256(sig);
    s.put_manifest(
        &r,
        ManifestPut::new(sd.clone(), MediaType::OCI_IMAGE_MANIFEST, sig.to_vec()).with_subject(
            md.clone(),
            None,
            Default::default(),
        ),
    )
    .await
    .expect("referrer");

    let (h, mh, sh) = (d.encoded(), md.encoded(), sd.encoded());
    let mut expected = vec![
        format!("blobs/sha256/{}/{h}", &h[..2]),
        format!("repositories/octo/app/_links/sha256/{h}"),
        format!("repositories/octo/app/_manifests/sha256/{mh}"),
        format!("repositories/octo/app/_manifests/sha256/{sh}"),
        "repositories/octo/app/_tags/v1".to_owned(),
        format!("repositories/octo/app/_referrers/sha256/{mh}/sha256/{sh}"),
    ];
    expected.sort();
    assert_eq!(files_under(dir.path()), expected);
    assert_eq!(
        std::fs::read(
            dir.path().join(
                &expected
                    .iter()
                    .find(|p| p.starts_with("blobs"))
                    .expect("blob")[..]
            )
        )
        .expect("blob file"),
        layer
    );
}

/// A write that hits a full disk is reported as `InsufficientStorage` and
/// undone; the session carries on once there is space again.
#[tokio::test]
async fn fs_full_disk_during_append_is_reported_and_undone() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let s = FsStorage::open(dir.path()).expect("open");
    let r = repo("octo/app");
    let session = s.start_upload(&r).await.expect("start");
    let data = dir
        .path()
        .join("uploads")
        .join(session.id.as_str())
        .join("data");
    // Every write to /dev/full fails with ENOSPC.
    std::fs::remove_file(&data).expect("remove data");
    std::os::unix::fs::symlink("/dev/full", &data).expect("symlink");
    let full = s
        .append_upload(&r, &session.id, 0, body([vec![7u8; 3 << 20]]))
        .await;
    match full {
        Err(e @ Error::InsufficientStorage { .. }) => {
            assert!(e.to_string().contains("out of storage space"), "{e}");
        }
        other => panic!("expected InsufficientStorage, got {other:?}"),
    }
    assert!(stored_blobs(&s).await.is_empty());

    std::fs::remove_file(&data).expect("remove symlink");
    std::fs::File::create(&data).expect("space again");
    resume_and_finish(&s, &r, &session.id, b"fits now", 0, "finish").await;
}

/// Damaged metadata is reported as `Corrupt` with its path; files and
/// directories that are not ours are ignored by listings.
#[tokio::test]
async fn fs_damaged_or_foreign_files_are_reported_or_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = FsStorage::open(dir.path()).expect("open");
    let r = repo("octo/app");
    let md = put_manifest(&s, &r, MediaType::JSON).await;
    let tags = dir.path().join("repositories/octo/app/_tags");
    std::fs::create_dir_all(&tags).expect("tags dir");
    std::fs::write(tags.join("broken"), "not a digest").expect("write");
    std::fs::write(tags.join(".not-a-tag"), md.as_str()).expect("write");
    std::fs::create_dir_all(dir.path().join("repositories/Not_A_Repo/_manifests")).expect("mkdir");

    match s.resolve_tag(&r, &"broken".parse().expect("tag")).await {
        Err(Error::Corrupt { path, .. }) => assert!(path.ends_with("_tags/broken")),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let listed = s.list_tags(&r, &PageRequest::all()).await.expect("list");
    assert_eq!(
        listed.items,
        vec!["broken".parse::<wharf_reference::Tag>().expect("tag")]
    );
    let catalog = s
        .list_repositories(&PageRequest::all())
        .await
        .expect("catalog");
    assert_eq!(catalog.items, vec![r.clone()]);

    let manifest_file = dir
        .path()
        .join("repositories/octo/app/_manifests/sha256")
        .join(md.encoded());
    std::fs::write(&manifest_file, "no header line").expect("write");
    assert!(matches!(
        s.get_manifest(&r, &md).await,
        Err(Error::Corrupt { .. })
    ));
}

/// Blobs stream back in bounded chunks, and a read survives the blob's
/// deletion midway (the open file stays readable).
#[tokio::test]
async fn fs_reads_stream_in_chunks_and_survive_deletion() {
    use futures::StreamExt;

    let dir = tempfile::tempdir().expect("tempdir");
    let s = FsStorage::open(dir.path()).expect("open");
    let content = wharf_storage::testkit::pattern(5 << 20, 1);
    let d = Digest::sha256(&content);
    s.put_blob(&d, body([content.clone()])).await.expect("put");
    let mut read = s.read_blob(&d, None).await.expect("read");
    let first = read.stream.next().await.expect("a chunk").expect("ok");
    assert!(
        first.len() <= 1 << 20,
        "chunks are bounded: {}",
        first.len()
    );
    s.delete_blob(&d).await.expect("delete");
    let mut got = first.to_vec();
    while let Some(chunk) = read.stream.next().await {
        got.extend_from_slice(&chunk.expect("chunk"));
    }
    assert!(got == content);
    assert!(matches!(
        read_all(&s, &d, None).await,
        Err(Error::BlobNotFound(_))
    ));
}

/// The filesystem keeps a session's owner in its meta file: a reopened
/// store lists every open session with it (sessions started without one
/// list none), and a finished or cancelled session is no longer listed.
#[tokio::test]
async fn fs_lists_open_sessions_with_their_owners_after_a_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = repo("octo/app");
    let (kept, plain, cancelled) = {
        let s = FsStorage::open(dir.path()).expect("open");
        let kept = s.start_upload_for(&r, "user:alice").await.expect("start");
        let plain = s.start_upload(&r).await.expect("start");
        let cancelled = s.start_upload_for(&r, "user:bob").await.expect("start");
        s.cancel_upload(&r, &cancelled.id).await.expect("cancel");
        (kept.id, plain.id, cancelled.id)
    };
    let s = FsStorage::open(dir.path()).expect("reopen");
    let mut listed = s
        .upload_sessions(&PageRequest::all())
        .await
        .expect("list")
        .items;
    listed.sort_by_key(|session| session.owner.clone());
    let listed: Vec<_> = listed
        .into_iter()
        .map(|session| (session.id, session.repository, session.owner))
        .collect();
    assert_eq!(
        listed,
        [
            (plain, r.clone(), None),
            (kept, r.clone(), Some("user:alice".to_owned()))
        ]
    );
    assert!(!listed.iter().any(|(id, ..)| *id == cancelled));
}
