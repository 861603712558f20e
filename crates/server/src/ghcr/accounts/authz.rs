//! Authorization: whether a caller may do what a request asks, decided
//! by [`wharf_auth::authorize`] against the store's current state.

use async_trait::async_trait;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::request::Parts;
use wharf_auth::{
    authorize, ChallengeError, Decision, DenyKind, OwnerKind, PackageState, Principal, Scope,
    ScopeActions, Visibility,
};
use wharf_packages::{AccessContext, PackageLookup};
use wharf_reference::RepositoryName;

use super::authn::Caller;
use super::{store_failure, Accounts};
use crate::distribution::auth::{challenge_header, Access, Action, Authorizer};
use crate::distribution::error::{ApiError, ErrorCode};

/// The registry token action standing for a registry API action.
pub(crate) fn auth_action(action: Action) -> wharf_auth::PackageAction {
    match action {
        Action::Pull => wharf_auth::PackageAction::Pull,
        Action::Push => wharf_auth::PackageAction::Push,
        Action::Delete => wharf_auth::PackageAction::Delete,
    }
}

/// The scope a challenge asks for: `pull,push` for a push, as clients ask
/// the token endpoint for both.
fn challenge_actions(action: Action) -> ScopeActions {
    match action {
        Action::Pull => ScopeActions::PULL,
        Action::Push => ScopeActions::PULL | ScopeActions::PUSH,
        Action::Delete => ScopeActions::DELETE,
    }
}

impl Accounts {
    /// What the store knows about `name` for `principal`.
    pub(crate) async fn context(
        &self,
        principal: &Principal,
        name: &RepositoryName,
        lookup: PackageLookup,
    ) -> Result<AccessContext, ApiError> {
        self.inner
            .store
            .access_context(name, principal.login(), lookup)
            .await
            .map_err(|err| store_failure(&err))
    }

    /// What `authorize` says `principal` may do to `name`, with the access
    /// context it read.
    pub(crate) async fn decide(
        &self,
        principal: &Principal,
        name: &RepositoryName,
        action: wharf_auth::PackageAction,
        lookup: PackageLookup,
    ) -> Result<(Decision, AccessContext), ApiError> {
        let context = self.context(principal, name, lookup).await?;
        let decision = match context.state() {
            Some(state) => authorize(principal, action, &state),
            None if principal.is_authenticated() => Decision::Deny {
                kind: DenyKind::NotVisible,
                reason: format!("no account owns the namespace of {name}"),
            },
            // An anonymous caller is told what it is told of a missing
            // package in a namespace that exists (authorize asks anonymous
            // callers to log in before it looks at the owner).
            None => authorize(principal, action, &PackageState::new(name, OwnerKind::User)),
        };
        Ok((decision, context))
    }

    /// Whether `caller` may do `action` to the repository `name`: what
    /// [`authorize`] says of its principal against the current state of
    /// the package (ownership, roles, visibility), and, for a bearer
    /// token, within its claims (beyond them, only what anyone may do:
    /// pull a public package).
    ///
    /// `Ok(true)` when the decision rests on a package that exists: only
    /// such a decision may be remembered, since the store keeps no answer
    /// that a package is missing (another replica may create it any
    /// moment, and then a push allowed to whoever may create the name is
    /// not allowed any more).
    pub(crate) async fn check(
        &self,
        caller: &Caller,
        name: &RepositoryName,
        action: Action,
    ) -> Result<bool, ApiError> {
        let wanted = auth_action(action);
        let (decision, context) = self
            .decide(caller.principal(), name, wanted, PackageLookup::Active)
            .await?;
        let scope = || Scope::repository(name.clone(), challenge_actions(action));
        match decision {
            Decision::Allow if !caller.claims_allow(name, wanted.scope_actions()) => {
                if wanted == wharf_auth::PackageAction::Pull && is_public(&context) {
                    return Ok(true);
                }
                Err(self.denial(
                    caller,
                    DenyKind::InsufficientScope,
                    format!(
                        "the bearer token does not grant {} on {name}; request a token with scope `{}`",
                        action.as_str(),
                        scope(),
                    ),
                    scope(),
                    name,
                ))
            }
            Decision::Allow => Ok(context.package.is_some()),
            Decision::Deny { kind, reason } => {
                Err(self.denial(caller, kind, reason, scope(), name))
            }
        }
    }

    /// The answer to a denial (see the module's table).
    fn denial(
        &self,
        caller: &Caller,
        kind: DenyKind,
        reason: String,
        scope: Scope,
        name: &RepositoryName,
    ) -> ApiError {
        match kind {
            DenyKind::NeedsAuthentication => {
                let challenge = self.challenge().with_scope(scope);
                crate::distribution::auth::unauthorized(&challenge.to_string(), reason)
            }
            DenyKind::NotVisible => ApiError::new(
                ErrorCode::NameUnknown,
                "repository name not known to registry",
            )
            .with_detail(serde_json::json!({ "name": name.to_string() })),
            DenyKind::InsufficientScope | DenyKind::Forbidden => {
                let err = crate::distribution::auth::denied(reason);
                if caller.is_bearer() {
                    let challenge = self
                        .challenge()
                        .with_scope(scope)
                        .with_error(ChallengeError::InsufficientScope);
                    err.with_header(WWW_AUTHENTICATE, challenge_header(&challenge.to_string()))
                } else {
                    err
                }
            }
        }
    }

    /// Whether `caller` may pull `name` (for package pages: no error, a
    /// yes or no), by the rule of [`check`](Self::check).
    pub(crate) async fn may_pull(
        &self,
        caller: &Caller,
        name: &RepositoryName,
    ) -> Result<bool, ApiError> {
        self.may_see(caller, name, false).await
    }

    /// Whether `caller`'s principal may pull `name` now, and its
    /// credentials reach that far: a bearer token's claims name the
    /// repository, or `whole` (a listing the token was issued for), or the
    /// package is public.
    async fn may_see(
        &self,
        caller: &Caller,
        name: &RepositoryName,
        whole: bool,
    ) -> Result<bool, ApiError> {
        let (decision, context) = self
            .decide(
                caller.principal(),
                name,
                wharf_auth::PackageAction::Pull,
                PackageLookup::Active,
            )
            .await?;
        Ok(decision.is_allowed()
            && (whole || caller.claims_allow(name, ScopeActions::PULL) || is_public(&context)))
    }
}

#[async_trait]
impl Authorizer for Accounts {
    async fn authorize(&self, request: &Parts, access: Access<'_>) -> Result<(), ApiError> {
        let scope = || match access {
            Access::Repository { name, action } => {
                Some(Scope::repository(name.clone(), challenge_actions(action)))
            }
            Access::Catalog | Access::Base => None,
        };
        match access {
            Access::Base => match self.caller(request, scope).await? {
                Caller::Anonymous => Err(crate::distribution::auth::unauthorized(
                    &self.challenge().to_string(),
                    "authentication required: log in with your username and a personal access token",
                )),
                _ => Ok(()),
            },
            // Listed per repository: see `visible_repositories`.
            Access::Catalog => self.caller(request, scope).await.map(drop),
            Access::Repository { name, action } => {
                // The revision is read before anything the decision rests
                // on: if the store changes meanwhile, what is remembered
                // below is never used.
                let revision = self.inner.store.revision();
                let credentials = request
                    .headers
                    .get(AUTHORIZATION)
                    .map_or(&b""[..], |value| value.as_bytes());
                let decisions = &self.inner.decisions;
                if let Some(revision) = revision {
                    if decisions.allows(credentials, name, action, revision, self.now()) {
                        return Ok(());
                    }
                }
                let caller = self.caller(request, scope).await?;
                let exists = self.check(&caller, name, action).await?;
                if let (Some(revision), true) = (revision, exists) {
                    decisions.remember(credentials, name, action, revision, caller.until());
                }
                Ok(())
            }
        }
    }

    async fn visible_repositories(
        &self,
        request: &Parts,
        names: Vec<RepositoryName>,
    ) -> Result<Vec<RepositoryName>, ApiError> {
        let caller = self.caller(request, || None).await?;
        // A bearer token issued for the catalog lists what its principal
        // may pull, as the same token through Basic auth does; one issued
        // for some repositories only, what those claims reach.
        let whole = caller.claims_allow_catalog();
        let mut visible = Vec::with_capacity(names.len());
        for name in names {
            if self.may_see(&caller, &name, whole).await? {
                visible.push(name);
            }
        }
        Ok(visible)
    }

    async fn principal(&self, request: &Parts) -> Option<String> {
        let subject = self.authenticate(request).await.ok()?.identity().subject();
        (!subject.is_empty()).then_some(subject)
    }
}

/// Whether the package of `context` is public: pulled by anyone, whatever
/// their credentials reach.
fn is_public(context: &AccessContext) -> bool {
    context
        .package
        .as_ref()
        .is_some_and(|p| p.visibility() == Visibility::Public)
}
