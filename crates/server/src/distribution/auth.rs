//! The authorization hook every request passes before touching storage.
//!
//! The registry first works out what the request wants to do ([`Access`]:
//! a repository and an [`Action`], or the catalog) and asks its
//! [`Authorizer`]. Only on `Ok` does the handler run. An authorizer denies with an
//! [`ApiError`]: [`unauthorized`] (401 with a `WWW-Authenticate` challenge,
//! for a caller who has not proven who they are) or [`denied`] (403, for one
//! who has but may not). The default, [`AllowAll`], lets everything through:
//! no authentication, for local and development use only.

use async_trait::async_trait;
use http::header::{HeaderValue, WWW_AUTHENTICATE};
use http::request::Parts;
use wharf_reference::RepositoryName;

use crate::distribution::error::{ApiError, ErrorCode};
use crate::Registry;

/// What a request does to a repository, in the vocabulary of registry token
/// scopes (`repository:NAME:pull`, `push`, `delete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read manifests, blobs, tags and referrers.
    Pull,
    /// Upload blobs, put manifests and move tags.
    Push,
    /// Delete manifests, tags and blob links.
    Delete,
}

impl Action {
    /// The action as a token scope writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pull => "pull",
            Self::Push => "push",
            Self::Delete => "delete",
        }
    }
}

/// What a request asks to access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access<'a> {
    /// An action on one repository.
    Repository {
        /// The repository.
        name: &'a RepositoryName,
        /// What the request does to it.
        action: Action,
    },
    /// The list of all repositories (`GET /v2/_catalog`), scope
    /// `registry:catalog:*`.
    Catalog,
    /// The version check `GET /v2/`, which clients use to discover whether
    /// and how to authenticate.
    Base,
}

impl Access<'_> {
    /// The access as a token scope, e.g. `repository:owner/app:pull`.
    pub fn scope(&self) -> String {
        match self {
            Self::Repository { name, action } => {
                format!("repository:{}:{}", name.as_str(), action.as_str())
            }
            Self::Catalog => "registry:catalog:*".to_owned(),
            Self::Base => String::new(),
        }
    }
}

/// A request on one repository that the registry's [`Authorizer`] let
/// through for an [`Action`]: what every repository handler is given, so
/// that none can touch storage unchecked.
pub(crate) struct Repo<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) parts: &'a Parts,
    pub(crate) name: RepositoryName,
}

impl<'a> Repo<'a> {
    /// Checks `action` on `name` with [`Registry::authorize`].
    pub(crate) async fn authorize(
        registry: &'a Registry,
        parts: &'a Parts,
        name: RepositoryName,
        action: Action,
    ) -> Result<Repo<'a>, ApiError> {
        registry
            .authorize(
                parts,
                Access::Repository {
                    name: &name,
                    action,
                },
            )
            .await?;
        Ok(Repo {
            registry,
            parts,
            name,
        })
    }
}

/// Decides whether a request may do what it asks.
///
/// Implementations look at the request head (an `Authorization` header, a
/// client certificate recorded in extensions, ...) and the [`Access`]. They
/// are called once per check, before any storage access; a cross-repository
/// mount checks `Pull` on the source repository in addition to `Push` on the
/// target, and falls back to a plain upload when the source is refused, so
/// a refusal never reveals whether a blob exists.
///
/// ```
/// use async_trait::async_trait;
/// use wharf_server::distribution::auth;
/// use wharf_server::{Access, Action, ApiError, Authorizer};
///
/// /// Anyone may pull; nobody may change anything.
/// struct ReadOnly;
///
/// #[async_trait]
/// impl Authorizer for ReadOnly {
///     async fn authorize(&self, _: &http::request::Parts, access: Access<'_>) -> Result<(), ApiError> {
///         match access {
///             Access::Repository { action: Action::Push | Action::Delete, .. } =>
///                 Err(auth::denied("this registry is read-only")),
///             _ => Ok(()),
///         }
///     }
/// }
/// ```
#[async_trait]
pub trait Authorizer: Send + Sync + 'static {
    /// `Ok(())` to let the request go on, or the error to answer with
    /// (normally from [`unauthorized`] or [`denied`]).
    async fn authorize(&self, request: &Parts, access: Access<'_>) -> Result<(), ApiError>;

    /// Which of `names` the catalog (`GET /v2/_catalog`) shows this
    /// request, after [`authorize`](Self::authorize) allowed
    /// [`Access::Catalog`]. The default shows them all; an authorizer with
    /// private repositories keeps only those the caller may pull, so that
    /// the catalog never reveals a name. The catalog calls it on each batch
    /// of names it reads from storage and pages over what it keeps, so
    /// neither a page nor its `Link` header names a repository left out.
    async fn visible_repositories(
        &self,
        request: &Parts,
        names: Vec<RepositoryName>,
    ) -> Result<Vec<RepositoryName>, ApiError> {
        let _ = request;
        Ok(names)
    }

    /// Who the request authenticates as (a user name, a token subject),
    /// for sharing the upload capacity fairly between clients, or `None`
    /// for an anonymous request or an authorizer without principals; the
    /// registry then tells clients apart by their IP address. Called after
    /// [`authorize`](Self::authorize) allowed the request. The default
    /// names nobody.
    async fn principal(&self, request: &Parts) -> Option<String> {
        let _ = request;
        None
    }
}

/// Lets every request through: **no authentication, for local and
/// development use only**. It is the default of
/// [`RegistryBuilder`](crate::RegistryBuilder).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

#[async_trait]
impl Authorizer for AllowAll {
    async fn authorize(&self, _request: &Parts, _access: Access<'_>) -> Result<(), ApiError> {
        Ok(())
    }
}

/// A 401 `UNAUTHORIZED` answer carrying `challenge` as its
/// `WWW-Authenticate` header, e.g.
/// `Bearer realm="https://host/token",service="host",scope="repository:a:pull"`.
/// Non-ASCII text (the realm of an internationalized host) is kept as
/// is; a challenge that cannot be a header value at all (a control
/// character) becomes `Basic`, so a client is always told to
/// authenticate.
pub fn unauthorized(challenge: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Unauthorized, message.into())
        .with_header(WWW_AUTHENTICATE, challenge_header(challenge))
}

/// `challenge` as a `WWW-Authenticate` header value; one that is not a
/// valid header value is replaced by `Basic`, so that no realm or host
/// makes a challenge fail. Non-ASCII text (a realm of an
/// internationalized host) is a valid field value (RFC 9110 `obs-text`),
/// which `HeaderValue::from_str` refuses since `http` 1.6: the bytes are
/// checked instead.
pub(crate) fn challenge_header(challenge: &str) -> HeaderValue {
    HeaderValue::from_bytes(challenge.as_bytes())
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"))
}

/// A 403 `DENIED` answer.
pub fn denied(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::Denied, message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_challenge_becomes_a_header_value() {
        let table = [
            (
                r#"Basic realm="registry.example""#,
                r#"Basic realm="registry.example""#,
            ),
            (
                r#"Basic realm="régistry.example""#,
                r#"Basic realm="régistry.example""#,
            ),
            ("Basic realm=\"a\nb\"", "Basic"),
        ];
        for (challenge, header) in table {
            assert_eq!(
                challenge_header(challenge).as_bytes(),
                header.as_bytes(),
                "{challenge:?}"
            );
        }
    }

    #[test]
    fn access_renders_as_a_token_scope() {
        let name = RepositoryName::parse("owner/app").expect("name");
        let table = [
            (
                Access::Repository {
                    name: &name,
                    action: Action::Pull,
                },
                "repository:owner/app:pull",
            ),
            (
                Access::Repository {
                    name: &name,
                    action: Action::Push,
                },
                "repository:owner/app:push",
            ),
            (
                Access::Repository {
                    name: &name,
                    action: Action::Delete,
                },
                "repository:owner/app:delete",
            ),
            (Access::Catalog, "registry:catalog:*"),
        ];
        for (access, scope) in table {
            assert_eq!(access.scope(), scope);
        }
    }

    #[test]
    fn unauthorized_carries_the_challenge_and_denied_is_403() {
        let err = unauthorized("Bearer realm=\"x\"", "log in");
        assert_eq!(err.status().as_u16(), 401);
        assert_eq!(err.headers()[0].0, WWW_AUTHENTICATE);
        assert_eq!(err.headers()[0].1, "Bearer realm=\"x\"");
        assert_eq!(denied("no").status().as_u16(), 403);
    }

    /// Found by the challenge fuzz target: with `http` 1.6, a realm with
    /// non-ASCII text turned the Bearer challenge into `Basic`.
    #[test]
    fn a_non_ascii_challenge_is_kept_and_an_invalid_one_is_basic() {
        let challenge =
            "Bearer realm=\"https://régistry.example/token\",service=\"régistry.example\"";
        let err = unauthorized(challenge, "log in");
        assert_eq!(err.headers()[0].1.as_bytes(), challenge.as_bytes());
        let err = unauthorized("Bearer realm=\"a\r\nb\"", "log in");
        assert_eq!(err.headers()[0].1, "Basic");
    }
}
