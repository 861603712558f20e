//! [`AccountsConfig`]: what the accounts model is built from, and its
//! [`AnnotationPolicy`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use url::Url;
use wharf_annotations::CodeHost;
use wharf_auth::SigningKey;
use wharf_packages::PackageStore;

use crate::ghcr::clock::Clock;

/// What a manifest push does when its annotations or labels break a rule
/// of `wharf-annotations` (a description over 512 characters, a control
/// character, a source that is not an http(s) URL).
///
/// By default the push is accepted, the offending value is left out of the
/// package's metadata and the problem is logged (as GitHub does).
/// With `reject_invalid`, the push is refused with 400 `MANIFEST_INVALID`
/// naming every problem, before anything is stored.
///
/// ```
/// use wharf_server::AnnotationPolicy;
///
/// let mut strict = AnnotationPolicy::default();
/// strict.reject_invalid = true;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct AnnotationPolicy {
    /// What extraction does with over-long values and control characters
    /// (reject them, or repair them: truncate, strip; default:
    /// [`wharf_annotations::Policy::default`]).
    pub extraction: wharf_annotations::Policy,
    /// Whether a push whose annotations break a rule is refused (default
    /// false).
    pub reject_invalid: bool,
}

/// Why an [`AccountsConfig`] could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccountsError {
    /// The public URL is not an absolute `http` or `https` URL without
    /// query or fragment.
    #[error("invalid public URL `{url}`: {reason}")]
    InvalidPublicUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// How the registry authenticates and authorizes requests and records
/// packages: the store, the token signing key, and the names clients see.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use wharf_auth::SigningKey;
/// use wharf_packages::{CacheOptions, CachedStore, SqlitePackageStore};
/// use wharf_server::{AccountsConfig, Registry};
/// use wharf_storage::MemoryStorage;
///
/// let store = CachedStore::new(SqlitePackageStore::in_memory()?, CacheOptions::default());
/// let mut config = AccountsConfig::new(Arc::new(store), SigningKey::generate()?, "https://registry.example")?;
/// config.token_ttl = Duration::from_secs(600);
/// assert_eq!(config.service, "registry.example");
/// assert_eq!(config.code_hosts[0].to_string(), "https://registry.example");
/// let registry = Registry::builder(Arc::new(MemoryStorage::new())).accounts(config).build();
/// assert_eq!(registry.accounts().map(|a| a.realm()), Some("https://registry.example/token"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct AccountsConfig {
    /// Accounts, tokens, packages and versions. Put a
    /// [`CachedStore`](wharf_packages::CachedStore) in front of a database:
    /// every request looks up a token or a package.
    pub store: Arc<dyn PackageStore>,
    /// The key registry bearer tokens are signed with (HS256).
    pub signing_key: SigningKey,
    /// The registry's public base URL, without a trailing `/`
    /// (`https://registry.example`): the token endpoint is
    /// `<public_url>/token`, and package URLs start with it.
    pub public_url: String,
    /// The service name of challenges and tokens (`aud`); by default the
    /// public URL's `host[:port]`.
    pub service: String,
    /// The code hosts whose repositories an
    /// `org.opencontainers.image.source` annotation links a package to; by
    /// default the public URL's origin.
    pub code_hosts: Vec<CodeHost>,
    /// How long a bearer token from `/token` is valid (default 5 minutes).
    pub token_ttl: Duration,
    /// What a push with invalid annotations does (default:
    /// [`AnnotationPolicy::default`]).
    pub annotations: AnnotationPolicy,
    /// Where the time comes from (default: the system clock).
    pub clock: Clock,
}

impl fmt::Debug for AccountsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountsConfig")
            .field("public_url", &self.public_url)
            .field("service", &self.service)
            .field("code_hosts", &self.code_hosts)
            .field("token_ttl", &self.token_ttl)
            .field("annotations", &self.annotations)
            .finish_non_exhaustive()
    }
}

impl AccountsConfig {
    /// The default lifetime of a bearer token.
    pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);

    /// A configuration over `store`, signing tokens with `signing_key`, for
    /// the registry reachable at `public_url` (`https://registry.example`,
    /// `http://localhost:5000`).
    pub fn new(
        store: Arc<dyn PackageStore>,
        signing_key: SigningKey,
        public_url: &str,
    ) -> Result<AccountsConfig, AccountsError> {
        let invalid = |reason: &str| AccountsError::InvalidPublicUrl {
            url: public_url.to_owned(),
            reason: reason.to_owned(),
        };
        let url = Url::parse(public_url.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("it must not have a query or a fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("it must not contain credentials"));
        }
        let host = url
            .host_str()
            .ok_or_else(|| invalid("it has no host"))?
            .to_owned();
        let service = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        let origin = url.origin().ascii_serialization();
        let code_host: CodeHost = origin.parse().map_err(|e| invalid(&format!("{e}")))?;
        Ok(AccountsConfig {
            store,
            signing_key,
            public_url: url.as_str().trim_end_matches('/').to_owned(),
            service,
            code_hosts: vec![code_host],
            token_ttl: AccountsConfig::DEFAULT_TOKEN_TTL,
            annotations: AnnotationPolicy::default(),
            clock: Clock::system(),
        })
    }
}
