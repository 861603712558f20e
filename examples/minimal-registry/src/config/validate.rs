//! The checks of the merged settings, in one place; each error names the
//! setting by its TOML key and its flag.

use std::time::Duration;

use super::settings::{Settings, StorageSettings};
use super::ConfigError;

impl Settings {
    /// Refuses values out of range, whether they came from the defaults,
    /// the file or a flag.
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        let positive: [(&str, Duration); 10] = [
            ("limits.upload_expiry", l.upload_expiry),
            ("limits.purge_interval", l.purge_interval),
            ("limits.request_timeout", l.request_timeout),
            ("limits.body_idle_timeout", l.body_idle_timeout),
            ("limits.header_read_timeout", l.header_read_timeout),
            ("limits.write_stall_timeout", l.write_stall_timeout),
            ("limits.idle_timeout", l.idle_timeout),
            ("limits.body_deadline", l.body_deadline),
            ("auth.token_ttl", self.auth.token_ttl),
            ("auth.restore_window", self.auth.restore_window),
        ];
        for (key, value) in positive {
            if value.is_zero() {
                return Err(ConfigError::value(key, "must be longer than zero"));
            }
        }
        let at_least_one = [
            ("limits.max_concurrent_uploads", l.max_concurrent_uploads),
            ("limits.max_upload_sessions", l.max_upload_sessions),
            (
                "limits.max_upload_sessions_per_client",
                l.max_upload_sessions_per_client,
            ),
        ];
        for (key, value) in at_least_one {
            if value == 0 {
                return Err(ConfigError::value(key, "must be at least 1"));
            }
        }
        if !(1..=100).contains(&l.upload_share_percent) {
            return Err(ConfigError::value(
                "limits.upload_share_percent",
                "must be a percentage from 1 to 100",
            ));
        }
        if l.max_connections == Some(0) {
            return Err(ConfigError::value(
                "limits.max_connections",
                "must be at least 1",
            ));
        }
        if l.max_manifest_size == 0 || usize::try_from(l.max_manifest_size).is_err() {
            return Err(ConfigError::value(
                "limits.max_manifest_size",
                "must be at least one byte and fit in memory",
            ));
        }
        self.storage.check()?;
        self.check_tls_pair()
    }

    /// A certificate comes with its key: both or neither.
    fn check_tls_pair(&self) -> Result<(), ConfigError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => Err(ConfigError::value(
                "tls_key",
                "missing: a TLS certificate needs its key (give both --tls-cert and --tls-key, or neither)",
            )),
            (None, Some(_)) => Err(ConfigError::value(
                "tls_cert",
                "missing: a TLS key needs its certificate (give both --tls-cert and --tls-key, or neither)",
            )),
            (Some(_), Some(_)) if !cfg!(feature = "tls") => Err(ConfigError::value(
                "tls_cert",
                "this minimal-registry was built without its `tls` feature",
            )),
            _ => Ok(()),
        }
    }

    /// The TLS certificate and key, read and checked (both readable, the
    /// key that of the certificate); `None` without TLS. Apart from
    /// `check`, which every admin command runs too: only serving needs
    /// the files.
    #[cfg(feature = "tls")]
    pub(crate) fn tls_certificate(
        &self,
    ) -> Result<Option<wharf_server::http::tls::ReloadingCertificate>, ConfigError> {
        use wharf_server::http::tls::{CertificateFiles, ReloadingCertificate, TlsError};
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let files = CertificateFiles::new(cert, key);
        ReloadingCertificate::load(files).map(Some).map_err(|err| {
            let setting = match &err {
                TlsError::Read { path, .. } if path != cert => "tls_key",
                TlsError::Key { .. } | TlsError::Mismatch { .. } => "tls_key",
                _ => "tls_cert",
            };
            ConfigError::value(setting, err.to_string())
        })
    }
}

impl StorageSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.blob_store {
            let known = [
                "s3://",
                "gs://",
                "az://",
                "azure://",
                "file:///",
                "memory://",
            ];
            if !known.iter().any(|scheme| url.starts_with(scheme)) {
                return Err(ConfigError::value(
                    "storage.blob_store",
                    "must be an s3://, gs://, az://, file:/// or memory:// URL",
                ));
            }
            if !self.uses_postgres() {
                return Err(ConfigError::value(
                    "storage.blob_store",
                    "needs a shared database for the metadata (--database postgres://...): \
                     blobs in an object store with metadata on the local disk could not be \
                     shared by replicas",
                ));
            }
        }
        if let Some(expiry) = self.blob_redirects {
            let signs = ["s3://", "gs://", "az://", "azure://"];
            let signer = self
                .blob_store
                .as_deref()
                .is_some_and(|url| signs.iter().any(|scheme| url.starts_with(scheme)));
            if !signer {
                return Err(ConfigError::value(
                    "storage.blob_redirects",
                    "needs an s3://, gs:// or az:// --blob-store, which can presign URLs",
                ));
            }
            if expiry.is_zero() || expiry > std::time::Duration::from_secs(7 * 24 * 3600) {
                return Err(ConfigError::value(
                    "storage.blob_redirects",
                    "must be longer than zero and at most 7 days (S3's limit)",
                ));
            }
        }
        if self.database.as_deref().is_some_and(str::is_empty) {
            return Err(ConfigError::value("storage.database", "must not be empty"));
        }
        Ok(())
    }
}
