//! HTTPS with --tls-cert and --tls-key (cargo feature `tls`, on by
//! default): the certificate loaded before the server starts, reloaded
//! when its files change and on SIGHUP.

use std::future::Future;
use std::io;

use tokio::net::TcpListener;
use wharf_server::{Registry, ServeOptions, Shutdown};

use crate::config::{ConfigError, Settings};

/// How often the certificate files are looked at.
#[cfg(feature = "tls")]
const POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// The certificate served, when TLS is on.
#[cfg(feature = "tls")]
pub(crate) struct Tls(std::sync::Arc<wharf_server::http::tls::ReloadingCertificate>);

/// Nothing: without the feature, `Settings::check` refuses TLS settings.
#[cfg(not(feature = "tls"))]
pub(crate) enum Tls {}

/// The certificate and key of `settings`, read and checked; `None` without
/// TLS.
pub(crate) fn load(settings: &Settings) -> Result<Option<Tls>, ConfigError> {
    #[cfg(feature = "tls")]
    return Ok(settings
        .tls_certificate()?
        .map(|certificate| Tls(std::sync::Arc::new(certificate))));
    #[cfg(not(feature = "tls"))]
    {
        let _ = settings;
        Ok(None)
    }
}

/// Serves `registry` on `listener`, over TLS when `tls` is given.
pub(crate) async fn serve(
    listener: TcpListener,
    registry: &Registry,
    options: ServeOptions,
    tls: Option<Tls>,
    signal: impl Future<Output = ()> + Send,
) -> io::Result<Shutdown> {
    let router = registry.router();
    let Some(tls) = tls else {
        return wharf_server::serve(listener, router, options, signal).await;
    };
    #[cfg(feature = "tls")]
    {
        let Tls(certificate) = tls;
        let files = certificate.files();
        tracing::info!(
            cert = %files.cert().display(),
            key = %files.key().display(),
            "serving HTTPS (HTTP/2 and HTTP/1.1); the certificate files are reloaded when they change and on SIGHUP"
        );
        let config = wharf_server::http::tls::server_config(certificate.clone())
            .map_err(|err| io::Error::other(err.to_string()))?;
        let watcher = certificate.clone().watch(POLL);
        let on_hangup = reload_on_hangup(certificate);
        let outcome = wharf_server::serve_tls(listener, router, options, config, signal).await;
        watcher.abort();
        on_hangup.abort();
        outcome
    }
    #[cfg(not(feature = "tls"))]
    match tls {}
}

/// Reloads the certificate on every SIGHUP, as Distribution and zot do.
#[cfg(feature = "tls")]
fn reload_on_hangup(
    certificate: std::sync::Arc<wharf_server::http::tls::ReloadingCertificate>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut hangups) = signal(SignalKind::hangup()) else {
                tracing::warn!("cannot listen for SIGHUP; the certificate files are still watched");
                return;
            };
            while hangups.recv().await.is_some() {
                let this = certificate.clone();
                match tokio::task::spawn_blocking(move || this.reload()).await {
                    Ok(Ok(())) => tracing::info!("SIGHUP: reloaded the TLS certificate"),
                    Ok(Err(err)) => tracing::warn!(error = %err,
                        "SIGHUP: the TLS certificate files do not hold a valid pair; still serving the previous certificate"),
                    Err(err) => {
                        tracing::error!(error = %err, "SIGHUP: the certificate reload failed")
                    }
                }
            }
        }
        #[cfg(not(unix))]
        drop(certificate);
    })
}
