//! The package REST API, shaped like GitHub's "Packages" API for
//! `package_type=container`, plus the settings GitHub manages in its web
//! interface (visibility, linked repository, grants).
//!
//! | method and path | what |
//! |---|---|
//! | `GET /user/packages?package_type=container` | the authenticated user's packages |
//! | `GET /users/{user}/packages?package_type=container` | a user's packages the caller may see |
//! | `GET /orgs/{org}/packages?package_type=container` | an organization's packages the caller may see |
//! | `GET .../packages/container/{name}` | a package (`{name}` URL-encoded: `app%2Frelease`) |
//! | `PATCH .../packages/container/{name}` | change `visibility`, the linked `repository`, `inherit_access` (admin) |
//! | `DELETE .../packages/container/{name}` | delete, restorably for 30 days (admin, `delete:packages`): 204 |
//! | `POST .../packages/container/{name}/restore` | restore a deleted package (admin): 204 |
//! | `GET .../packages/container/{name}/versions?state=active\|deleted` | its versions, newest first |
//! | `GET .../packages/container/{name}/versions/{id}` | a version |
//! | `DELETE .../packages/container/{name}/versions/{id}` | delete a version (admin, `delete:packages`): 204 |
//! | `POST .../packages/container/{name}/versions/{id}/restore` | restore a version (admin): 204 |
//! | `GET .../packages/container/{name}/grants` | the roles the package grants (admin) |
//! | `PUT .../packages/container/{name}/grants/{grantee}` | `{"role": "read\|write\|admin"}` to `user:LOGIN`, `team:SLUG` or `repository:OWNER%2FREPO` (admin) |
//! | `DELETE .../packages/container/{name}/grants/{grantee}` | take the role away (admin): 204 |
//!
//! `...` is `/user`, `/users/{user}` or `/orgs/{org}`. Listings take
//! `page` and `per_page` (at most 100, default 30) and answer a `Link`
//! header to the next page.
//!
//! Every request needs a token: Basic `username:token`, `Authorization:
//! Bearer <token>` or `Authorization: token <token>`, where the token is a
//! personal access token or a workflow token (registry bearer tokens from
//! `/token` are for `/v2/` only). Reading needs `read:packages`, changes
//! `write:packages`, deletes `read:packages` and `delete:packages`; and the
//! role the table says. Errors are `{"message": "..."}` with 400, 401
//! (with `WWW-Authenticate: Basic`), 403, 404, 405 or 409. A package the
//! caller may not see is answered as one that does not exist, with the
//! same 404 `Package not found.`; an unknown owner is `Not Found` (which
//! accounts exist is not secret, as on GitHub).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use http::header::{
    HeaderName, HeaderValue, ALLOW, AUTHORIZATION, CONTENT_TYPE, LINK, WWW_AUTHENTICATE,
};
use http::request::Parts;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use wharf_auth::{
    Action, BasicChallenge, Credentials, Decision, DenyKind, Grantee, Login, OwnerKind, Principal,
    Role, SourceRepository, Visibility,
};
use wharf_packages::{
    Account, PackageChanges, PackageLookup, PackageQuery, PackageRecord, PageRequest, VersionId,
    VersionQuery, VersionRecord,
};
use wharf_reference::RepositoryName;

use crate::distribution::route::{decode, RouteKind};
use crate::ghcr::accounts::{Accounts, AuthnError, Caller};
use crate::ghcr::clock::rfc3339;
use crate::Registry;

/// The largest JSON body accepted.
const MAX_BODY: usize = 64 * 1024;
/// GitHub's default and largest page sizes.
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;
/// Records read from the store per round trip while filtering a listing.
const STORE_PAGE: usize = 100;

/// The API's route templates.
const ROUTES: [&str; 6] = [
    "/user/packages",
    "/user/packages/{*rest}",
    "/users/{owner}/packages",
    "/users/{owner}/packages/{*rest}",
    "/orgs/{owner}/packages",
    "/orgs/{owner}/packages/{*rest}",
];

/// Adds the API's routes to the registry's router.
pub(crate) fn routes(router: Router<Registry>) -> Router<Registry> {
    ROUTES
        .iter()
        .fold(router, |router, path| router.route(path, any(dispatch)))
}

/// Whether `matched` (a route template) is one of the API's.
pub(crate) fn is_route(matched: &str) -> bool {
    ROUTES.contains(&matched)
}

/// The endpoint a path of the API names, for the `route` label of metrics
/// (a path the API does not serve is [`RouteKind::NotFound`]).
pub(crate) fn route_kind(path: &str) -> RouteKind {
    match ApiRoute::parse(path) {
        None => RouteKind::NotFound,
        Some(ApiRoute::List(_)) => RouteKind::ApiPackages,
        Some(ApiRoute::Package { target, .. }) => match target {
            Target::Package => RouteKind::ApiPackage,
            Target::RestorePackage => RouteKind::ApiPackageRestore,
            Target::Versions => RouteKind::ApiVersions,
            Target::Version(_) => RouteKind::ApiVersion,
            Target::RestoreVersion(_) => RouteKind::ApiVersionRestore,
            Target::Grants => RouteKind::ApiGrants,
            Target::Grant(_) => RouteKind::ApiGrant,
        },
    }
}

/// A failed request: the status and GitHub's `{"message"}` body.
#[derive(Debug)]
struct Problem {
    status: StatusCode,
    message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Problem {
    fn new(status: StatusCode, message: impl Into<String>) -> Problem {
        Problem {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    fn not_found(message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, message)
    }

    fn bad_request(message: impl Into<String>) -> Problem {
        Problem::new(StatusCode::BAD_REQUEST, message)
    }

    fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Problem {
        self.headers.push((name, value));
        self
    }

    /// A failure of the registry itself, logged; the client learns nothing
    /// more.
    fn internal(cause: &dyn std::fmt::Display) -> Problem {
        tracing::error!(error = %cause, "package API: internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal registry error; the cause is in the registry's log",
        )
    }

    fn unauthorized(service: &str, message: impl Into<String>) -> Problem {
        let problem = Problem::new(StatusCode::UNAUTHORIZED, message);
        match HeaderValue::from_str(&BasicChallenge::new(service).to_string()) {
            Ok(value) => problem.with_header(WWW_AUTHENTICATE, value),
            Err(_) => problem,
        }
    }
}

impl From<crate::ApiError> for Problem {
    fn from(err: crate::ApiError) -> Problem {
        Problem::new(err.status(), err.message().to_owned())
    }
}

impl From<wharf_packages::Error> for Problem {
    fn from(err: wharf_packages::Error) -> Problem {
        use wharf_packages::Error as E;
        match &err {
            E::NotFound { .. } | E::RestoreWindowPassed { .. } => {
                Problem::not_found(err.to_string())
            }
            E::AlreadyExists { .. } | E::Conflict { .. } => {
                Problem::new(StatusCode::CONFLICT, err.to_string())
            }
            E::InvalidCursor { .. } | E::OutOfRange { .. } => Problem::bad_request(err.to_string()),
            _ => Problem::internal(&err),
        }
    }
}

impl From<crate::PackageContentError> for Problem {
    fn from(err: crate::PackageContentError) -> Problem {
        match err {
            crate::PackageContentError::Records(err) => err.into(),
            storage => Problem::internal(&storage),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response =
            (self.status, json_body(&json!({ "message": self.message }))).into_response();
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

fn json_body(value: &Value) -> ([(HeaderName, HeaderValue); 1], Vec<u8>) {
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        serde_json::to_vec(value).unwrap_or_default(),
    )
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    (status, json_body(value)).into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
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

/// What a path under a package names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Package,
    RestorePackage,
    Versions,
    Version(String),
    RestoreVersion(String),
    Grants,
    Grant(String),
}

/// A parsed API path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ApiRoute {
    List(OwnerPath),
    Package {
        owner: OwnerPath,
        package_type: String,
        package: String,
        target: Target,
    },
}

impl ApiRoute {
    /// Parses the raw path, so that a package name's `%2F` stays inside
    /// its segment.
    fn parse(path: &str) -> Option<ApiRoute> {
        let mut segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        if segments.last() == Some(&"") {
            segments.pop();
        }
        let (owner, rest) = match segments.as_slice() {
            ["user", "packages", rest @ ..] => (OwnerPath::Me, rest),
            ["users", login, "packages", rest @ ..] => {
                (OwnerPath::User(decode(login).into_owned()), rest)
            }
            ["orgs", login, "packages", rest @ ..] => {
                (OwnerPath::Org(decode(login).into_owned()), rest)
            }
            _ => return None,
        };
        let (package_type, package, rest) = match rest {
            [] => return Some(ApiRoute::List(owner)),
            [package_type, package, rest @ ..] => (
                decode(package_type).into_owned(),
                decode(package).into_owned(),
                rest,
            ),
            _ => return None,
        };
        let target = match rest {
            [] => Target::Package,
            ["restore"] => Target::RestorePackage,
            ["versions"] => Target::Versions,
            ["versions", id] => Target::Version((*id).to_owned()),
            ["versions", id, "restore"] => Target::RestoreVersion((*id).to_owned()),
            ["grants"] => Target::Grants,
            ["grants", grantee] => Target::Grant(decode(grantee).into_owned()),
            _ => return None,
        };
        Some(ApiRoute::Package {
            owner,
            package_type,
            package,
            target,
        })
    }

    /// The methods the path answers.
    fn allowed(&self) -> &'static str {
        match self {
            ApiRoute::List(_) => "GET",
            ApiRoute::Package { target, .. } => match target {
                Target::Package => "GET, PATCH, DELETE",
                Target::RestorePackage | Target::RestoreVersion(_) => "POST",
                Target::Versions | Target::Grants => "GET",
                Target::Version(_) => "GET, DELETE",
                Target::Grant(_) => "PUT, DELETE",
            },
        }
    }
}

/// The query of a request, first value per key.
fn query(parts: &Parts) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if let Some(query) = parts.uri.query() {
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            map.entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        }
    }
    map
}

/// Which page of a (filtered) listing a request wants: GitHub's `page`
/// (from 1) and `per_page`.
#[derive(Debug, Clone, Copy)]
struct Paging {
    page: usize,
    per_page: usize,
}

impl Paging {
    /// How many records come before the wanted page.
    fn skip(self) -> usize {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// How many records to gather: through the wanted page, and one more
    /// to learn whether another page follows.
    fn wanted(self) -> usize {
        self.skip().saturating_add(self.per_page).saturating_add(1)
    }
}

/// `page` and `per_page`.
fn paging(query: &BTreeMap<String, String>) -> Result<Paging, Problem> {
    let number =
        |key: &str, default: usize| -> Result<usize, Problem> {
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

/// `s` parsed as `T`, or a 400 saying why it is not one.
fn parse_or_400<T>(s: &str) -> Result<T, Problem>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e: T::Err| Problem::bad_request(e.to_string()))
}

/// `Link: <...?page=N+1&per_page=M>; rel="next"`.
fn next_link(accounts: &Accounts, parts: &Parts, paging: Paging) -> Option<HeaderValue> {
    let Paging { page, per_page } = paging;
    let mut query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .filter(|(k, _)| k != "page" && k != "per_page")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    query.push(("per_page".into(), per_page.to_string()));
    query.push(("page".into(), (page + 1).to_string()));
    let encoded: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    HeaderValue::from_str(&format!(
        "<{}{}?{encoded}>; rel=\"next\"",
        accounts.public_url(),
        parts.uri.path()
    ))
    .ok()
}

async fn dispatch(State(registry): State<Registry>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(accounts) = registry.accounts().cloned() else {
        return Problem::not_found("Not Found").into_response();
    };
    let Some(route) = ApiRoute::parse(parts.uri.path()) else {
        return Problem::not_found("Not Found").into_response();
    };
    let api = Api {
        registry: &registry,
        accounts: &accounts,
        parts: &parts,
    };
    api.handle(route, body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// One request being answered.
struct Api<'a> {
    registry: &'a Registry,
    accounts: &'a Accounts,
    parts: &'a Parts,
}

/// A package the caller may act on, with its owner's account.
struct Resolved {
    name: RepositoryName,
    owner: Account,
}

impl Api<'_> {
    async fn handle(&self, route: ApiRoute, body: Body) -> Result<Response, Problem> {
        let method = self.parts.method.clone();
        let allowed = route.allowed();
        let not_allowed = || {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed here; use {allowed}"),
            )
            .with_header(ALLOW, HeaderValue::from_static(allowed))
        };
        if !allowed.split(", ").any(|m| m == method.as_str()) {
            return Err(not_allowed());
        }
        let principal = self.principal().await?;
        // Every arm names its method, so that a method no arm names can
        // reach no handler, whatever `allowed` says.
        match route {
            ApiRoute::List(owner) => match method.clone() {
                Method::GET => self.list_packages(&principal, &owner).await,
                _ => Err(not_allowed()),
            },
            ApiRoute::Package {
                owner,
                package_type,
                package,
                target,
            } => {
                if package_type != "container" {
                    return Err(Problem::not_found(format!(
                        "package type `{package_type}` is not hosted here: this registry only has container packages"
                    )));
                }
                let resolved = self.resolve(&principal, &owner, &package).await?;
                match (target, method.clone()) {
                    (Target::Package, Method::GET) => self.get_package(&principal, &resolved).await,
                    (Target::Package, Method::PATCH) => {
                        self.patch_package(&principal, &resolved, body).await
                    }
                    (Target::Package, Method::DELETE) => {
                        self.delete_package(&principal, &resolved).await
                    }
                    (Target::RestorePackage, Method::POST) => {
                        self.restore_package(&principal, &resolved).await
                    }
                    (Target::Versions, Method::GET) => {
                        self.list_versions(&principal, &resolved).await
                    }
                    (Target::Version(id), Method::GET) => {
                        self.get_version(&principal, &resolved, &id).await
                    }
                    (Target::Version(id), Method::DELETE) => {
                        self.delete_version(&principal, &resolved, &id).await
                    }
                    (Target::RestoreVersion(id), Method::POST) => {
                        self.restore_version(&principal, &resolved, &id).await
                    }
                    (Target::Grants, Method::GET) => self.list_grants(&principal, &resolved).await,
                    (Target::Grant(grantee), Method::PUT) => {
                        self.put_grant(&principal, &resolved, &grantee, body).await
                    }
                    (Target::Grant(grantee), Method::DELETE) => {
                        self.delete_grant(&principal, &resolved, &grantee).await
                    }
                    _ => Err(not_allowed()),
                }
            }
        }
    }

    /// The caller, from a personal access token or a workflow token.
    async fn principal(&self) -> Result<Principal, Problem> {
        let service = self.accounts.service();
        let Some(header) = self.parts.headers.get(AUTHORIZATION) else {
            return Err(Problem::unauthorized(service, "Requires authentication"));
        };
        let header = header
            .to_str()
            .map_err(|_| Problem::unauthorized(service, "Bad credentials"))?;
        let (scheme, value) = header.trim().split_once(' ').unwrap_or((header, ""));
        let secret =
            if scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer") {
                value.trim().to_owned()
            } else {
                match Credentials::parse_authorization(header) {
                    Ok(Credentials::Basic { password, .. }) => password.expose_secret().to_owned(),
                    _ => return Err(Problem::unauthorized(service, "Bad credentials")),
                }
            };
        match self.accounts.stored_token(&secret, false).await {
            Ok(Caller::Stored { principal, .. }) => Ok(principal),
            Ok(_) => Err(Problem::unauthorized(service, "Bad credentials")),
            Err(AuthnError::Bad(bad)) => Err(Problem::unauthorized(
                service,
                format!("Bad credentials: {}", bad.reason),
            )),
            Err(AuthnError::Internal(err)) => Err(err.into()),
        }
    }

    /// The owner's login and account, or 404.
    async fn owner(&self, principal: &Principal, owner: &OwnerPath) -> Result<Account, Problem> {
        let login = match owner {
            OwnerPath::Me => principal.login().cloned().ok_or_else(|| {
                Problem::new(
                    StatusCode::FORBIDDEN,
                    "a workflow token has no user: use /users/{owner}/packages or /orgs/{org}/packages",
                )
            })?,
            OwnerPath::User(login) | OwnerPath::Org(login) => Login::parse(login)
                .map_err(|_| Problem::not_found("Not Found"))?,
        };
        let account = self
            .accounts
            .store()
            .account(&login)
            .await?
            .ok_or_else(|| Problem::not_found("Not Found"))?;
        let kind_matches = match owner {
            OwnerPath::Me | OwnerPath::User(_) => account.is_user(),
            OwnerPath::Org(_) => account.is_organization(),
        };
        if !kind_matches {
            return Err(Problem::not_found("Not Found"));
        }
        Ok(account)
    }

    async fn resolve(
        &self,
        principal: &Principal,
        owner: &OwnerPath,
        package: &str,
    ) -> Result<Resolved, Problem> {
        let owner = self.owner(principal, owner).await?;
        let name = RepositoryName::parse(&format!("{}/{package}", owner.login))
            .map_err(|_| Problem::not_found("Package not found."))?;
        Ok(Resolved { name, owner })
    }

    /// Asks `authorize` whether `principal` may do `action` to the
    /// package (the live one, or per `lookup`); its record when it may.
    async fn allow(
        &self,
        principal: &Principal,
        resolved: &Resolved,
        action: Action,
        lookup: PackageLookup,
    ) -> Result<PackageRecord, Problem> {
        let (decision, context) = self
            .accounts
            .decide(principal, &resolved.name, action, lookup)
            .await?;
        match decision {
            Decision::Allow => context
                .package
                .ok_or_else(|| Problem::not_found("Package not found.")),
            Decision::Deny { kind, reason } => Err(match kind {
                DenyKind::NeedsAuthentication => {
                    Problem::unauthorized(self.accounts.service(), reason)
                }
                DenyKind::InsufficientScope | DenyKind::Forbidden => {
                    Problem::new(StatusCode::FORBIDDEN, reason)
                }
                DenyKind::NotVisible => Problem::not_found("Package not found."),
            }),
        }
    }

    // ---------------------------------------------------------- packages

    async fn list_packages(
        &self,
        principal: &Principal,
        owner: &OwnerPath,
    ) -> Result<Response, Problem> {
        let query = query(self.parts);
        match query.get("package_type").map(String::as_str) {
            Some("container") => {}
            Some("npm" | "maven" | "rubygems" | "docker" | "nuget") => {
                return Ok(json_response(StatusCode::OK, &json!([])))
            }
            Some(other) => {
                return Err(Problem::bad_request(format!(
                    "unknown package_type `{other}`: use container"
                )))
            }
            None => {
                return Err(Problem::bad_request(
                    "package_type is required: use package_type=container",
                ))
            }
        }
        if let Principal::User { scopes, .. } = principal {
            if !scopes.can_read_packages() {
                return Err(Problem::new(
                    StatusCode::FORBIDDEN,
                    "listing packages needs a token with read:packages",
                ));
            }
        }
        let mut filter = PackageQuery::active();
        if let Some(visibility) = query.get("visibility") {
            let visibility: Visibility = parse_or_400(visibility)?;
            filter = filter.with_visibility(visibility);
        }
        let paging = paging(&query)?;
        let account = self.owner(principal, owner).await?;
        let wanted = paging.wanted();
        let mut visible = Vec::new();
        let mut request = PageRequest::first(STORE_PAGE);
        'pages: loop {
            let listed = self
                .accounts
                .store()
                .list_packages(&account.login, filter, &request)
                .await?;
            for record in listed.items {
                let (decision, _) = self
                    .accounts
                    .decide(
                        principal,
                        record.name(),
                        Action::Pull,
                        PackageLookup::Active,
                    )
                    .await?;
                if decision.is_allowed() {
                    visible.push(record);
                    if visible.len() >= wanted {
                        break 'pages;
                    }
                }
            }
            match listed.next {
                Some(next) => request = PageRequest::after(next, STORE_PAGE),
                None => break,
            }
        }
        Ok(self.listing(&visible, paging, |record| {
            self.package_json(record, &account)
        }))
    }

    async fn get_package(
        &self,
        principal: &Principal,
        resolved: &Resolved,
    ) -> Result<Response, Problem> {
        let record = self
            .allow(principal, resolved, Action::Pull, PackageLookup::Active)
            .await?;
        Ok(json_response(
            StatusCode::OK,
            &self.package_json(&record, &resolved.owner),
        ))
    }

    async fn patch_package(
        &self,
        principal: &Principal,
        resolved: &Resolved,
        body: Body,
    ) -> Result<Response, Problem> {
        self.allow(
            principal,
            resolved,
            Action::ChangeSettings,
            PackageLookup::Active,
        )
        .await?;
        let patch: PackagePatch = read_json(self.registry, body).await?;
        let mut changes = PackageChanges::new();
        if let Some(visibility) = &patch.visibility {
            changes = changes.visibility(parse_or_400(visibility)?);
        }
        match patch.repository {
            None => {}
            Some(None) => changes = changes.unlink(),
            Some(Some(repository)) => {
                let repository: SourceRepository = parse_or_400(&repository)?;
                if repository.owner() != resolved.owner.login.as_str() {
                    return Err(Problem::bad_request(format!(
                        "a package of {} can only be linked to a repository of {}",
                        resolved.owner.login, resolved.owner.login
                    )));
                }
                changes = changes.link(repository);
            }
        }
        if let Some(inherit) = patch.inherit_access {
            changes = changes.inherit_access(inherit);
        }
        let record = self
            .accounts
            .store()
            .update_package(&resolved.name, &changes, self.accounts.now())
            .await?;
        Ok(json_response(
            StatusCode::OK,
            &self.package_json(&record, &resolved.owner),
        ))
    }

    async fn delete_package(
        &self,
        principal: &Principal,
        resolved: &Resolved,
    ) -> Result<Response, Problem> {
        // Pushes under way end first; later ones wait and are authorized
        // against what then has the name.
        let _exclusive = self
            .registry
            .name_locks()
            .package_change(&resolved.name)
            .await;
        self.allow(principal, resolved, Action::Delete, PackageLookup::Active)
            .await?;
        self.accounts
            .delete_package(self.registry.storage(), &resolved.name)
            .await?;
        Ok(no_content())
    }

    async fn restore_package(
        &self,
        principal: &Principal,
        resolved: &Resolved,
    ) -> Result<Response, Problem> {
        let _exclusive = self
            .registry
            .name_locks()
            .package_change(&resolved.name)
            .await;
        self.allow(
            principal,
            resolved,
            Action::Restore,
            PackageLookup::LatestDeleted,
        )
        .await?;
        self.accounts
            .restore_package(self.registry.storage(), &resolved.name)
            .await?;
        Ok(no_content())
    }

    // ---------------------------------------------------------- versions

    async fn list_versions(
        &self,
        principal: &Principal,
        resolved: &Resolved,
    ) -> Result<Response, Problem> {
        self.allow(principal, resolved, Action::Pull, PackageLookup::Active)
            .await?;
        let query = query(self.parts);
        let state = match query.get("state").map(String::as_str) {
            None | Some("active") => VersionQuery::active(),
            Some("deleted") => VersionQuery::deleted(),
            Some(other) => {
                return Err(Problem::bad_request(format!(
                    "unknown state `{other}`: use active or deleted"
                )))
            }
        };
        let paging = paging(&query)?;
        let wanted = paging.wanted();
        let mut versions = Vec::new();
        let mut request = PageRequest::first(STORE_PAGE);
        loop {
            let listed = self
                .accounts
                .store()
                .list_versions(&resolved.name, state, &request)
                .await?;
            versions.extend(listed.items);
            match listed.next {
                Some(next) if versions.len() < wanted => {
                    request = PageRequest::after(next, STORE_PAGE);
                }
                _ => break,
            }
        }
        Ok(self.listing(&versions, paging, |version| {
            self.version_json(resolved, version)
        }))
    }

    /// The page of `records` (gathered up to [`Paging::wanted`]) that
    /// `paging` asks for, as a JSON array, with a `Link` to the next page
    /// when more records follow.
    fn listing<T>(&self, records: &[T], paging: Paging, to_json: impl Fn(&T) -> Value) -> Response {
        let skip = paging.skip();
        let more = records.len() > skip.saturating_add(paging.per_page);
        let items: Vec<Value> = records
            .iter()
            .skip(skip)
            .take(paging.per_page)
            .map(to_json)
            .collect();
        let mut response = json_response(StatusCode::OK, &Value::Array(items));
        if more {
            if let Some(link) = next_link(self.accounts, self.parts, paging) {
                response.headers_mut().insert(LINK, link);
            }
        }
        response
    }

    async fn version(&self, resolved: &Resolved, id: &str) -> Result<VersionRecord, Problem> {
        let id: VersionId = id
            .parse()
            .map_err(|_| Problem::not_found("Package version not found."))?;
        self.accounts
            .store()
            .version(&resolved.name, id)
            .await?
            .ok_or_else(|| Problem::not_found("Package version not found."))
    }

    async fn get_version(
        &self,
        principal: &Principal,
        resolved: &Resolved,
        id: &str,
    ) -> Result<Response, Problem> {
        self.allow(principal, resolved, Action::Pull, PackageLookup::Active)
            .await?;
        let version = self.version(resolved, id).await?;
        Ok(json_response(
            StatusCode::OK,
            &self.version_json(resolved, &version),
        ))
    }

    async fn delete_version(
        &self,
        principal: &Principal,
        resolved: &Resolved,
        id: &str,
    ) -> Result<Response, Problem> {
        let package = self
            .allow(principal, resolved, Action::Delete, PackageLookup::Active)
            .await?;
        let version = self.version(resolved, id).await?;
        if version.is_deleted() {
            return Err(Problem::not_found("Package version not found."));
        }
        if package.version_count <= 1 {
            return Err(Problem::bad_request(
                "this is the package's last version: delete the package instead",
            ));
        }
        self.accounts
            .delete_version(self.registry.storage(), &resolved.name, version.id)
            .await?;
        Ok(no_content())
    }

    async fn restore_version(
        &self,
        principal: &Principal,
        resolved: &Resolved,
        id: &str,
    ) -> Result<Response, Problem> {
        self.allow(principal, resolved, Action::Restore, PackageLookup::Active)
            .await?;
        let version = self.version(resolved, id).await?;
        self.accounts
            .restore_version(self.registry.storage(), &resolved.name, version.id)
            .await?;
        Ok(no_content())
    }

    // ------------------------------------------------------------ grants

    async fn list_grants(
        &self,
        principal: &Principal,
        resolved: &Resolved,
    ) -> Result<Response, Problem> {
        let record = self
            .allow(
                principal,
                resolved,
                Action::ChangeSettings,
                PackageLookup::Active,
            )
            .await?;
        let grants: Vec<Value> = record
            .package
            .grants
            .iter()
            .map(|grant| json!({ "grantee": grant.grantee.to_string(), "role": grant.role.as_str() }))
            .collect();
        Ok(json_response(StatusCode::OK, &Value::Array(grants)))
    }

    async fn put_grant(
        &self,
        principal: &Principal,
        resolved: &Resolved,
        grantee: &str,
        body: Body,
    ) -> Result<Response, Problem> {
        self.allow(
            principal,
            resolved,
            Action::ChangeSettings,
            PackageLookup::Active,
        )
        .await?;
        let grantee: Grantee = parse_or_400(grantee)?;
        let body: GrantBody = read_json(self.registry, body).await?;
        let role: Role = parse_or_400(&body.role)?;
        self.accounts
            .store()
            .set_grant(&resolved.name, &grantee, role, self.accounts.now())
            .await?;
        Ok(json_response(
            StatusCode::OK,
            &json!({ "grantee": grantee.to_string(), "role": role.as_str() }),
        ))
    }

    async fn delete_grant(
        &self,
        principal: &Principal,
        resolved: &Resolved,
        grantee: &str,
    ) -> Result<Response, Problem> {
        self.allow(
            principal,
            resolved,
            Action::ChangeSettings,
            PackageLookup::Active,
        )
        .await?;
        let grantee: Grantee = parse_or_400(grantee)?;
        self.accounts
            .store()
            .remove_grant(&resolved.name, &grantee, self.accounts.now())
            .await?;
        Ok(no_content())
    }

    // -------------------------------------------------------------- JSON

    /// `{public}/{users|orgs}/{owner}/packages/container/{name}`.
    fn api_url(&self, owner: &Account, package: &str) -> String {
        let kind = if owner.is_organization() {
            "orgs"
        } else {
            "users"
        };
        format!(
            "{}/{kind}/{}/packages/container/{}",
            self.accounts.public_url(),
            owner.login,
            encode_package(package)
        )
    }

    /// The package page: `{public}/{owner}/packages/container/{name}`.
    fn html_url(&self, owner: &Account, package: &str) -> String {
        format!(
            "{}/{}/packages/container/{}",
            self.accounts.public_url(),
            owner.login,
            encode_package(package)
        )
    }

    fn package_json(&self, record: &PackageRecord, owner: &Account) -> Value {
        let package = record.package.package_name().unwrap_or_default();
        let metadata = &record.metadata;
        let repository = record.linked_repository().map(|repo| {
            let html_url = self
                .accounts
                .code_hosts()
                .first()
                .map(|host| format!("{host}/{repo}"));
            json!({
                "name": repo.name(),
                "full_name": repo.as_str(),
                "owner": { "login": repo.owner() },
                "html_url": html_url,
            })
        });
        json!({
            "id": record.id,
            "name": package,
            "package_type": "container",
            "owner": owner_json(self.accounts, owner),
            "version_count": record.version_count,
            "visibility": record.visibility().as_str(),
            "url": self.api_url(owner, package),
            "html_url": self.html_url(owner, package),
            "created_at": rfc3339(record.created_at),
            "updated_at": rfc3339(record.updated_at),
            "repository": repository,
            "inherit_access": record.package.inherit_access,
            "description": metadata.description.as_ref().map(|f| f.value.as_str()),
            "licenses": metadata.licenses.as_ref().map(|f| f.value.raw.as_str()),
            "source": metadata.source.as_ref().map(|f| f.value.as_str()),
        })
    }

    fn version_json(&self, resolved: &Resolved, version: &VersionRecord) -> Value {
        let package = resolved.name.package().unwrap_or_default();
        let package_url = self.api_url(&resolved.owner, package);
        let html_url = self.html_url(&resolved.owner, package);
        let tags: Vec<&str> = version.tags.iter().map(|t| t.as_str()).collect();
        let mut value = json!({
            "id": version.id,
            "name": version.digest.as_str(),
            "url": format!("{package_url}/versions/{}", version.id),
            "package_html_url": html_url,
            "created_at": rfc3339(version.created_at),
            "updated_at": rfc3339(version.updated_at),
            "media_type": version.media_type,
            "size": version.size,
            "metadata": {
                "package_type": "container",
                "container": { "tags": tags, "platforms": version.platforms },
            },
        });
        if let Some(deleted_at) = version.deleted_at {
            value["deleted_at"] = Value::String(rfc3339(deleted_at));
        }
        value
    }
}

fn owner_json(accounts: &Accounts, owner: &Account) -> Value {
    let kind = match owner.kind {
        OwnerKind::User => "User",
        OwnerKind::Organization(_) => "Organization",
    };
    json!({
        "login": owner.login.as_str(),
        "id": owner.id,
        "type": kind,
        "html_url": format!("{}/{}", accounts.public_url(), owner.login),
    })
}

/// A package name as one path segment: `app/release` is `app%2Frelease`.
fn encode_package(package: &str) -> String {
    package.replace('/', "%2F")
}

/// `PATCH .../packages/container/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackagePatch {
    #[serde(default)]
    visibility: Option<String>,
    /// Absent: unchanged; `null`: unlink; `"owner/repo"`: link.
    #[serde(default, deserialize_with = "present")]
    repository: Option<Option<String>>,
    #[serde(default)]
    inherit_access: Option<bool>,
}

/// `PUT .../grants/{grantee}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantBody {
    role: String,
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

async fn read_json<T: serde::de::DeserializeOwned>(
    registry: &Registry,
    body: Body,
) -> Result<T, Problem> {
    let pace = crate::http::body::BodyPace::of(registry.limits());
    let bytes = crate::http::body::read_limited(body, MAX_BODY, pace, None)
        .await
        .map_err(|_| {
            Problem::bad_request(format!("the body must be JSON of at most {MAX_BODY} bytes"))
        })?;
    parse_json(&bytes)
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
    }

    #[test]
    fn every_endpoint_has_a_route_label_of_its_own() {
        let table = [
            ("/user/packages", RouteKind::ApiPackages),
            ("/orgs/acme/packages/", RouteKind::ApiPackages),
            ("/users/o/packages/container/a%2Fb", RouteKind::ApiPackage),
            (
                "/user/packages/container/a/restore",
                RouteKind::ApiPackageRestore,
            ),
            (
                "/orgs/acme/packages/container/a/versions",
                RouteKind::ApiVersions,
            ),
            (
                "/user/packages/container/a/versions/7",
                RouteKind::ApiVersion,
            ),
            (
                "/user/packages/container/a/versions/7/restore",
                RouteKind::ApiVersionRestore,
            ),
            ("/users/o/packages/container/a/grants", RouteKind::ApiGrants),
            (
                "/users/o/packages/container/a/grants/user:x",
                RouteKind::ApiGrant,
            ),
            ("/users/o/packages/container", RouteKind::NotFound),
            ("/users/o/packages/container/a/tags", RouteKind::NotFound),
        ];
        for (path, kind) in table {
            assert_eq!(route_kind(path), kind, "{path}");
        }
        for route in ROUTES {
            assert!(is_route(route));
        }
        assert!(!is_route("/{owner}/packages"));
    }

    #[test]
    fn paths_parse_into_routes_with_encoded_names() {
        let package = |owner: OwnerPath, name: &str, target: Target| ApiRoute::Package {
            owner,
            package_type: "container".into(),
            package: name.into(),
            target,
        };
        let user = || OwnerPath::User("octocat".into());
        let table = [
            ("/user/packages", Some(ApiRoute::List(OwnerPath::Me))),
            ("/users/octocat/packages", Some(ApiRoute::List(user()))),
            (
                "/orgs/acme/packages/",
                Some(ApiRoute::List(OwnerPath::Org("acme".into()))),
            ),
            (
                "/users/octocat/packages/container/app",
                Some(package(user(), "app", Target::Package)),
            ),
            (
                "/users/octocat/packages/container/app%2Frelease/versions",
                Some(package(user(), "app/release", Target::Versions)),
            ),
            (
                "/user/packages/container/app/versions/12/restore",
                Some(package(
                    OwnerPath::Me,
                    "app",
                    Target::RestoreVersion("12".into()),
                )),
            ),
            (
                "/users/octocat/packages/container/app/restore",
                Some(package(user(), "app", Target::RestorePackage)),
            ),
            (
                "/users/octocat/packages/container/app/grants/repository:octocat%2Fsite",
                Some(package(
                    user(),
                    "app",
                    Target::Grant("repository:octocat/site".into()),
                )),
            ),
            ("/users/octocat/packages/container", None),
            ("/users/octocat/packages/container/app/tags", None),
            ("/users/octocat", None),
        ];
        for (path, expected) in table {
            assert_eq!(ApiRoute::parse(path), expected, "{path}");
        }
    }

    proptest::proptest! {
        /// Any nested package name, encoded as GitHub's API encodes it,
        /// comes back whole, whatever sub-resource follows it.
        #[test]
        fn encoded_package_names_round_trip(
            components in proptest::collection::vec("[a-z0-9]+([._-][a-z0-9]+)?", 1..4),
            target in proptest::sample::select(vec!["", "/versions", "/versions/7", "/versions/7/restore", "/restore", "/grants", "/grants/user:bob"]),
        ) {
            let package = components.join("/");
            let path = format!("/orgs/acme/packages/container/{}{target}", encode_package(&package));
            match ApiRoute::parse(&path) {
                Some(ApiRoute::Package { package: parsed, .. }) => proptest::prop_assert_eq!(parsed, package),
                other => proptest::prop_assert!(false, "{path}: {other:?}"),
            }
        }
    }

    #[test]
    fn absent_and_null_repository_differ_in_a_patch() {
        let absent: PackagePatch =
            serde_json::from_str(r#"{"visibility":"public"}"#).expect("json");
        assert_eq!(absent.repository, None);
        let null: PackagePatch = serde_json::from_str(r#"{"repository":null}"#).expect("json");
        assert_eq!(null.repository, Some(None));
        let set: PackagePatch = serde_json::from_str(r#"{"repository":"o/r"}"#).expect("json");
        assert_eq!(set.repository, Some(Some("o/r".into())));
        assert!(serde_json::from_str::<PackagePatch>(r#"{"colour":"red"}"#).is_err());
    }
}
