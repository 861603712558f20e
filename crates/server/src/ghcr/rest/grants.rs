//! The roles a package grants: list, give, take away (admins only).

use axum::body::Body;
use axum::response::Response;
use wharf_auth::{Grantee, PackageAction, Role};

use crate::ghcr::rest::json::{json_ok, GrantJson};
use crate::ghcr::rest::no_content;
use crate::ghcr::rest::problem::Problem;
use crate::ghcr::rest::request::{parse_or_400, Api, GrantBody};

/// `GET .../grants`.
pub(crate) async fn list(api: Api) -> Result<Response, Problem> {
    let (_, record) = api.allowed(PackageAction::ChangeSettings).await?;
    let grants: Vec<GrantJson> = record
        .package
        .grants
        .iter()
        .map(|grant| GrantJson::new(&grant.grantee, grant.role))
        .collect();
    Ok(json_ok(&grants))
}

/// `PUT .../grants/{grantee}` with `{"role": "read|write|admin"}`.
pub(crate) async fn put(api: Api, body: Body) -> Result<Response, Problem> {
    let (resolved, _) = api.allowed(PackageAction::ChangeSettings).await?;
    let grantee: Grantee = parse_or_400(api.param("grantee"))?;
    let body: GrantBody = api.json(body).await?;
    let role: Role = parse_or_400(&body.role)?;
    api.store()
        .set_grant(&resolved.name, &grantee, role, api.accounts.now())
        .await?;
    Ok(json_ok(&GrantJson::new(&grantee, role)))
}

/// `DELETE .../grants/{grantee}`.
pub(crate) async fn delete(api: Api) -> Result<Response, Problem> {
    let (resolved, _) = api.allowed(PackageAction::ChangeSettings).await?;
    let grantee: Grantee = parse_or_400(api.param("grantee"))?;
    api.store()
        .remove_grant(&resolved.name, &grantee, api.accounts.now())
        .await?;
    Ok(no_content())
}
