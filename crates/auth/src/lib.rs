//! Authorization for a container registry, as GitHub's Container registry
//! does it, without I/O and without an async runtime, in two parts that
//! can be used apart:
//!
//! - [`protocol`]: the **Docker token protocol**, what any registry that
//!   speaks it needs. Registry [`Scope`]s (`repository:octocat/app:pull,push`,
//!   `registry:catalog:*`) with [`ScopeSet`] to merge and intersect the
//!   scopes of a request; `WWW-Authenticate` challenges
//!   ([`BearerChallenge`], [`BasicChallenge`]); the [`Credentials`] of an
//!   `Authorization` header; bearer token [`Claims`], issued and verified
//!   as HS256 JWTs by a [`TokenSigner`], and verified through the
//!   [`BearerVerifier`] trait, which `protocol::JwksVerifier` (feature
//!   `jwks`) implements for RS256 and ES256 tokens of an external token
//!   server given its JWKS.
//! - [`github`]: **GitHub's policy**. A [`Principal`] is anonymous, a user
//!   with a personal access token's [`TokenScopes`] (`read:packages`,
//!   `write:packages`, `delete:packages`, `repo`), or a workflow token
//!   bound to one [`CodeRepository`]; a [`Package`] has a
//!   [`Visibility`], grants of a [`Role`] to users, teams and repositories,
//!   and can inherit access from a linked repository
//!   ([`RepositoryAccess`]); [`authorize`] is a pure function of the
//!   principal, the [`PackageAction`] and a [`PackageState`] the caller fills in,
//!   giving a [`Decision`] whose [`DenyKind`] picks the response (401, 403
//!   or 404) and whose reason tells the user what to do.
//!   [`PersonalAccessToken`]s are random, shown once and stored as a
//!   [`TokenHash`] in a [`StoredToken`].
//!
//! `github` uses `protocol` (scopes, timestamps), never the other way
//! round. Each module's documentation has an example of it used alone;
//! every item is also re-exported at the crate root, as before the split.
//!
//! Together: a bearer token names the stored token it was minted from (its
//! `tid` claim): a registry re-reads that token
//! ([`StoredToken::principal_at`]) and decides every request against the
//! current [`PackageState`], with the token's claims as an upper bound,
//! never a grant.
//!
//! Nothing here reads a clock: time is a [`Timestamp`] the caller passes.
//! Randomness enters only where tokens, keys and token ids are generated.
//!
//! ```
//! use std::time::Duration;
//! use wharf_auth::{
//!     authorize, permitted_actions, PackageAction, BearerChallenge, DenyKind, Membership, OwnerKind,
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
//! assert!(authorize(&alice, PackageAction::Push, &state).is_allowed());
//!
//! // Anonymous callers are challenged...
//! let decision = authorize(&Principal::Anonymous, PackageAction::Push, &state);
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
//! assert!(authorize(&alice_now, PackageAction::Push, &state).is_allowed());
//!
//! // The package is created private, with alice as its admin.
//! let package = Package::first_publish(name.clone(), &alice.identity());
//! let state = state.with_package(&package);
//! let bob = Principal::User { login: "bob".parse()?, scopes: "read:packages".parse()? };
//! assert_eq!(authorize(&bob, PackageAction::Pull, &state).deny_kind(), Some(DenyKind::NotVisible));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

/// Implements `FromIterator<$item>` and `Extend<$item>` for a set type
/// that starts from `Default` and takes one item at a time with `insert`
/// (`TokenScopes`, `ScopeSet`).
macro_rules! collect_by_insert {
    ($set:ty, $item:ty) => {
        impl FromIterator<$item> for $set {
            fn from_iter<I: IntoIterator<Item = $item>>(iter: I) -> Self {
                let mut set = <$set>::default();
                set.extend(iter);
                set
            }
        }

        impl Extend<$item> for $set {
            fn extend<I: IntoIterator<Item = $item>>(&mut self, iter: I) {
                for item in iter {
                    self.insert(item);
                }
            }
        }
    };
}

mod error;
pub mod github;
pub mod protocol;
mod serde_list;

pub use error::Error;

// The flat names of the crate before it had two parts; both parts are
// also reachable as `wharf_auth::protocol::*` and `wharf_auth::github::*`.
pub use github::{
    authorize, effective_role, permitted_actions, CodeRepository, Decision, DenyKind, Grant,
    Grantee, Identity, Login, Membership, OrgRole, OrganizationPolicy, OwnerKind, Package,
    PackageAction, PackageState, PersonalAccessToken, Principal, RepositoryAccess, RepositoryRole,
    Role, StoredToken, TeamSlug, TokenHash, TokenScope, TokenScopes, Visibility,
    WorkflowPermission, MAX_LOGIN_LEN, PAT_PREFIX, RESERVED_LOGINS,
};
pub use protocol::{
    BasicChallenge, BearerChallenge, BearerVerifier, ChallengeError, Claims, Credentials,
    IssuedToken, Resource, ResourceClass, Scope, ScopeActions, ScopeSet, Secret, SigningKey,
    Timestamp, TokenSigner, TokenSubject, UtcDateTime,
};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
