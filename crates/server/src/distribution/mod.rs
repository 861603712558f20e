//! The OCI Distribution API (v1.1) over Wharf's storage traits, knowing
//! nothing of any account model: routes ([`route`]), errors ([`error`]),
//! the [`Authorizer`](auth::Authorizer) every request is checked with, the
//! handlers (blobs, uploads, manifests, tags, catalog, referrers) and the
//! [`ManifestHooks`](hooks::ManifestHooks) a model plugs in through. The
//! GitHub model ([`crate::ghcr`]) is one such model.

pub mod auth;
pub(crate) mod blobs;
pub mod error;
pub mod hooks;
pub(crate) mod listing;
pub(crate) mod manifests;
pub(crate) mod name_locks;
pub mod redirect;
pub mod route;
#[cfg(feature = "token-auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "token-auth")))]
pub mod token_auth;
pub(crate) mod upload_quota;
pub(crate) mod uploads;
