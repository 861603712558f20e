//! Source repository collaborators in PostgreSQL, and the access context
//! that gathers everything a permission decision needs.

use deadpool_postgres::GenericClient;
use wharf_auth::{CodeRepository, Login, OwnerKind, RepositoryAccess, RepositoryRole};
use wharf_reference::RepositoryName;

use crate::access::{AccessContext, Collaborator};
use crate::error::Error;
use crate::package::PackageLookup;
use crate::postgres::notify::{notify, Change};
use crate::postgres::statement::{execute, execute_one, query_columns};
use crate::postgres::{accounts, packages};
use crate::stored::repository_access;

/// Gives a collaborator a role on a repository.
pub(crate) async fn set(
    c: &impl GenericClient,
    repository: &CodeRepository,
    collaborator: &Collaborator,
    role: RepositoryRole,
) -> Result<(), Error> {
    execute(
        c,
        "INSERT INTO repository_collaborators (repository, kind, name, role) VALUES ($1, $2, $3, $4)
         ON CONFLICT (repository, kind, name) DO UPDATE SET role = excluded.role",
        &[
            &repository.as_str(),
            &collaborator.kind(),
            &collaborator.name(),
            &role.as_str(),
        ],
        "setting a repository collaborator",
    )
    .await?;
    notify(c, Change::Repository(repository.as_str())).await
}

/// Removes a collaborator.
pub(crate) async fn remove(
    c: &impl GenericClient,
    repository: &CodeRepository,
    collaborator: &Collaborator,
) -> Result<(), Error> {
    execute_one(
        c,
        "DELETE FROM repository_collaborators WHERE repository = $1 AND kind = $2 AND name = $3",
        &[
            &repository.as_str(),
            &collaborator.kind(),
            &collaborator.name(),
        ],
        "removing a repository collaborator",
        || Error::not_found("collaborator", format!("{collaborator} on {repository}")),
    )
    .await?;
    notify(c, Change::Repository(repository.as_str())).await
}

/// The collaborators of `repository`: every one, or (with `only_user`)
/// that user and every team.
async fn access(
    c: &impl GenericClient,
    repository: &CodeRepository,
    only_user: Option<Option<&Login>>,
) -> Result<RepositoryAccess, Error> {
    let operation = "reading repository collaborators";
    let rows = match only_user {
        None => {
            query_columns(
                c,
                "SELECT kind, name, role FROM repository_collaborators WHERE repository = $1",
                &[&repository.as_str()],
                operation,
            )
            .await
        }
        Some(user) => {
            query_columns(
                c,
                "SELECT kind, name, role FROM repository_collaborators
                 WHERE repository = $1 AND (kind = 'team' OR (kind = 'user' AND name = $2::text))",
                &[&repository.as_str(), &user.map(Login::as_str)],
                operation,
            )
            .await
        }
    }?;
    repository_access(repository, rows)
}

/// Every collaborator of `repository`.
pub(crate) async fn all(
    c: &impl GenericClient,
    repository: &CodeRepository,
) -> Result<RepositoryAccess, Error> {
    access(c, repository, None).await
}

/// The access context of `name` for `caller`.
pub(crate) async fn access_context(
    c: &impl GenericClient,
    name: &RepositoryName,
    caller: Option<&Login>,
    lookup: PackageLookup,
) -> Result<AccessContext, Error> {
    let mut context = AccessContext::new(name.clone());
    let Some(owner) = accounts::get(c, name.namespace()).await? else {
        return Ok(context);
    };
    context.owner = Some(owner.kind);
    if let (OwnerKind::Organization(_), Some(caller)) = (owner.kind, caller) {
        if let Some(user) = accounts::get(c, caller.as_str())
            .await?
            .filter(|account| account.is_user())
        {
            context.membership = accounts::membership_by_id(c, owner.id, user.id).await?;
        }
    }
    context.package = match lookup {
        PackageLookup::Active => packages::get_live(c, name).await?,
        PackageLookup::LatestDeleted => packages::get_latest_deleted(c, name).await?,
    };
    if let Some(repository) = context
        .package
        .as_ref()
        .and_then(|record| record.linked_repository())
    {
        context.repository_access = Some(access(c, repository, Some(caller)).await?);
    }
    Ok(context)
}
