//! Authorization for a container registry, as GitHub's Container registry
//! does it, without I/O and without an async runtime.
//!
//! - **Token scopes**: [`TokenScopes`] (`read:packages`, `write:packages`,
//!   `delete:packages`, `repo`) for personal access tokens, and registry
//!   [`Scope`]s (`repository:octocat/app:pull,push`, `registry:catalog:*`)
//!   for the Docker token protocol, with [`ScopeSet`] to merge and
//!   intersect the scopes of a request.
//! - **Who**: a [`Principal`] is anonymous, a user with a token's scopes,
//!   or a workflow token bound to one [`SourceRepository`].
//! - **What**: a [`Package`] has a [`Visibility`], grants of a [`Role`] to
//!   users, teams and repositories, and can inherit access from a linked
//!   repository ([`RepositoryAccess`]).
//! - **The decision**: [`authorize`] is a pure function of the principal,
//!   the [`Action`] and a [`PackageState`] the caller fills in; it gives a
//!   [`Decision`] whose [`DenyKind`] picks the response (401, 403 or 404)
//!   and whose reason tells the user what to do.
//! - **Challenges**: [`BearerChallenge`] and [`BasicChallenge`] build
//!   `WWW-Authenticate` values.
//! - **Tokens**: [`PersonalAccessToken`]s are random, shown once and stored
//!   as a [`TokenHash`] in a [`StoredToken`]; registry bearer tokens are
//!   HS256 JWTs issued and verified by a [`TokenSigner`]. A bearer token
//!   names the stored token it was minted from (its `tid` claim): a
//!   registry re-reads that token ([`StoredToken::principal_at`]) and
//!   decides every request against the current [`PackageState`], with the
//!   token's claims as an upper bound, never a grant.
//!
//! Nothing here reads a clock: time is a [`Timestamp`] the caller passes.
//! Randomness enters only where tokens, keys and token ids are generated.
//!
//! ```
//! use std::time::Duration;
//! use wharf_auth::{
//!     authorize, permitted_actions, Action, BearerChallenge, DenyKind, Membership, OwnerKind,
//!     Package, PackageState, PersonalAccessToken, Principal, Scope, ScopeSet, SigningKey,
//!     StoredToken, Timestamp, TokenSigner,
//! };
//!
//! let now = Timestamp::from_unix_seconds(1_700_000_000);
//!
//! // A user creates a token with write:packages; the registry keeps only its hash.
//! let token = PersonalAccessToken::generate()?;
//! let stored = StoredToken::new(&token, "alice".parse()?, "write:packages".parse()?, None);
//! let alice = stored.authenticate(token.expose_secret(), now)?;
//!
//! // `docker push registry.example/acme/app`: the first publish into organization acme.
//! let name = "acme/app".parse()?;
//! let member = Membership::member();
//! let state = PackageState::new(&name, OwnerKind::organization()).with_membership(&member);
//! assert!(authorize(&alice, Action::Push, &state).is_allowed());
//!
//! // Anonymous callers are challenged...
//! let decision = authorize(&Principal::Anonymous, Action::Push, &state);
//! assert_eq!(decision.deny_kind(), Some(DenyKind::NeedsAuthentication));
//! let challenge = BearerChallenge::new("https://registry.example/token", "registry.example")
//!     .with_scope("repository:acme/app:pull,push".parse()?);
//! assert_eq!(
//!     challenge.to_string(),
//!     r#"Bearer realm="https://registry.example/token",service="registry.example",scope="repository:acme/app:pull,push""#
//! );
//!
//! // ...and the token endpoint grants what was asked, as far as it is allowed.
//! let asked = ScopeSet::from_request(["repository:acme/app:pull,push"])?;
//! let allowed = Scope::repository(name.clone(), permitted_actions(&alice, &state));
//! let granted: ScopeSet = asked.iter().filter_map(|s| s.intersect(&allowed)).collect();
//! let signer = TokenSigner::new(
//!     &SigningKey::generate()?,
//!     "https://registry.example/token",
//!     "registry.example",
//!     Duration::from_secs(300),
//! );
//! // It names the stored token it comes from (here the store's token 1).
//! let issued = signer.issue_derived(&alice.identity(), "1", &granted, now)?;
//!
//! // The registry verifies the bearer token on each request, re-reads the
//! // stored token it names, and decides against the current state, within
//! // the token's claims.
//! let claims = signer.verify(&issued.token, now)?;
//! assert_eq!(claims.tid.as_deref(), Some("1"));
//! let alice_now = stored.principal_at(now)?;
//! assert!(claims.permits(&"repository:acme/app:push".parse()?));
//! assert!(authorize(&alice_now, Action::Push, &state).is_allowed());
//!
//! // The package is created private, with alice as its admin.
//! let package = Package::first_publish(name.clone(), &alice.identity());
//! let state = state.with_package(&package);
//! let bob = Principal::User { login: "bob".parse()?, scopes: "read:packages".parse()? };
//! assert_eq!(authorize(&bob, Action::Pull, &state).deny_kind(), Some(DenyKind::NotVisible));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod challenge;
mod credentials;
mod decision;
mod error;
mod identity;
mod jwt;
mod keyword;
mod login;
mod owner;
mod package;
mod pat;
mod scope;
mod time;
mod token_scope;

pub use challenge::{BasicChallenge, BearerChallenge, ChallengeError};
pub use credentials::{Credentials, Secret};
pub use decision::{
    authorize, effective_role, permitted_actions, Action, Decision, DenyKind, PackageState,
};
pub use error::Error;
pub use identity::{Identity, Principal, SourceRepository, TeamSlug, WorkflowPermission};
pub use jwt::{Claims, IssuedToken, SigningKey, TokenSigner};
pub use login::{Login, MAX_LOGIN_LEN, RESERVED_LOGINS};
pub use owner::{Membership, OrgRole, OrganizationPolicy, OwnerKind};
pub use package::{Grant, Grantee, Package, RepositoryAccess, RepositoryRole, Role, Visibility};
pub use pat::{PersonalAccessToken, StoredToken, TokenHash, PAT_PREFIX};
pub use scope::{Resource, ResourceClass, Scope, ScopeActions, ScopeSet};
pub use time::{Timestamp, UtcDateTime};
pub use token_scope::{TokenScope, TokenScopes};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
