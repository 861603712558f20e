//! The bodies the package REST API answers, as typed structs in GitHub's
//! shape, and the one way they become responses.

use axum::response::{IntoResponse, Response};
use http::header::{HeaderValue, CONTENT_TYPE};
use http::StatusCode;
use serde::Serialize;
use wharf_auth::{Grantee, OwnerKind, Role};
use wharf_packages::{Account, AccountId, PackageId, PackageRecord, VersionId, VersionRecord};
use wharf_reference::RepositoryName;

use crate::ghcr::accounts::Accounts;
use crate::ghcr::clock::rfc3339;

/// `value` as a 200 JSON response.
pub(crate) fn json_ok<T: Serialize>(value: &T) -> Response {
    json_response(StatusCode::OK, value)
}

/// `value` as a JSON response with `status`.
pub(crate) fn json_response<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            status,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            bytes,
        )
            .into_response(),
        Err(err) => {
            tracing::error!(error = %err, "package API: a response did not serialize");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A package's owner.
#[derive(Debug, Serialize)]
pub(crate) struct OwnerJson {
    login: String,
    id: AccountId,
    #[serde(rename = "type")]
    kind: &'static str,
    html_url: String,
}

/// The repository a package is linked to.
#[derive(Debug, Serialize)]
pub(crate) struct RepositoryJson {
    name: String,
    full_name: String,
    owner: LoginJson,
    html_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct LoginJson {
    login: String,
}

/// A package, as `GET .../packages/container/{name}` answers it.
#[derive(Debug, Serialize)]
pub(crate) struct PackageJson {
    id: PackageId,
    name: String,
    package_type: &'static str,
    owner: OwnerJson,
    version_count: u64,
    visibility: &'static str,
    url: String,
    html_url: String,
    created_at: String,
    updated_at: String,
    repository: Option<RepositoryJson>,
    inherit_access: bool,
    description: Option<String>,
    licenses: Option<String>,
    source: Option<String>,
}

/// A version's container metadata.
#[derive(Debug, Serialize)]
pub(crate) struct VersionMetadataJson {
    package_type: &'static str,
    container: ContainerJson,
}

#[derive(Debug, Serialize)]
pub(crate) struct ContainerJson {
    tags: Vec<String>,
    platforms: Vec<String>,
}

/// A version, as `GET .../versions/{id}` answers it.
#[derive(Debug, Serialize)]
pub(crate) struct VersionJson {
    id: VersionId,
    name: String,
    url: String,
    package_html_url: String,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<String>,
    media_type: wharf_reference::MediaType,
    size: u64,
    metadata: VersionMetadataJson,
}

/// A role a package grants.
#[derive(Debug, Serialize)]
pub(crate) struct GrantJson {
    grantee: String,
    role: &'static str,
}

impl GrantJson {
    pub(crate) fn new(grantee: &Grantee, role: Role) -> GrantJson {
        GrantJson {
            grantee: grantee.to_string(),
            role: role.as_str(),
        }
    }
}

/// Builds the bodies with the registry's public URLs.
pub(crate) struct Renderer<'a> {
    pub(crate) accounts: &'a Accounts,
}

impl Renderer<'_> {
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

    fn owner(&self, owner: &Account) -> OwnerJson {
        let kind = match owner.kind {
            OwnerKind::User => "User",
            OwnerKind::Organization(_) => "Organization",
        };
        OwnerJson {
            login: owner.login.as_str().to_owned(),
            id: owner.id,
            kind,
            html_url: format!("{}/{}", self.accounts.public_url(), owner.login),
        }
    }

    pub(crate) fn package(&self, record: &PackageRecord, owner: &Account) -> PackageJson {
        let package = record.package.package_name().unwrap_or_default();
        let metadata = &record.metadata;
        let repository = record.linked_repository().map(|repo| RepositoryJson {
            name: repo.name().to_owned(),
            full_name: repo.as_str().to_owned(),
            owner: LoginJson {
                login: repo.owner().to_owned(),
            },
            html_url: self
                .accounts
                .code_hosts()
                .first()
                .map(|host| format!("{host}/{repo}")),
        });
        PackageJson {
            id: record.id,
            name: package.to_owned(),
            package_type: "container",
            owner: self.owner(owner),
            version_count: record.version_count,
            visibility: record.visibility().as_str(),
            url: self.api_url(owner, package),
            html_url: self.html_url(owner, package),
            created_at: rfc3339(record.created_at),
            updated_at: rfc3339(record.updated_at),
            repository,
            inherit_access: record.package.inherit_access,
            description: metadata.description.as_ref().map(|f| f.value.clone()),
            licenses: metadata.licenses.as_ref().map(|f| f.value.raw.clone()),
            source: metadata.source.as_ref().map(|f| f.value.to_string()),
        }
    }

    pub(crate) fn version(
        &self,
        name: &RepositoryName,
        owner: &Account,
        version: &VersionRecord,
    ) -> VersionJson {
        let package = name.package().unwrap_or_default();
        let package_url = self.api_url(owner, package);
        VersionJson {
            id: version.id,
            name: version.digest.as_str().to_owned(),
            url: format!("{package_url}/versions/{}", version.id),
            package_html_url: self.html_url(owner, package),
            created_at: rfc3339(version.created_at),
            updated_at: rfc3339(version.updated_at),
            deleted_at: version.deleted_at.map(rfc3339),
            media_type: version.media_type.clone(),
            size: version.size,
            metadata: VersionMetadataJson {
                package_type: "container",
                container: ContainerJson {
                    tags: version.tags.iter().map(|t| t.as_str().to_owned()).collect(),
                    platforms: version.platforms.clone(),
                },
            },
        }
    }
}

/// A package name as one path segment: `app/release` is `app%2Frelease`.
pub(crate) fn encode_package(package: &str) -> String {
    package.replace('/', "%2F")
}
