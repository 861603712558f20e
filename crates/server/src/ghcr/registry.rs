//! The package model's part of [`Registry`] and [`RegistryBuilder`]:
//! turning it on, its routes, and its scheduled work.

use std::time::Duration;

use axum::routing::any;
use axum::Router;

use crate::ghcr::accounts::{Accounts, AccountsConfig};
use crate::ghcr::deleted_packages::{ArchiveRepairs, PackageContentError, PurgeTotals};
use crate::ghcr::{rest, token};
use crate::{Registry, RegistryBuilder};

impl RegistryBuilder {
    /// Turns on the GitHub Container registry model: users, organizations,
    /// personal access and workflow tokens, private and public packages
    /// (see [`Accounts`]). The registry then serves the token endpoint at
    /// `/token` and the package REST API, and, unless an
    /// [`authorizer`](Self::authorizer) or [`hooks`](Self::hooks) are set
    /// (before or after this call), authorizes every request with the
    /// model and records each manifest push as a package version with its
    /// metadata.
    #[must_use]
    pub fn accounts(mut self, config: AccountsConfig) -> Self {
        self.accounts = Some(Accounts::new(config));
        self
    }
}

impl Registry {
    /// The token endpoint and the package REST API, when accounts are on.
    pub(crate) fn ghcr_routes(&self, router: Router<Registry>) -> Router<Registry> {
        if self.inner().accounts.is_none() {
            return router;
        }
        rest::routes(router.route("/token", any(token::endpoint)), self)
    }

    /// The accounts model, when [`RegistryBuilder::accounts`] turned it on.
    pub fn accounts(&self) -> Option<&Accounts> {
        self.inner().accounts.as_ref()
    }

    /// Removes for good the packages and versions deleted longer ago than
    /// the package store's restore window (30 days by default, as
    /// GitHub's; see `PackageRecords::restore_window`), and deletes from storage their
    /// content: the archives of purged packages, and the manifests of
    /// purged versions no record references any more. It goes a bounded
    /// batch at a time, each batch's content deleted before the next is
    /// purged, and returns how much went in all. Nothing to do without
    /// [accounts](RegistryBuilder::accounts).
    pub async fn purge_expired_packages(&self) -> Result<PurgeTotals, wharf_packages::Error> {
        self.purge_expired_packages_with(|_| {}).await
    }

    /// [`purge_expired_packages`](Self::purge_expired_packages), handing
    /// each batch's report to `each` once its content is deleted from
    /// storage: for a caller that wants what was purged, not only how
    /// much.
    pub async fn purge_expired_packages_with(
        &self,
        each: impl FnMut(&wharf_packages::PurgeReport) + Send,
    ) -> Result<PurgeTotals, wharf_packages::Error> {
        match &self.inner().accounts {
            Some(accounts) => accounts.purge_expired(&self.inner().storage, each).await,
            None => Ok(PurgeTotals::default()),
        }
    }

    /// Repairs what a crash between a package delete, restore or purge
    /// and the matching storage change left behind: a deleted package's
    /// content still under its name is archived (so a new package of the
    /// name cannot reach it), a restored package's content still archived
    /// is put back, and archives of purged packages are deleted. Call it
    /// once at startup, before serving. Nothing to do without
    /// [accounts](RegistryBuilder::accounts).
    pub async fn reconcile_package_archives(&self) -> Result<ArchiveRepairs, PackageContentError> {
        match &self.inner().accounts {
            Some(accounts) => accounts.reconcile_archives(&self.inner().storage).await,
            None => Ok(ArchiveRepairs::default()),
        }
    }

    /// Spawns a task on the current tokio runtime that calls
    /// [`purge_expired_packages`](Self::purge_expired_packages) every
    /// `interval`, logging what it removed and any failure. Abort the
    /// returned handle to stop it.
    pub fn spawn_package_purger(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        self.spawn_every("purge-packages", interval, |registry| async move {
            match registry.purge_expired_packages().await {
                Ok(totals) if totals.is_empty() => {}
                Ok(totals) => tracing::info!(
                    packages = totals.packages,
                    versions = totals.versions,
                    manifests = totals.manifests,
                    "purged packages and versions deleted longer ago than the restore window"
                ),
                Err(err) => tracing::warn!(error = %err, "purging deleted packages failed"),
            }
        })
    }

    /// Spawns a task on the current tokio runtime that calls
    /// [`apply_retention_policies`](Self::apply_retention_policies) every
    /// `interval` (job `retention`: on one replica at a time), logging
    /// what it deleted and any failure. Abort the returned handle to stop
    /// it.
    pub fn spawn_retention(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        self.spawn_every("retention", interval, |registry| async move {
            match registry.apply_retention_policies().await {
                Ok(report) if report.is_empty() => {}
                Ok(report) => tracing::info!(
                    packages = report.packages,
                    deleted = report.deleted.len(),
                    skipped = report.skipped,
                    failed = report.failed,
                    "applied retention policies"
                ),
                Err(err) => tracing::warn!(error = %err, "applying retention policies failed"),
            }
        })
    }
}
