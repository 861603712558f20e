//! A certificate chain and its private key, read from two PEM files and
//! checked to belong together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::rustls;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// Why a certificate and key could not be loaded, or a TLS configuration
/// built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate file holds no PEM certificate, or a malformed one.
    #[error("{} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`){}", path.display(), detail(reason))]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What the PEM parser said, if it said anything.
        reason: Option<String>,
    },
    /// The key file holds no PEM private key, or one rustls cannot use.
    #[error("{} holds no usable PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC){}", path.display(), detail(reason))]
    Key {
        /// The file.
        path: PathBuf,
        /// What the PEM parser or rustls said, if anything.
        reason: Option<String>,
    },
    /// The private key is not the key of the certificate (the first one of
    /// the chain).
    #[error("the private key in {} does not belong to the certificate in {} ({reason})", key.display(), cert.display())]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls found.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("cannot configure TLS: {0}")]
    Config(rustls::Error),
}

fn detail(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map(|reason| format!(": {reason}"))
        .unwrap_or_default()
}

/// The PEM files of a certificate chain (the server's certificate first,
/// then any intermediates) and of its private key. They may be one file.
///
/// ```
/// use wharf_server::http::tls::{CertificateFiles, TlsError};
///
/// let files = CertificateFiles::new("/no/such/tls.pem", "/no/such/tls.key");
/// assert!(matches!(files.load(), Err(TlsError::Read { .. })));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFiles {
    cert: PathBuf,
    key: PathBuf,
}

impl CertificateFiles {
    /// The chain in `cert`, its key in `key`.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        CertificateFiles {
            cert: cert.into(),
            key: key.into(),
        }
    }

    /// The certificate chain's file.
    pub fn cert(&self) -> &Path {
        &self.cert
    }

    /// The private key's file.
    pub fn key(&self) -> &Path {
        &self.key
    }

    /// Reads both files: every certificate of the first, the first private
    /// key of the second, checked to match the first certificate.
    pub fn load(&self) -> Result<Arc<CertifiedKey>, TlsError> {
        let chain = self.read_chain()?;
        let key = self.read_key()?;
        let signing_key = super::provider()
            .key_provider
            .load_private_key(key)
            .map_err(|err| TlsError::Key {
                path: self.key.clone(),
                reason: Some(err.to_string()),
            })?;
        let certified = CertifiedKey::new(chain, signing_key);
        // ring's keys all expose their public key, so "cannot tell" does
        // not happen; should it, the handshake would still fail loudly.
        match certified.keys_match() {
            Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
                Ok(Arc::new(certified))
            }
            Err(err) => Err(TlsError::Mismatch {
                cert: self.cert.clone(),
                key: self.key.clone(),
                reason: err.to_string(),
            }),
        }
    }

    fn read_chain(&self) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let bytes = read(&self.cert)?;
        let malformed = |reason: Option<String>| TlsError::Certificate {
            path: self.cert.clone(),
            reason,
        };
        let chain = CertificateDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, pem::Error>>()
            .map_err(|err| malformed(Some(err.to_string())))?;
        if chain.is_empty() {
            return Err(malformed(None));
        }
        Ok(chain)
    }

    fn read_key(&self) -> Result<PrivateKeyDer<'static>, TlsError> {
        let bytes = read(&self.key)?;
        PrivateKeyDer::from_pem_slice(&bytes).map_err(|err| TlsError::Key {
            path: self.key.clone(),
            reason: match err {
                pem::Error::NoItemsFound => None,
                err => Some(err.to_string()),
            },
        })
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}
