//! [`Api`]: one request to the package REST API, authenticated, with the
//! package its path names; and the parsing of queries and bodies.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, OriginalUri, RawPathParams};
use http::header::{HeaderValue, AUTHORIZATION};
use http::request::Parts;
use serde::Deserialize;
use wharf_auth::{Credentials, Decision, DenyKind, Login, PackageAction, Principal};
use wharf_packages::{Account, PackageLookup, PackageRecord, PackageStore};
use wharf_reference::RepositoryName;

use crate::distribution::route::decode;
use crate::ghcr::accounts::{Accounts, AuthnError, Caller};
use crate::ghcr::rest::json::Renderer;
use crate::ghcr::rest::problem::Problem;
use crate::Registry;

/// The largest JSON body accepted.
const MAX_BODY: usize = 64 * 1024;
/// GitHub's default and largest page sizes.
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;

/// Which kind of owner path a route serves: `/user`, `/users/{owner}` or
/// `/orgs/{owner}` (set on the routes as an extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnerScope {
    Me,
    User,
    Org,
}

/// Whose packages a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OwnerPath {
    /// `/user/...`: the authenticated user.
    Me,
    /// `/users/{login}/...`
    User(String),
    /// `/orgs/{login}/...`
    Org(String),
}

/// One request: the registry, the caller, and the path's parameters
/// (percent-decoded, so a package name's `%2F` stays inside its segment).
/// Extracting it authenticates the caller (401 without a valid token).
pub(crate) struct Api {
    pub(crate) registry: Registry,
    pub(crate) accounts: Accounts,
    pub(crate) parts: Parts,
    pub(crate) principal: Principal,
    owner: OwnerPath,
    params: BTreeMap<String, String>,
}

/// A package the caller named, with its owner's account (not yet
/// authorized: see [`Api::allow`]).
pub(crate) struct Resolved {
    pub(crate) name: RepositoryName,
    pub(crate) owner: Account,
}

impl FromRequestParts<Registry> for Api {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, registry: &Registry) -> Result<Api, Problem> {
        let Some(accounts) = registry.accounts().cloned() else {
            return Err(Problem::not_found("Not Found"));
        };
        let scope = parts.extensions.get::<OwnerScope>().copied();
        let raw = RawPathParams::from_request_parts(parts, registry)
            .await
            .map_err(|_| Problem::not_found("Not Found"))?;
        let params: BTreeMap<String, String> = raw
            .iter()
            .map(|(key, value)| (key.to_owned(), decode(value).into_owned()))
            .collect();
        let login = params.get("owner").cloned().unwrap_or_default();
        let owner = match scope {
            Some(OwnerScope::Org) => OwnerPath::Org(login),
            Some(OwnerScope::User) => OwnerPath::User(login),
            Some(OwnerScope::Me) => OwnerPath::Me,
            None => return Err(Problem::not_found("Not Found")),
        };
        let principal = principal(&accounts, parts).await?;
        Ok(Api {
            registry: registry.clone(),
            accounts,
            parts: parts.clone(),
            principal,
            owner,
            params,
        })
    }
}

/// The caller, from a personal access token or a workflow token: Basic
/// `username:token`, `Bearer <token>` or `token <token>`.
async fn principal(accounts: &Accounts, parts: &Parts) -> Result<Principal, Problem> {
    let service = accounts.service();
    let Some(header) = parts.headers.get(AUTHORIZATION) else {
        return Err(Problem::unauthorized(service, "Requires authentication"));
    };
    let header = header
        .to_str()
        .map_err(|_| Problem::unauthorized(service, "Bad credentials"))?;
    let (scheme, value) = header.trim().split_once(' ').unwrap_or((header, ""));
    let secret = if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") {
        value.trim().to_owned()
    } else {
        match Credentials::parse_authorization(header) {
            Ok(Credentials::Basic { password, .. }) => password.expose_secret().to_owned(),
            _ => return Err(Problem::unauthorized(service, "Bad credentials")),
        }
    };
    match accounts.stored_token(&secret, false).await {
        Ok(Caller::Stored { principal, .. }) => Ok(principal),
        Ok(_) => Err(Problem::unauthorized(service, "Bad credentials")),
        Err(AuthnError::Bad(bad)) => Err(Problem::unauthorized(
            service,
            format!("Bad credentials: {}", bad.reason),
        )),
        Err(AuthnError::Internal(err)) => Err(err.into()),
    }
}

impl Api {
    /// A path parameter (`package`, `id`, `grantee`), decoded.
    pub(crate) fn param(&self, key: &str) -> &str {
        self.params.get(key).map(String::as_str).unwrap_or_default()
    }

    /// The owner's account, or 404 (`Not Found`, as GitHub: which accounts
    /// exist is not secret).
    pub(crate) async fn owner(&self) -> Result<Account, Problem> {
        let login = match &self.owner {
            OwnerPath::Me => self.principal.login().cloned().ok_or_else(|| {
                Problem::forbidden(
                    "a workflow token has no user: use /users/{owner}/packages or /orgs/{org}/packages",
                )
            })?,
            OwnerPath::User(login) | OwnerPath::Org(login) => {
                Login::parse(login).map_err(|_| Problem::not_found("Not Found"))?
            }
        };
        let account = self
            .accounts
            .store()
            .account(&login)
            .await?
            .ok_or_else(|| Problem::not_found("Not Found"))?;
        let kind_matches = match self.owner {
            OwnerPath::Me | OwnerPath::User(_) => account.is_user(),
            OwnerPath::Org(_) => account.is_organization(),
        };
        if !kind_matches {
            return Err(Problem::not_found("Not Found"));
        }
        Ok(account)
    }

    /// The organization of an `/orgs/{org}/...` path, or 404 (`Not Found`)
    /// for any other owner path.
    pub(crate) async fn organization(&self) -> Result<Account, Problem> {
        if !matches!(self.owner, OwnerPath::Org(_)) {
            return Err(Problem::not_found("Not Found"));
        }
        self.owner().await
    }

    /// The package the path names: `container` packages only (another
    /// type is 404), under the owner's account.
    pub(crate) async fn package(&self) -> Result<Resolved, Problem> {
        let package_type = self.param("package_type");
        if package_type != "container" {
            return Err(Problem::not_found(format!(
                "package type `{package_type}` is not hosted here: this registry only has container packages"
            )));
        }
        let owner = self.owner().await?;
        let name = RepositoryName::parse(&format!("{}/{}", owner.login, self.param("package")))
            .map_err(|_| Problem::not_found("Package not found."))?;
        Ok(Resolved { name, owner })
    }

    /// Asks `authorize` whether the caller may do `action` to the package
    /// (the live one, or per `lookup`); its record when it may. A package
    /// the caller may not see is `Package not found.`, as a missing one.
    pub(crate) async fn allow(
        &self,
        resolved: &Resolved,
        action: PackageAction,
        lookup: PackageLookup,
    ) -> Result<PackageRecord, Problem> {
        let (decision, context) = self
            .accounts
            .decide(&self.principal, &resolved.name, action, lookup)
            .await?;
        match decision {
            Decision::Allow => context
                .package
                .ok_or_else(|| Problem::not_found("Package not found.")),
            Decision::Deny { kind, reason } => Err(match kind {
                DenyKind::NeedsAuthentication => {
                    Problem::unauthorized(self.accounts.service(), reason)
                }
                DenyKind::InsufficientScope | DenyKind::Forbidden => Problem::forbidden(reason),
                DenyKind::NotVisible => Problem::not_found("Package not found."),
            }),
        }
    }

    /// The package the path names, once the caller may do `action` to the
    /// live package; with its record.
    pub(crate) async fn allowed(
        &self,
        action: PackageAction,
    ) -> Result<(Resolved, PackageRecord), Problem> {
        let resolved = self.package().await?;
        let record = self.allow(&resolved, action, PackageLookup::Active).await?;
        Ok((resolved, record))
    }

    /// The package store.
    pub(crate) fn store(&self) -> &Arc<dyn PackageStore> {
        self.accounts.store()
    }

    /// Renders response bodies with the registry's public URLs.
    pub(crate) fn renderer(&self) -> Renderer<'_> {
        Renderer {
            accounts: &self.accounts,
        }
    }

    /// The package the path names, with the name held against pushes (see
    /// [`NameLocks::package_change`](crate::distribution::name_locks::NameLocks::package_change))
    /// until the guard drops.
    pub(crate) async fn package_exclusively(
        &self,
    ) -> Result<(Resolved, tokio::sync::OwnedRwLockWriteGuard<()>), Problem> {
        let resolved = self.package().await?;
        let exclusive = self
            .registry
            .name_locks()
            .package_change(&resolved.name)
            .await;
        Ok((resolved, exclusive))
    }

    /// The query, first value per key.
    pub(crate) fn query(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        if let Some(query) = self.parts.uri.query() {
            for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
                map.entry(key.into_owned())
                    .or_insert_with(|| value.into_owned());
            }
        }
        map
    }

    /// The JSON object the body holds.
    pub(crate) async fn json<T: serde::de::DeserializeOwned>(
        &self,
        body: Body,
    ) -> Result<T, Problem> {
        let pace = crate::http::body::BodyPace::of(self.registry.limits());
        let bytes = crate::http::body::read_limited(body, MAX_BODY, pace, None)
            .await
            .map_err(|_| {
                Problem::bad_request(format!("the body must be JSON of at most {MAX_BODY} bytes"))
            })?;
        parse_json(&bytes)
    }
}

/// Parses a settings body: a JSON object, as GitHub's API takes. Serde
/// would also read a struct from a JSON array of its fields in order
/// (`["public"]`), which no client means: refused like any other shape.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| Problem::bad_request(format!("Problems parsing JSON: {e}")))?;
    if !value.is_object() {
        return Err(Problem::bad_request(
            "Problems parsing JSON: the body must be a JSON object",
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| Problem::bad_request(format!("Problems parsing JSON: {e}")))
}

/// `s` parsed as `T`, or a 400 saying why it is not one.
pub(crate) fn parse_or_400<T>(s: &str) -> Result<T, Problem>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e: T::Err| Problem::bad_request(e.to_string()))
}

/// Which page of a (filtered) listing a request wants: GitHub's `page`
/// (from 1) and `per_page`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub(crate) page: usize,
    pub(crate) per_page: usize,
}

impl Paging {
    /// `page` and `per_page` from the query.
    pub(crate) fn of(query: &BTreeMap<String, String>) -> Result<Paging, Problem> {
        let number = |key: &str, default: usize| -> Result<usize, Problem> {
            match query.get(key) {
                None => Ok(default),
                Some(v) => v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    Problem::bad_request(format!("{key} must be a positive integer"))
                }),
            }
        };
        Ok(Paging {
            page: number("page", 1)?,
            per_page: number("per_page", DEFAULT_PER_PAGE)?.min(MAX_PER_PAGE),
        })
    }

    /// How many records come before the wanted page.
    pub(crate) fn skip(self) -> usize {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// How many records to gather: through the wanted page, and one more
    /// to learn whether another page follows.
    pub(crate) fn wanted(self) -> usize {
        self.skip().saturating_add(self.per_page).saturating_add(1)
    }

    /// `Link: <...?page=N+1&per_page=M>; rel="next"`.
    pub(crate) fn next_link(self, public_url: &str, parts: &Parts) -> Option<HeaderValue> {
        let mut query: Vec<(String, String)> =
            url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
                .filter(|(k, _)| k != "page" && k != "per_page")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        query.push(("per_page".into(), self.per_page.to_string()));
        query.push(("page".into(), (self.page + 1).to_string()));
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        // The path as the client sent it (nested routes see it stripped).
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path(), |uri| uri.path());
        HeaderValue::from_str(&format!("<{public_url}{path}?{encoded}>; rel=\"next\"")).ok()
    }
}

/// `PATCH .../packages/container/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackagePatch {
    /// `private`, `internal` or `public`.
    #[serde(default)]
    pub visibility: Option<String>,
    /// Absent: unchanged; `null`: unlink; `"owner/repo"`: link.
    #[serde(default, deserialize_with = "present")]
    pub repository: Option<Option<String>>,
    /// Whether the package inherits access from its linked repository.
    #[serde(default)]
    pub inherit_access: Option<bool>,
}

/// `PUT .../grants/{grantee}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantBody {
    /// `read`, `write` or `admin`.
    pub role: String,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one
/// (`None`, by `#[serde(default)]`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_bodies_are_json_objects() {
        assert!(parse_json::<GrantBody>(br#"{"role":"read"}"#).is_ok());
        for body in [
            &br#"["read"]"#[..],
            b"\"read\"",
            b"null",
            b"[]",
            b"{\"role\":",
        ] {
            assert!(parse_json::<GrantBody>(body).is_err(), "{body:?}");
        }
        assert!(parse_json::<PackagePatch>(br#"["public"]"#).is_err());
        assert!(parse_json::<PackagePatch>(br#"{"visibility":"public"}"#).is_ok());
        let unlink: PackagePatch =
            parse_json(br#"{"repository":null}"#).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(unlink.repository, Some(None));
    }
}
