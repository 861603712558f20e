//! A package's versions: list, read, delete and restore.

use axum::response::Response;
use wharf_auth::PackageAction;
use wharf_packages::{PageRequest, VersionId, VersionQuery, VersionRecord};

use crate::ghcr::rest::json::json_ok;
use crate::ghcr::rest::problem::Problem;
use crate::ghcr::rest::request::{Api, Paging, Resolved};
use crate::ghcr::rest::{listing, no_content};
use crate::ghcr::{next_page, STORE_PAGE};

/// `GET .../versions?state=active|deleted`, newest first.
pub(crate) async fn list(api: Api) -> Result<Response, Problem> {
    let (resolved, _) = api.allowed(PackageAction::Pull).await?;
    let query = api.query();
    let state = match query.get("state").map(String::as_str) {
        None | Some("active") => VersionQuery::active(),
        Some("deleted") => VersionQuery::deleted(),
        Some(other) => {
            return Err(Problem::bad_request(format!(
                "unknown state `{other}`: use active or deleted"
            )))
        }
    };
    let paging = Paging::of(&query)?;
    let wanted = paging.wanted();
    let mut versions = Vec::new();
    let mut next = Some(PageRequest::first(STORE_PAGE));
    while let Some(request) = next {
        let listed = api
            .store()
            .list_versions(&resolved.name, state, &request)
            .await?;
        versions.extend(listed.items);
        next = next_page(listed.next.filter(|_| versions.len() < wanted));
    }
    let render = api.renderer();
    Ok(listing(&api, &versions, paging, |version| {
        render.version(&resolved.name, &resolved.owner, version)
    }))
}

/// The version the path's `{id}` names, or 404.
async fn version(api: &Api, resolved: &Resolved) -> Result<VersionRecord, Problem> {
    let id: VersionId = api
        .param("id")
        .parse()
        .map_err(|_| Problem::not_found("Package version not found."))?;
    api.store()
        .version(&resolved.name, id)
        .await?
        .ok_or_else(|| Problem::not_found("Package version not found."))
}

/// `GET .../versions/{id}`.
pub(crate) async fn get(api: Api) -> Result<Response, Problem> {
    let (resolved, _) = api.allowed(PackageAction::Pull).await?;
    let version = version(&api, &resolved).await?;
    let render = api.renderer();
    Ok(json_ok(&render.version(
        &resolved.name,
        &resolved.owner,
        &version,
    )))
}

/// `DELETE .../versions/{id}`: restorably; never the last one (delete the
/// package instead).
pub(crate) async fn delete(api: Api) -> Result<Response, Problem> {
    let (resolved, package) = api.allowed(PackageAction::Delete).await?;
    let version = version(&api, &resolved).await?;
    if version.is_deleted() {
        return Err(Problem::not_found("Package version not found."));
    }
    if package.version_count <= 1 {
        return Err(Problem::bad_request(
            "this is the package's last version: delete the package instead",
        ));
    }
    api.accounts
        .delete_version(api.registry.storage(), &resolved.name, version.id)
        .await?;
    Ok(no_content())
}

/// `POST .../versions/{id}/restore`.
pub(crate) async fn restore(api: Api) -> Result<Response, Problem> {
    let (resolved, _) = api.allowed(PackageAction::Restore).await?;
    let version = version(&api, &resolved).await?;
    api.accounts
        .restore_version(api.registry.storage(), &resolved.name, version.id)
        .await?;
    Ok(no_content())
}
