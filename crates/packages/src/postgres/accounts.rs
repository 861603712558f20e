//! Accounts, memberships and teams in PostgreSQL.

use std::collections::BTreeSet;

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use wharf_auth::{Login, Membership, OrgRole, OrganizationPolicy, OwnerKind, TeamSlug, Timestamp};

use crate::account::{Account, Member, OrganizationMembership};
use crate::error::Error;
use crate::id::AccountId;
use crate::page::{Cursor, Page, PageRequest};
use crate::postgres::convert::{parse, time_from_sql, time_to_sql, unique};
use crate::postgres::notify::{notify, Change};
use crate::postgres::statement::{
    columns, execute, execute_one, insert_returning_id, query, query_columns, query_optional,
    query_value, read,
};
use crate::stored::{limit_plus_one, page_of, AccountRow, NewAccount};

fn account_from_row(row: &Row) -> Result<Account, Error> {
    read::<AccountRow>(row, "reading an account")?.into_account()
}

/// The account with `login`.
pub(crate) async fn get(c: &impl GenericClient, login: &str) -> Result<Option<Account>, Error> {
    query_optional(
        c,
        &format!("{} WHERE login = $1", AccountRow::SELECT),
        &[&login],
        account_from_row,
        "looking up an account",
    )
    .await
}

/// The account with `login`; [`Error::NotFound`] when there is none.
pub(crate) async fn require(c: &impl GenericClient, login: &str) -> Result<Account, Error> {
    get(c, login)
        .await?
        .ok_or_else(|| Error::not_found("account", login))
}

/// The id of the user `login`; [`Error::NotFound`] when there is no such
/// user.
pub(crate) async fn require_user(
    c: &impl GenericClient,
    login: &Login,
) -> Result<AccountId, Error> {
    match get(c, login.as_str()).await? {
        Some(account) if account.is_user() => Ok(account.id),
        _ => Err(Error::not_found("user", login)),
    }
}

/// The id of the organization `login`; [`Error::NotFound`] when there is no
/// such organization.
pub(crate) async fn require_organization(
    c: &impl GenericClient,
    login: &Login,
) -> Result<AccountId, Error> {
    match get(c, login.as_str()).await? {
        Some(account) if account.is_organization() => Ok(account.id),
        _ => Err(Error::not_found("organization", login)),
    }
}

/// Creates an account of `kind`.
pub(crate) async fn create(
    c: &impl GenericClient,
    login: &Login,
    kind: OwnerKind,
    now: Timestamp,
) -> Result<Account, Error> {
    let new = NewAccount::new(login, kind, now)?;
    if get(c, login.as_str()).await?.is_some() {
        return Err(Error::already_exists("account", login));
    }
    let id = unique(
        insert_returning_id(
            c,
            NewAccount::INSERT,
            &[
                &new.login,
                &new.kind,
                &new.members_can_create_packages,
                &new.created_at,
            ],
            "creating an account",
        )
        .await,
        || Error::already_exists("account", login),
    )?;
    // Access contexts cached as "no such namespace" must learn of it.
    notify(c, Change::Account(login.as_str())).await?;
    Ok(Account {
        id: AccountId::new(id),
        login: login.clone(),
        kind,
        created_at: now,
    })
}

/// Changes an organization's policy.
pub(crate) async fn set_policy(
    c: &impl GenericClient,
    organization: &Login,
    policy: OrganizationPolicy,
) -> Result<Account, Error> {
    let id = require_organization(c, organization).await?;
    execute(
        c,
        "UPDATE accounts SET members_can_create_packages = $1 WHERE id = $2",
        &[&policy.members_can_create_packages, &id.get()],
        "changing an organization's policy",
    )
    .await?;
    notify(c, Change::Account(organization.as_str())).await?;
    get(c, organization.as_str())
        .await?
        .ok_or_else(|| Error::not_found("organization", organization))
}

/// A page of accounts in login order; the cursor is the last login.
pub(crate) async fn list(
    c: &impl GenericClient,
    page: &PageRequest,
) -> Result<Page<Account>, Error> {
    if page.limit == 0 {
        return Ok(Page::last(Vec::new()));
    }
    let after = page.after.as_ref().map_or("", Cursor::as_str);
    let rows = query(
        c,
        &format!(
            "{} WHERE login > $1 ORDER BY login LIMIT $2",
            AccountRow::SELECT
        ),
        &[&after, &limit_plus_one(page.limit)],
        "listing accounts",
    )
    .await?;
    page_of(
        rows,
        page.limit,
        |row| account_from_row(&row),
        |last| Cursor::new(last.login.as_str()),
    )
}

// ------------------------------------------------------------- memberships

/// The role of `user_id` in `organization_id`, and since when.
async fn member_role(
    c: &impl GenericClient,
    organization_id: AccountId,
    user_id: AccountId,
) -> Result<Option<(OrgRole, Timestamp)>, Error> {
    let operation = "looking up a membership";
    query_optional(
        c,
        "SELECT role, created_at FROM memberships WHERE organization_id = $1 AND user_id = $2",
        &[&organization_id.get(), &user_id.get()],
        |row| {
            let (role, joined): (String, i64) = columns(row, operation)?;
            Ok((parse("organization role", &role)?, time_from_sql(joined)?))
        },
        operation,
    )
    .await
}

/// The slugs of the teams of `organization_id` that `user_id` is in.
async fn member_teams(
    c: &impl GenericClient,
    organization_id: AccountId,
    user_id: AccountId,
) -> Result<BTreeSet<TeamSlug>, Error> {
    query_columns::<(String,)>(
        c,
        "SELECT t.slug FROM team_members tm JOIN teams t ON t.id = tm.team_id
         WHERE tm.organization_id = $1 AND tm.user_id = $2",
        &[&organization_id.get(), &user_id.get()],
        "listing a member's teams",
    )
    .await?
    .iter()
    .map(|(slug,)| parse("team slug", slug))
    .collect()
}

/// Adds a member or changes their role.
pub(crate) async fn add_member(
    c: &impl GenericClient,
    organization: &Login,
    user: &Login,
    role: OrgRole,
    now: Timestamp,
) -> Result<Member, Error> {
    let now_sql = time_to_sql(now)?;
    let organization_id = require_organization(c, organization).await?;
    let user_id = require_user(c, user).await?;
    execute(
        c,
        "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role",
        &[&organization_id.get(), &user_id.get(), &role.as_str(), &now_sql],
        "adding a member",
    )
    .await?;
    notify(c, Change::Account(organization.as_str())).await?;
    let (role, joined_at) = member_role(c, organization_id, user_id)
        .await?
        .ok_or_else(|| Error::not_found("member", format!("{user} in {organization}")))?;
    Ok(Member {
        login: user.clone(),
        role,
        teams: member_teams(c, organization_id, user_id).await?,
        joined_at,
    })
}

/// Removes a member (and, by cascade, their team memberships).
pub(crate) async fn remove_member(
    c: &impl GenericClient,
    organization: &Login,
    user: &Login,
) -> Result<(), Error> {
    let organization_id = require_organization(c, organization).await?;
    let user_id = require_user(c, user).await?;
    execute_one(
        c,
        "DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2",
        &[&organization_id.get(), &user_id.get()],
        "removing a member",
        || Error::not_found("member", format!("{user} in {organization}")),
    )
    .await?;
    notify(c, Change::Account(organization.as_str())).await
}

/// `user`'s membership in `organization`, by their account ids.
pub(crate) async fn membership_by_id(
    c: &impl GenericClient,
    organization_id: AccountId,
    user_id: AccountId,
) -> Result<Membership, Error> {
    match member_role(c, organization_id, user_id).await? {
        None => Ok(Membership::none()),
        Some((role, _)) => Ok(Membership {
            role: Some(role),
            teams: member_teams(c, organization_id, user_id).await?,
        }),
    }
}

/// `user`'s membership in `organization`.
pub(crate) async fn membership(
    c: &impl GenericClient,
    organization: &Login,
    user: &Login,
) -> Result<Membership, Error> {
    let (Some(organization), Some(user)) = (
        get(c, organization.as_str()).await?,
        get(c, user.as_str()).await?,
    ) else {
        return Ok(Membership::none());
    };
    if !organization.is_organization() || !user.is_user() {
        return Ok(Membership::none());
    }
    membership_by_id(c, organization.id, user.id).await
}

/// The members of an organization in login order.
pub(crate) async fn members(
    c: &impl GenericClient,
    organization: &Login,
) -> Result<Vec<Member>, Error> {
    let organization_id = require_organization(c, organization).await?;
    let rows: Vec<(i64, String, String, i64)> = query_columns(
        c,
        "SELECT u.id, u.login, m.role, m.created_at FROM memberships m
         JOIN accounts u ON u.id = m.user_id
         WHERE m.organization_id = $1 ORDER BY u.login",
        &[&organization_id.get()],
        "listing members",
    )
    .await?;
    let mut members = Vec::with_capacity(rows.len());
    for (user_id, login, role, joined) in rows {
        members.push(Member {
            login: parse("login", &login)?,
            role: parse("organization role", &role)?,
            teams: member_teams(c, organization_id, AccountId::new(user_id)).await?,
            joined_at: time_from_sql(joined)?,
        });
    }
    Ok(members)
}

/// The organizations `user` belongs to, in login order.
pub(crate) async fn organizations_of(
    c: &impl GenericClient,
    user: &Login,
) -> Result<Vec<OrganizationMembership>, Error> {
    let user_id = require_user(c, user).await?;
    query_columns::<(String, String)>(
        c,
        "SELECT o.login, m.role FROM memberships m JOIN accounts o ON o.id = m.organization_id
         WHERE m.user_id = $1 ORDER BY o.login",
        &[&user_id.get()],
        "listing a user's organizations",
    )
    .await?
    .iter()
    .map(|(organization, role)| {
        Ok(OrganizationMembership {
            organization: parse("login", organization)?,
            role: parse("organization role", role)?,
        })
    })
    .collect()
}

// ------------------------------------------------------------------- teams

/// The id of a team of an organization.
pub(crate) async fn team_id(
    c: &impl GenericClient,
    organization_id: AccountId,
    team: &TeamSlug,
) -> Result<Option<i64>, Error> {
    query_value(
        c,
        "SELECT id FROM teams WHERE organization_id = $1 AND slug = $2",
        &[&organization_id.get(), &team.as_str()],
        "looking up a team",
    )
    .await
}

async fn require_team(
    c: &impl GenericClient,
    organization: &Login,
    team: &TeamSlug,
) -> Result<(AccountId, i64), Error> {
    let organization_id = require_organization(c, organization).await?;
    let id = team_id(c, organization_id, team)
        .await?
        .ok_or_else(|| Error::not_found("team", format!("{organization}/{team}")))?;
    Ok((organization_id, id))
}

/// Creates a team.
pub(crate) async fn create_team(
    c: &impl GenericClient,
    organization: &Login,
    team: &TeamSlug,
    now: Timestamp,
) -> Result<(), Error> {
    let now_sql = time_to_sql(now)?;
    let organization_id = require_organization(c, organization).await?;
    let taken = || Error::already_exists("team", format!("{organization}/{team}"));
    if team_id(c, organization_id, team).await?.is_some() {
        return Err(taken());
    }
    unique(
        execute(
            c,
            "INSERT INTO teams (organization_id, slug, created_at) VALUES ($1, $2, $3)",
            &[&organization_id.get(), &team.as_str(), &now_sql],
            "creating a team",
        )
        .await,
        taken,
    )?;
    Ok(())
}

/// Deletes a team.
pub(crate) async fn delete_team(
    c: &impl GenericClient,
    organization: &Login,
    team: &TeamSlug,
) -> Result<(), Error> {
    let (_, id) = require_team(c, organization, team).await?;
    execute(
        c,
        "DELETE FROM teams WHERE id = $1",
        &[&id],
        "deleting a team",
    )
    .await?;
    notify(c, Change::Account(organization.as_str())).await
}

/// The teams of an organization in slug order.
pub(crate) async fn teams(
    c: &impl GenericClient,
    organization: &Login,
) -> Result<Vec<TeamSlug>, Error> {
    let organization_id = require_organization(c, organization).await?;
    query_columns::<(String,)>(
        c,
        "SELECT slug FROM teams WHERE organization_id = $1 ORDER BY slug",
        &[&organization_id.get()],
        "listing teams",
    )
    .await?
    .iter()
    .map(|(slug,)| parse("team slug", slug))
    .collect()
}

/// Adds an organization member to a team.
pub(crate) async fn add_team_member(
    c: &impl GenericClient,
    organization: &Login,
    team: &TeamSlug,
    user: &Login,
) -> Result<(), Error> {
    let (organization_id, team_id) = require_team(c, organization, team).await?;
    let user_id = require_user(c, user).await?;
    if member_role(c, organization_id, user_id).await?.is_none() {
        return Err(Error::conflict(format!(
            "{user} is not a member of {organization}: add them to the organization before adding them to team {team}"
        )));
    }
    execute(
        c,
        "INSERT INTO team_members (team_id, organization_id, user_id) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING",
        &[&team_id, &organization_id.get(), &user_id.get()],
        "adding a team member",
    )
    .await?;
    notify(c, Change::Account(organization.as_str())).await
}

/// Removes a user from a team.
pub(crate) async fn remove_team_member(
    c: &impl GenericClient,
    organization: &Login,
    team: &TeamSlug,
    user: &Login,
) -> Result<(), Error> {
    let (_, team_id) = require_team(c, organization, team).await?;
    let user_id = require_user(c, user).await?;
    execute_one(
        c,
        "DELETE FROM team_members WHERE team_id = $1 AND user_id = $2",
        &[&team_id, &user_id.get()],
        "removing a team member",
        || Error::not_found("team member", format!("{user} in {organization}/{team}")),
    )
    .await?;
    notify(c, Change::Account(organization.as_str())).await
}
