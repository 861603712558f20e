//! Paging through the repository listings: links, manifests, referrers and
//! the catalog, a few items at a time, while items are added between pages.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::FutureExt;
use wharf_reference::{Digest, RepositoryName};

use crate::prelude::*;
use crate::testkit::{
    bind, is_empty_page, listed, put_manifest, put_manifests, put_referrer, repo, tag, walk_pages,
    Fixture,
};
use crate::{ArchiveKey, PageRequest};

/// `linked_blobs` pages visit every link once, in order; a link added
/// between pages shows up later exactly when it sorts after the page.
pub async fn linked_blobs_page_through_every_link_once(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/paged");
    let link = |s: Arc<dyn Storage>, r: RepositoryName, i: usize| -> BoxFuture<'static, String> {
        async move {
            let content = format!("linked blob {i}");
            let digest = Digest::sha256(content.as_bytes());
            s.put_blob(&digest, crate::testkit::body([content.into_bytes()]))
                .await
                .expect("put blob");
            s.link_blob(&r, &digest).await.expect("link");
            digest.as_str().to_owned()
        }
        .boxed()
    };
    let mut initial = Vec::new();
    for i in 0..7 {
        initial.push(link(s.clone(), r.clone(), i).await);
    }
    // Blobs stored but linked elsewhere are not listed.
    link(s.clone(), repo("octo/elsewhere"), 99).await;
    let list = bind((s.clone(), r.clone()), |(s, r), request: PageRequest| {
        async move { listed(s.linked_blobs(&r, &request).await, Digest::as_str) }.boxed()
    });
    let add = {
        let (s, r) = (s.clone(), r.clone());
        move |round: usize| link(s.clone(), r.clone(), 100 + round)
    };
    walk_pages(2, initial, Vec::new(), list, add).await;
    let unknown = repo("octo/unknown");
    assert!(is_empty_page(
        s.linked_blobs(&unknown, &PageRequest::first(1)).await
    ));
}

/// `list_manifests` pages visit every manifest once, in order, while
/// manifests are added between pages.
pub async fn manifests_page_through_every_manifest_once(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/paged");
    let mut initial = Vec::new();
    for i in 0..7 {
        initial.push(put_manifest(&*s, &r, i).await.as_str().to_owned());
    }
    let list = bind((s.clone(), r.clone()), |(s, r), request: PageRequest| {
        async move { listed(s.list_manifests(&r, &request).await, Digest::as_str) }.boxed()
    });
    let add = bind((s.clone(), r.clone()), |(s, r), round: usize| {
        async move { put_manifest(&*s, &r, 100 + round).await.as_str().to_owned() }.boxed()
    });
    walk_pages(3, initial, Vec::new(), list, add).await;
    let one = s
        .list_manifests(&r, &PageRequest::first(1))
        .await
        .expect("first");
    assert_eq!(one.items.len(), 1);
    assert_eq!(one.next_last.as_ref(), one.items.first());
}

/// `list_referrers` pages hold `n` referrers of the requested artifact
/// type, in digest order, each once, while referrers of that type and of
/// another are added between pages.
pub async fn referrers_page_through_every_referrer_once(fixture: Arc<dyn Fixture>) {
    const WANTED: &str = "application/vnd.example.sig";
    const OTHER: &str = "application/vnd.example.sbom";
    let s = fixture.storage().await;
    let r = repo("octo/paged");
    let subject = Digest::sha256(b"the paged image");
    let refer = {
        let (r, subject) = (r.clone(), subject.clone());
        move |s: Arc<dyn Storage>, i: usize, artifact_type: &'static str| {
            let (r, subject) = (r.clone(), subject.clone());
            async move {
                let digest = put_referrer(&*s, &r, i, &subject, artifact_type).await;
                digest.as_str().to_owned()
            }
            .boxed()
        }
    };
    let mut initial = Vec::new();
    let mut others = Vec::new();
    for i in 0..12 {
        if i % 3 == 0 {
            others.push(refer(s.clone(), i, OTHER).await);
        } else {
            initial.push(refer(s.clone(), i, WANTED).await);
        }
    }
    // A referrer of another subject is not listed.
    put_referrer(&*s, &r, 50, &Digest::sha256(b"another image"), WANTED).await;
    let context = (s.clone(), r.clone(), subject.clone());
    let list = bind(context, |(s, r, subject), request: PageRequest| {
        async move {
            let page = s.list_referrers(&r, &subject, Some(WANTED), &request).await;
            listed(page, |r| r.digest.as_str())
        }
        .boxed()
    });
    // Odd rounds add a referrer of the other type, which never shows.
    let added_others = Arc::new(std::sync::Mutex::new(Vec::new()));
    let add = {
        let (s, added_others) = (s.clone(), added_others.clone());
        move |round: usize| -> BoxFuture<'static, String> {
            let (refer, s, added_others) = (refer.clone(), s.clone(), added_others.clone());
            async move {
                if round % 2 == 1 {
                    let other = refer(s.clone(), 200 + round, OTHER).await;
                    added_others.lock().expect("lock").push(other);
                }
                refer(s, 100 + round, WANTED).await
            }
            .boxed()
        }
    };
    walk_pages(2, initial, others, list, add).await;
    let seen_all = s
        .list_referrers(&r, &subject, Some(WANTED), &PageRequest::all())
        .await
        .expect("all");
    for other in added_others.lock().expect("lock").iter() {
        assert!(
            !seen_all.items.iter().any(|r| r.digest.as_str() == other),
            "a referrer of another artifact type is filtered out"
        );
    }
}

/// Catalog pages visit every repository once, in byte order, even where
/// a sibling sorts between a name and its nested names (`a-c` before
/// `a/b`), while repositories are added between pages.
pub async fn catalog_pages_through_nested_names_once(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let names = [
        "a", "a/b", "a/b/c", "a-c", "a.d", "a/b-x", "a/b.y", "ab", "b/c", "b", "c/d/e",
    ];
    let mut initial = Vec::new();
    for (i, name) in names.into_iter().enumerate() {
        put_manifest(&*s, &repo(name), i).await;
        initial.push(name.to_owned());
    }
    let list = bind(s.clone(), |s, request: PageRequest| {
        async move { listed(s.list_repositories(&request).await, RepositoryName::as_str) }.boxed()
    });
    let added = ["0", "a/a", "a-c/d", "zz", "a/b/c/d", "b-0", "c/d", "d"];
    let add = {
        let s = s.clone();
        move |round: usize| -> BoxFuture<'static, String> {
            let s = s.clone();
            async move {
                let name = added[round % added.len()];
                put_manifest(&*s, &repo(name), 100 + round).await;
                name.to_owned()
            }
            .boxed()
        }
    };
    walk_pages(2, initial, Vec::new(), list, add).await;
}

/// `tags_of` pages hold `n` of the tags pointing at one manifest, in tag
/// order, each once, while tags pointing at it and at another manifest
/// are added between pages.
pub async fn tags_of_page_through_every_tag_once(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let r = repo("octo/paged");
    let [wanted, other] = put_manifests(&*s, &r, [1, 2]).await;
    let set = |s: Arc<dyn Storage>, r: RepositoryName, name: String, target: Digest| {
        async move {
            s.set_tag(&r, &tag(&name), &target).await.expect("tag");
            name
        }
        .boxed()
    };
    let (mut initial, mut hidden) = (Vec::new(), Vec::new());
    for i in 0..9 {
        let name = format!("t{i}");
        if i % 3 == 0 {
            hidden.push(set(s.clone(), r.clone(), name, other.clone()).await);
        } else {
            initial.push(set(s.clone(), r.clone(), name, wanted.clone()).await);
        }
    }
    let context = (s.clone(), r.clone(), wanted.clone());
    let list = bind(context.clone(), |(s, r, wanted), request: PageRequest| {
        async move { listed(s.tags_of(&r, &wanted, &request).await, |t| t.as_str()) }.boxed()
    });
    // Odd rounds also point a tag at the other manifest, which never shows.
    let add = bind((context, other), |((s, r, wanted), other), round: usize| {
        async move {
            if round % 2 == 1 {
                let name = format!("u{round}");
                s.set_tag(&r, &tag(&name), &other).await.expect("tag");
            }
            let name = format!("s{round}");
            s.set_tag(&r, &tag(&name), &wanted).await.expect("tag");
            name
        }
        .boxed()
    });
    walk_pages(2, initial, hidden, list, add).await;
    let unknown = repo("octo/unknown");
    assert!(is_empty_page(
        s.tags_of(&unknown, &wanted, &PageRequest::first(1)).await
    ));
}

/// `list_archives` pages visit every archive once, in key order, while
/// repositories are archived between pages; a deleted archive is not
/// listed.
pub async fn archives_page_through_every_archive_once(fixture: Arc<dyn Fixture>) {
    let s = fixture.storage().await;
    let archive = |s: Arc<dyn Storage>, i: usize| -> BoxFuture<'static, String> {
        async move {
            let r = repo(&format!("acme/r{i}"));
            put_manifest(&*s, &r, i).await;
            let key: ArchiveKey = format!("package-{i}").parse().expect("key");
            s.archive_repository(&r, &key).await.expect("archive");
            key.to_string()
        }
        .boxed()
    };
    let mut initial = Vec::new();
    for i in 0..7 {
        initial.push(archive(s.clone(), i).await);
    }
    let deleted = archive(s.clone(), 99).await;
    s.delete_archive(&deleted.parse().expect("key"))
        .await
        .expect("delete");
    let list = bind(s.clone(), |s, request: PageRequest| {
        async move { listed(s.list_archives(&request).await, |a| a.key.as_str()) }.boxed()
    });
    let add = {
        let s = s.clone();
        move |round: usize| archive(s.clone(), 100 + round)
    };
    walk_pages(2, initial, vec![deleted], list, add).await;
}
