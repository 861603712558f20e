//! Listings in key order, whatever the store's own order.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::ObjectMeta;
use wharf_reference::Digest;

use super::failure::unavailable;
use super::layout::BLOB_ALGORITHMS;
use super::ObjectStorage;
use crate::error::Result;
use crate::page::PageRequest;

/// Whether a store lists keys in lexical order.
///
/// S3, Google Cloud Storage, Azure Blob Storage and `InMemory` do, and a
/// page of blobs then costs one listing request that starts after the
/// previous page. object_store's `LocalFileSystem` lists in directory
/// order: each page then reads the whole listing and sorts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ListingOrder {
    /// Keys come in lexical (byte) order.
    #[default]
    Lexical,
    /// Keys come in any order.
    Unordered,
}

impl ObjectStorage {
    /// Visits the keys under `prefix` that sort after `offset`, in lexical
    /// order, until `visit` breaks.
    pub(super) async fn walk(
        &self,
        prefix: &Path,
        offset: Option<&Path>,
        context: &str,
        mut visit: impl FnMut(ObjectMeta) -> ControlFlow<()>,
    ) -> Result<()> {
        let store = &self.inner.store;
        let listing = match offset {
            Some(offset) => store.list_with_offset(Some(prefix), offset),
            None => store.list(Some(prefix)),
        };
        match self.inner.listing_order {
            ListingOrder::Lexical => {
                let mut listing = listing;
                while let Some(meta) = listing
                    .try_next()
                    .await
                    .map_err(|e| unavailable(context, e))?
                {
                    if visit(meta).is_break() {
                        break;
                    }
                }
            }
            ListingOrder::Unordered => {
                let mut all: Vec<ObjectMeta> = listing
                    .try_collect()
                    .await
                    .map_err(|e| unavailable(context, e))?;
                all.sort_by(|a, b| a.location.cmp(&b.location));
                for meta in all {
                    if visit(meta).is_break() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Which digest-named keys a listing walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Listed {
    /// The blobs, `PREFIX/blobs/<algorithm>/<hex>`.
    Blobs,
    /// The markers of condemned blobs, `PREFIX/gc/condemned/<algorithm>/<hex>`.
    Condemned,
}

impl ObjectStorage {
    /// The objects of `kind` whose digests sort after `page.last`, in
    /// digest order, leaving out those in `skip`: at most one more than
    /// the page holds, so that [`Page::from_sorted_by`](crate::Page::from_sorted_by)
    /// knows whether another page follows. One listing per algorithm
    /// reached, each starting after `page.last`.
    pub(super) async fn list_digests(
        &self,
        kind: Listed,
        page: &PageRequest,
        skip: &BTreeSet<Digest>,
    ) -> Result<Vec<(Digest, ObjectMeta)>> {
        if page.n == Some(0) {
            return Ok(Vec::new());
        }
        // One more than the page, to know whether another follows.
        let wanted = page.n.map(|n| n + 1);
        let last = page.last.as_deref();
        let layout = &self.inner.layout;
        let mut found: Vec<(Digest, ObjectMeta)> = Vec::new();
        for algorithm in &BLOB_ALGORITHMS {
            if wanted.is_some_and(|w| found.len() >= w) {
                break;
            }
            let name = format!("{algorithm}:");
            // Where `last` falls among this algorithm's digests.
            let offset = match last {
                Some(last) if last.starts_with(&name) => Some(&last[name.len()..]),
                Some(last) if last > name.as_str() => continue,
                _ => None,
            };
            let prefix = match kind {
                Listed::Blobs => layout.blobs_of(algorithm),
                Listed::Condemned => layout.condemned_of(algorithm),
            };
            // A `last` that is no hex string cannot be a key: start at the
            // longest hex prefix of it and filter the rest exactly.
            let offset_key = offset.and_then(|hex| {
                let safe: String = hex
                    .chars()
                    .take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
                    .collect();
                (!safe.is_empty()).then(|| prefix.clone().join(safe.as_str()))
            });
            let context = match kind {
                Listed::Blobs => "list blobs",
                Listed::Condemned => "list condemned blobs",
            };
            self.walk(&prefix, offset_key.as_ref(), context, |meta| {
                let digest = match kind {
                    Listed::Blobs => layout.blob_digest(algorithm, &meta.location),
                    Listed::Condemned => layout.condemned_digest(algorithm, &meta.location),
                };
                if let Some(digest) = digest {
                    if last.is_none_or(|last| digest.as_str() > last) && !skip.contains(&digest) {
                        found.push((digest, meta));
                    }
                }
                if wanted.is_some_and(|w| found.len() >= w) {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .await?;
        }
        Ok(found)
    }

    /// The stored blobs (not condemned) after `page.last`, as
    /// [`list_digests`](Self::list_digests) gives them. The markers after
    /// `page.last` are listed first: all of them, which is one request
    /// when there are none (outside a collection, and inside one there
    /// are at most the blobs it condemned and has not judged yet).
    pub(super) async fn list_stored(
        &self,
        page: &PageRequest,
    ) -> Result<Vec<(Digest, ObjectMeta)>> {
        if page.n == Some(0) {
            return Ok(Vec::new());
        }
        let markers = PageRequest {
            n: None,
            last: page.last.clone(),
        };
        let condemned: BTreeSet<Digest> = self
            .list_digests(Listed::Condemned, &markers, &BTreeSet::new())
            .await?
            .into_iter()
            .map(|(digest, _)| digest)
            .collect();
        self.list_digests(Listed::Blobs, page, &condemned).await
    }
}
