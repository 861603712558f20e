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
//! | `DELETE .../packages/container/{name}` | delete, restorably for the store's restore window (30 days by default) (admin, `delete:packages`): 204 |
//! | `POST .../packages/container/{name}/restore` | restore a deleted package (admin): 204 |
//! | `GET .../packages/container/{name}/versions?state=active\|deleted` | its versions, newest first |
//! | `GET .../packages/container/{name}/versions/{id}` | a version |
//! | `DELETE .../packages/container/{name}/versions/{id}` | delete a version (admin, `delete:packages`): 204 |
//! | `POST .../packages/container/{name}/versions/{id}/restore` | restore a version (admin): 204 |
//! | `GET .../packages/container/{name}/grants` | the roles the package grants (admin) |
//! | `PUT .../packages/container/{name}/grants/{grantee}` | `{"role": "read\|write\|admin"}` to `user:LOGIN`, `team:SLUG` or `repository:OWNER%2FREPO` (admin) |
//! | `DELETE .../packages/container/{name}/grants/{grantee}` | take the role away (admin): 204 |
//! | `GET .../packages/container/{name}/retention` | the retention policy in force: `{"policy": {...} or null, "source": "package" or "organization" or null}` |
//! | `PUT .../packages/container/{name}/retention` | set the package's own policy, `{"keep_latest": N, "delete_untagged_after_days": D, "protected_tags": ["v*"]}` (admin, `delete:packages`): 200 as `GET` |
//! | `DELETE .../packages/container/{name}/retention` | remove the package's own policy (admin, `delete:packages`): 204 |
//! | `GET .../packages/container/{name}/retention/preview` | the policy in force and the `versions` it would delete now |
//! | `GET`, `PUT`, `DELETE /orgs/{org}/packages/retention` | the organization's default policy, for its packages without one (owners) |
//! | `GET /orgs/{org}/packages/retention/preview` | the default and, per package following it, the versions it would delete now (owners) |
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

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use axum::{Extension, Router};
use http::header::LINK;
use http::StatusCode;
use serde::Serialize;

use crate::distribution::route::RouteKind;
use crate::ghcr::rest::json::json_response;
use crate::ghcr::rest::problem::Problem;
use crate::ghcr::rest::request::{Api, OwnerScope, Paging};
use crate::Registry;

mod grants;
mod json;
mod packages;
pub(crate) mod problem;
pub(crate) mod request;
mod retention;
mod versions;

/// Adds the API's routes to the registry's router. Each path names the
/// methods it answers, so a request with any other method reaches no
/// handler: it gets 405 with `Allow`.
pub(crate) fn routes(mut router: Router<Registry>, registry: &Registry) -> Router<Registry> {
    for (owner, scope) in [
        ("/user", OwnerScope::Me),
        ("/users/{owner}", OwnerScope::User),
        ("/orgs/{owner}", OwnerScope::Org),
    ] {
        let packages = format!("{owner}/packages");
        router = router.nest_service(
            &packages,
            package_routes()
                .layer(Extension(scope))
                .with_state(registry.clone()),
        );
    }
    router
}

/// The routes under `.../packages` (the listing is `/`), with GitHub's
/// 404 for any other path.
fn package_routes() -> Router<Registry> {
    let package = "/{package_type}/{package}";
    Router::new()
        .route("/", methods("GET", get(packages::list)))
        .route(
            package,
            methods(
                "GET, PATCH, DELETE",
                get(packages::get)
                    .patch(packages::patch)
                    .delete(packages::delete),
            ),
        )
        .route(
            &format!("{package}/restore"),
            methods("POST", post(packages::restore)),
        )
        .route(
            &format!("{package}/versions"),
            methods("GET", get(versions::list)),
        )
        .route(
            &format!("{package}/versions/{{id}}"),
            methods("GET, DELETE", get(versions::get).delete(versions::delete)),
        )
        .route(
            &format!("{package}/versions/{{id}}/restore"),
            methods("POST", post(versions::restore)),
        )
        .route(
            &format!("{package}/grants"),
            methods("GET", get(grants::list)),
        )
        .route(
            &format!("{package}/grants/{{grantee}}"),
            methods("PUT, DELETE", put(grants::put).delete(grants::delete)),
        )
        .route(
            &format!("{package}/retention"),
            methods(
                "GET, PUT, DELETE",
                get(retention::get)
                    .put(retention::put)
                    .delete(retention::delete),
            ),
        )
        .route(
            &format!("{package}/retention/preview"),
            methods("GET", get(retention::preview)),
        )
        .route(
            "/retention",
            methods(
                "GET, PUT, DELETE",
                get(retention::org_get)
                    .put(retention::org_put)
                    .delete(retention::org_delete),
            ),
        )
        .route(
            "/retention/preview",
            methods("GET", get(retention::org_preview)),
        )
        .fallback(not_found)
}

/// The `route` label of a request for `path` when the path is the API's
/// (`/user/packages...`, `/users/{owner}/packages...`,
/// `/orgs/{owner}/packages...`): the endpoint of [`package_routes`] the
/// path has the shape of, or [`RouteKind::NotFound`]. The API's routes are
/// nested services, whose route template the registry's router does not
/// see, so the label comes from the path's segments, as those routes
/// match them.
pub(crate) fn route_kind(path: &str) -> Option<RouteKind> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let rest = match segments.as_slice() {
        ["user", "packages", rest @ ..] => rest,
        ["users" | "orgs", owner, "packages", rest @ ..] if !owner.is_empty() => rest,
        _ => return None,
    };
    let kind = match rest {
        [] | [""] => RouteKind::ApiPackages,
        _ if rest.iter().any(|s| s.is_empty()) => RouteKind::NotFound,
        ["retention"] => RouteKind::ApiOrgRetention,
        ["retention", "preview"] => RouteKind::ApiRetentionPreview,
        [_, _] => RouteKind::ApiPackage,
        [_, _, "restore"] => RouteKind::ApiPackageRestore,
        [_, _, "versions"] => RouteKind::ApiVersions,
        [_, _, "versions", _] => RouteKind::ApiVersion,
        [_, _, "versions", _, "restore"] => RouteKind::ApiVersionRestore,
        [_, _, "grants"] => RouteKind::ApiGrants,
        [_, _, "grants", _] => RouteKind::ApiGrant,
        [_, _, "retention", "preview"] => RouteKind::ApiRetentionPreview,
        [_, _, "retention"] => RouteKind::ApiRetention,
        _ => RouteKind::NotFound,
    };
    Some(kind)
}

/// `router`, answering 405 with `Allow: allowed` to any method it does
/// not route.
fn methods(allowed: &'static str, router: MethodRouter<Registry>) -> MethodRouter<Registry> {
    let refuse = move |request: Request| async move {
        Problem::method_not_allowed(request.method(), allowed).into_response()
    };
    router.fallback(refuse)
}

async fn not_found() -> Response {
    Problem::not_found("Not Found").into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// The page of `records` (gathered up to [`Paging::wanted`]) that
/// `paging` asks for, as a JSON array, with a `Link` to the next page
/// when more records follow.
fn listing<T, J: Serialize>(
    api: &Api,
    records: &[T],
    paging: Paging,
    to_json: impl Fn(&T) -> J,
) -> Response {
    let skip = paging.skip();
    let more = records.len() > skip.saturating_add(paging.per_page);
    let items: Vec<J> = records
        .iter()
        .skip(skip)
        .take(paging.per_page)
        .map(to_json)
        .collect();
    let mut response = json_response(StatusCode::OK, &items);
    if more {
        if let Some(link) = paging.next_link(api.accounts.public_url(), &api.parts) {
            response.headers_mut().insert(LINK, link);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_a_route_label_of_its_own() {
        use RouteKind::*;
        // Every owner path has every endpoint (the organization's
        // `/retention` included: its handlers answer 404 to the others).
        let table = [
            ("", ApiPackages),
            ("/", ApiPackages),
            ("/container/a%2Fb", ApiPackage),
            ("/container/a/restore", ApiPackageRestore),
            ("/container/a/versions", ApiVersions),
            ("/container/a/versions/7", ApiVersion),
            ("/container/a/versions/7/restore", ApiVersionRestore),
            ("/container/a/grants", ApiGrants),
            ("/container/a/grants/user:x", ApiGrant),
            ("/container/a/retention", ApiRetention),
            ("/container/a/retention/preview", ApiRetentionPreview),
            ("/retention", ApiOrgRetention),
            ("/retention/preview", ApiRetentionPreview),
            ("/container", NotFound),
            ("/container/a/tags", NotFound),
            ("/container/a/", NotFound),
            ("//a", NotFound),
        ];
        for owner in ["/user", "/users/o", "/orgs/acme"] {
            for (rest, kind) in table {
                let path = format!("{owner}/packages{rest}");
                assert_eq!(route_kind(&path), Some(kind), "{path}");
            }
        }
        // Not the API's paths at all.
        for path in ["/alice/packages", "/users/o", "/users//packages", "/token"] {
            assert_eq!(route_kind(path), None, "{path}");
        }
    }
}
