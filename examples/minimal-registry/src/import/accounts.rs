//! Accounts (users, organizations with their members, teams and default
//! retention policy), tokens (by hash, so that their secrets keep working)
//! and source repositories (workflow tokens and collaborators).

use std::collections::BTreeMap;

use wharf_auth::{CodeRepository, Login, OwnerKind};
use wharf_packages::prelude::*;
use wharf_packages::{Collaborator, Credential};

use super::{all_records, Summary};

/// Every account in login order.
pub(super) async fn accounts(
    store: &dyn PackageStore,
) -> Result<Vec<wharf_packages::Account>, String> {
    all_records(|request| async move { store.list_accounts(&request).await })
        .await
        .map_err(|err| format!("cannot list accounts: {err}"))
}

pub(super) async fn copy_accounts(
    source: &dyn PackageStore,
    target: &dyn PackageStore,
    summary: &mut Summary,
) -> Result<(), String> {
    let accounts = accounts(source).await?;
    for account in &accounts {
        let login = &account.login;
        match target.account(login).await.map_err(|err| err.to_string())? {
            Some(present) if present.kind == account.kind => summary.accounts_present += 1,
            Some(present) => match (&present.kind, &account.kind) {
                (OwnerKind::Organization(_), OwnerKind::Organization(policy)) => {
                    target
                        .set_organization_policy(login, *policy)
                        .await
                        .map_err(|err| format!("account {login}: {err}"))?;
                    summary.accounts_present += 1;
                }
                _ => {
                    return Err(format!(
                        "account {login} is a user in one store and an organization in the other"
                    ))
                }
            },
            None => {
                match account.kind {
                    OwnerKind::User => target.create_user(login, account.created_at).await,
                    OwnerKind::Organization(policy) => {
                        target
                            .create_organization(login, policy, account.created_at)
                            .await
                    }
                }
                .map_err(|err| format!("cannot create account {login}: {err}"))?;
                summary.accounts_created += 1;
            }
        }
    }
    for account in &accounts {
        let login = &account.login;
        match account.kind {
            OwnerKind::Organization(_) => {
                // Its packages' default retention policy, if it has one.
                let default = source
                    .organization_retention_policy(login)
                    .await
                    .map_err(|err| format!("cannot read the retention policy of {login}: {err}"))?;
                if let Some(default) = default {
                    target
                        .set_organization_retention_policy(login, Some(&default))
                        .await
                        .map_err(|err| {
                            format!("cannot copy the retention policy of {login}: {err}")
                        })?;
                }
                let members = source
                    .members(login)
                    .await
                    .map_err(|err| format!("cannot list the members of {login}: {err}"))?;
                let present = target
                    .teams(login)
                    .await
                    .map_err(|err| format!("cannot list the teams of {login}: {err}"))?;
                let teams = source
                    .teams(login)
                    .await
                    .map_err(|err| format!("cannot list the teams of {login}: {err}"))?;
                for team in teams.iter().filter(|team| !present.contains(team)) {
                    target
                        .create_team(login, team, account.created_at)
                        .await
                        .map_err(|err| format!("cannot create team {login}/{team}: {err}"))?;
                }
                summary.teams += teams.len() as u64;
                for member in &members {
                    target
                        .add_member(login, &member.login, member.role, member.joined_at)
                        .await
                        .map_err(|err| format!("cannot add {} to {login}: {err}", member.login))?;
                    summary.members += 1;
                }
                // Team memberships the destination lacks.
                let joined: BTreeMap<Login, wharf_packages::Member> = target
                    .members(login)
                    .await
                    .map_err(|err| format!("cannot list the members of {login}: {err}"))?
                    .into_iter()
                    .map(|member| (member.login.clone(), member))
                    .collect();
                for member in &members {
                    let has = joined.get(&member.login).map(|m| &m.teams);
                    for team in &member.teams {
                        if has.is_some_and(|teams| teams.contains(team)) {
                            continue;
                        }
                        target
                            .add_team_member(login, team, &member.login)
                            .await
                            .map_err(|err| {
                                format!("cannot add {} to team {login}/{team}: {err}", member.login)
                            })?;
                    }
                }
            }
            OwnerKind::User => {
                let tokens = source
                    .personal_tokens(login)
                    .await
                    .map_err(|err| format!("cannot list the tokens of {login}: {err}"))?;
                copy_tokens(target, &tokens, summary).await?;
            }
        }
    }
    Ok(())
}

/// Copies each of `tokens` with [`copy_token`].
pub(super) async fn copy_tokens(
    target: &dyn PackageStore,
    tokens: &[wharf_packages::TokenRecord],
    summary: &mut Summary,
) -> Result<(), String> {
    for record in tokens {
        copy_token(target, record, summary).await?;
    }
    Ok(())
}

/// Copies a token by its hash, so that its secret keeps working, with
/// when it was revoked and last used.
pub(super) async fn copy_token(
    target: &dyn PackageStore,
    record: &wharf_packages::TokenRecord,
    summary: &mut Summary,
) -> Result<(), String> {
    let hash = record.credential.hash();
    let present = target
        .find_token(&hash)
        .await
        .map_err(|err| err.to_string())?;
    let copied = match present {
        Some(present) => {
            summary.tokens_present += 1;
            present
        }
        None => {
            // Stored live and revoked below: a token stored revoked would
            // be dated revoked when it was created.
            let copied = match &record.credential {
                Credential::Personal(token) => {
                    let mut token = token.clone();
                    token.revoked = false;
                    target
                        .insert_personal_token(&token, record.created_at)
                        .await
                }
                Credential::Workflow(token) => {
                    let mut token = token.clone();
                    token.revoked = false;
                    target
                        .insert_workflow_token(&token, record.created_at)
                        .await
                }
            }
            .map_err(|err| format!("cannot copy token {}: {err}", record.id))?;
            summary.tokens_copied += 1;
            copied
        }
    };
    // Also for a token found present: a run interrupted between storing
    // and revoking it left it live.
    if let Some(revoked_at) = record.revoked_at.filter(|_| copied.revoked_at.is_none()) {
        target
            .revoke_token(copied.id, revoked_at)
            .await
            .map_err(|err| format!("cannot revoke the copy of token {}: {err}", record.id))?;
    }
    if let Some(used_at) = record
        .last_used_at
        .filter(|&at| copied.last_used_at.is_none_or(|copied| copied < at))
    {
        target
            .record_token_use(copied.id, used_at)
            .await
            .map_err(|err| format!("cannot copy when token {} was used: {err}", record.id))?;
    }
    Ok(())
}

/// Copies the workflow tokens and collaborators of `repositories`.
pub(super) async fn copy_code_repositories(
    source: &dyn PackageStore,
    target: &dyn PackageStore,
    repositories: &[CodeRepository],
    summary: &mut Summary,
) -> Result<(), String> {
    for repository in repositories {
        summary.code_repositories += 1;
        let tokens = source
            .workflow_tokens(repository)
            .await
            .map_err(|err| format!("cannot list the workflow tokens of {repository}: {err}"))?;
        copy_tokens(target, &tokens, summary).await?;
        let access = source
            .repository_access(repository)
            .await
            .map_err(|err| format!("cannot read the collaborators of {repository}: {err}"))?;
        let users = access
            .users
            .into_iter()
            .map(|(user, role)| (Collaborator::User(user), role));
        let teams = access
            .teams
            .into_iter()
            .map(|(team, role)| (Collaborator::Team(team), role));
        for (collaborator, role) in users.chain(teams) {
            target
                .set_collaborator(repository, &collaborator, role)
                .await
                .map_err(|err| format!("cannot copy a collaborator of {repository}: {err}"))?;
            summary.collaborators += 1;
        }
    }
    Ok(())
}
