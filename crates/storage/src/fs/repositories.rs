//! Repositories: links, manifests, tags and referrers, and
//! [`RepositoryStore`].

use std::collections::HashMap;
use std::time::SystemTime;

use async_trait::async_trait;
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::archive::{Archive, ArchiveKey};
use crate::error::{Error, Result};
use crate::manifest::{ManifestPut, Referrer, StoredManifest};
use crate::page::{Page, PageRequest};
use crate::RepositoryStore;

use super::atomic::{read_dir_keys, read_optional, remove_file, write_file};
use super::{corrupt, FsStorage, Inner, ManifestHeader};

impl Inner {
    pub(super) fn repository_exists(&self, repository: &RepositoryName) -> bool {
        self.layout.links(repository).is_dir() || self.layout.manifests(repository).is_dir()
    }

    /// Links the blob to `repository` (or confirms the link), in the order
    /// [the garbage-collection protocol](crate::collect) requires: the link
    /// first, then the blob, taken back if it is condemned. A blob found
    /// gone then takes the link made for it with it.
    pub(super) fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        // Neither stored nor condemned: nothing to link, and no directory
        // of the repository made for nothing. (Looked at twice, so that a
        // pardon between the first two looks is not taken for a miss.)
        let blob = self.layout.blob(digest);
        if !blob.is_file() && !self.layout.condemned_blob(digest).is_file() && !blob.is_file() {
            return Err(Error::BlobNotFound(digest.clone()));
        }
        let made = self.make_link(repository, digest)?;
        let taken = self.take_blob(digest);
        if matches!(taken, Ok(true)) {
            return Ok(());
        }
        // Gone, or not known to be there: the link made for it goes.
        if made {
            remove_file(&self.layout.link(repository, digest))?;
        }
        taken?;
        Err(Error::BlobNotFound(digest.clone()))
    }

    pub(super) fn read_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<(ManifestHeader, bytes::Bytes)> {
        let path = self.layout.manifest(repository, digest);
        read_manifest_file(&path)?.ok_or_else(|| Error::manifest_not_found(repository, digest))
    }

    pub(super) fn put_manifest(
        &self,
        repository: &RepositoryName,
        manifest: ManifestPut,
    ) -> Result<()> {
        // Not deleted, nor archived, while its files are written.
        let _serial = self.repository_locks.lock(repository);
        let path = self.layout.manifest(repository, &manifest.digest);
        let previous = match self.read_manifest(repository, &manifest.digest) {
            Ok((header, _)) => header.subject,
            Err(Error::ManifestNotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let referrer = manifest.referrer();
        let header = ManifestHeader {
            media_type: manifest.media_type,
            subject: manifest.subject,
        };
        let mut content = serde_json::to_vec(&header).map_err(|e| corrupt(&path, e))?;
        content.push(b'\n');
        content.extend_from_slice(&manifest.bytes);
        // The manifest first: a crash after it leaves a manifest whose
        // referrer entry is missing until the client retries, never a
        // referrer to a manifest that does not exist.
        write_file(&self.layout, &path, &content)?;
        if let Some(old) = previous {
            if referrer.as_ref().map(|(s, _)| s) != Some(&old.digest) {
                remove_file(
                    &self
                        .layout
                        .referrer(repository, &old.digest, &manifest.digest),
                )?;
            }
        }
        if let Some((subject, referrer)) = referrer {
            let entry = self.layout.referrer(repository, &subject, &manifest.digest);
            let json = serde_json::to_vec(&referrer).map_err(|e| corrupt(&entry, e))?;
            write_file(&self.layout, &entry, &json)?;
        }
        Ok(())
    }

    pub(super) fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<Tag>> {
        // No tag moves onto this manifest until it is gone.
        let _serial = self.repository_locks.lock(repository);
        let (header, _) = self.read_manifest(repository, digest)?;
        // Tags and referrer entry first: a crash midway leaves the manifest
        // in place (the delete can be retried), never a dangling tag.
        let mut removed = Vec::new();
        for (tag, target) in self.tags(repository)? {
            if &target == digest && remove_file(&self.layout.tag(repository, &tag))? {
                removed.push(tag);
            }
        }
        if let Some(subject) = header.subject {
            remove_file(&self.layout.referrer(repository, &subject.digest, digest))?;
        }
        remove_file(&self.layout.manifest(repository, digest))?;
        Ok(removed)
    }

    pub(super) fn read_tag(
        &self,
        repository: &RepositoryName,
        tag: &Tag,
    ) -> Result<Option<Digest>> {
        read_tag_file(&self.layout.tag(repository, tag))
    }

    /// Every tag of the repository and its target, in tag order.
    pub(super) fn tags(&self, repository: &RepositoryName) -> Result<Vec<(Tag, Digest)>> {
        let mut tags: Vec<Tag> = read_dir_keys(&self.layout.tags(repository))?;
        tags.sort();
        let mut out = Vec::with_capacity(tags.len());
        for tag in tags {
            // A tag deleted since the listing is simply skipped.
            if let Some(digest) = self.read_tag(repository, &tag)? {
                out.push((tag, digest));
            }
        }
        Ok(out)
    }

    /// A page of the tags pointing at `digest`: only the tags after
    /// `last` are read, until the page is full.
    pub(super) fn tags_page(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        request: &PageRequest,
    ) -> Result<Page<Tag>> {
        let pointing = |tag: Tag| {
            // A tag deleted since the listing is skipped.
            let target = self.read_tag(repository, &tag)?;
            Ok(target.filter(|target| target == digest).map(|_| tag))
        };
        self.names_page(
            &self.layout.tags(repository),
            request,
            pointing,
            Tag::as_str,
        )
    }
}

impl FsStorage {
    /// Runs `work` on the blocking pool with its own copies of
    /// `repository` and `digest`.
    async fn run_with<T, F>(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        work: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner, RepositoryName, Digest) -> Result<T> + Send + 'static,
    {
        let (repository, digest) = (repository.clone(), digest.clone());
        self.run(move |inner| work(inner, repository, digest)).await
    }
}

#[async_trait]
impl RepositoryStore for FsStorage {
    async fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        self.run_with(repository, digest, |inner, repository, digest| {
            inner.link_blob(&repository, &digest)
        })
        .await
    }

    async fn is_blob_linked(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        let link = self.inner.layout.link(repository, digest);
        self.run(move |_| Ok(link.is_file())).await
    }

    async fn unlink_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        self.run_with(repository, digest, |inner, repository, digest| {
            if remove_file(&inner.layout.link(&repository, &digest))? {
                Ok(())
            } else {
                Err(Error::BlobNotLinked { repository, digest })
            }
        })
        .await
    }

    async fn linked_blobs(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        let dir = self.inner.layout.links(repository);
        self.run_page(page, move |inner, page| inner.digests_page(&dir, page))
            .await
    }

    async fn put_manifest(&self, repository: &RepositoryName, manifest: ManifestPut) -> Result<()> {
        manifest.validate()?;
        let repository = repository.clone();
        self.run(move |inner| inner.put_manifest(&repository, manifest))
            .await
    }

    async fn get_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<StoredManifest> {
        self.run_with(repository, digest, |inner, repository, digest| {
            let (header, bytes) = inner.read_manifest(&repository, &digest)?;
            Ok(StoredManifest::new(digest, header.media_type, bytes))
        })
        .await
    }

    async fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<Tag>> {
        self.run_with(repository, digest, |inner, repository, digest| {
            inner.delete_manifest(&repository, &digest)
        })
        .await
    }

    async fn list_manifests(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        let dir = self.inner.layout.manifests(repository);
        self.run_page(page, move |inner, page| inner.digests_page(&dir, page))
            .await
    }

    async fn set_tag(&self, repository: &RepositoryName, tag: &Tag, digest: &Digest) -> Result<()> {
        let (repository, tag, digest) = (repository.clone(), tag.clone(), digest.clone());
        self.run(move |inner| {
            // The manifest is not deleted between the check and the write.
            let _serial = inner.repository_locks.lock(&repository);
            if !inner.layout.manifest(&repository, &digest).is_file() {
                return Err(Error::ManifestNotFound { repository, digest });
            }
            write_file(
                &inner.layout,
                &inner.layout.tag(&repository, &tag),
                digest.as_str().as_bytes(),
            )
        })
        .await
    }

    async fn resolve_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        let (repository, tag) = (repository.clone(), tag.clone());
        self.run(move |inner| {
            inner
                .read_tag(&repository, &tag)?
                .ok_or(Error::TagNotFound { repository, tag })
        })
        .await
    }

    async fn delete_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        let (repository, tag) = (repository.clone(), tag.clone());
        self.run(move |inner| {
            // The tag is not moved between the read and the removal.
            let _serial = inner.repository_locks.lock(&repository);
            let digest = inner.read_tag(&repository, &tag)?;
            match digest {
                Some(digest) if remove_file(&inner.layout.tag(&repository, &tag))? => Ok(digest),
                _ => Err(Error::TagNotFound { repository, tag }),
            }
        })
        .await
    }

    async fn list_tags(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Tag>> {
        let repository = repository.clone();
        self.run_page(page, move |inner, page| {
            if !inner.repository_exists(&repository) {
                return Err(Error::RepositoryNotFound(repository));
            }
            let mut tags: Vec<Tag> = read_dir_keys(&inner.layout.tags(&repository))?;
            tags.sort();
            Ok(Page::from_sorted(tags, page))
        })
        .await
    }

    async fn tags_of(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        page: &PageRequest,
    ) -> Result<Page<Tag>> {
        let (repository, digest) = (repository.clone(), digest.clone());
        self.run_page(page, move |inner, page| {
            inner.tags_page(&repository, &digest, page)
        })
        .await
    }

    async fn list_referrers(
        &self,
        repository: &RepositoryName,
        subject: &Digest,
        artifact_type: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Referrer>> {
        let dir = self.inner.layout.referrers(repository, subject);
        let artifact_type = artifact_type.map(str::to_owned);
        self.run_page(page, move |inner, page| {
            inner.referrers_page(&dir, artifact_type.as_deref(), page)
        })
        .await
    }

    async fn list_repositories(&self, page: &PageRequest) -> Result<Page<RepositoryName>> {
        self.run_page(page, Inner::repositories_page).await
    }

    async fn archive_repository(
        &self,
        repository: &RepositoryName,
        key: &ArchiveKey,
    ) -> Result<()> {
        let (repository, key) = (repository.clone(), key.clone());
        self.run(move |inner| inner.archive_repository(&repository, &key))
            .await
    }

    async fn restore_repository(
        &self,
        key: &ArchiveKey,
        repository: &RepositoryName,
    ) -> Result<()> {
        let (key, repository) = (key.clone(), repository.clone());
        self.run(move |inner| inner.restore_repository(&key, &repository))
            .await
    }

    async fn delete_archive(&self, key: &ArchiveKey) -> Result<()> {
        let key = key.clone();
        self.run(move |inner| inner.delete_archive(&key)).await
    }

    async fn list_archives(&self, page: &PageRequest) -> Result<Page<Archive>> {
        self.run_page(page, Inner::archives_page).await
    }

    async fn confirm_link(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        self.run_with(repository, digest, |inner, repository, digest| {
            inner.confirm_link(&repository, &digest)
        })
        .await
    }

    async fn unlink_blob_unused_since(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        cutoff: SystemTime,
    ) -> Result<bool> {
        self.run_with(repository, digest, move |inner, repository, digest| {
            inner.unlink_unused_since(&repository, &digest, cutoff)
        })
        .await
    }

    async fn link_counts(&self, digests: &[Digest]) -> Result<HashMap<Digest, u64>> {
        let digests = digests.to_vec();
        self.run(move |inner| inner.link_counts(&digests)).await
    }
}

/// A manifest file (a header line, then the manifest's bytes), or `None`
/// when there is none at `path`.
pub(super) fn read_manifest_file(
    path: &std::path::Path,
) -> Result<Option<(ManifestHeader, bytes::Bytes)>> {
    let Some(content) = read_optional(path)? else {
        return Ok(None);
    };
    let newline = content
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| corrupt(path, "no header line"))?;
    let header: ManifestHeader =
        serde_json::from_slice(&content[..newline]).map_err(|e| corrupt(path, e))?;
    let bytes = bytes::Bytes::from(content).slice(newline + 1..);
    Ok(Some((header, bytes)))
}

/// The digest a tag file names, or `None` when there is none at `path`.
pub(super) fn read_tag_file(path: &std::path::Path) -> Result<Option<Digest>> {
    let Some(content) = read_optional(path)? else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&content).map_err(|e| corrupt(path, e))?;
    text.parse().map(Some).map_err(|e| corrupt(path, e))
}
