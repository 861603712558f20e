//! The content: blobs (streamed, verified against their digest), then each
//! repository's blob links, manifests (children first) and tags.

use std::collections::BTreeMap;

use futures::TryStreamExt;
use wharf_manifest::{Manifest, ParseOptions};
use wharf_reference::{Digest, RepositoryName};
use wharf_storage::prelude::*;
use wharf_storage::{ManifestPut, PageRequest};

use super::{all_pages, Summary, PAGE};

pub(super) async fn copy_blobs(
    source: &dyn Storage,
    target: &dyn Storage,
    summary: &mut Summary,
) -> Result<(), String> {
    let mut request = PageRequest::first(PAGE);
    loop {
        let page = source
            .list_blobs(&request)
            .await
            .map_err(|err| format!("cannot list blobs: {err}"))?;
        for digest in &page.items {
            copy_blob(source, target, digest, summary).await?;
        }
        match (&page.next_last, page.items.last()) {
            (Some(_), Some(last)) => request.last = Some(last.to_string()),
            _ => return Ok(()),
        }
    }
}

pub(super) async fn copy_blob(
    source: &dyn Storage,
    target: &dyn Storage,
    digest: &Digest,
    summary: &mut Summary,
) -> Result<(), String> {
    if let Ok(size) = target.blob_size(digest).await {
        summary.blobs_skipped += 1;
        summary.bytes_skipped += size;
        return Ok(());
    }
    let content = source
        .read_blob(digest, None)
        .await
        .map_err(|err| format!("cannot read blob {digest}: {err}"))?;
    let body = content.stream.map_err(std::io::Error::other);
    let size = target
        .put_blob(digest, Box::pin(body))
        .await
        .map_err(|err| format!("cannot store blob {digest}: {err}"))?;
    summary.blobs_copied += 1;
    summary.bytes_copied += size;
    Ok(())
}

pub(super) async fn copy_repositories(
    source: &dyn Storage,
    target: &dyn Storage,
    summary: &mut Summary,
) -> Result<(), String> {
    let repositories = all_pages(|page| async move { source.list_repositories(&page).await })
        .await
        .map_err(|err| format!("cannot list repositories: {err}"))?;
    for repository in &repositories {
        copy_repository(source, target, repository, summary)
            .await
            .map_err(|err| format!("repository {repository}: {err}"))?;
        summary.repositories += 1;
    }
    let archives = archive_keys(source)
        .await
        .map_err(|err| format!("cannot list archived repositories: {err}"))?;
    // Those of no deleted package: stray content being dropped, or the
    // archive of a package purged since.
    summary.archives_skipped =
        (archives.len() as u64).saturating_sub(summary.archives_copied + summary.archives_present);
    Ok(())
}

/// The key of every archive of `storage`.
pub(super) async fn archive_keys(
    storage: &dyn Storage,
) -> Result<Vec<wharf_storage::ArchiveKey>, String> {
    all_pages(|page| async move {
        let page = storage.list_archives(&page).await?;
        Ok(wharf_storage::Page {
            items: page.items.into_iter().map(|a| a.key).collect(),
            next_last: page.next_last.map(|a| a.key),
        })
    })
    .await
}

pub(super) async fn copy_repository(
    source: &dyn Storage,
    target: &dyn Storage,
    repository: &RepositoryName,
    summary: &mut Summary,
) -> Result<(), String> {
    let links =
        all_pages(|page| async move { source.linked_blobs(repository, &page).await }).await?;
    for digest in &links {
        target
            .link_blob(repository, digest)
            .await
            .map_err(|err| format!("cannot link blob {digest}: {err}"))?;
        summary.blob_links += 1;
    }
    let digests =
        all_pages(|page| async move { source.list_manifests(repository, &page).await }).await?;
    let mut manifests = Vec::with_capacity(digests.len());
    for digest in &digests {
        let stored = source
            .get_manifest(repository, digest)
            .await
            .map_err(|err| format!("cannot read manifest {digest}: {err}"))?;
        manifests.push(stored);
    }
    let (stored, referrers) = put_manifests(target, repository, &manifests).await?;
    summary.manifests += stored;
    summary.referrers += referrers;
    let tags = all_pages(|page| async move { source.list_tags(repository, &page).await }).await?;
    for tag in &tags {
        let digest = source
            .resolve_tag(repository, tag)
            .await
            .map_err(|err| format!("cannot resolve tag {tag}: {err}"))?;
        target
            .set_tag(repository, tag, &digest)
            .await
            .map_err(|err| format!("cannot set tag {tag}: {err}"))?;
        summary.tags += 1;
    }
    Ok(())
}

/// Stores `manifests` in `repository` of `target`; how many, and how many
/// of them are referrers.
pub(super) async fn put_manifests(
    target: &dyn Storage,
    repository: &RepositoryName,
    manifests: &[wharf_storage::StoredManifest],
) -> Result<(u64, u64), String> {
    // Children before the indexes and referrers that name them: a store
    // may check that what a manifest references is there.
    let mut pending: BTreeMap<Digest, ManifestPut> = BTreeMap::new();
    for stored in manifests {
        pending.insert(stored.digest.clone(), manifest_put(stored)?);
    }
    let (mut stored, mut referrers) = (0, 0);
    while !pending.is_empty() {
        let mut stored_any = false;
        let mut last_error = String::new();
        for digest in pending.keys().cloned().collect::<Vec<_>>() {
            let Some(put) = pending.get(&digest).cloned() else {
                continue;
            };
            let referrer = put.subject.is_some();
            match target.put_manifest(repository, put).await {
                Ok(()) => {
                    pending.remove(&digest);
                    stored_any = true;
                    stored += 1;
                    referrers += u64::from(referrer);
                }
                Err(err) => last_error = format!("cannot store manifest {digest}: {err}"),
            }
        }
        if !stored_any {
            return Err(last_error);
        }
    }
    Ok((stored, referrers))
}

/// The manifest as the server stores it on a push: with its subject,
/// artifact type and annotations, so that referrers keep working.
pub(super) fn manifest_put(stored: &wharf_storage::StoredManifest) -> Result<ManifestPut, String> {
    let mut options = ParseOptions::default();
    options.max_size = usize::MAX;
    let manifest = Manifest::parse_with(
        stored.bytes.clone(),
        Some(stored.media_type.as_str()),
        &options,
    )
    .map_err(|err| format!("cannot parse manifest {}: {err}", stored.digest))?;
    let mut put = ManifestPut::new(
        stored.digest.clone(),
        stored.media_type.clone(),
        stored.bytes.clone(),
    );
    if let Some(subject) = manifest.subject() {
        put = put.with_subject(
            subject.digest.clone(),
            manifest.artifact_type().cloned(),
            manifest.annotations().clone(),
        );
    }
    Ok(put)
}
