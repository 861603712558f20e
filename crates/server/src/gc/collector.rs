//! The collection itself: [`collect_garbage`], its three steps (see [the
//! module docs](super)) and the dry run's accounting.

use std::collections::{HashMap, HashSet};
use std::time::{Instant, SystemTime};

use wharf_manifest::{Manifest, ParseOptions};
use wharf_reference::{Digest, RepositoryName};
use wharf_storage::{BlobEntry, Error, Page, PageRequest, Storage, StoredManifest};

use futures::future::BoxFuture;
use futures::{stream, FutureExt, StreamExt};

use super::{GcOptions, GcPhase, GcReport};
use crate::distribution::name_locks::NameLocks;

/// Blobs condemned, pardoned or removed at a time: enough to hide the
/// disk's and the store's latency, few enough that the registry serving
/// beside the collection keeps its latency (16 made a manifest GET's p99
/// 2.8x slower during a collection on two cores; 4 was as fast and left
/// it within noise: BENCHMARKS.md).
const IN_FLIGHT: usize = 4;

/// Runs one collection over `storage` (see [the module docs](super)).
///
/// [`Registry::collect_garbage`](crate::Registry::collect_garbage) does
/// the same and also records the run in the registry's metrics, and keeps
/// the package deletes and restores of its own process from changing a
/// repository while the collector reads it.
pub async fn collect_garbage(
    storage: &dyn Storage,
    options: &GcOptions,
) -> Result<GcReport, Error> {
    Collection::new(storage, options, None).run().await
}

/// One collection under way.
pub(crate) struct Collection<'a> {
    storage: &'a dyn Storage,
    options: &'a GcOptions,
    /// Held shared per repository while its links are examined, when the
    /// collection runs in a registry's process.
    locks: Option<&'a NameLocks>,
    started: Instant,
    cutoff: SystemTime,
    report: GcReport,
    /// In a dry run: per blob, how many of its links the links step would
    /// remove.
    would_unlink: HashMap<Digest, u64>,
}

/// What a repository's manifests reference.
struct References {
    /// The manifests read.
    manifests: HashSet<Digest>,
    /// The blobs they reference; `None` if one of them could not be
    /// parsed, so that every link is kept.
    blobs: Option<HashSet<Digest>>,
}

impl<'a> Collection<'a> {
    pub(crate) fn new(
        storage: &'a dyn Storage,
        options: &'a GcOptions,
        locks: Option<&'a NameLocks>,
    ) -> Self {
        let now = SystemTime::now();
        Collection {
            storage,
            options,
            locks,
            started: Instant::now(),
            cutoff: now
                .checked_sub(options.grace)
                .unwrap_or(SystemTime::UNIX_EPOCH),
            report: GcReport {
                dry_run: options.dry_run,
                ..GcReport::default()
            },
            would_unlink: HashMap::new(),
        }
    }

    pub(crate) async fn run(mut self) -> Result<GcReport, Error> {
        self.resume().await?;
        self.links().await?;
        self.blobs().await?;
        // Links to blobs the blob listing did not show (missing, or left
        // condemned): a collection removes them too.
        let left: u64 = self.would_unlink.values().sum();
        self.report.links_removed += left;
        self.report.duration = self.started.elapsed();
        Ok(self.report)
    }

    /// Only step 0: what an interrupted collection left condemned is
    /// judged, nothing else is collected.
    pub(crate) async fn resume_only(mut self) -> Result<GcReport, Error> {
        self.resume().await?;
        self.report.duration = self.started.elapsed();
        Ok(self.report)
    }

    fn first_page(&self) -> PageRequest {
        PageRequest::first(self.options.batch_size.max(1))
    }

    /// Reports progress every `progress_every` items, `count` being the
    /// step's items so far.
    fn tick(&mut self, phase: GcPhase, count: u64) {
        if count % self.options.progress_every.max(1) == 0 {
            self.progress(phase, false);
        }
    }

    fn progress(&mut self, phase: GcPhase, done: bool) {
        self.report.duration = self.started.elapsed();
        self.options.report_progress(phase, done, &self.report);
    }

    /// Step 0: the blobs an interrupted collection left condemned are
    /// pardoned if linked, removed if not.
    async fn resume(&mut self) -> Result<(), Error> {
        let mut next = Some(self.first_page());
        while let Some(request) = next {
            let page = self.storage.condemned_blobs(&request).await?;
            if !page.items.is_empty() {
                let counts = self.storage.link_counts(&page.items).await?;
                for digest in &page.items {
                    self.report.condemned_resumed += 1;
                    if counts.contains_key(digest) {
                        if !self.options.dry_run {
                            self.storage.pardon_blob(digest).await?;
                        }
                    } else if self.options.dry_run || self.storage.execute_blob(digest).await? {
                        self.report.blobs_removed += 1;
                    }
                    let count = self.report.condemned_resumed;
                    self.tick(GcPhase::Resume, count);
                }
            }
            next = page.next_request(&request, Digest::as_str);
        }
        if self.report.condemned_resumed > 0 {
            tracing::info!(
                blobs = self.report.condemned_resumed,
                "recounted the blobs an interrupted garbage collection left condemned"
            );
        }
        self.progress(GcPhase::Resume, true);
        Ok(())
    }

    /// Step 1: in each live repository, the links no manifest references
    /// go (if unused since the cutoff).
    async fn links(&mut self) -> Result<(), Error> {
        let mut next = Some(self.first_page());
        while let Some(request) = next {
            let page: Page<RepositoryName> = self.storage.list_repositories(&request).await?;
            for name in &page.items {
                self.repository(name).await?;
                self.report.repositories_scanned += 1;
                let count = self.report.repositories_scanned;
                self.tick(GcPhase::Links, count);
            }
            next = page.next_request(&request, RepositoryName::as_str);
        }
        self.progress(GcPhase::Links, true);
        Ok(())
    }

    async fn repository(&mut self, name: &RepositoryName) -> Result<(), Error> {
        // A package delete or restore in this process waits: it moves
        // manifests and links together, and the collector must not read
        // the manifests before such a move and the links after it.
        let _held = match self.locks {
            Some(locks) => Some(locks.content_write(name).await),
            None => None,
        };
        let references = self.references(name, None).await?;
        let Some(referenced) = references.blobs else {
            self.report.repositories_kept_whole += 1;
            return Ok(());
        };
        let mut unlinked = Vec::new();
        let mut next = Some(self.first_page());
        while let Some(request) = next {
            let page = self.storage.linked_blobs(name, &request).await?;
            for digest in page.items.iter().filter(|d| !referenced.contains(*d)) {
                if self.options.dry_run {
                    *self.would_unlink.entry(digest.clone()).or_insert(0) += 1;
                } else if self
                    .storage
                    .unlink_blob_unused_since(name, digest, self.cutoff)
                    .await?
                {
                    self.report.links_removed += 1;
                    unlinked.push(digest.clone());
                }
            }
            next = page.next_request(&request, Digest::as_str);
        }
        if !unlinked.is_empty() {
            self.relink(name, &references.manifests, unlinked).await?;
        }
        Ok(())
    }

    /// The manifests of `name` (those not in `skip`) and the blobs they
    /// reference.
    async fn references(
        &mut self,
        name: &RepositoryName,
        skip: Option<&HashSet<Digest>>,
    ) -> Result<References, Error> {
        let mut manifests = HashSet::new();
        let mut blobs = HashSet::new();
        let mut next = Some(self.first_page());
        while let Some(request) = next {
            let page = self.storage.list_manifests(name, &request).await?;
            for digest in &page.items {
                if skip.is_some_and(|skip| skip.contains(digest)) {
                    continue;
                }
                let stored = match self.storage.get_manifest(name, digest).await {
                    Ok(stored) => stored,
                    // Deleted since it was listed.
                    Err(err) if err.is_not_found() => continue,
                    Err(err) => return Err(err),
                };
                self.report.manifests_read += 1;
                manifests.insert(digest.clone());
                match parse(&stored) {
                    Ok(manifest) => {
                        blobs.extend(manifest.required_blobs().map(|b| b.digest.clone()));
                    }
                    Err(err) => {
                        tracing::warn!(
                            repository = %name,
                            manifest = %digest,
                            error = %err,
                            "a stored manifest cannot be parsed: its repository keeps all its blob links"
                        );
                        return Ok(References {
                            manifests,
                            blobs: None,
                        });
                    }
                }
            }
            next = page.next_request(&request, Digest::as_str);
        }
        Ok(References {
            manifests,
            blobs: Some(blobs),
        })
    }

    /// Links again the blobs among `unlinked` that a manifest stored in
    /// `name` since its manifests were read (`before`) references: a
    /// manifest that came back with its links, such as a restored package,
    /// whose links are as old as they were when it was archived. A new
    /// push confirms its links and needs none of this.
    async fn relink(
        &mut self,
        name: &RepositoryName,
        before: &HashSet<Digest>,
        unlinked: Vec<Digest>,
    ) -> Result<(), Error> {
        let appeared = self.references(name, Some(before)).await?;
        if appeared.manifests.is_empty() {
            return Ok(());
        }
        let needed: Vec<Digest> = match &appeared.blobs {
            Some(blobs) => unlinked.into_iter().filter(|d| blobs.contains(d)).collect(),
            None => unlinked,
        };
        for digest in needed {
            match self.storage.link_blob(name, &digest).await {
                Ok(()) => {
                    self.report.links_removed = self.report.links_removed.saturating_sub(1);
                    tracing::info!(
                        repository = %name,
                        blob = %digest,
                        "linked a blob again for a manifest that appeared during garbage collection"
                    );
                }
                Err(Error::BlobNotFound(_)) => tracing::warn!(
                    repository = %name,
                    blob = %digest,
                    "a manifest that appeared during garbage collection references a blob no longer stored"
                ),
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// Step 2: the blobs stored before the cutoff that nothing links are
    /// condemned, recounted, and removed unless a link appeared.
    async fn blobs(&mut self) -> Result<(), Error> {
        let mut next = Some(self.first_page());
        while let Some(request) = next {
            let page = self.storage.list_blob_entries(&request).await?;
            if self.options.dry_run {
                self.blob_batch_dry(&page.items).await?;
            } else {
                self.blob_batch(&page.items).await?;
            }
            next = page.next_request(&request, |e| e.digest.as_str());
        }
        self.progress(GcPhase::Blobs, true);
        Ok(())
    }

    fn scanned(&mut self, count: usize) {
        for _ in 0..count {
            self.report.blobs_scanned += 1;
            let count = self.report.blobs_scanned;
            self.tick(GcPhase::Blobs, count);
        }
    }

    async fn blob_batch(&mut self, entries: &[BlobEntry]) -> Result<(), Error> {
        let old: Vec<&BlobEntry> = entries
            .iter()
            .filter(|e| e.modified < self.cutoff)
            .collect();
        let linked = self.link_counts(old.iter().map(|e| &e.digest)).await?;
        let unlinked: Vec<(Digest, u64)> = old
            .into_iter()
            .filter(|e| !linked.contains_key(&e.digest))
            .map(|e| (e.digest.clone(), e.size))
            .collect();
        let storage = self.storage;
        let condemned = in_flight(unlinked, |digest, size| {
            async move {
                Ok(storage
                    .condemn_blob(&digest)
                    .await?
                    .then_some((digest, size)))
            }
            .boxed()
        })
        .await?;
        // A reference taken before this recount is counted; one taken
        // after it finds the blob condemned and takes it back (or waits).
        let recount = self
            .link_counts(condemned.iter().map(|(digest, _)| digest))
            .await?;
        let (pardoned, judged): (Vec<_>, Vec<_>) = condemned
            .into_iter()
            .partition(|(digest, _)| recount.contains_key(digest));
        in_flight(pardoned, |digest, _| {
            async move { storage.pardon_blob(&digest).await.map(|()| None::<()>) }.boxed()
        })
        .await?;
        // The sizes of the blobs removed (one taken back meanwhile is not).
        let removed = in_flight(judged, |digest, size| {
            async move { Ok(storage.execute_blob(&digest).await?.then_some(size)) }.boxed()
        })
        .await?;
        for size in removed {
            self.report.blobs_removed += 1;
            self.report.bytes_freed += size;
        }
        self.scanned(entries.len());
        Ok(())
    }

    /// A dry run's blob batch: a blob stored before the cutoff would go if
    /// every link it has is one the links step would remove. A link to a
    /// blob stored since the cutoff is recent too, and would stay.
    async fn blob_batch_dry(&mut self, entries: &[BlobEntry]) -> Result<(), Error> {
        let mut old = Vec::new();
        for entry in entries {
            let doomed = self.would_unlink.remove(&entry.digest).unwrap_or(0);
            if entry.modified < self.cutoff {
                self.report.links_removed += doomed;
                old.push((entry, doomed));
            }
        }
        let counts = self.link_counts(old.iter().map(|(e, _)| &e.digest)).await?;
        for (entry, doomed) in old {
            if counts.get(&entry.digest).copied().unwrap_or(0) <= doomed {
                self.report.blobs_removed += 1;
                self.report.bytes_freed += entry.size;
            }
        }
        self.scanned(entries.len());
        Ok(())
    }

    async fn link_counts(
        &self,
        digests: impl Iterator<Item = &Digest>,
    ) -> Result<HashMap<Digest, u64>, Error> {
        let digests: Vec<Digest> = digests.cloned().collect();
        if digests.is_empty() {
            return Ok(HashMap::new());
        }
        self.storage.link_counts(&digests).await
    }
}

/// Runs `step` on each of `blobs` (digest, size), [`IN_FLIGHT`] at a time:
/// each condemnation, pardon or removal is a rename or a request to the
/// store, which waits on the disk or the network far more than it works.
/// What the steps kept, in order, or the first error. The steps are boxed:
/// unboxed, the compiler cannot prove the collection's future `Send`
/// (rust-lang/rust#102211).
async fn in_flight<'s, T>(
    blobs: Vec<(Digest, u64)>,
    step: impl Fn(Digest, u64) -> BoxFuture<'s, Result<Option<T>, Error>>,
) -> Result<Vec<T>, Error> {
    let results: Vec<Result<Option<T>, Error>> = stream::iter(blobs)
        .map(|(digest, size)| step(digest, size))
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    results.into_iter().filter_map(Result::transpose).collect()
}

/// A stored manifest parsed as it was accepted: with its media type and
/// without a size limit below its own size.
fn parse(stored: &StoredManifest) -> Result<Manifest, wharf_manifest::Error> {
    let mut options = ParseOptions::default();
    options.max_size = stored.bytes.len().max(ParseOptions::DEFAULT_MAX_SIZE);
    Manifest::parse_with(
        stored.bytes.clone(),
        Some(stored.media_type.as_str()),
        &options,
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use wharf_storage::{ManifestPut, MemoryStorage, RepositoryStore};

    use super::*;

    /// A package restored while the collector read its repository: the
    /// collector saw no manifest, removed the (old) links, and then finds
    /// the restored manifest: the links it needs are made again.
    #[tokio::test]
    async fn links_a_manifest_that_appeared_meanwhile_needs_are_made_again() {
        let storage = MemoryStorage::new();
        let name: RepositoryName = "acme/app".parse().expect("name");
        let config = br#"{"architecture":"amd64","os":"linux"}"#;
        let digest = Digest::sha256(config);
        let stray = Digest::sha256(b"stray");
        wharf_storage::BlobStore::put_blob(
            &storage,
            &digest,
            Box::pin(futures::stream::iter([Ok(bytes::Bytes::from_static(
                config,
            ))])),
        )
        .await
        .expect("put");
        wharf_storage::BlobStore::put_blob(
            &storage,
            &stray,
            Box::pin(futures::stream::iter([Ok(bytes::Bytes::from_static(
                b"stray",
            ))])),
        )
        .await
        .expect("put");
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest.to_string(),
                "size": config.len(),
            },
            "layers": [],
        }))
        .expect("json");
        let put = ManifestPut::new(
            Digest::sha256(&manifest),
            "application/vnd.oci.image.manifest.v1+json"
                .parse()
                .expect("media type"),
            manifest,
        );
        storage.put_manifest(&name, put).await.expect("manifest");
        // What the collector removed before the manifest showed up.
        let options = GcOptions::default();
        let mut collection = Collection::new(&storage, &options, None);
        collection.report.links_removed = 2;
        collection
            .relink(&name, &HashSet::new(), vec![digest.clone(), stray.clone()])
            .await
            .expect("relink");
        for (blob, linked) in [(&digest, true), (&stray, false)] {
            let is_linked = storage.is_blob_linked(&name, blob).await.expect("linked");
            assert_eq!(is_linked, linked, "{blob}");
        }
        assert_eq!(collection.report.links_removed, 1);
    }
}
