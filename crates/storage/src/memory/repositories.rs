//! [`RepositoryStore`] for [`MemoryStorage`]: links, manifests, tags,
//! referrers, the catalog and archives.

use std::collections::HashMap;
use std::time::SystemTime;

use async_trait::async_trait;
use wharf_reference::{Digest, RepositoryName, Tag};

use crate::archive::{Archive, ArchiveKey};
use crate::error::{Error, Result};
use crate::manifest::{ManifestPut, Referrer, StoredManifest};
use crate::page::{Page, PageRequest};
use crate::RepositoryStore;

use super::{after_bound, page_of_keys, Manifest, MemoryStorage, Repository};

#[async_trait]
impl RepositoryStore for MemoryStorage {
    async fn link_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        let mut state = self.state();
        if !self.external_blobs {
            state.take_back(digest);
            if !state.blobs.contains_key(digest) {
                return Err(Error::BlobNotFound(digest.clone()));
            }
        }
        state.link(repository, digest);
        Ok(())
    }

    async fn is_blob_linked(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        Ok(self
            .state()
            .repositories
            .get(repository)
            .is_some_and(|r| r.links.contains_key(digest)))
    }

    async fn unlink_blob(&self, repository: &RepositoryName, digest: &Digest) -> Result<()> {
        let removed = self
            .state()
            .repositories
            .get_mut(repository)
            .is_some_and(|r| r.links.remove(digest).is_some());
        if removed {
            Ok(())
        } else {
            Err(Error::blob_not_linked(repository, digest))
        }
    }

    async fn linked_blobs(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        Ok(self.page_in(repository, |r| {
            let after = r.links.range::<str, _>(after_bound(page));
            Page::from_sorted(after.map(|(digest, _)| digest.clone()), page)
        }))
    }

    async fn put_manifest(&self, repository: &RepositoryName, manifest: ManifestPut) -> Result<()> {
        manifest.validate()?;
        let referrer = manifest.referrer();
        let mut state = self.state();
        let repo = state.repositories.entry(repository.clone()).or_default();
        let previous = repo.manifests.insert(
            manifest.digest.clone(),
            Manifest {
                media_type: manifest.media_type,
                bytes: manifest.bytes,
                subject: manifest.subject,
            },
        );
        if let Some(old_subject) = previous.and_then(|p| p.subject) {
            repo.remove_referrer(&manifest.digest, &old_subject);
        }
        if let Some((subject, referrer)) = referrer {
            repo.referrers
                .entry(subject)
                .or_default()
                .insert(manifest.digest, referrer);
        }
        Ok(())
    }

    async fn get_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<StoredManifest> {
        let state = self.state();
        let m = state.manifest(repository, digest)?;
        Ok(StoredManifest::new(
            digest.clone(),
            m.media_type.clone(),
            m.bytes.clone(),
        ))
    }

    async fn delete_manifest(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
    ) -> Result<Vec<Tag>> {
        let mut state = self.state();
        let not_found = || Error::manifest_not_found(repository, digest);
        let repo = state
            .repositories
            .get_mut(repository)
            .ok_or_else(not_found)?;
        let manifest = repo.manifests.remove(digest).ok_or_else(not_found)?;
        if let Some(subject) = &manifest.subject {
            repo.remove_referrer(digest, subject);
        }
        let tags: Vec<Tag> = repo.tags_pointing_at(digest).collect();
        for tag in &tags {
            repo.tags.remove(tag);
        }
        Ok(tags)
    }

    async fn list_manifests(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Digest>> {
        Ok(self.page_in(repository, |r| page_of_keys(&r.manifests, page)))
    }

    async fn set_tag(&self, repository: &RepositoryName, tag: &Tag, digest: &Digest) -> Result<()> {
        let mut state = self.state();
        state.manifest(repository, digest)?;
        if let Some(repo) = state.repositories.get_mut(repository) {
            repo.tags.insert(tag.clone(), digest.clone());
        }
        Ok(())
    }

    async fn resolve_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        self.state()
            .repositories
            .get(repository)
            .and_then(|r| r.tags.get(tag).cloned())
            .ok_or_else(|| Error::tag_not_found(repository, tag))
    }

    async fn delete_tag(&self, repository: &RepositoryName, tag: &Tag) -> Result<Digest> {
        self.state()
            .repositories
            .get_mut(repository)
            .and_then(|r| r.tags.remove(tag))
            .ok_or_else(|| Error::tag_not_found(repository, tag))
    }

    async fn list_tags(
        &self,
        repository: &RepositoryName,
        page: &PageRequest,
    ) -> Result<Page<Tag>> {
        let state = self.state();
        let repo = state.repository(repository)?;
        Ok(Page::from_sorted(repo.tags.keys().cloned(), page))
    }

    async fn tags_of(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        page: &PageRequest,
    ) -> Result<Page<Tag>> {
        Ok(self.page_in(repository, |r| {
            Page::from_sorted(r.tags_pointing_at(digest), page)
        }))
    }

    async fn list_referrers(
        &self,
        repository: &RepositoryName,
        subject: &Digest,
        artifact_type: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Referrer>> {
        Ok(self.page_in(repository, |r| {
            let Some(entries) = r.referrers.get(subject) else {
                return Page::empty();
            };
            let matching = entries
                .range::<str, _>(after_bound(page))
                .map(|(_, r)| r)
                .filter(|r| r.matches_artifact_type(artifact_type))
                .cloned();
            Page::from_sorted_by(matching, page, |r| r.digest.as_str())
        }))
    }

    async fn list_repositories(&self, page: &PageRequest) -> Result<Page<RepositoryName>> {
        Ok(Page::from_sorted(
            self.state().repositories.keys().cloned(),
            page,
        ))
    }

    async fn archive_repository(
        &self,
        repository: &RepositoryName,
        key: &ArchiveKey,
    ) -> Result<()> {
        let mut state = self.state();
        if state.archives.contains_key(key) {
            return Err(Error::ArchiveExists(key.clone()));
        }
        // Its idle upload sessions go too; one being appended to is busy.
        state.cancel_idle_uploads_in(repository);
        let content = state.repositories.remove(repository).unwrap_or_default();
        state
            .archives
            .insert(key.clone(), (repository.clone(), content));
        Ok(())
    }

    async fn restore_repository(
        &self,
        key: &ArchiveKey,
        repository: &RepositoryName,
    ) -> Result<()> {
        let mut state = self.state();
        if !state.archives.contains_key(key) {
            return Err(Error::ArchiveNotFound(key.clone()));
        }
        if state
            .repositories
            .get(repository)
            .is_some_and(Repository::holds_content)
        {
            return Err(Error::RepositoryNotEmpty(repository.clone()));
        }
        // An empty archive leaves the name unknown, as on disk.
        if let Some((_, content)) = state.archives.remove(key) {
            if content.holds_content() {
                state.repositories.insert(repository.clone(), content);
            }
        }
        Ok(())
    }

    async fn delete_archive(&self, key: &ArchiveKey) -> Result<()> {
        match self.state().archives.remove(key) {
            Some(_) => Ok(()),
            None => Err(Error::ArchiveNotFound(key.clone())),
        }
    }

    async fn list_archives(&self, page: &PageRequest) -> Result<Page<Archive>> {
        let state = self.state();
        let archives = state
            .archives
            .iter()
            .map(|(key, (repository, _))| Archive::new(key.clone(), repository.clone()));
        Ok(Page::from_sorted_by(archives, page, |a| a.key.as_str()))
    }

    async fn confirm_link(&self, repository: &RepositoryName, digest: &Digest) -> Result<bool> {
        let mut state = self.state();
        let link = state
            .repositories
            .get_mut(repository)
            .and_then(|r| r.links.get_mut(digest));
        Ok(link.map(|at| *at = SystemTime::now()).is_some())
    }

    async fn unlink_blob_unused_since(
        &self,
        repository: &RepositoryName,
        digest: &Digest,
        cutoff: SystemTime,
    ) -> Result<bool> {
        let mut state = self.state();
        let Some(repo) = state.repositories.get_mut(repository) else {
            return Ok(false);
        };
        match repo.links.get(digest) {
            Some(at) if *at < cutoff => {
                repo.links.remove(digest);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn link_counts(&self, digests: &[Digest]) -> Result<HashMap<Digest, u64>> {
        let state = self.state();
        let repositories = state
            .repositories
            .values()
            .chain(state.archives.values().map(|(_, repo)| repo));
        let mut counts = HashMap::new();
        for repo in repositories {
            for digest in digests {
                if repo.links.contains_key(digest) {
                    *counts.entry(digest.clone()).or_insert(0) += 1;
                }
            }
        }
        Ok(counts)
    }
}
