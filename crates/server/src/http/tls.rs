//! Serving over TLS (cargo feature `tls`): rustls with the ring crypto
//! provider, HTTP/2 or HTTP/1.1 chosen through ALPN, and a certificate
//! reloaded from its files while the server runs.
//!
//! [`CertificateFiles`] names a PEM certificate chain and its private key;
//! [`ReloadingCertificate`] serves the pair last read from them and
//! [`watch`](ReloadingCertificate::watch)es the files, replacing the pair
//! when they change (a bad new pair is logged and the old one kept);
//! [`server_config`] turns it into the rustls configuration that
//! [`serve_tls`](crate::serve_tls) takes. Connections already open keep
//! the certificate they were made with.
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use wharf_server::http::tls::{server_config, CertificateFiles, ReloadingCertificate};
//! use wharf_server::{serve_tls, Registry, ServeOptions};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let files = CertificateFiles::new("/etc/registry/tls.pem", "/etc/registry/tls.key");
//! let certificate = Arc::new(ReloadingCertificate::load(files)?);
//! let _watcher = certificate.clone().watch(Duration::from_secs(2));
//! let tls = server_config(certificate)?;
//!
//! let registry = Registry::builder(Arc::new(wharf_storage::MemoryStorage::new())).build();
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:443").await?;
//! let ctrl_c = async { let _ = tokio::signal::ctrl_c().await; };
//! serve_tls(listener, registry.router(), ServeOptions::default(), tls, ctrl_c).await?;
//! # Ok(())
//! # }
//! ```

mod files;
mod reload;

use std::sync::Arc;

use rustls::server::ResolvesServerCert;
use rustls::ServerConfig;

pub use files::{CertificateFiles, TlsError};
pub use reload::ReloadingCertificate;
/// The rustls this module is built on, to name the same version
/// ([`rustls::ServerConfig`], [`rustls::sign::CertifiedKey`]).
pub use tokio_rustls::rustls;

/// The ALPN protocols offered, in the server's order of preference.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The ring crypto provider, named explicitly: another crate of the
/// application may turn on rustls's aws-lc-rs provider too, and with two
/// providers built in rustls refuses to pick one itself.
pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS server configuration for [`serve_tls`](crate::serve_tls): the
/// certificate `resolver` gives (a [`ReloadingCertificate`], or any
/// other), TLS 1.3 and 1.2 with rustls's safe defaults on the ring
/// provider, no client certificates, and ALPN offering `h2` then
/// `http/1.1`.
pub fn server_config(resolver: Arc<dyn ResolvesServerCert>) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}
