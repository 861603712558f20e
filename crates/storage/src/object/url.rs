//! [`ObjectStorage::from_url`]: storage named by a URL, configured from the
//! environment.

use std::sync::Arc;

use object_store::ObjectStoreScheme;

use super::{ListingOrder, ObjectStorage, ObjectStorageBuilder};

/// Why [`ObjectStorage::from_url`] could not make a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[error("cannot open object storage at {url}: {reason}")]
pub struct InvalidStoreUrl {
    /// The URL as given.
    pub url: String,
    /// What was wrong with it, or what the store's builder refused.
    pub reason: String,
}

impl ObjectStorage {
    /// The retry policy [`from_url`](ObjectStorage::from_url) gives cloud
    /// stores, meant for a registry answering clients: at most 5 retries
    /// with exponential backoff from 100 ms to 5 s, and none started after
    /// 30 s, after which the request fails with
    /// [`Error::Unavailable`](crate::Error::Unavailable) (HTTP 503) rather
    /// than keeping a client waiting for object_store's default 3 minutes.
    /// Give it (or your own) to a store you build yourself with the
    /// builder's `with_retry`.
    #[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(feature = "aws", feature = "gcp", feature = "azure")))
    )]
    pub fn retry_config() -> object_store::RetryConfig {
        object_store::RetryConfig {
            backoff: object_store::BackoffConfig {
                init_backoff: std::time::Duration::from_millis(100),
                max_backoff: std::time::Duration::from_secs(5),
                base: 2.0,
            },
            max_retries: 5,
            retry_timeout: std::time::Duration::from_secs(30),
        }
    }

    /// Storage at `url`, with the store's settings from the standard
    /// environment variables and [`retry_config`](ObjectStorage::retry_config)
    /// for cloud stores:
    ///
    /// - `s3://BUCKET[/PREFIX]` (feature `aws`): `AWS_ACCESS_KEY_ID`,
    ///   `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
    ///   `AWS_ENDPOINT` (an S3-compatible server), `AWS_ALLOW_HTTP`, ...
    /// - `gs://BUCKET[/PREFIX]` (feature `gcp`): `GOOGLE_SERVICE_ACCOUNT`,
    ///   `GOOGLE_APPLICATION_CREDENTIALS`, ...
    /// - `az://CONTAINER[/PREFIX]` (feature `azure`): `AZURE_STORAGE_ACCOUNT_NAME`,
    ///   `AZURE_STORAGE_ACCOUNT_KEY`, ...
    /// - `file:///PATH`: a local directory (created if missing), listed
    ///   [unordered](ListingOrder::Unordered).
    /// - `memory://`: an empty in-memory store, for tests.
    ///
    /// Cloud stores sign [presigned URLs](ObjectStorage::presigned_blob_url)
    /// themselves.
    ///
    /// ```
    /// use wharf_storage::ObjectStorage;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let url = format!("file://{}", dir.path().join("registry").display());
    /// let storage = ObjectStorage::from_url(&url)?;
    /// assert!(ObjectStorage::from_url("ftp://example.com/x").is_err());
    /// # let _ = storage;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_url(url: &str) -> Result<ObjectStorage, InvalidStoreUrl> {
        ObjectStorage::builder_from_url(url).map(ObjectStorageBuilder::build)
    }

    /// The builder [`from_url`](ObjectStorage::from_url) builds, to set
    /// more before building: a part size, a blob size limit, or
    /// [`metered`](ObjectStorageBuilder::metered) requests.
    ///
    /// ```
    /// use wharf_storage::ObjectStorage;
    ///
    /// let storage = ObjectStorage::builder_from_url("memory://")?.metered().build();
    /// assert!(storage.metrics().is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder_from_url(url: &str) -> Result<ObjectStorageBuilder, InvalidStoreUrl> {
        let invalid = |reason: String| InvalidStoreUrl {
            url: url.to_owned(),
            reason,
        };
        let parsed = url::Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        let (scheme, prefix) =
            ObjectStoreScheme::parse(&parsed).map_err(|e| invalid(e.to_string()))?;
        // A cloud store configured from the environment and `url`, with
        // our retries, that signs its own presigned URLs.
        #[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
        macro_rules! cloud {
            ($builder:ty) => {
                signing(
                    <$builder>::from_env()
                        .with_url(url)
                        .with_retry(ObjectStorage::retry_config())
                        .build(),
                    prefix,
                )
                .map_err(invalid)
            };
        }
        match scheme {
            ObjectStoreScheme::Local => {
                let dir = parsed
                    .to_file_path()
                    .map_err(|()| invalid("not a local path".into()))?;
                std::fs::create_dir_all(&dir)
                    .map_err(|e| invalid(format!("cannot create {}: {e}", dir.display())))?;
                let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
                    .map_err(|e| invalid(e.to_string()))?;
                Ok(ObjectStorage::builder(Arc::new(store)).listing_order(ListingOrder::Unordered))
            }
            ObjectStoreScheme::Memory => {
                let store = Arc::new(object_store::memory::InMemory::new());
                Ok(ObjectStorage::builder(store).prefix_path(prefix))
            }
            #[cfg(feature = "aws")]
            ObjectStoreScheme::AmazonS3 => cloud!(object_store::aws::AmazonS3Builder),
            #[cfg(feature = "gcp")]
            ObjectStoreScheme::GoogleCloudStorage => cloud!(object_store::gcp::GoogleCloudStorageBuilder),
            #[cfg(feature = "azure")]
            ObjectStoreScheme::MicrosoftAzure => cloud!(object_store::azure::MicrosoftAzureBuilder),
            other => Err(invalid(format!(
                "{other:?} is not supported by this build (wharf-storage features `aws`, `gcp`, `azure`)"
            ))),
        }
    }
}

/// The builder of a cloud store that signs its own presigned URLs, under
/// `prefix`, or why its builder refused.
#[cfg(any(feature = "aws", feature = "gcp", feature = "azure"))]
fn signing<S>(
    store: object_store::Result<S>,
    prefix: object_store::path::Path,
) -> Result<ObjectStorageBuilder, String>
where
    S: object_store::ObjectStore + object_store::signer::Signer,
{
    let store = Arc::new(store.map_err(|e| e.to_string())?);
    Ok(ObjectStorage::builder(store.clone())
        .prefix_path(prefix)
        .signer(store))
}
