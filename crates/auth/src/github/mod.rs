//! GitHub's policy for packages, as GitHub's Container registry applies it:
//! who is asking (a [`Principal`]: anonymous, a user with a personal access
//! token's [`TokenScopes`], or a workflow token of one
//! [`CodeRepository`]), what they ask about (a [`Package`] with a
//! [`Visibility`], grants of a [`Role`] to users, teams and repositories,
//! in a namespace of an [`OwnerKind`]), and the [`Decision`] of
//! [`authorize`]. [`PersonalAccessToken`]s are the credentials, stored as a
//! [`TokenHash`] in a [`StoredToken`].
//!
//! This module builds on [`crate::protocol`] (registry scopes, timestamps)
//! and never the other way round; it needs no bearer token at all.
//!
//! ```
//! use wharf_auth::github::{
//!     authorize, PackageAction, DenyKind, OwnerKind, Package, PackageState, PersonalAccessToken,
//!     Principal, StoredToken, Visibility,
//! };
//! use wharf_auth::protocol::Timestamp;
//!
//! let now = Timestamp::from_unix_seconds(1_700_000_000);
//! let token = PersonalAccessToken::generate()?;
//! let stored = StoredToken::new(&token, "octocat".parse()?, "write:packages".parse()?, None);
//! let octocat = stored.authenticate(token.expose_secret(), now)?;
//!
//! let name: wharf_reference::RepositoryName = "octocat/app".parse()?;
//! let mut package = Package::first_publish(name.clone(), &octocat.identity());
//! let state = PackageState::new(&name, OwnerKind::User).with_package(&package);
//! assert!(authorize(&octocat, PackageAction::Push, &state).is_allowed());
//!
//! let bob = Principal::User { login: "bob".parse()?, scopes: "read:packages".parse()? };
//! assert_eq!(authorize(&bob, PackageAction::Pull, &state).deny_kind(), Some(DenyKind::NotVisible));
//!
//! package.visibility = Visibility::Public;
//! let state = PackageState::new(&name, OwnerKind::User).with_package(&package);
//! assert!(authorize(&bob, PackageAction::Pull, &state).is_allowed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod decision;
mod identity;
mod keyword;
mod login;
mod owner;
mod package;
mod pat;
mod token_scope;

pub use decision::{
    authorize, effective_role, permitted_actions, Decision, DenyKind, PackageAction, PackageState,
};
pub use identity::{CodeRepository, Identity, Principal, TeamSlug, WorkflowPermission};
pub use login::{Login, MAX_LOGIN_LEN, RESERVED_LOGINS};
pub use owner::{Membership, OrgRole, OrganizationPolicy, OwnerKind};
pub use package::{Grant, Grantee, Package, RepositoryAccess, RepositoryRole, Role, Visibility};
pub use pat::{PersonalAccessToken, StoredToken, TokenHash, PAT_PREFIX};
pub use token_scope::{TokenScope, TokenScopes};
