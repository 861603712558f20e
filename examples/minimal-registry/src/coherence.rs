//! Cache coherence between replicas: every change another replica makes
//! to what this one caches (a moved tag, a deleted manifest, an archived
//! repository; a revoked token, a visibility change, a deleted version) is
//! announced by PostgreSQL (`NOTIFY`, sent when the change commits), and
//! this replica drops the cached answers at once. While the notification
//! connection is down, everything cached is dropped and the caches' TTL
//! ([`CACHE_TTL`](crate::stores::CACHE_TTL)) bounds staleness until it is
//! back.

use std::time::Duration;

use futures::StreamExt;
use wharf_packages::CachedStore;
use wharf_reference::RepositoryName;
use wharf_storage::postgres::{listen, Notification, NOTIFY_CHANNEL as STORAGE_CHANNEL};

use crate::stores::Forget;

/// Listens for changes on the database at `url` for as long as the process
/// runs, reconnecting after a failure.
pub fn spawn(url: String, forget: Forget, packages: Option<CachedStore>) {
    let forget_all = {
        let (forget, packages) = (forget.clone(), packages.clone());
        move || {
            forget(None);
            if let Some(packages) = &packages {
                packages.invalidate();
            }
        }
    };
    tokio::spawn(async move {
        let channels = [STORAGE_CHANNEL, wharf_packages::NOTIFY_CHANNEL];
        loop {
            match listen(&url, &channels).await {
                Ok(mut changes) => {
                    // Whatever changed while nobody listened.
                    forget_all();
                    tracing::debug!("listening for changes made by other replicas");
                    while let Some(change) = changes.next().await {
                        match change {
                            Ok(change) => apply(&change, &forget, packages.as_ref()),
                            Err(err) => {
                                tracing::warn!(error = %err, "lost the change notifications; caches dropped until they are back");
                                break;
                            }
                        }
                    }
                    forget_all();
                }
                Err(err) => {
                    tracing::warn!(error = %err, "cannot listen for changes made by other replicas; retrying");
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

fn apply(change: &Notification, forget: &Forget, packages: Option<&CachedStore>) {
    if change.channel == STORAGE_CHANNEL {
        match change.payload.parse::<RepositoryName>() {
            Ok(name) => forget(Some(&name)),
            Err(_) => forget(None),
        }
    } else if let Some(packages) = packages {
        packages.invalidate();
    }
}
