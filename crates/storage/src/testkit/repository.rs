//! The cases of [`RepositoryStore`]: links,
//! manifests, tags, referrers, the catalog, and archives.

#[allow(unused_imports)]
use super::*;

mod archive;
mod paging;
mod race;

pub use archive::{
    archives_are_listed_and_deleted_by_key, archives_survive_reopen,
    archiving_hides_everything_of_the_repository, restoring_brings_the_content_back,
    restoring_onto_content_is_refused,
};
pub use paging::{
    archives_page_through_every_archive_once, catalog_pages_through_nested_names_once,
    linked_blobs_page_through_every_link_once, manifests_page_through_every_manifest_once,
    referrers_page_through_every_referrer_once, tags_of_page_through_every_tag_once,
};
pub use race::tags_set_while_their_manifest_is_deleted_never_dangle;

/// Links, manifests, tags and referrers of a persistent backend survive a
/// restart.
pub async fn metadata_survives_reopen(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let blob = upload(&*s, &r, b"layer", 5).await;
    let m = put_manifest(&*s, &r, 1).await;
    s.set_tag(&r, &tag("v1"), &m).await.expect("tag");
    let sig_digest = put_referrer(&*s, &r, 2, &m, "application/example").await;
    let Some(s) = fixture.reopen().await else {
        return;
    };
    assert!(s.is_blob_linked(&r, &blob).await.expect("linked"));
    assert_eq!(s.resolve_tag(&r, &tag("v1")).await.expect("tag"), m);
    assert_eq!(
        s.get_manifest(&r, &m).await.expect("manifest").bytes,
        manifest_bytes(1)
    );
    assert_eq!(referrer_ids(&*s, &r, &m, None).await, vec![sig_digest]);
    assert_eq!(catalog(&*s).await, vec![r]);
}

/// Concurrent moves of one tag leave it pointing at one of the values
/// written, readable and listed once.
pub async fn concurrent_tag_moves_leave_one_written_value(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let mut written = BTreeSet::new();
    for n in 0..6 {
        written.insert(put_manifest(&*s, &r, n).await);
    }
    let latest = tag("latest");
    let mut tasks = Vec::new();
    for digest in &written {
        let digest = digest.clone();
        let (s, r, latest) = (Arc::clone(&s), r.clone(), latest.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..15 {
                s.set_tag(&r, &latest, &digest).await?;
                // Every read during the race sees a complete value.
                s.resolve_tag(&r, &latest).await?;
            }
            Ok::<(), Error>(())
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("tag moves succeed");
    }
    let target = s.resolve_tag(&r, &latest).await.expect("resolve");
    assert!(written.contains(&target));
    assert_eq!(
        everything(s.list_tags(&r, &PageRequest::all()).await),
        vec![latest]
    );
}

/// A blob committed in one repository is not linked in another until it is
/// mounted there; unlinking affects only that repository.
pub async fn links_isolate_repositories_until_mounted(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let (a, b) = (repo("octo/a"), repo("other/b"));
    let digest = upload(&*s, &a, b"private layer", 4).await;
    assert!(s.is_blob_linked(&a, &digest).await.expect("linked"));
    assert!(!s.is_blob_linked(&b, &digest).await.expect("linked"));
    assert!(everything(s.linked_blobs(&b, &PageRequest::all()).await).is_empty());

    s.link_blob(&b, &digest).await.expect("mount");
    s.link_blob(&b, &digest)
        .await
        .expect("mounting twice is harmless");
    assert!(s.is_blob_linked(&b, &digest).await.expect("linked"));
    assert_eq!(
        everything(s.linked_blobs(&b, &PageRequest::all()).await),
        vec![digest.clone()]
    );

    s.unlink_blob(&a, &digest).await.expect("unlink");
    assert!(!s.is_blob_linked(&a, &digest).await.expect("linked"));
    assert!(s.is_blob_linked(&b, &digest).await.expect("linked"));
    assert_eq!(s.blob_size(&digest).await.expect("blob stays stored"), 13);
    assert_err!(
        s.unlink_blob(&a, &digest).await,
        Error::BlobNotLinked { .. }
    );
    assert_err!(
        s.link_blob(&a, &Digest::sha256(b"never stored")).await,
        Error::BlobNotFound(_)
    );
}

/// A manifest is served back with its exact bytes and media type, only in
/// the repository it was stored in.
pub async fn manifests_round_trip_with_their_media_type(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    // Not re-serialized: odd whitespace survives.
    let bytes = b"{ \"schemaVersion\" : 2 ,\n \"layers\": [] }\n".to_vec();
    let digest = Digest::sha256(&bytes);
    let docker = "application/vnd.docker.distribution.manifest.v2+json";
    s.put_manifest(
        &r,
        ManifestPut::new(digest.clone(), media_type(docker), bytes.clone()),
    )
    .await
    .expect("put");
    let got = s.get_manifest(&r, &digest).await.expect("get");
    assert_eq!(
        (got.digest.clone(), got.media_type.as_str(), &got.bytes[..]),
        (digest.clone(), docker, &bytes[..])
    );
    let info = s.stat_manifest(&r, &digest).await.expect("stat");
    assert_eq!(
        (info.media_type.as_str(), info.size),
        (docker, bytes.len() as u64)
    );
    assert_eq!(
        everything(s.list_manifests(&r, &PageRequest::all()).await),
        vec![digest.clone()]
    );
    assert_err!(
        s.get_manifest(&repo("octo/other"), &digest).await,
        Error::ManifestNotFound { .. }
    );
    s.delete_manifest(&r, &digest).await.expect("delete");
    assert_err!(
        s.get_manifest(&r, &digest).await,
        Error::ManifestNotFound { .. }
    );
    assert_err!(
        s.delete_manifest(&r, &digest).await,
        Error::ManifestNotFound { .. }
    );
}

/// Manifests whose bytes do not match their digest are refused and store
/// nothing. (A media type that cannot be a header cannot be given: a
/// `MediaType` does not parse from one.)
pub async fn invalid_manifests_are_rejected(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let bytes = manifest_bytes(1);
    let wrong = Digest::sha256(b"something else");
    assert_err!(
        s.put_manifest(&r, ManifestPut::new(wrong, OCI_MANIFEST, bytes.clone()))
            .await,
        Error::DigestMismatch { .. }
    );
    for header_breaking in ["", "text/plain\r\nX-Evil: 1"] {
        assert!(MediaType::parse(header_breaking).is_err());
    }
    assert!(everything(s.list_manifests(&r, &PageRequest::all()).await).is_empty());
}

/// Tags point at stored manifests, move, resolve and delete.
pub async fn tags_move_resolve_and_delete(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let [one, two] = put_manifests(&*s, &r, [1, 2]).await;
    let v = tag("v1");
    assert_err!(
        s.set_tag(&r, &v, &Digest::sha256(b"no such manifest"))
            .await,
        Error::ManifestNotFound { .. }
    );
    assert_err!(s.resolve_tag(&r, &v).await, Error::TagNotFound { .. });
    s.set_tag(&r, &v, &one).await.expect("tag");
    assert_eq!(s.resolve_tag(&r, &v).await.expect("resolve"), one);
    s.set_tag(&r, &v, &two).await.expect("move");
    s.set_tag(&r, &tag("stable"), &two).await.expect("tag");
    assert_eq!(s.resolve_tag(&r, &v).await.expect("resolve"), two);
    assert_eq!(
        everything(s.tags_of(&r, &two, &PageRequest::all()).await),
        vec![tag("stable"), v.clone()]
    );
    assert!(everything(s.tags_of(&r, &one, &PageRequest::all()).await).is_empty());
    assert_eq!(s.delete_tag(&r, &v).await.expect("delete"), two);
    assert_err!(s.resolve_tag(&r, &v).await, Error::TagNotFound { .. });
    assert_err!(s.delete_tag(&r, &v).await, Error::TagNotFound { .. });
    s.get_manifest(&r, &two)
        .await
        .expect("deleting a tag keeps the manifest");
}

/// Deleting a manifest deletes exactly the tags pointing at it.
pub async fn deleting_a_manifest_deletes_its_tags(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    let [one, two] = put_manifests(&*s, &r, [1, 2]).await;
    for (t, d) in [("a", &one), ("b", &two), ("c", &one)] {
        s.set_tag(&r, &tag(t), d).await.expect("tag");
    }
    assert_eq!(
        s.delete_manifest(&r, &one).await.expect("delete"),
        vec![tag("a"), tag("c")]
    );
    assert_eq!(
        everything(s.list_tags(&r, &PageRequest::all()).await),
        vec![tag("b")]
    );
}

/// Tag pages follow `n` and `last` exactly, including the edge cases.
pub async fn tag_pagination_edge_cases(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    assert_err!(
        s.list_tags(&r, &PageRequest::all()).await,
        Error::RepositoryNotFound(_)
    );
    let m = put_manifest(&*s, &r, 1).await;
    assert!(
        is_empty_page(s.list_tags(&r, &PageRequest::all()).await),
        "no tags yet"
    );
    // Byte order: upper case before lower case, digits before letters.
    let names = ["B", "a", "a1", "b", "latest", "v1.0", "v1.10", "v1.9"];
    for name in names {
        s.set_tag(&r, &tag(name), &m).await.expect("tag");
    }
    let t = |v: &[&str]| v.iter().map(|n| tag(n)).collect::<Vec<_>>();
    let cases: Vec<(&str, PageRequest, Vec<Tag>, Option<Tag>)> = vec![
        ("all", PageRequest::all(), t(&names), None),
        ("n = 0", PageRequest::first(0), vec![], None),
        (
            "first 3",
            PageRequest::first(3),
            t(&["B", "a", "a1"]),
            Some(tag("a1")),
        ),
        (
            "next 3",
            PageRequest::after("a1", Some(3)),
            t(&["b", "latest", "v1.0"]),
            Some(tag("v1.0")),
        ),
        (
            "last page exactly full",
            PageRequest::after("v1.0", Some(2)),
            t(&["v1.10", "v1.9"]),
            None,
        ),
        (
            "n larger than the rest",
            PageRequest::after("latest", Some(100)),
            t(&["v1.0", "v1.10", "v1.9"]),
            None,
        ),
        (
            "last not a tag",
            PageRequest::after("aa", None),
            t(&["b", "latest", "v1.0", "v1.10", "v1.9"]),
            None,
        ),
        (
            "last past the end",
            PageRequest::after("zzz", Some(5)),
            vec![],
            None,
        ),
        (
            "last before the start",
            PageRequest::after("0", Some(1)),
            t(&["B"]),
            Some(tag("B")),
        ),
    ];
    for (what, request, items, next_last) in cases {
        let page = s.list_tags(&r, &request).await.expect("list");
        assert_eq!(page.items, items, "{what}");
        assert_eq!(page.next_last, next_last, "{what}");
    }
}

/// The catalog lists every repository that holds something, nested names
/// included, in lexical pages.
pub async fn catalog_lists_repositories_in_lexical_pages(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    assert!(is_empty_page(
        s.list_repositories(&PageRequest::all()).await
    ));
    let blob = upload(&*s, &repo("zeta/app"), b"x", 1).await;
    s.link_blob(&repo("octo/app"), &blob).await.expect("mount");
    put_manifest(&*s, &repo("octo/app/release"), 1).await;
    put_manifest(&*s, &repo("octo"), 2).await;
    // A session alone does not make a repository.
    s.start_upload(&repo("ghost/town")).await.expect("start");

    let all = ["octo", "octo/app", "octo/app/release", "zeta/app"]
        .map(repo)
        .to_vec();
    let cases = [
        ("all", PageRequest::all(), &all[..], None),
        (
            "first 2",
            PageRequest::first(2),
            &all[..2],
            Some(repo("octo/app")),
        ),
        (
            "the rest",
            PageRequest::after("octo/app", Some(2)),
            &all[2..],
            None,
        ),
        ("n = 0", PageRequest::first(0), &[], None),
    ];
    for (what, request, items, next_last) in cases {
        let page = s.list_repositories(&request).await.expect("catalog");
        assert_eq!(page.items, items, "{what}");
        assert_eq!(page.next_last, next_last, "{what}");
    }
}

/// Manifests with a subject appear in its referrers, filterable by
/// artifact type, until they are deleted or re-stored without it.
pub async fn referrers_are_indexed_and_filtered_by_artifact_type(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/app");
    // The subject need not be stored (it may be pushed later).
    let subject = Digest::sha256(b"the image");
    assert!(referrer_ids(&*s, &r, &subject, None).await.is_empty());

    let mut referrers = Vec::new();
    for (n, artifact_type) in [
        (1, "application/vnd.example.sig"),
        (2, "application/vnd.example.sbom"),
        (3, "application/vnd.example.sig"),
    ] {
        let bytes = manifest_bytes(n);
        let digest = Digest::sha256(&bytes);
        let annotations = [("org.example.n".to_owned(), n.to_string())]
            .into_iter()
            .collect();
        s.put_manifest(
            &r,
            ManifestPut::new(digest.clone(), OCI_MANIFEST, bytes.clone()).with_subject(
                subject.clone(),
                Some(media_type(artifact_type)),
                annotations,
            ),
        )
        .await
        .expect("put referrer");
        referrers.push((digest, artifact_type, bytes.len() as u64));
    }
    let mut all: Vec<Digest> = referrers.iter().map(|(d, _, _)| d.clone()).collect();
    all.sort();
    let listed = s
        .list_referrers(&r, &subject, None, &PageRequest::all())
        .await
        .expect("referrers")
        .items;
    assert_eq!(
        listed.iter().map(|e| e.digest.clone()).collect::<Vec<_>>(),
        all
    );
    let one = listed
        .iter()
        .find(|e| e.digest == referrers[1].0)
        .expect("listed");
    assert_eq!(one.media_type, OCI_MANIFEST);
    assert_eq!(one.size, referrers[1].2);
    assert_eq!(
        one.artifact_type.as_ref().map(MediaType::as_str),
        Some("application/vnd.example.sbom")
    );
    assert_eq!(
        one.annotations.get("org.example.n").map(String::as_str),
        Some("2")
    );

    let sbom = referrer_ids(&*s, &r, &subject, Some("application/vnd.example.sbom")).await;
    assert_eq!(sbom, vec![referrers[1].0.clone()]);
    assert!(referrer_ids(&*s, &r, &subject, Some("application/none"))
        .await
        .is_empty());
    assert!(referrer_ids(&*s, &repo("octo/other"), &subject, None)
        .await
        .is_empty());

    s.delete_manifest(&r, &referrers[0].0)
        .await
        .expect("delete");
    let sigs = referrer_ids(&*s, &r, &subject, Some("application/vnd.example.sig")).await;
    assert_eq!(sigs, vec![referrers[2].0.clone()]);

    // Re-storing without a subject drops the entry.
    let bytes = manifest_bytes(3);
    s.put_manifest(
        &r,
        ManifestPut::new(referrers[2].0.clone(), OCI_MANIFEST, bytes),
    )
    .await
    .expect("re-put");
    assert_eq!(
        referrer_ids(&*s, &r, &subject, None).await,
        vec![referrers[1].0.clone()]
    );
}
