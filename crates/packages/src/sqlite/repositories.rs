//! Source repository collaborators in SQLite, and the access context that
//! gathers everything a permission decision needs.

use rusqlite::{params, Connection};
use wharf_auth::{CodeRepository, Login, OwnerKind, RepositoryAccess, RepositoryRole};
use wharf_reference::RepositoryName;

use crate::access::{AccessContext, Collaborator};
use crate::error::Error;
use crate::package::PackageLookup;
use crate::sqlite::statement::{columns, execute, execute_one, query_all, query_parsed};
use crate::sqlite::{accounts, packages};
use crate::stored::repository_access;

/// Gives a collaborator a role on a repository.
pub(crate) fn set(
    conn: &Connection,
    repository: &CodeRepository,
    collaborator: &Collaborator,
    role: RepositoryRole,
) -> Result<(), Error> {
    execute(
        conn,
        "INSERT INTO repository_collaborators (repository, kind, name, role) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (repository, kind, name) DO UPDATE SET role = excluded.role",
        params![repository.as_str(), collaborator.kind(), collaborator.name(), role.as_str()],
        "setting a repository collaborator",
    )?;
    Ok(())
}

/// Every source repository with a collaborator or a workflow token, in
/// name order.
pub(crate) fn known(conn: &Connection) -> Result<Vec<CodeRepository>, Error> {
    query_parsed(
        conn,
        "SELECT repository FROM repository_collaborators
         UNION SELECT repository FROM tokens WHERE repository IS NOT NULL
         ORDER BY 1",
        [],
        "source repository",
        "listing source repositories",
    )
}

/// Removes a collaborator.
pub(crate) fn remove(
    conn: &Connection,
    repository: &CodeRepository,
    collaborator: &Collaborator,
) -> Result<(), Error> {
    execute_one(
        conn,
        "DELETE FROM repository_collaborators WHERE repository = ?1 AND kind = ?2 AND name = ?3",
        params![
            repository.as_str(),
            collaborator.kind(),
            collaborator.name()
        ],
        "removing a repository collaborator",
        || Error::not_found("collaborator", format!("{collaborator} on {repository}")),
    )
}

/// The collaborators of `repository`: every one, or (with `only_user`)
/// that user and every team.
fn access(
    conn: &Connection,
    repository: &CodeRepository,
    only_user: Option<Option<&Login>>,
) -> Result<RepositoryAccess, Error> {
    let collaborator = columns::<(String, String, String)>;
    let operation = "reading repository collaborators";
    let rows = match only_user {
        None => query_all(
            conn,
            "SELECT kind, name, role FROM repository_collaborators WHERE repository = ?1",
            [repository.as_str()],
            collaborator,
            operation,
        ),
        Some(user) => query_all(
            conn,
            "SELECT kind, name, role FROM repository_collaborators
             WHERE repository = ?1 AND (kind = 'team' OR (kind = 'user' AND name = ?2))",
            params![repository.as_str(), user.map(Login::as_str)],
            collaborator,
            operation,
        ),
    }?;
    repository_access(repository, rows)
}

/// Every collaborator of `repository`.
pub(crate) fn all(
    conn: &Connection,
    repository: &CodeRepository,
) -> Result<RepositoryAccess, Error> {
    access(conn, repository, None)
}

/// The access context of `name` for `caller`.
pub(crate) fn access_context(
    conn: &Connection,
    name: &RepositoryName,
    caller: Option<&Login>,
    lookup: PackageLookup,
) -> Result<AccessContext, Error> {
    let mut context = AccessContext::new(name.clone());
    let Some(owner) = accounts::get(conn, name.namespace())? else {
        return Ok(context);
    };
    context.owner = Some(owner.kind);
    if let (OwnerKind::Organization(_), Some(caller)) = (owner.kind, caller) {
        if let Some(user) =
            accounts::get(conn, caller.as_str())?.filter(|account| account.is_user())
        {
            context.membership = accounts::membership_by_id(conn, owner.id, user.id)?;
        }
    }
    context.package = match lookup {
        PackageLookup::Active => packages::get_live(conn, name)?,
        PackageLookup::LatestDeleted => packages::get_latest_deleted(conn, name)?,
    };
    if let Some(repository) = context
        .package
        .as_ref()
        .and_then(|record| record.linked_repository())
    {
        context.repository_access = Some(access(conn, repository, Some(caller))?);
    }
    Ok(context)
}
