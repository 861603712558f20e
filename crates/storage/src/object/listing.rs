//! Listings in key order, whatever the store's own order.

use std::ops::ControlFlow;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::ObjectMeta;

use super::failure::unavailable;
use super::ObjectStorage;
use crate::error::Result;

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
