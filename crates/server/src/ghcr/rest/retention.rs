//! Retention policies: a package's own (`.../packages/container/{name}/retention`),
//! an organization's default (`/orgs/{org}/packages/retention`), and the
//! dry runs that list what they would delete now (`.../retention/preview`).
//!
//! Who may do what:
//!
//! | endpoint | who |
//! |---|---|
//! | `GET` a package's policy or preview | whoever may read the package (`read:packages`) |
//! | `PUT`, `DELETE` a package's policy | an admin of the package who may also delete its versions (`write:packages` and `delete:packages`): a policy deletes versions |
//! | `GET` an organization's default or its preview | the organization's owners (`read:packages`) |
//! | `PUT`, `DELETE` an organization's default | its owners (`write:packages` and `delete:packages`) |
//!
//! A package the caller may not see is `Package not found.`, as a missing
//! one; an organization endpoint under `/users/...` or `/user` is `Not
//! Found`.

use axum::body::Body;
use axum::response::Response;
use serde::Serialize;
use wharf_auth::{OrgRole, PackageAction, Principal};
use wharf_packages::{Account, PackageLookup, PackageQuery, PageRequest, RetentionPolicy};

use crate::ghcr::rest::json::{json_ok, VersionJson};
use crate::ghcr::rest::no_content;
use crate::ghcr::rest::problem::Problem;
use crate::ghcr::rest::request::{Api, Resolved};
use crate::ghcr::retention::PolicySource;
use crate::ghcr::{next_page, STORE_PAGE};

/// A policy in force, and where it comes from (`package` or
/// `organization`); both `null` without one.
#[derive(Debug, Serialize)]
struct PolicyJson<'a> {
    policy: Option<&'a RetentionPolicy>,
    source: Option<&'static str>,
}

impl<'a> PolicyJson<'a> {
    fn of(effective: Option<&'a (RetentionPolicy, PolicySource)>) -> Self {
        PolicyJson {
            policy: effective.map(|(policy, _)| policy),
            source: effective.map(|(_, source)| source.as_str()),
        }
    }
}

/// A package's preview: the policy in force and the versions it would
/// delete now, newest first.
#[derive(Debug, Serialize)]
struct PreviewJson<'a> {
    #[serde(flatten)]
    policy: PolicyJson<'a>,
    versions: Vec<VersionJson>,
}

/// An organization's default policy.
#[derive(Debug, Serialize)]
struct DefaultJson<'a> {
    policy: Option<&'a RetentionPolicy>,
}

/// One package of an organization's preview.
#[derive(Debug, Serialize)]
struct PackagePreviewJson {
    package: String,
    versions: Vec<VersionJson>,
}

/// An organization's preview: its default and, for each of its packages
/// that follow it, the versions it would delete now.
#[derive(Debug, Serialize)]
struct DefaultPreviewJson<'a> {
    policy: Option<&'a RetentionPolicy>,
    packages: Vec<PackagePreviewJson>,
}

/// Whose policy a path names: a package's own, or an organization's
/// default.
enum Holder {
    Package(Resolved),
    Organization(Account),
}

impl Holder {
    /// The package the path names, once the caller may change its policy:
    /// an admin who may also delete its versions.
    async fn package_to_change(api: &Api) -> Result<Holder, Problem> {
        let (resolved, _) = api.allowed(PackageAction::ChangeSettings).await?;
        api.allow(&resolved, PackageAction::Delete, PackageLookup::Active)
            .await?;
        Ok(Holder::Package(resolved))
    }

    /// Sets (`Some`) or removes (`None`) the holder's policy.
    async fn set(&self, api: &Api, policy: Option<&RetentionPolicy>) -> Result<(), Problem> {
        let store = api.store();
        match self {
            Holder::Package(resolved) => {
                store.set_retention_policy(&resolved.name, policy).await?;
            }
            Holder::Organization(organization) => {
                store
                    .set_organization_retention_policy(&organization.login, policy)
                    .await?;
            }
        }
        Ok(())
    }

    /// 200 with the policy in force for a package, or an organization's
    /// default.
    async fn response(&self, api: &Api) -> Result<Response, Problem> {
        Ok(match self {
            Holder::Package(resolved) => {
                let effective = api
                    .accounts
                    .effective_retention(&resolved.name, &resolved.owner)
                    .await?;
                json_ok(&PolicyJson::of(effective.as_ref()))
            }
            Holder::Organization(organization) => {
                let policy = api
                    .store()
                    .organization_retention_policy(&organization.login)
                    .await?;
                json_ok(&DefaultJson {
                    policy: policy.as_ref(),
                })
            }
        })
    }

    /// `PUT`: sets the policy in `body`, answered as `GET`.
    async fn put(self, api: &Api, body: Body) -> Result<Response, Problem> {
        let policy: RetentionPolicy = api.json(body).await?;
        self.set(api, Some(&policy)).await?;
        self.response(api).await
    }

    /// `DELETE`: removes the policy (204).
    async fn delete(self, api: &Api) -> Result<Response, Problem> {
        self.set(api, None).await?;
        Ok(no_content())
    }
}

/// `GET .../packages/container/{name}/retention`: the policy in force.
pub(crate) async fn get(api: Api) -> Result<Response, Problem> {
    let (resolved, _) = api.allowed(PackageAction::Pull).await?;
    Holder::Package(resolved).response(&api).await
}

/// `PUT .../packages/container/{name}/retention`: sets the package's own
/// policy (`{}` keeps everything, whatever the organization's default).
pub(crate) async fn put(api: Api, body: Body) -> Result<Response, Problem> {
    let holder = Holder::package_to_change(&api).await?;
    holder.put(&api, body).await
}

/// `DELETE .../packages/container/{name}/retention`: removes the package's
/// own policy (its organization's default, if any, applies again).
pub(crate) async fn delete(api: Api) -> Result<Response, Problem> {
    let holder = Holder::package_to_change(&api).await?;
    holder.delete(&api).await
}

/// `GET .../packages/container/{name}/retention/preview`: what the policy
/// in force would delete now.
pub(crate) async fn preview(api: Api) -> Result<Response, Problem> {
    let (resolved, _) = api.allowed(PackageAction::Pull).await?;
    let effective = api
        .accounts
        .effective_retention(&resolved.name, &resolved.owner)
        .await?;
    let planned = match &effective {
        Some((policy, _)) => {
            api.accounts
                .retention_plan(api.registry.storage(), &resolved.name, policy)
                .await?
        }
        None => Vec::new(),
    };
    let render = api.renderer();
    let versions = planned
        .iter()
        .map(|version| render.version(&resolved.name, &resolved.owner, version))
        .collect();
    Ok(json_ok(&PreviewJson {
        policy: PolicyJson::of(effective.as_ref()),
        versions,
    }))
}

/// The organization of an `/orgs/{org}/packages/retention` path, once the
/// caller is one of its owners with a token that may read (`change`
/// false) or change and delete (`change` true).
async fn organization_owner(api: &Api, change: bool) -> Result<Account, Problem> {
    let account = api.organization().await?;
    let Principal::User { login, scopes } = &api.principal else {
        return Err(Problem::forbidden(
            "only an owner of the organization can manage its default retention policy; a workflow token cannot",
        ));
    };
    let membership = api.store().membership(&account.login, login).await?;
    if membership.role != Some(OrgRole::Admin) {
        return Err(Problem::forbidden(format!(
            "only owners of {} can read or change its default retention policy",
            account.login
        )));
    }
    if change && !(scopes.can_write_packages() && scopes.can_delete_packages()) {
        return Err(Problem::forbidden(
            "changing a retention policy needs a token with write:packages and delete:packages",
        ));
    }
    if !scopes.can_read_packages() {
        return Err(Problem::forbidden(
            "reading a retention policy needs a token with read:packages",
        ));
    }
    Ok(account)
}

/// `GET /orgs/{org}/packages/retention`: the organization's default.
pub(crate) async fn org_get(api: Api) -> Result<Response, Problem> {
    let organization = organization_owner(&api, false).await?;
    Holder::Organization(organization).response(&api).await
}

/// `PUT /orgs/{org}/packages/retention`: sets the default of the
/// organization's packages that have no policy of their own.
pub(crate) async fn org_put(api: Api, body: Body) -> Result<Response, Problem> {
    let organization = organization_owner(&api, true).await?;
    Holder::Organization(organization).put(&api, body).await
}

/// `DELETE /orgs/{org}/packages/retention`: removes the default.
pub(crate) async fn org_delete(api: Api) -> Result<Response, Problem> {
    let organization = organization_owner(&api, true).await?;
    Holder::Organization(organization).delete(&api).await
}

/// `GET /orgs/{org}/packages/retention/preview`: what the default would
/// delete now from each package that follows it.
pub(crate) async fn org_preview(api: Api) -> Result<Response, Problem> {
    let organization = organization_owner(&api, false).await?;
    let store = api.accounts.store();
    let default = store
        .organization_retention_policy(&organization.login)
        .await?;
    let mut packages = Vec::new();
    if let Some(policy) = &default {
        let render = api.renderer();
        let mut next = Some(PageRequest::first(STORE_PAGE));
        while let Some(request) = next {
            let listed = store
                .list_packages(&organization.login, PackageQuery::active(), &request)
                .await?;
            for record in &listed.items {
                let name = record.name();
                if store.retention_policy(name).await?.is_some() {
                    continue;
                }
                let planned = api
                    .accounts
                    .retention_plan(api.registry.storage(), name, policy)
                    .await?;
                if planned.is_empty() {
                    continue;
                }
                packages.push(PackagePreviewJson {
                    package: name.package().unwrap_or_default().to_owned(),
                    versions: planned
                        .iter()
                        .map(|version| render.version(name, &organization, version))
                        .collect(),
                });
            }
            next = next_page(listed.next);
        }
    }
    Ok(json_ok(&DefaultPreviewJson {
        policy: default.as_ref(),
        packages,
    }))
}
