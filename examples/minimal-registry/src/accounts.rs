//! Wiring the GitHub Container registry model: the package store in the
//! data directory, the token signing key, the first administrator, and the
//! `AccountsConfig` the server takes.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use wharf_annotations::CodeHost;
use wharf_auth::{
    Login, PersonalAccessToken, SigningKey, StoredToken, Timestamp, TokenScope, TokenScopes,
};
use wharf_packages::{CacheOptions, CachedStore, PackageStore, PageRequest};

use crate::pool_metrics::Probe;
use wharf_server::AccountsConfig;

use crate::config::Settings;

/// The user created on the first start with an empty store.
pub const BOOTSTRAP_USER: &str = "admin";

/// Why accounts could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The package store could not be opened.
    #[error("{0}")]
    Store(String),
    /// The signing key file could not be read or written.
    #[error("signing key file {path}: {reason}")]
    SigningKey {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A setting is not valid.
    #[error("{0}")]
    Setting(String),
}

/// Reads the signing key file, or creates it (32 random bytes, mode 0600)
/// when it does not exist. Logs nothing secret.
pub fn signing_key(path: &Path) -> Result<SigningKey, SetupError> {
    let failed = |reason: String| SetupError::SigningKey {
        path: path.display().to_string(),
        reason,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            warn_if_readable_by_others(path);
            SigningKey::from_bytes(&bytes).map_err(|err| failed(err.to_string()))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate().map_err(|err| failed(err.to_string()))?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::admin::create_private_dir(dir).map_err(|err| failed(err.to_string()))?;
            }
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(|err| failed(err.to_string()))?;
            file.write_all(key.expose_secret())
                .and_then(|()| file.sync_all())
                .map_err(|err| failed(err.to_string()))?;
            tracing::info!(path = %path.display(), "created a new token signing key");
            Ok(key)
        }
        Err(err) => Err(failed(err.to_string())),
    }
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the token signing key file is readable by other users; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// On the first start with an empty store: creates the user `admin` and a
/// personal access token with every package scope, and prints the token
/// once to standard error. Returns whether it did.
pub async fn bootstrap(store: &dyn PackageStore, now: Timestamp) -> Result<bool, SetupError> {
    let accounts = store
        .list_accounts(&PageRequest::first(1))
        .await
        .map_err(|err| SetupError::Store(format!("cannot read the package store: {err}")))?;
    if !accounts.items.is_empty() {
        return Ok(false);
    }
    let login: Login = BOOTSTRAP_USER
        .parse()
        .map_err(|err: wharf_auth::Error| SetupError::Setting(err.to_string()))?;
    store
        .create_user(&login, now)
        .await
        .map_err(|err| SetupError::Store(format!("cannot create the first user: {err}")))?;
    let token = PersonalAccessToken::generate()
        .map_err(|err| SetupError::Setting(format!("cannot generate a token: {err}")))?;
    let scopes: TokenScopes = [
        TokenScope::ReadPackages,
        TokenScope::WritePackages,
        TokenScope::DeletePackages,
    ]
    .into_iter()
    .collect();
    let mut stored = StoredToken::new(&token, login, scopes, None);
    stored.note = "created on first start".to_owned();
    store
        .insert_personal_token(&stored, now)
        .await
        .map_err(|err| SetupError::Store(format!("cannot store the first token: {err}")))?;
    eprintln!(
        "\nminimal-registry: first start: created the user `{BOOTSTRAP_USER}` and this personal access token\n\
         (read:packages, write:packages, delete:packages). It is shown only now; only its hash is kept:\n\n    \
         {}\n\n\
         Log in with `docker login -u {BOOTSTRAP_USER}` and the token as password; push to {BOOTSTRAP_USER}/<image>.\n\
         Create users, organizations and more tokens with `minimal-registry user|org|token ...` (see --help).\n",
        token.expose_secret()
    );
    tracing::info!(
        user = BOOTSTRAP_USER,
        "first start: created the first user and a token (printed once to standard error)"
    );
    Ok(true)
}

/// The accounts configuration of `settings`, over the store in the data
/// directory (behind a read-through cache), bootstrapping the first user
/// when the store is empty.
pub async fn config(
    settings: &Settings,
    now: Timestamp,
) -> Result<(AccountsConfig, CachedStore, Option<Probe>), SetupError> {
    let (inner, pool) = crate::stores::open_package_store_with_pool(settings)
        .await
        .map_err(|err| SetupError::Store(err.to_string()))?;
    let mut options = CacheOptions::default();
    options.ttl = crate::stores::CACHE_TTL;
    let cache = CachedStore::from_arc(inner, options);
    let store: Arc<dyn PackageStore> = Arc::new(cache.clone());
    bootstrap(store.as_ref(), now).await?;
    let key = signing_key(&settings.signing_key_file())?;
    let auth = &settings.auth;
    let mut config = AccountsConfig::new(store, key, &settings.public_url())
        .map_err(|err| SetupError::Setting(format!("--public-url: {err}")))?;
    config.token_ttl = auth.token_ttl;
    config.annotations.reject_invalid = auth.strict_annotations;
    if let Some(service) = &auth.service {
        config.service = service.clone();
    }
    if !auth.code_hosts.is_empty() {
        let hosts = auth
            .code_hosts
            .iter()
            .map(|h| h.parse::<CodeHost>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| SetupError::Setting(format!("--code-host: {err}")))?;
        config.code_hosts = hosts;
    }
    Ok((config, cache, pool))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use wharf_packages::prelude::*;
    use wharf_packages::SqlitePackageStore;

    #[test]
    fn a_signing_key_is_created_once_private_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("signing-key");
        let created = signing_key(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), created.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(signing_key(&path).unwrap(), created);

        let short = dir.path().join("short");
        std::fs::write(&short, b"too short").unwrap();
        let err = signing_key(&short).unwrap_err().to_string();
        assert!(err.contains("32"), "{err}");
    }

    #[tokio::test]
    async fn the_first_user_is_created_only_in_an_empty_store() {
        let store = SqlitePackageStore::in_memory().unwrap();
        let now = Timestamp::from_unix_seconds(1_700_000_000);
        assert!(bootstrap(&store, now).await.unwrap());
        let admin: Login = BOOTSTRAP_USER.parse().unwrap();
        let tokens = store.personal_tokens(&admin).await.unwrap();
        assert_eq!(tokens.len(), 1);
        let scopes = tokens[0].personal().unwrap().scopes;
        assert!(
            scopes.can_read_packages()
                && scopes.can_write_packages()
                && scopes.can_delete_packages()
        );
        assert!(!bootstrap(&store, now).await.unwrap(), "not twice");
        assert_eq!(store.personal_tokens(&admin).await.unwrap().len(), 1);
    }
}
