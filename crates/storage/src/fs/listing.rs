//! Paged listings of the directory tree: blobs, links, manifests, referrers
//! and the repository catalog.
//!
//! `readdir` returns names in no particular order, so one directory's names
//! are read whole (names only, no file is opened) and sorted; that is the
//! unit a page costs at worst. Across directories the walks go in sorted
//! order, skip every directory whose names all sort at or before the page's
//! `last`, and stop as soon as the page is full (`n + 1` items, to know
//! whether more follow). Nothing is collected beyond the page.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs;
use std::path::Path;
use std::str::FromStr;

use wharf_reference::{Digest, RepositoryName};

use super::atomic::{present, read_dir_names, read_json};
use super::layout::digest_path;
use super::Inner;
use crate::collect::BlobEntry;
use crate::error::{Error, Result};
use crate::manifest::Referrer;
use crate::page::{Page, PageRequest};

/// The items of one page, gathered from a walk in ascending key order.
struct Collector<'r, T> {
    request: &'r PageRequest,
    items: Vec<T>,
}

impl<'r, T: Clone> Collector<'r, T> {
    fn new(request: &'r PageRequest) -> Self {
        Collector {
            request,
            items: Vec::new(),
        }
    }

    /// Whether every key starting with `prefix` sorts at or before `last`,
    /// so that a directory holding only such keys can be skipped.
    fn skips(&self, prefix: &str) -> bool {
        self.request
            .last
            .as_deref()
            .is_some_and(|last| prefix < last && !last.starts_with(prefix))
    }

    /// Whether `key` sorts after `last`.
    fn wants(&self, key: &str) -> bool {
        self.request.last.as_deref().is_none_or(|last| key > last)
    }

    /// Holds `n + 1` items: the page and proof that more follow.
    fn full(&self) -> bool {
        self.request.n.is_some_and(|n| self.items.len() > n)
    }

    fn finish(self, key: impl Fn(&T) -> &str) -> Page<T> {
        Page::from_sorted_by(self.items, self.request, key)
    }
}

/// The subdirectories of `dir` that may hold keys after the page's `last`,
/// each with the prefix `<prefix><name><suffix>` its keys start with,
/// sorted by that prefix. Reads the directory's names whole.
fn sorted_dirs<T: Clone>(
    dir: &Path,
    prefix: &str,
    suffix: &str,
    collector: &Collector<'_, T>,
) -> Result<Vec<(String, String)>> {
    let mut dirs: Vec<(String, String)> = read_dir_names(dir)?
        .into_iter()
        .map(|name| (format!("{prefix}{name}{suffix}"), name))
        .filter(|(key, _)| !collector.skips(key))
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The keys `<prefix><name>` of the entries of `dir` after the page's
/// `last`, sorted. Reads the directory's names whole.
fn sorted_leaves<T: Clone>(
    dir: &Path,
    prefix: &str,
    collector: &Collector<'_, T>,
) -> Result<Vec<String>> {
    let mut keys: Vec<String> = read_dir_names(dir)?
        .into_iter()
        .map(|name| format!("{prefix}{name}"))
        .filter(|key| collector.wants(key))
        .collect();
    keys.sort();
    Ok(keys)
}

/// Walks digests stored as `<dir>/<algorithm>/<encoded>` in the order of
/// their string form, offering each to `accept` (which may drop it) until
/// the page is full.
fn walk_digests<T: Clone>(
    dir: &Path,
    collector: &mut Collector<'_, T>,
    accept: &mut impl FnMut(Digest) -> Result<Option<T>>,
) -> Result<()> {
    // Sorted by "<algorithm>:", not by the bare name: "sha256+x:" sorts
    // before "sha256:".
    for (prefix, algorithm) in sorted_dirs(dir, "", ":", collector)? {
        if collector.full() {
            break;
        }
        walk_leaves(&dir.join(algorithm), &prefix, collector, accept)?;
    }
    Ok(())
}

/// Walks the entries of `dir` in the order of their keys
/// `<prefix><name>`, offering each key that parses as `K` to `accept`
/// (which may drop it) until the page is full.
fn walk_leaves<K: FromStr, T: Clone>(
    dir: &Path,
    prefix: &str,
    collector: &mut Collector<'_, T>,
    accept: &mut impl FnMut(K) -> Result<Option<T>>,
) -> Result<()> {
    for key in sorted_leaves(dir, prefix, collector)? {
        if collector.full() {
            break;
        }
        let Ok(key) = key.parse::<K>() else {
            continue;
        };
        if let Some(item) = accept(key)? {
            collector.items.push(item);
        }
    }
    Ok(())
}

impl Inner {
    /// A page of the digests stored as `<dir>/<algorithm>/<encoded>`
    /// (links, manifests).
    pub(super) fn digests_page(&self, dir: &Path, request: &PageRequest) -> Result<Page<Digest>> {
        let mut collector = Collector::new(request);
        walk_digests(dir, &mut collector, &mut |d| Ok(Some(d)))?;
        Ok(collector.finish(Digest::as_str))
    }

    /// A page of the items made by `accept` from the entries of `dir`
    /// whose names parse as `K` (tags, archive keys, upload ids), in name
    /// order, `key` giving an item's name back: only the entries after
    /// `last` are offered, until the page is full.
    pub(super) fn names_page<K: FromStr, T: Clone>(
        &self,
        dir: &Path,
        request: &PageRequest,
        mut accept: impl FnMut(K) -> Result<Option<T>>,
        key: impl Fn(&T) -> &str,
    ) -> Result<Page<T>> {
        let mut collector = Collector::new(request);
        walk_leaves(dir, "", &mut collector, &mut accept)?;
        Ok(collector.finish(key))
    }

    /// A page of the blobs, stored as `<algorithm>/<shard>/<encoded>`:
    /// shards before the page are skipped unread.
    pub(super) fn blobs_page(&self, request: &PageRequest) -> Result<Page<Digest>> {
        self.walk_blobs(request, |d| Ok(Some(d)), Digest::as_str)
    }

    /// A page of the blobs with their sizes and times, as
    /// [`blobs_page`](Inner::blobs_page) walks them. A blob removed or
    /// condemned since the listing is skipped.
    pub(super) fn blob_entries_page(&self, request: &PageRequest) -> Result<Page<BlobEntry>> {
        let entry = |digest: Digest| {
            let path = self.layout.blob(&digest);
            let Some(meta) = present(fs::metadata(&path), "stat", &path)? else {
                return Ok(None);
            };
            let modified = meta
                .modified()
                .map_err(|e| Error::io(format!("stat {}", path.display()), e))?;
            Ok(Some(BlobEntry::new(digest, meta.len(), modified)))
        };
        self.walk_blobs(request, entry, |e: &BlobEntry| e.digest.as_str())
    }

    /// Walks the live blobs in digest order, offering each to `accept`
    /// until the page is full. Directories whose names start with `.`
    /// (the condemned blobs) are not algorithms, and are skipped.
    fn walk_blobs<T: Clone>(
        &self,
        request: &PageRequest,
        mut accept: impl FnMut(Digest) -> Result<Option<T>>,
        key: impl Fn(&T) -> &str,
    ) -> Result<Page<T>> {
        let blobs = self.layout.blobs();
        let mut collector = Collector::new(request);
        let algorithms = sorted_dirs(&blobs, "", ":", &collector)?;
        for (prefix, algorithm) in algorithms {
            if algorithm.starts_with('.') {
                continue;
            }
            if collector.full() {
                break;
            }
            let dir = blobs.join(algorithm);
            for (_, shard) in sorted_dirs(&dir, &prefix, "", &collector)? {
                if collector.full() {
                    break;
                }
                walk_leaves(&dir.join(shard), &prefix, &mut collector, &mut accept)?;
            }
        }
        Ok(collector.finish(key))
    }

    /// A page of the referrers stored in `dir` (one subject's, as
    /// [`Layout::referrers`](super::layout::Layout::referrers) places
    /// them), of `artifact_type` if given: only the entries after `last`
    /// are opened, until the page is full.
    pub(super) fn referrers_page(
        &self,
        dir: &Path,
        artifact_type: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<Referrer>> {
        let mut collector = Collector::new(request);
        walk_digests(dir, &mut collector, &mut |digest| {
            // An entry removed since the listing is skipped.
            let referrer: Option<Referrer> = read_json(&digest_path(dir.to_owned(), &digest))?;
            Ok(referrer.filter(|referrer| referrer.matches_artifact_type(artifact_type)))
        })?;
        Ok(collector.finish(|r| r.digest.as_str()))
    }

    /// A page of the catalog. Repository names nest (`a` and `a/b`) and a
    /// sibling may sort between a name and its children (`a-c` comes
    /// before `a/b`), so the walk is in name order through a heap: the
    /// smallest name not yet visited is always in it, since every name
    /// sorts after its parent. The heap holds the unvisited children of the
    /// directories visited so far; subtrees wholly before `last` are never
    /// entered, and the walk stops once the page is full.
    pub(super) fn repositories_page(&self, request: &PageRequest) -> Result<Page<RepositoryName>> {
        let root = self.layout.repositories();
        let mut collector = Collector::new(request);
        let mut heap = BinaryHeap::new();
        self.push_children(&root, "", &collector, &mut heap)?;
        while let Some(Reverse(name)) = heap.pop() {
            if collector.full() {
                break;
            }
            if collector.wants(&name) {
                if let Ok(repository) = name.parse::<RepositoryName>() {
                    if self.repository_exists(&repository) {
                        collector.items.push(repository);
                    }
                }
            }
            let prefix = format!("{name}/");
            if !collector.skips(&prefix) {
                self.push_children(&root.join(&name), &prefix, &collector, &mut heap)?;
            }
        }
        Ok(collector.finish(|r| r.as_ref()))
    }

    /// Pushes the names of `dir`'s repository subdirectories (not the
    /// `_links`-style ones) that may lead to names after `last`.
    fn push_children(
        &self,
        dir: &Path,
        prefix: &str,
        collector: &Collector<'_, RepositoryName>,
        heap: &mut BinaryHeap<Reverse<String>>,
    ) -> Result<()> {
        for child in read_dir_names(dir)? {
            if child.starts_with('_') {
                continue;
            }
            let name = format!("{prefix}{child}");
            // The child's own name, or one of its descendants, may follow
            // `last`.
            if !collector.wants(&name) && collector.skips(&format!("{name}/")) {
                continue;
            }
            if dir.join(&child).is_dir() {
                heap.push(Reverse(name));
            }
        }
        Ok(())
    }
}
