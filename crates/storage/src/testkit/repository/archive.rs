//! Conformance cases for archives.

use std::sync::Arc;

use wharf_reference::{Digest, RepositoryName};

use crate::prelude::*;
use crate::testkit::{
    catalog, everything, put_manifest, put_referrer, referrer_ids, repo, tag, upload, Fixture,
};
use crate::{ArchiveKey, Error, PageRequest};

fn key(name: &str) -> ArchiveKey {
    name.parse().expect("valid archive key in the testkit")
}

/// What a repository holds after [`fill`].
struct Filled {
    layer: Digest,
    image: Digest,
    signature: Digest,
}

/// Stores a linked blob, a tagged manifest and a referrer to it.
async fn fill(storage: &dyn Storage, r: &RepositoryName) -> Filled {
    let layer = upload(storage, r, b"the archived layer", 8).await;
    let image = put_manifest(storage, r, 1).await;
    storage
        .set_tag(r, &tag("latest"), &image)
        .await
        .expect("tag");
    let signature = put_referrer(storage, r, 2, &image, "application/vnd.example.sig").await;
    Filled {
        layer,
        image,
        signature,
    }
}

/// Fills `r` as [`fill`] does, then archives it under `k`.
async fn fill_and_archive(storage: &dyn Storage, r: &RepositoryName, k: &ArchiveKey) -> Filled {
    let filled = fill(storage, r).await;
    storage.archive_repository(r, k).await.expect("archive");
    filled
}

/// Asserts that nothing of `filled` is reachable through `r`.
async fn assert_unreachable(storage: &dyn Storage, r: &RepositoryName, filled: &Filled) {
    assert!(!storage
        .is_blob_linked(r, &filled.layer)
        .await
        .expect("linked"));
    for digest in [&filled.image, &filled.signature] {
        assert_err!(
            storage.get_manifest(r, digest).await,
            Error::ManifestNotFound { .. }
        );
    }
    assert_err!(
        storage.resolve_tag(r, &tag("latest")).await,
        Error::TagNotFound { .. }
    );
    assert!(referrer_ids(storage, r, &filled.image, None)
        .await
        .is_empty());
    let all = PageRequest::all();
    assert!(everything(storage.tags_of(r, &filled.image, &all).await).is_empty());
    assert!(!everything(storage.linked_blobs(r, &all).await).contains(&filled.layer));
}

/// Asserts that all of `filled` is reachable through `r`.
async fn assert_reachable(storage: &dyn Storage, r: &RepositoryName, filled: &Filled) {
    assert!(storage
        .is_blob_linked(r, &filled.layer)
        .await
        .expect("linked"));
    storage
        .get_manifest(r, &filled.image)
        .await
        .expect("image is back");
    assert_eq!(
        storage
            .resolve_tag(r, &tag("latest"))
            .await
            .expect("tag is back"),
        filled.image
    );
    assert_eq!(
        referrer_ids(storage, r, &filled.image, None).await,
        vec![filled.signature.clone()]
    );
}

/// Archiving sets every link, manifest, tag and referrer aside and cancels
/// the repository's upload sessions: the name is unknown, leaves the
/// catalog, and content stored under it afterwards starts empty and
/// reaches nothing of the archive.
pub async fn archiving_hides_everything_of_the_repository(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let (r, other) = (repo("acme/vault"), repo("acme/other"));
    let filled = fill(&*s, &r).await;
    put_manifest(&*s, &other, 9).await;
    let pending = s.start_upload(&r).await.expect("start");
    let elsewhere = s.start_upload(&other).await.expect("start");

    s.archive_repository(&r, &key("package-1"))
        .await
        .expect("archive");
    assert_unreachable(&*s, &r, &filled).await;
    // Its upload sessions are cancelled: none can link into the name later.
    assert_err!(
        s.upload_status(&r, &pending.id).await,
        Error::UploadNotFound { .. }
    );
    s.upload_status(&other, &elsewhere.id)
        .await
        .expect("another repository's session stays");
    assert_err!(
        s.list_tags(&r, &PageRequest::all()).await,
        Error::RepositoryNotFound(_)
    );
    assert_eq!(catalog(&*s).await, vec![other.clone()]);
    assert_eq!(
        s.blob_size(&filled.layer).await.expect("the blob stays"),
        18
    );

    // A newcomer under the same name starts empty.
    let fresh = put_manifest(&*s, &r, 3).await;
    assert_unreachable(&*s, &r, &filled).await;
    assert_err!(
        s.set_tag(&r, &tag("old"), &filled.image).await,
        Error::ManifestNotFound { .. }
    );
    assert_eq!(
        everything(s.list_manifests(&r, &PageRequest::all()).await),
        vec![fresh]
    );
    assert!(everything(s.list_tags(&r, &PageRequest::all()).await).is_empty());

    // Archiving an unknown repository makes an empty archive, whose
    // restore leaves the name unknown.
    let never = repo("acme/never");
    s.archive_repository(&never, &key("package-2"))
        .await
        .expect("archive an unknown repository");
    s.restore_repository(&key("package-2"), &never)
        .await
        .expect("restore an empty archive");
    assert_err!(
        s.list_tags(&never, &PageRequest::all()).await,
        Error::RepositoryNotFound(_)
    );
}

/// Restoring brings everything back under the name, and removes the
/// archive.
pub async fn restoring_brings_the_content_back(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("acme/vault");
    let k = key("package-1");
    let filled = fill_and_archive(&*s, &r, &k).await;
    s.restore_repository(&k, &r).await.expect("restore");
    assert_reachable(&*s, &r, &filled).await;
    assert!(everything(s.list_archives(&PageRequest::all()).await).is_empty());
    assert_err!(
        s.restore_repository(&k, &r).await,
        Error::ArchiveNotFound(_)
    );
    assert_eq!(catalog(&*s).await, vec![r]);
}

/// An archive is never merged into other content: restoring into a
/// repository that holds a link, a manifest or a tag is refused and moves
/// nothing. A repository emptied again takes it.
pub async fn restoring_onto_content_is_refused(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("acme/vault");
    let k = key("package-1");
    let filled = fill_and_archive(&*s, &r, &k).await;

    let newcomer = upload(&*s, &r, b"the newcomer's layer", 8).await;
    assert!(matches!(
        s.restore_repository(&k, &r).await,
        Err(Error::RepositoryNotEmpty(name)) if name == r
    ));
    assert_unreachable(&*s, &r, &filled).await;
    assert!(s.is_blob_linked(&r, &newcomer).await.expect("linked"));
    assert_eq!(
        everything(s.list_archives(&PageRequest::all()).await).len(),
        1
    );

    // The newcomer's content set aside in turn, the name is free again.
    let k2 = key("package-2");
    s.archive_repository(&r, &k2)
        .await
        .expect("archive newcomer");
    s.restore_repository(&k, &r).await.expect("restore");
    assert_reachable(&*s, &r, &filled).await;
    assert!(!s.is_blob_linked(&r, &newcomer).await.expect("linked"));
    // A repository whose content was all deleted is empty too.
    s.unlink_blob(&r, &filled.layer).await.expect("unlink");
    for digest in [&filled.signature, &filled.image] {
        s.delete_manifest(&r, digest).await.expect("delete");
    }
    s.restore_repository(&k2, &r)
        .await
        .expect("restore newcomer");
    assert!(s.is_blob_linked(&r, &newcomer).await.expect("linked"));
}

/// Keys are unique; deleting an archive removes it for good; archives are
/// listed in key order with the repository they came from.
pub async fn archives_are_listed_and_deleted_by_key(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let (a, b) = (repo("acme/a"), repo("octo/b"));
    put_manifest(&*s, &a, 1).await;
    put_manifest(&*s, &b, 2).await;
    s.archive_repository(&b, &key("package-9"))
        .await
        .expect("archive b");
    s.archive_repository(&a, &key("package-10"))
        .await
        .expect("archive a");
    assert_err!(
        s.archive_repository(&a, &key("package-9")).await,
        Error::ArchiveExists(_)
    );
    let listed: Vec<(String, RepositoryName)> =
        everything(s.list_archives(&PageRequest::all()).await)
            .into_iter()
            .map(|archive| (archive.key.to_string(), archive.repository))
            .collect();
    assert_eq!(
        listed,
        vec![
            ("package-10".to_owned(), a.clone()),
            ("package-9".to_owned(), b.clone()),
        ]
    );

    s.delete_archive(&key("package-9")).await.expect("delete");
    assert_err!(
        s.delete_archive(&key("package-9")).await,
        Error::ArchiveNotFound(_)
    );
    assert_err!(
        s.restore_repository(&key("package-9"), &b).await,
        Error::ArchiveNotFound(_)
    );
    assert_eq!(
        everything(s.list_archives(&PageRequest::all()).await).len(),
        1
    );
    assert!(everything(s.list_manifests(&b, &PageRequest::all()).await).is_empty());
}

/// Archives survive a restart, and restore afterwards.
pub async fn archives_survive_reopen(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("acme/vault");
    let filled = fill_and_archive(&*s, &r, &key("package-1")).await;
    let Some(reopened) = fixture.reopen().await else {
        return;
    };
    assert_unreachable(&*reopened, &r, &filled).await;
    assert_eq!(
        everything(reopened.list_archives(&PageRequest::all()).await).len(),
        1
    );
    reopened
        .restore_repository(&key("package-1"), &r)
        .await
        .expect("restore");
    assert_reachable(&*reopened, &r, &filled).await;
}
