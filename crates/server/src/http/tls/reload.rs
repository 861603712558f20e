//! The certificate a TLS server presents, replaced while it runs when its
//! files change: a new handshake gets the pair read last, connections
//! already open keep theirs.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use super::files::{CertificateFiles, TlsError};
use super::rustls;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// A certificate and key read from [`CertificateFiles`], that
/// [`reload`](Self::reload) replaces with the files' new content, and that
/// answers every handshake with the pair in force
/// ([`ResolvesServerCert`]).
///
/// A new pair replaces the old one only once it is read whole and its key
/// matches its certificate: a renewal caught half written, or a key that
/// belongs to another certificate, leaves the old pair in force.
#[derive(Debug)]
pub struct ReloadingCertificate {
    files: CertificateFiles,
    /// Read on every handshake, written on a reload: a handshake only
    /// clones the `Arc`, so it never waits long.
    current: RwLock<Arc<CertifiedKey>>,
    /// What the files looked like when last read, successfully or not.
    seen: Mutex<FilesStamp>,
}

impl ReloadingCertificate {
    /// Reads the pair from `files`.
    pub fn load(files: CertificateFiles) -> Result<Self, TlsError> {
        let stamp = FilesStamp::of(&files);
        let current = files.load()?;
        Ok(ReloadingCertificate {
            files,
            current: RwLock::new(current),
            seen: Mutex::new(stamp),
        })
    }

    /// The files it reads.
    pub fn files(&self) -> &CertificateFiles {
        &self.files
    }

    /// The pair new handshakes get.
    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reads the files again and, if they hold a valid pair, serves it from
    /// now on; on error the pair in force stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let stamp = FilesStamp::of(&self.files);
        let loaded = self.files.load();
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = stamp;
        let loaded = loaded?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = loaded;
        Ok(())
    }

    /// [`reload`](Self::reload)s if either file's modification time, size
    /// or identity (a file renamed over it, a symbolic link moved) changed
    /// since they were last read; `None` when they did not.
    pub fn reload_if_changed(&self) -> Option<Result<(), TlsError>> {
        let stamp = FilesStamp::of(&self.files);
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if *seen == stamp {
            return None;
        }
        drop(seen);
        Some(self.reload())
    }

    /// Checks the files every `interval` and reloads them when they
    /// change, logging each outcome once per change (a bad pair with the
    /// `tracing` level `warn`). Stops when the handle is aborted.
    pub fn watch(self: Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let this = self.clone();
                // Reading files blocks: off the async workers.
                let outcome = tokio::task::spawn_blocking(move || this.reload_if_changed()).await;
                match outcome {
                    Ok(None) => {}
                    Ok(Some(Ok(()))) => tracing::info!(
                        cert = %self.files.cert().display(),
                        key = %self.files.key().display(),
                        "reloaded the TLS certificate: new connections get the new one"
                    ),
                    Ok(Some(Err(err))) => tracing::warn!(
                        error = %err,
                        "the TLS certificate files changed but do not hold a valid pair; \
                         still serving the previous certificate"
                    ),
                    Err(err) => {
                        tracing::error!(error = %err, "the TLS certificate check failed")
                    }
                }
            }
        })
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// What identifies a version of the two files without reading them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FilesStamp([Option<FileStamp>; 2]);

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    /// Device and inode: a file renamed over the old one (how certificate
    /// tools and Kubernetes secrets replace files) may keep its size and
    /// even its modification time.
    #[cfg(unix)]
    identity: (u64, u64),
}

impl FilesStamp {
    /// A file that cannot be looked at (missing, say) counts as `None`.
    fn of(files: &CertificateFiles) -> FilesStamp {
        FilesStamp([FileStamp::of(files.cert()), FileStamp::of(files.key())])
    }
}

impl FileStamp {
    fn of(path: &std::path::Path) -> Option<FileStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let identity = {
            use std::os::unix::fs::MetadataExt as _;
            (metadata.dev(), metadata.ino())
        };
        Some(FileStamp {
            modified: metadata.modified().ok(),
            len: metadata.len(),
            #[cfg(unix)]
            identity,
        })
    }
}
