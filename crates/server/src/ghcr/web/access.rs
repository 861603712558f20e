//! Who may see which page: [`PageAccess`], with [`StoreCredentials`] (the
//! default) and the registry's own [`Accounts`](crate::Accounts) rules.

use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use http::header::AUTHORIZATION;
use http::request::Parts;
use wharf_auth::{authorize, Credentials, PackageAction, Principal, Timestamp, TokenHash};
use wharf_packages::{PackageLookup, PackageStore};
use wharf_reference::RepositoryName;

use super::PageError;
use crate::ghcr::accounts::{AuthnError, Caller};

/// Decides whether a request may see the page of a package: exactly when
/// it may pull the package.
///
/// [`StoreCredentials`] is the default; a registry with
/// [accounts](crate::RegistryBuilder::accounts) uses its own
/// [`Accounts`](crate::Accounts) rules (bearer tokens from `/token`
/// included). Credentials that are missing, malformed, unknown, revoked
/// or expired count as anonymous: a page shows what anyone may see.
#[async_trait]
pub trait PageAccess: Send + Sync + 'static {
    /// Whether the request may see the page of `name` (which may not
    /// exist: then the answer does not matter).
    async fn may_view(&self, request: &Parts, name: &RepositoryName) -> Result<bool, PageError>;
}

/// Page access from Basic credentials whose password is a token in the
/// [`PackageStore`] (a personal access token: a user with the token's
/// scopes; or a workflow token), decided by [`wharf_auth::authorize`] for
/// [`PackageAction::Pull`]. The username is not checked, as `docker login` users
/// of GitHub's registry are used to. Other credentials count as anonymous.
#[derive(Clone)]
pub struct StoreCredentials {
    store: Arc<dyn PackageStore>,
}

impl StoreCredentials {
    /// Credentials checked against `store`'s tokens.
    pub fn new(store: Arc<dyn PackageStore>) -> StoreCredentials {
        StoreCredentials { store }
    }

    /// The principal of a request's Basic credentials.
    async fn principal(&self, request: &Parts) -> Result<Principal, PageError> {
        let Some(header) = request
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Ok(Principal::Anonymous);
        };
        let Ok(Credentials::Basic { password, .. }) = Credentials::parse_authorization(header)
        else {
            return Ok(Principal::Anonymous);
        };
        let secret = password.expose_secret();
        Ok(match self.store.find_token(&TokenHash::of(secret)).await? {
            Some(record) => record
                .authenticate(secret, Timestamp::from_system_time(SystemTime::now()))
                .unwrap_or(Principal::Anonymous),
            None => Principal::Anonymous,
        })
    }
}

impl std::fmt::Debug for StoreCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreCredentials").finish_non_exhaustive()
    }
}

#[async_trait]
impl PageAccess for StoreCredentials {
    async fn may_view(&self, request: &Parts, name: &RepositoryName) -> Result<bool, PageError> {
        let principal = self.principal(request).await?;
        let context = self
            .store
            .access_context(name, principal.login(), PackageLookup::Active)
            .await?;
        Ok(context
            .state()
            .is_some_and(|state| authorize(&principal, PackageAction::Pull, &state).is_allowed()))
    }
}

#[async_trait]
impl PageAccess for crate::Accounts {
    /// The registry's own pull rule (see [`Accounts`](crate::Accounts)),
    /// with bad credentials counted as none.
    async fn may_view(&self, request: &Parts, name: &RepositoryName) -> Result<bool, PageError> {
        let caller = match self.authenticate(request).await {
            Ok(caller) => caller,
            Err(AuthnError::Bad(_)) => Caller::Anonymous,
            Err(AuthnError::Internal(err)) => return Err(PageError::Access(err.to_string())),
        };
        self.may_pull(&caller, name)
            .await
            .map_err(|err| PageError::Access(err.to_string()))
    }
}
