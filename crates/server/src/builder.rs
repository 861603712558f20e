//! [`RegistryBuilder`]: how a [`Registry`] is put together.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use wharf_storage::Storage;

use crate::distribution::auth::{AllowAll, Authorizer};
use crate::distribution::hooks::{ManifestHooks, NoHooks};
use crate::distribution::name_locks::NameLocks;
use crate::distribution::redirect::BlobRedirects;
use crate::distribution::upload_quota::{UploadSessions, UploadSlots};
#[cfg(feature = "ghcr")]
use crate::ghcr::accounts::Accounts;
use crate::http::metrics::Metrics;
use crate::lease::{SingleProcess, WorkLease};
use crate::registry::{Inner, Limits, Registry};

/// Builds a [`Registry`]. See [`Registry::builder`].
///
/// The order of the calls does not matter: the authorizer, the hooks and
/// the [`accounts`](Self::accounts) model are kept apart and put together
/// in [`build`](Self::build).
pub struct RegistryBuilder {
    storage: Arc<dyn Storage>,
    authorizer: Option<Arc<dyn Authorizer>>,
    hooks: Option<Arc<dyn ManifestHooks>>,
    #[cfg(feature = "ghcr")]
    pub(crate) accounts: Option<Accounts>,
    limits: Limits,
    metrics_endpoint: bool,
    collectors: Vec<Box<dyn Collector>>,
    lease: Arc<dyn WorkLease>,
    redirects: Option<Arc<dyn BlobRedirects>>,
}

impl RegistryBuilder {
    pub(crate) fn new(storage: Arc<dyn Storage>) -> Self {
        RegistryBuilder {
            storage,
            authorizer: None,
            hooks: None,
            #[cfg(feature = "ghcr")]
            accounts: None,
            limits: Limits::default(),
            metrics_endpoint: false,
            collectors: Vec::new(),
            lease: Arc::new(SingleProcess),
            redirects: None,
        }
    }

    /// The authorizer every request is checked with. Default: the
    /// [`accounts`](Self::accounts) model when it is on, otherwise
    /// [`AllowAll`] (no authentication, for local and development use
    /// only). Leaves the [`hooks`](Self::hooks) as they are.
    #[must_use]
    pub fn authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.authorizer = Some(authorizer);
        self
    }

    /// What the registry does around manifest pushes, reads and deletes.
    /// Default: the [`accounts`](Self::accounts) model when it is on,
    /// otherwise nothing more than OCI Distribution (see
    /// [`ManifestHooks`]). Leaves the [`authorizer`](Self::authorizer) as
    /// it is.
    #[must_use]
    pub fn hooks(mut self, hooks: Arc<dyn ManifestHooks>) -> Self {
        self.hooks = Some(hooks);
        self
    }

    /// The limits (default: [`Limits::default`]).
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether [`Registry::router`] serves `GET /metrics` in the Prometheus
    /// text format (default: no; the metrics are still collected and
    /// available from [`Registry::metrics`]).
    #[must_use]
    pub fn metrics_endpoint(mut self, serve: bool) -> Self {
        self.metrics_endpoint = serve;
        self
    }

    /// Adds `collector`'s metrics to the registry's (`/metrics`,
    /// [`Metrics::render`]): figures the registry does not keep itself,
    /// read at each scrape, such as a database pool's connections. Call it
    /// once per collector.
    #[must_use]
    pub fn metrics_collector(mut self, collector: Box<dyn Collector>) -> Self {
        self.collectors.push(collector);
        self
    }

    /// Who runs the scheduled work (purges of expired uploads and deleted
    /// packages) when several processes serve one registry: each run asks
    /// `lease` first, and skips its turn when another process holds it.
    /// Default: [`SingleProcess`], which always runs.
    #[must_use]
    pub fn work_lease(mut self, lease: Arc<dyn WorkLease>) -> Self {
        self.lease = lease;
        self
    }

    /// Answers blob downloads with a redirect (`307`) to where `redirects`
    /// says the blob can be fetched directly (a presigned object-store
    /// URL), once the caller is authorized and the blob is linked to the
    /// repository; with no URL, or for `HEAD`, the registry serves the blob
    /// itself. Default: the registry always serves blobs itself.
    #[must_use]
    pub fn blob_redirects(mut self, redirects: Arc<dyn BlobRedirects>) -> Self {
        self.redirects = Some(redirects);
        self
    }

    /// The authorizer and the hooks of the registry model, for those not
    /// set explicitly: the accounts model's when it is on, otherwise
    /// [`AllowAll`] and [`NoHooks`].
    fn model(&self) -> (Arc<dyn Authorizer>, Arc<dyn ManifestHooks>) {
        #[cfg(feature = "ghcr")]
        if let Some(accounts) = &self.accounts {
            return (Arc::new(accounts.clone()), Arc::new(accounts.clone()));
        }
        (Arc::new(AllowAll), Arc::new(NoHooks))
    }

    /// The registry.
    pub fn build(self) -> Registry {
        let (default_authorizer, default_hooks) = self.model();
        let authorizer = self.authorizer.unwrap_or(default_authorizer);
        let hooks = self.hooks.unwrap_or(default_hooks);
        let upload_slots = UploadSlots::new(
            self.limits.max_concurrent_uploads,
            self.limits.upload_share_percent,
        );
        let upload_sessions = UploadSessions::new(
            self.limits.max_upload_sessions,
            self.limits.max_upload_sessions_per_client,
        );
        Registry {
            inner: Arc::new(Inner {
                storage: self.storage,
                authorizer,
                hooks,
                #[cfg(feature = "ghcr")]
                accounts: self.accounts,
                limits: self.limits,
                metrics: Arc::new(Metrics::with_collectors(self.collectors)),
                upload_slots,
                upload_sessions,
                metrics_endpoint: self.metrics_endpoint,
                name_locks: NameLocks::default(),
                lease: self.lease,
                redirects: self.redirects,
            }),
        }
    }
}
