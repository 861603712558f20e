//! A container registry on the local filesystem, composed from the Wharf
//! crates: configuration and wiring only.
//!
//! ```sh
//! cargo run --release -p minimal-registry            # 127.0.0.1:5000, ./registry-data
//! cargo run --release -p minimal-registry -- --help  # every setting
//! ```
//!
//! By default it works like GitHub's Container registry: users and
//! organizations, personal access tokens (`docker login`), a token
//! endpoint at `/token`, private first publishes, public packages pulled
//! anonymously, a package REST API, package metadata from image labels.
//! Accounts and packages live in `<data-dir>/registry.db`; on the first
//! start with no user, it creates `admin` and prints a token once to
//! standard error. `--no-auth` turns all of that off (anyone may push).
//!
//! It logs one line per request (method, path, route, status, bytes in and
//! out, duration), serves Prometheus metrics at `/metrics`, purges abandoned
//! upload sessions periodically, collects garbage daily (`--gc-interval`;
//! `minimal-registry gc` runs one collection on demand), applies the
//! packages' retention policies every `--retention-interval` (deletes
//! restorable for `--restore-window`), repairs at startup package content left
//! behind by a crash during a package delete or restore, and on SIGINT or SIGTERM stops accepting
//! connections and lets in-flight requests finish (up to a grace period).
//! With `--tls-cert` and `--tls-key` it serves HTTPS (HTTP/2 through ALPN)
//! and reloads the certificate when its files change or on SIGHUP.

mod accounts;
mod admin;
mod coherence;
mod config;
mod gc;
mod import;
mod lease;
mod pool_metrics;
mod store_metrics;
mod stores;
mod tls;

use std::process::ExitCode;

use tracing_subscriber::EnvFilter;
use wharf_server::gc::GcOptions;
use wharf_server::{serve, Limits, Registry, ServeOptions, Shutdown};

use crate::config::{LogFormat, Settings};

/// How often blobs that a killed garbage collection left condemned are
/// judged: well within the time an object store makes an upload of one
/// wait for the verdict (30 s).
const CONDEMNED_RESOLVER_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// A Tokio runtime from `builder`, with I/O and timers, or `None` after
/// saying on standard error why it could not start.
fn runtime(mut builder: tokio::runtime::Builder) -> Option<tokio::runtime::Runtime> {
    builder
        .enable_all()
        .build()
        .inspect_err(|err| eprintln!("minimal-registry: cannot start the async runtime: {err}"))
        .ok()
}

fn main() -> ExitCode {
    // rustls finds two crypto providers in this binary (ring for serving
    // TLS, aws-lc through the object-store client): name the one to use.
    #[cfg(feature = "tls")]
    let _ = wharf_server::http::tls::rustls::crypto::ring::default_provider().install_default();
    let invocation = admin::Invocation::parse_args();
    let settings = match Settings::load(&invocation.settings, std::env::var("RUST_LOG").ok()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("minimal-registry: {err}");
            return ExitCode::from(2);
        }
    };
    match invocation.command {
        None | Some(admin::Command::Serve) => {}
        Some(admin::Command::Migrate) => return stores::migrate(&settings),
        Some(admin::Command::Import { from }) => return import::run(&from, &settings),
        Some(admin::Command::Gc { dry_run, grace }) => {
            return gc::run(dry_run, grace.unwrap_or(settings.gc_grace), &settings)
        }
        Some(command) => return admin::run(command, &settings),
    }
    // A certificate that cannot serve is a bad setting, found before
    // anything starts.
    let tls = match tls::load(&settings) {
        Ok(tls) => tls,
        Err(err) => {
            eprintln!("minimal-registry: {err}");
            return ExitCode::from(2);
        }
    };
    if let Err(err) = init_logging(&settings) {
        eprintln!(
            "minimal-registry: invalid log filter {:?}: {err}",
            settings.log_level
        );
        return ExitCode::from(2);
    }
    let Some(runtime) = runtime(tokio::runtime::Builder::new_multi_thread()) else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(run(settings, tls)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("minimal-registry: {err}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(settings: &Settings) -> Result<(), tracing_subscriber::filter::ParseError> {
    let filter = EnvFilter::try_new(&settings.log_level)?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    match settings.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
    Ok(())
}

async fn run(settings: Settings, tls: Option<tls::Tls>) -> Result<(), String> {
    // Hot manifests and tags from memory: a GET then touches no file and
    // no database. Changes made through this process are seen at once;
    // changes made by another (a replica, the admin CLI) as soon as they
    // are announced, and at the latest after `stores::CACHE_TTL`.
    let stores::OpenStorage {
        storage,
        forget,
        redirects,
        lease,
        pool,
        object_store,
    } = stores::open_storage(&settings).await?;
    let mut pools = pool_metrics::DatabasePools::default();
    if let Some(pool) = pool {
        pools.add("storage", pool);
    }
    let mut limits = Limits::default();
    // `Settings::check` ensured it fits in usize.
    limits.max_manifest_size =
        usize::try_from(settings.limits.max_manifest_size).unwrap_or(usize::MAX);
    limits.upload_expiry = settings.limits.upload_expiry;
    limits.request_timeout = settings.limits.request_timeout;
    limits.body_idle_timeout = settings.limits.body_idle_timeout;
    limits.max_concurrent_uploads = settings.limits.max_concurrent_uploads;
    limits.upload_share_percent = settings.limits.upload_share_percent;
    limits.min_body_rate = settings.limits.min_upload_rate.bytes_per_second;
    limits.min_body_rate_window = settings.limits.min_upload_rate.window;
    limits.body_deadline = settings.limits.body_deadline;
    limits.max_upload_sessions = settings.limits.max_upload_sessions;
    limits.max_upload_sessions_per_client = settings.limits.max_upload_sessions_per_client;
    let mut builder = Registry::builder(storage)
        .limits(limits)
        .metrics_endpoint(settings.metrics_on_main_address());
    if let Some(redirects) = redirects {
        builder = builder.blob_redirects(redirects);
    }
    if let Some(lease) = lease {
        builder = builder.work_lease(lease);
    }
    let mut package_cache = None;
    if settings.auth.enabled {
        let now = wharf_auth::Timestamp::from_system_time(std::time::SystemTime::now());
        let (config, packages, pool) = accounts::config(&settings, now)
            .await
            .map_err(|err| err.to_string())?;
        if let Some(pool) = pool {
            pools.add("packages", pool);
        }
        builder = builder.accounts(config);
        package_cache = Some(packages);
    } else {
        eprintln!("minimal-registry: WARNING: --no-auth: anyone who can reach this registry may push, overwrite and delete anything");
        tracing::warn!(
            "authentication is OFF (--no-auth): anyone may push, overwrite and delete anything"
        );
    }
    if !pools.is_empty() {
        builder = builder.metrics_collector(Box::new(pools));
    }
    if let Some(metrics) = object_store {
        let requests = store_metrics::ObjectStoreRequests::new(metrics);
        builder = builder.metrics_collector(Box::new(requests));
    }
    let registry = builder.build();
    if let Some(url) = settings
        .storage
        .database
        .clone()
        .filter(|_| settings.storage.uses_postgres())
    {
        coherence::spawn(url, forget, package_cache);
    }
    // A crash between a package delete or restore and its storage change
    // must not leave a deleted package's content under a free name.
    let repairs = registry
        .reconcile_package_archives()
        .await
        .map_err(|err| format!("cannot reconcile package archives with the records: {err}"))?;
    if !repairs.is_empty() {
        tracing::warn!(
            archived = ?repairs.archived,
            restored = ?repairs.restored,
            dropped = ?repairs.dropped,
            "repaired package content left behind by an interrupted delete, restore or purge"
        );
    }

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", settings.listen))?;
    let address = listener
        .local_addr()
        .map_err(|err| format!("cannot read the listening address: {err}"))?;
    match registry.accounts() {
        Some(accounts) => tracing::info!(
            address = %address,
            data_dir = %settings.data_dir.display(),
            metrics = settings.metrics_on_main_address(),
            public_url = accounts.public_url(),
            service = accounts.service(),
            "minimal-registry listening on {}://{address}/v2/ (token endpoint {})",
            settings.scheme(),
            accounts.realm()
        ),
        None => tracing::info!(
            address = %address,
            data_dir = %settings.data_dir.display(),
            metrics = settings.metrics_on_main_address(),
            "minimal-registry listening on {}://{address}/v2/ (no authentication: for local use)",
            settings.scheme()
        ),
    }

    let metrics_server = match settings.metrics_listen.filter(|_| settings.metrics) {
        Some(metrics_address) => {
            let listener = tokio::net::TcpListener::bind(metrics_address)
                .await
                .map_err(|err| format!("cannot listen on {metrics_address} for metrics: {err}"))?;
            tracing::info!(address = %metrics_address, "metrics at http://{metrics_address}/metrics");
            let router = registry.metrics_router();
            Some(tokio::spawn(async move {
                let never = std::future::pending::<()>();
                if let Err(err) = serve(listener, router, ServeOptions::default(), never).await {
                    tracing::error!(error = %err, "the metrics listener failed");
                }
            }))
        }
        None => {
            if settings.metrics && !settings.metrics_on_main_address() {
                tracing::info!("metrics are collected but not served: with authentication on, give them an address of their own with --metrics-listen");
            }
            None
        }
    };
    let purger = registry.spawn_upload_purger(settings.limits.purge_interval);
    let package_purger = registry
        .accounts()
        .map(|_| registry.spawn_package_purger(settings.limits.purge_interval));
    // A collection killed midway leaves blobs condemned; an object store
    // makes their uploads wait for a verdict, so it comes within seconds.
    let resolver = registry.spawn_condemned_resolver(CONDEMNED_RESOLVER_INTERVAL);
    let collector = (!settings.gc_interval.is_zero()).then(|| {
        let mut options = GcOptions::default();
        options.grace = settings.gc_grace;
        registry.spawn_garbage_collector(settings.gc_interval, options)
    });
    let retention = registry
        .accounts()
        .filter(|_| !settings.auth.retention_interval.is_zero())
        .map(|_| registry.spawn_retention(settings.auth.retention_interval));
    let mut options = ServeOptions::default();
    options.header_read_timeout = settings.limits.header_read_timeout;
    options.write_stall_timeout = settings.limits.write_stall_timeout;
    options.idle_timeout = settings.limits.idle_timeout;
    options.max_connections = settings.limits.max_connections;
    options.shutdown_grace = settings.shutdown_grace;
    let grace = settings.shutdown_grace;
    let signal = async move {
        let signal = shutdown_signal().await;
        tracing::info!(
            signal,
            grace_seconds = grace.as_secs_f64(),
            "shutting down: no new connections, waiting for in-flight requests"
        );
    };
    let outcome = tls::serve(listener, &registry, options, tls, signal)
        .await
        .map_err(|err| format!("server failed: {err}"))?;
    purger.abort();
    if let Some(metrics_server) = metrics_server {
        metrics_server.abort();
    }
    if let Some(package_purger) = package_purger {
        package_purger.abort();
    }
    resolver.abort();
    if let Some(collector) = collector {
        collector.abort();
    }
    if let Some(retention) = retention {
        retention.abort();
    }
    match outcome {
        Shutdown::Graceful => tracing::info!("stopped"),
        Shutdown::GraceExpired => {
            tracing::warn!("in-flight requests did not finish within the grace period; stopped")
        }
    }
    Ok(())
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM and names it.
async fn shutdown_signal() -> &'static str {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => "SIGINT",
        () = terminate => "SIGTERM",
    }
}
