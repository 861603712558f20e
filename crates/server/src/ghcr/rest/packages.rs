//! Packages: list, read, change, delete and restore.

use axum::body::Body;
use axum::response::Response;
use wharf_auth::{CodeRepository, PackageAction, Principal, Visibility};
use wharf_packages::{PackageChanges, PackageLookup, PackageQuery, PackageRecord, PageRequest};

use crate::ghcr::rest::json::json_ok;
use crate::ghcr::rest::problem::Problem;
use crate::ghcr::rest::request::{parse_or_400, Api, PackagePatch, Paging, Resolved};
use crate::ghcr::rest::{listing, no_content};
use crate::ghcr::{next_page, STORE_PAGE};

/// `GET .../packages?package_type=container`: the owner's packages the
/// caller may see.
pub(crate) async fn list(api: Api) -> Result<Response, Problem> {
    let query = api.query();
    match query.get("package_type").map(String::as_str) {
        Some("container") => {}
        Some("npm" | "maven" | "rubygems" | "docker" | "nuget") => return Ok(json_ok(&[(); 0])),
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
    if let Principal::User { scopes, .. } = &api.principal {
        if !scopes.can_read_packages() {
            return Err(Problem::forbidden(
                "listing packages needs a token with read:packages",
            ));
        }
    }
    let mut filter = PackageQuery::active();
    if let Some(visibility) = query.get("visibility") {
        let visibility: Visibility = parse_or_400(visibility)?;
        filter = filter.with_visibility(visibility);
    }
    let paging = Paging::of(&query)?;
    let account = api.owner().await?;
    let wanted = paging.wanted();
    let mut visible = Vec::new();
    let mut next = Some(PageRequest::first(STORE_PAGE));
    'pages: while let Some(request) = next {
        let listed = api
            .store()
            .list_packages(&account.login, filter, &request)
            .await?;
        for record in listed.items {
            let (decision, _) = api
                .accounts
                .decide(
                    &api.principal,
                    record.name(),
                    PackageAction::Pull,
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
        next = next_page(listed.next);
    }
    let render = api.renderer();
    Ok(listing(&api, &visible, paging, |record| {
        render.package(record, &account)
    }))
}

/// `GET .../packages/container/{name}`.
pub(crate) async fn get(api: Api) -> Result<Response, Problem> {
    let (resolved, record) = api.allowed(PackageAction::Pull).await?;
    Ok(package_response(&api, &record, &resolved))
}

/// `PATCH .../packages/container/{name}`: visibility, linked repository,
/// access inheritance.
pub(crate) async fn patch(api: Api, body: Body) -> Result<Response, Problem> {
    let (resolved, _) = api.allowed(PackageAction::ChangeSettings).await?;
    let patch: PackagePatch = api.json(body).await?;
    let mut changes = PackageChanges::new();
    if let Some(visibility) = &patch.visibility {
        changes = changes.visibility(parse_or_400(visibility)?);
    }
    match patch.repository {
        None => {}
        Some(None) => changes = changes.unlink(),
        Some(Some(repository)) => {
            let repository: CodeRepository = parse_or_400(&repository)?;
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
    let record = api
        .store()
        .update_package(&resolved.name, &changes, api.accounts.now())
        .await?;
    Ok(package_response(&api, &record, &resolved))
}

/// `DELETE .../packages/container/{name}`: restorably, with its content
/// archived.
pub(crate) async fn delete(api: Api) -> Result<Response, Problem> {
    // Pushes under way end first; later ones wait and are authorized
    // against what then has the name.
    let (resolved, _exclusive) = api.package_exclusively().await?;
    api.allow(&resolved, PackageAction::Delete, PackageLookup::Active)
        .await?;
    api.accounts
        .delete_package(api.registry.storage(), &resolved.name)
        .await?;
    Ok(no_content())
}

/// `POST .../packages/container/{name}/restore`.
pub(crate) async fn restore(api: Api) -> Result<Response, Problem> {
    let (resolved, _exclusive) = api.package_exclusively().await?;
    api.allow(
        &resolved,
        PackageAction::Restore,
        PackageLookup::LatestDeleted,
    )
    .await?;
    api.accounts
        .restore_package(api.registry.storage(), &resolved.name)
        .await?;
    Ok(no_content())
}

/// 200 with the package JSON of `record`, owned by `resolved.owner`.
fn package_response(api: &Api, record: &PackageRecord, resolved: &Resolved) -> Response {
    json_ok(&api.renderer().package(record, &resolved.owner))
}
