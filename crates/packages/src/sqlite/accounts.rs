//! Accounts, memberships and teams in SQLite.

use std::collections::BTreeSet;

use rusqlite::{params, Connection};
use wharf_auth::{Login, Membership, OrgRole, OrganizationPolicy, OwnerKind, TeamSlug, Timestamp};

use crate::account::{Account, Member, OrganizationMembership};
use crate::error::Error;
use crate::id::AccountId;
use crate::page::{Cursor, Page, PageRequest};
use crate::sqlite::convert::{parse, time_from_sql, time_to_sql};
use crate::sqlite::statement::{
    columns, execute, execute_one, insert_returning_id, query_all, query_optional, query_parsed,
    query_parsed_pairs, read,
};
use crate::stored::{limit_plus_one, page_of, AccountRow, NewAccount};

/// The account with `login`.
pub(crate) fn get(conn: &Connection, login: &str) -> Result<Option<Account>, Error> {
    query_optional(
        conn,
        &format!("{} WHERE login = ?1", AccountRow::SELECT),
        [login],
        read::<AccountRow>,
        "looking up an account",
    )?
    .map(AccountRow::into_account)
    .transpose()
}

/// The account with `login`; [`Error::NotFound`] when there is none.
pub(crate) fn require(conn: &Connection, login: &str) -> Result<Account, Error> {
    get(conn, login)?.ok_or_else(|| Error::not_found("account", login))
}

/// The id of the user `login`; [`Error::NotFound`] when there is no such
/// user.
pub(crate) fn require_user(conn: &Connection, login: &Login) -> Result<AccountId, Error> {
    match get(conn, login.as_str())? {
        Some(account) if account.is_user() => Ok(account.id),
        _ => Err(Error::not_found("user", login)),
    }
}

/// The id of the organization `login`; [`Error::NotFound`] when there is no
/// such organization.
pub(crate) fn require_organization(conn: &Connection, login: &Login) -> Result<AccountId, Error> {
    match get(conn, login.as_str())? {
        Some(account) if account.is_organization() => Ok(account.id),
        _ => Err(Error::not_found("organization", login)),
    }
}

/// Creates an account of `kind`.
pub(crate) fn create(
    conn: &Connection,
    login: &Login,
    kind: OwnerKind,
    now: Timestamp,
) -> Result<Account, Error> {
    let new = NewAccount::new(login, kind, now)?;
    if get(conn, login.as_str())?.is_some() {
        return Err(Error::already_exists("account", login));
    }
    let id = insert_returning_id(
        conn,
        NewAccount::INSERT,
        params![
            new.login,
            new.kind,
            new.members_can_create_packages,
            new.created_at
        ],
        "creating an account",
    )?;
    Ok(Account {
        id: AccountId::new(id),
        login: login.clone(),
        kind,
        created_at: now,
    })
}

/// Changes an organization's policy.
pub(crate) fn set_policy(
    conn: &Connection,
    organization: &Login,
    policy: OrganizationPolicy,
) -> Result<Account, Error> {
    let id = require_organization(conn, organization)?;
    execute(
        conn,
        "UPDATE accounts SET members_can_create_packages = ?1 WHERE id = ?2",
        params![policy.members_can_create_packages, id.get()],
        "changing an organization's policy",
    )?;
    get(conn, organization.as_str())?.ok_or_else(|| Error::not_found("organization", organization))
}

/// A page of accounts in login order; the cursor is the last login.
pub(crate) fn list(conn: &Connection, page: &PageRequest) -> Result<Page<Account>, Error> {
    if page.limit == 0 {
        return Ok(Page::last(Vec::new()));
    }
    let after = page.after.as_ref().map_or("", Cursor::as_str);
    let rows = query_all(
        conn,
        &format!(
            "{} WHERE login > ?1 ORDER BY login LIMIT ?2",
            AccountRow::SELECT
        ),
        params![after, limit_plus_one(page.limit)],
        read::<AccountRow>,
        "listing accounts",
    )?;
    page_of(rows, page.limit, AccountRow::into_account, |last| {
        Cursor::new(last.login.as_str())
    })
}

// ------------------------------------------------------------- memberships

/// The role of `user_id` in `organization_id`.
fn member_role(
    conn: &Connection,
    organization_id: AccountId,
    user_id: AccountId,
) -> Result<Option<(OrgRole, Timestamp)>, Error> {
    query_optional(
        conn,
        "SELECT role, created_at FROM memberships WHERE organization_id = ?1 AND user_id = ?2",
        params![organization_id.get(), user_id.get()],
        columns::<(String, i64)>,
        "looking up a membership",
    )?
    .map(|(role, joined)| Ok((parse("organization role", &role)?, time_from_sql(joined)?)))
    .transpose()
}

/// The slugs of the teams of `organization_id` that `user_id` is in.
fn member_teams(
    conn: &Connection,
    organization_id: AccountId,
    user_id: AccountId,
) -> Result<BTreeSet<TeamSlug>, Error> {
    query_parsed(
        conn,
        "SELECT t.slug FROM team_members tm JOIN teams t ON t.id = tm.team_id
         WHERE tm.organization_id = ?1 AND tm.user_id = ?2",
        params![organization_id.get(), user_id.get()],
        "team slug",
        "listing a member's teams",
    )
}

/// Adds a member or changes their role.
pub(crate) fn add_member(
    conn: &Connection,
    organization: &Login,
    user: &Login,
    role: OrgRole,
    now: Timestamp,
) -> Result<Member, Error> {
    let now_sql = time_to_sql(now)?;
    let organization_id = require_organization(conn, organization)?;
    let user_id = require_user(conn, user)?;
    execute(
        conn,
        "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (organization_id, user_id) DO UPDATE SET role = excluded.role",
        params![organization_id.get(), user_id.get(), role.as_str(), now_sql],
        "adding a member",
    )?;
    let (role, joined_at) = member_role(conn, organization_id, user_id)?
        .ok_or_else(|| Error::not_found("member", format!("{user} in {organization}")))?;
    Ok(Member {
        login: user.clone(),
        role,
        teams: member_teams(conn, organization_id, user_id)?,
        joined_at,
    })
}

/// Removes a member (and, by cascade, their team memberships).
pub(crate) fn remove_member(
    conn: &Connection,
    organization: &Login,
    user: &Login,
) -> Result<(), Error> {
    let organization_id = require_organization(conn, organization)?;
    let user_id = require_user(conn, user)?;
    execute_one(
        conn,
        "DELETE FROM memberships WHERE organization_id = ?1 AND user_id = ?2",
        params![organization_id.get(), user_id.get()],
        "removing a member",
        || Error::not_found("member", format!("{user} in {organization}")),
    )
}

/// `user`'s membership in `organization`, by their account ids.
pub(crate) fn membership_by_id(
    conn: &Connection,
    organization_id: AccountId,
    user_id: AccountId,
) -> Result<Membership, Error> {
    match member_role(conn, organization_id, user_id)? {
        None => Ok(Membership::none()),
        Some((role, _)) => Ok(Membership {
            role: Some(role),
            teams: member_teams(conn, organization_id, user_id)?,
        }),
    }
}

/// `user`'s membership in `organization`.
pub(crate) fn membership(
    conn: &Connection,
    organization: &Login,
    user: &Login,
) -> Result<Membership, Error> {
    let (Some(organization), Some(user)) =
        (get(conn, organization.as_str())?, get(conn, user.as_str())?)
    else {
        return Ok(Membership::none());
    };
    if !organization.is_organization() || !user.is_user() {
        return Ok(Membership::none());
    }
    membership_by_id(conn, organization.id, user.id)
}

/// The members of an organization in login order.
pub(crate) fn members(conn: &Connection, organization: &Login) -> Result<Vec<Member>, Error> {
    let organization_id = require_organization(conn, organization)?;
    let rows = query_all(
        conn,
        "SELECT u.id, u.login, m.role, m.created_at FROM memberships m
         JOIN accounts u ON u.id = m.user_id
         WHERE m.organization_id = ?1 ORDER BY u.login",
        [organization_id.get()],
        columns::<(i64, String, String, i64)>,
        "listing members",
    )?;
    rows.into_iter()
        .map(|(user_id, login, role, joined)| {
            Ok(Member {
                login: parse("login", &login)?,
                role: parse("organization role", &role)?,
                teams: member_teams(conn, organization_id, AccountId::new(user_id))?,
                joined_at: time_from_sql(joined)?,
            })
        })
        .collect()
}

/// The organizations `user` belongs to, in login order.
pub(crate) fn organizations_of(
    conn: &Connection,
    user: &Login,
) -> Result<Vec<OrganizationMembership>, Error> {
    let user_id = require_user(conn, user)?;
    let organizations = query_parsed_pairs(
        conn,
        "SELECT o.login, m.role FROM memberships m JOIN accounts o ON o.id = m.organization_id
         WHERE m.user_id = ?1 ORDER BY o.login",
        [user_id.get()],
        ("login", "organization role"),
        "listing a user's organizations",
    )?;
    Ok(organizations
        .into_iter()
        .map(|(organization, role)| OrganizationMembership { organization, role })
        .collect())
}

// ------------------------------------------------------------------- teams

/// The id of a team of an organization.
pub(crate) fn team_id(
    conn: &Connection,
    organization_id: AccountId,
    team: &TeamSlug,
) -> Result<Option<i64>, Error> {
    query_optional(
        conn,
        "SELECT id FROM teams WHERE organization_id = ?1 AND slug = ?2",
        params![organization_id.get(), team.as_str()],
        |row| row.get(0),
        "looking up a team",
    )
}

fn require_team(
    conn: &Connection,
    organization: &Login,
    team: &TeamSlug,
) -> Result<(AccountId, i64), Error> {
    let organization_id = require_organization(conn, organization)?;
    let id = team_id(conn, organization_id, team)?
        .ok_or_else(|| Error::not_found("team", format!("{organization}/{team}")))?;
    Ok((organization_id, id))
}

/// Creates a team.
pub(crate) fn create_team(
    conn: &Connection,
    organization: &Login,
    team: &TeamSlug,
    now: Timestamp,
) -> Result<(), Error> {
    let now_sql = time_to_sql(now)?;
    let organization_id = require_organization(conn, organization)?;
    if team_id(conn, organization_id, team)?.is_some() {
        return Err(Error::already_exists(
            "team",
            format!("{organization}/{team}"),
        ));
    }
    execute(
        conn,
        "INSERT INTO teams (organization_id, slug, created_at) VALUES (?1, ?2, ?3)",
        params![organization_id.get(), team.as_str(), now_sql],
        "creating a team",
    )?;
    Ok(())
}

/// Deletes a team.
pub(crate) fn delete_team(
    conn: &Connection,
    organization: &Login,
    team: &TeamSlug,
) -> Result<(), Error> {
    let (_, id) = require_team(conn, organization, team)?;
    execute(
        conn,
        "DELETE FROM teams WHERE id = ?1",
        [id],
        "deleting a team",
    )?;
    Ok(())
}

/// The teams of an organization in slug order.
pub(crate) fn teams(conn: &Connection, organization: &Login) -> Result<Vec<TeamSlug>, Error> {
    let organization_id = require_organization(conn, organization)?;
    query_parsed(
        conn,
        "SELECT slug FROM teams WHERE organization_id = ?1 ORDER BY slug",
        [organization_id.get()],
        "team slug",
        "listing teams",
    )
}

/// Adds an organization member to a team.
pub(crate) fn add_team_member(
    conn: &Connection,
    organization: &Login,
    team: &TeamSlug,
    user: &Login,
) -> Result<(), Error> {
    let (organization_id, team_id) = require_team(conn, organization, team)?;
    let user_id = require_user(conn, user)?;
    if member_role(conn, organization_id, user_id)?.is_none() {
        return Err(Error::conflict(format!(
            "{user} is not a member of {organization}: add them to the organization before adding them to team {team}"
        )));
    }
    execute(
        conn,
        "INSERT INTO team_members (team_id, organization_id, user_id) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
        params![team_id, organization_id.get(), user_id.get()],
        "adding a team member",
    )?;
    Ok(())
}

/// Removes a user from a team.
pub(crate) fn remove_team_member(
    conn: &Connection,
    organization: &Login,
    team: &TeamSlug,
    user: &Login,
) -> Result<(), Error> {
    let (_, team_id) = require_team(conn, organization, team)?;
    let user_id = require_user(conn, user)?;
    execute_one(
        conn,
        "DELETE FROM team_members WHERE team_id = ?1 AND user_id = ?2",
        params![team_id, user_id.get()],
        "removing a team member",
        || Error::not_found("team member", format!("{user} in {organization}/{team}")),
    )
}
