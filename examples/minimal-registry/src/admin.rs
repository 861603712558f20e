//! The administration commands: users, organizations, tokens and
//! repository collaborators in the registry's package store
//! (`<data-dir>/registry.db`), from the command line.
//!
//! ```sh
//! minimal-registry --data-dir DIR user create alice
//! minimal-registry --data-dir DIR org create acme
//! minimal-registry --data-dir DIR org add-member acme alice --role admin
//! minimal-registry --data-dir DIR token create alice --scopes read:packages,write:packages --expires-in-days 30 --note laptop
//! minimal-registry --data-dir DIR token list alice
//! minimal-registry --data-dir DIR token revoke 3
//! minimal-registry --data-dir DIR workflow-token create acme/app
//! minimal-registry --data-dir DIR repo-access set acme/app alice --role write
//! ```
//!
//! The commands work while the registry runs (the store is one SQLite
//! file in WAL mode; a running registry sees a change within its cache's
//! lifetime, two seconds by default). A new token is printed once, alone
//! on standard output, so that `TOKEN=$(minimal-registry token create
//! ...)` captures it; only its SHA-256 is stored. Everything else goes to
//! standard error.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use wharf_auth::{
    CodeRepository, Login, OrgRole, OrganizationPolicy, PersonalAccessToken, RepositoryRole,
    StoredToken, Timestamp, TokenScopes, WorkflowPermission,
};
use wharf_packages::{
    Account, Collaborator, Credential, PackageStore, SqlitePackageStore, TokenId, TokenRecord,
    WorkflowToken,
};

use crate::config::{Cli, Settings};

/// The package store's file inside the data directory.
pub const DATABASE_FILE: &str = "registry.db";

/// Where the package store of a data directory lives.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DATABASE_FILE)
}

/// A container registry serving the OCI Distribution API and GitHub-style
/// package pages from a local directory, with administration commands for
/// its users, organizations and tokens.
///
/// With no command it serves (listening on 127.0.0.1:5000, data in
/// ./registry-data, unless told otherwise). Settings come from the
/// embedded defaults, then the TOML file given with --config, then these
/// flags (a flag wins over the file). Durations are written like 500ms,
/// 30s, 10m, 24h or a plain number of seconds; sizes as bytes or with a
/// KiB/MiB/GiB suffix. --config and --data-dir may also follow a command.
#[derive(Debug, Parser)]
#[command(name = "minimal-registry", version, about, long_about)]
pub struct Invocation {
    /// The registry's settings.
    #[command(flatten)]
    pub settings: Cli,

    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Invocation {
    /// Parses the process's arguments, exiting with a usage message on
    /// error (status 2).
    pub fn parse_args() -> Invocation {
        Invocation::parse_from_iter(std::env::args_os())
    }

    /// Parses `args` (the first is the program name), exiting with a usage
    /// message on error.
    pub fn parse_from_iter<I, T>(args: I) -> Invocation
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        // Where the data is may be said before or after the command.
        let command = Invocation::command()
            .mut_arg("data_dir", |arg| arg.global(true))
            .mut_arg("config", |arg| arg.global(true));
        let matches = command.get_matches_from(args);
        Invocation::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
    }
}

/// A command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the registry (what happens without a command). Its flags are
    /// the top-level ones: `minimal-registry --listen 0.0.0.0:5000 serve`.
    Serve,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage organizations and their members.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage personal access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage workflow tokens: the `GITHUB_TOKEN` of a source repository's
    /// workflows, which publishes packages linked to that repository.
    #[command(subcommand, name = "workflow-token")]
    WorkflowToken(WorkflowTokenCommand),
    /// Manage the collaborators of a source repository: packages linked to
    /// it inherit their roles.
    #[command(subcommand, name = "repo-access")]
    RepoAccess(RepoAccessCommand),
}

/// `user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user.
    Create {
        /// The login: up to 39 letters, digits and single hyphens, not
        /// first or last, and not a path the registry serves (`v2`,
        /// `token`, `users`, ...); kept lowercase.
        login: Login,
    },
    /// List users and organizations.
    List,
}

/// `org ...`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization.
    Create {
        /// Its login (shares one namespace with users, and their rules).
        name: Login,
        /// Only organization admins may publish new packages (by default
        /// every member may).
        #[arg(long)]
        admins_only_create_packages: bool,
    },
    /// Add a user to an organization, or change their role.
    AddMember {
        /// The organization.
        org: Login,
        /// The user.
        login: Login,
        /// `member` or `admin` (admins administer every package of the
        /// organization).
        #[arg(long, default_value = "member")]
        role: OrgRole,
    },
    /// List an organization's members.
    Members {
        /// The organization.
        org: Login,
    },
}

/// `token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a personal access token and print it, once.
    Create {
        /// The user the token authenticates as.
        login: Login,
        /// What the token may do, separated by commas: read:packages,
        /// write:packages, delete:packages (write and delete include read).
        #[arg(long, required = true, value_name = "SCOPES")]
        scopes: TokenScopes,
        /// Days until it stops working (default: never).
        #[arg(long, value_name = "N")]
        expires_in_days: Option<u32>,
        /// What the token is for.
        #[arg(long, value_name = "TEXT", default_value = "")]
        note: String,
    },
    /// List a user's tokens (never their secrets).
    List {
        /// The user.
        login: Login,
    },
    /// Revoke a token (a personal access or workflow token) by id.
    Revoke {
        /// The id `token list` or `token create` shows.
        id: TokenId,
    },
}

/// `workflow-token ...`
#[derive(Debug, Subcommand)]
pub enum WorkflowTokenCommand {
    /// Create a workflow token for a source repository and print it, once.
    Create {
        /// The repository, `OWNER/REPO` (OWNER must be a user or an
        /// organization of this registry).
        repository: CodeRepository,
        /// The token's `packages` permission: none, read or write.
        #[arg(long, default_value = "write")]
        permission: WorkflowPermission,
        /// Hours until it stops working (a workflow job lasts at most a
        /// day); 0 for never.
        #[arg(long, value_name = "N", default_value_t = 24)]
        expires_in_hours: u32,
    },
    /// List a repository's workflow tokens (never their secrets).
    List {
        /// The repository, `OWNER/REPO`.
        repository: CodeRepository,
    },
}

/// `repo-access ...`
#[derive(Debug, Subcommand)]
pub enum RepoAccessCommand {
    /// Give a user (or `team:SLUG`) a role on a source repository.
    Set {
        /// The repository, `OWNER/REPO`.
        repository: CodeRepository,
        /// A user's login, or `team:SLUG`.
        #[arg(value_parser = parse_collaborator)]
        collaborator: Collaborator,
        /// read, triage, write, maintain or admin.
        #[arg(long)]
        role: RepositoryRole,
    },
    /// Take a collaborator's role away.
    Remove {
        /// The repository, `OWNER/REPO`.
        repository: CodeRepository,
        /// A user's login, or `team:SLUG`.
        #[arg(value_parser = parse_collaborator)]
        collaborator: Collaborator,
    },
    /// List a repository's collaborators.
    List {
        /// The repository, `OWNER/REPO`.
        repository: CodeRepository,
    },
}

/// A bare login is a user; `user:LOGIN` and `team:SLUG` say which.
fn parse_collaborator(s: &str) -> Result<Collaborator, String> {
    if s.contains(':') {
        s.parse()
            .map_err(|err: wharf_packages::CollaboratorParseError| err.to_string())
    } else {
        s.parse::<Login>()
            .map(Collaborator::User)
            .map_err(|err| err.to_string())
    }
}

/// Why an administration command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The data directory or the store could not be opened.
    #[error("cannot open the package store {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store refused or failed.
    #[error("{context}: {source}")]
    Store {
        /// What was being done.
        context: String,
        /// The store's answer.
        #[source]
        source: wharf_packages::Error,
    },
    /// The command asked for something that cannot be.
    #[error("{0}")]
    Invalid(String),
    /// Generating a token failed (no randomness).
    #[error("cannot generate a token: {0}")]
    Token(#[from] wharf_auth::Error),
    /// Writing the output failed.
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The async runtime could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Adds what was being done to a store error.
trait Context<T> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T, AdminError>;
}

impl<T> Context<T> for Result<T, wharf_packages::Error> {
    fn context(self, context: impl FnOnce() -> String) -> Result<T, AdminError> {
        self.map_err(|source| AdminError::Store {
            context: context(),
            source,
        })
    }
}

/// Runs an administration command against the store of `settings`'s data
/// directory, printing errors to standard error. `Serve` is not one.
pub fn run(command: Command, settings: &Settings) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return report(&AdminError::Runtime(err)),
    };
    let result = runtime.block_on(async {
        let store = open_store(&settings.data_dir)?;
        let now = Timestamp::from_system_time(SystemTime::now());
        let mut out = std::io::stdout().lock();
        execute(command, &store, now, &mut out).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

fn report(err: &AdminError) -> ExitCode {
    eprintln!("minimal-registry: {err}");
    ExitCode::FAILURE
}

/// Creates `dir` and its missing parents, `0700` whatever the umask: the
/// data directory holds private images, accounts and keys.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Opens (creating them if needed) the data directory and its store.
pub fn open_store(data_dir: &Path) -> Result<SqlitePackageStore, AdminError> {
    let path = database_path(data_dir);
    create_private_dir(data_dir).map_err(|err| AdminError::Open {
        path: path.clone(),
        source: Box::new(err),
    })?;
    SqlitePackageStore::open(&path).map_err(|err| AdminError::Open {
        path,
        source: Box::new(err),
    })
}

/// Runs one command on `store` at `now`, writing its result to `out`
/// (and notes for people to standard error).
pub async fn execute(
    command: Command,
    store: &dyn PackageStore,
    now: Timestamp,
    out: &mut dyn std::io::Write,
) -> Result<(), AdminError> {
    match command {
        Command::Serve => Err(AdminError::Invalid(
            "`serve` is not an administration command".to_owned(),
        )),
        Command::User(UserCommand::Create { login }) => {
            store
                .create_user(&login, now)
                .await
                .context(|| format!("cannot create user {login}"))?;
            eprintln!("created user {login}");
            Ok(())
        }
        Command::User(UserCommand::List) => list_accounts(store, out).await,
        Command::Org(OrgCommand::Create {
            name,
            admins_only_create_packages,
        }) => {
            let policy = OrganizationPolicy {
                members_can_create_packages: !admins_only_create_packages,
            };
            store
                .create_organization(&name, policy, now)
                .await
                .context(|| format!("cannot create organization {name}"))?;
            eprintln!("created organization {name}");
            Ok(())
        }
        Command::Org(OrgCommand::AddMember { org, login, role }) => {
            expect_organization(store, &org).await?;
            store
                .add_member(&org, &login, role, now)
                .await
                .context(|| format!("cannot add {login} to {org}"))?;
            eprintln!("{login} is now {} of {org}", with_article(role.as_str()));
            Ok(())
        }
        Command::Org(OrgCommand::Members { org }) => {
            expect_organization(store, &org).await?;
            let members = store
                .members(&org)
                .await
                .context(|| format!("cannot list the members of {org}"))?;
            let rows = members
                .iter()
                .map(|m| {
                    vec![
                        m.login.to_string(),
                        m.role.to_string(),
                        m.teams
                            .iter()
                            .map(|t| t.as_str())
                            .collect::<Vec<_>>()
                            .join(","),
                        rfc3339(m.joined_at),
                    ]
                })
                .collect();
            write_table(out, &["LOGIN", "ROLE", "TEAMS", "JOINED"], rows)
        }
        Command::Token(TokenCommand::Create {
            login,
            scopes,
            expires_in_days,
            note,
        }) => {
            if scopes.is_empty() {
                return Err(AdminError::Invalid(
                    "a token needs at least one scope: --scopes read:packages, write:packages or delete:packages".to_owned(),
                ));
            }
            expect_user(store, &login).await?;
            let secret = PersonalAccessToken::generate()?;
            let expires_at = expires_in_days
                .map(|days| now.saturating_add(Duration::from_secs(u64::from(days) * 86_400)));
            let mut token = StoredToken::new(&secret, login.clone(), scopes, expires_at);
            token.note = note;
            let record = store
                .insert_personal_token(&token, now)
                .await
                .context(|| format!("cannot store a token for {login}"))?;
            announce_token(
                out,
                &secret,
                &format!("token {} for {login} with scopes {scopes}", record.id),
                expires_at,
            )
        }
        Command::Token(TokenCommand::List { login }) => {
            expect_user(store, &login).await?;
            let tokens = store
                .personal_tokens(&login)
                .await
                .context(|| format!("cannot list the tokens of {login}"))?;
            write_tokens(out, &tokens, now)
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let existing = store
                .token(id)
                .await
                .context(|| format!("cannot read token {id}"))?
                .ok_or_else(|| {
                    AdminError::Invalid(format!(
                        "no token has id {id}; `token list LOGIN` shows them"
                    ))
                })?;
            if let Some(at) = existing.revoked_at {
                eprintln!("token {id} was already revoked at {}", rfc3339(at));
                return Ok(());
            }
            store
                .revoke_token(id, now)
                .await
                .context(|| format!("cannot revoke token {id}"))?;
            eprintln!("revoked token {id} ({})", describe_owner(&existing));
            Ok(())
        }
        Command::WorkflowToken(WorkflowTokenCommand::Create {
            repository,
            permission,
            expires_in_hours,
        }) => {
            let owner: Login = repository
                .owner()
                .parse()
                .map_err(|err: wharf_auth::Error| AdminError::Invalid(err.to_string()))?;
            if store
                .account(&owner)
                .await
                .context(|| format!("cannot look {owner} up"))?
                .is_none()
            {
                return Err(AdminError::Invalid(format!(
                    "unknown owner {owner}: create the user or organization first"
                )));
            }
            let secret = PersonalAccessToken::generate()?;
            let expires_at = (expires_in_hours > 0).then(|| {
                now.saturating_add(Duration::from_secs(u64::from(expires_in_hours) * 3600))
            });
            let token =
                WorkflowToken::new(secret.hash(), repository.clone(), permission, expires_at);
            let record = store
                .insert_workflow_token(&token, now)
                .await
                .context(|| format!("cannot store a workflow token for {repository}"))?;
            announce_token(
                out,
                &secret,
                &format!(
                    "workflow token {} for {repository} (packages: {permission})",
                    record.id
                ),
                expires_at,
            )
        }
        Command::WorkflowToken(WorkflowTokenCommand::List { repository }) => {
            let tokens = store
                .workflow_tokens(&repository)
                .await
                .context(|| format!("cannot list the workflow tokens of {repository}"))?;
            write_tokens(out, &tokens, now)
        }
        Command::RepoAccess(RepoAccessCommand::Set {
            repository,
            collaborator,
            role,
        }) => {
            if let Collaborator::User(login) = &collaborator {
                expect_user(store, login).await?;
            }
            store
                .set_collaborator(&repository, &collaborator, role)
                .await
                .context(|| format!("cannot give {collaborator} a role on {repository}"))?;
            eprintln!("{collaborator} has the {role} role on {repository}");
            Ok(())
        }
        Command::RepoAccess(RepoAccessCommand::Remove {
            repository,
            collaborator,
        }) => {
            store
                .remove_collaborator(&repository, &collaborator)
                .await
                .context(|| format!("cannot remove {collaborator} from {repository}"))?;
            eprintln!("{collaborator} has no role on {repository} any more");
            Ok(())
        }
        Command::RepoAccess(RepoAccessCommand::List { repository }) => {
            let access = store
                .repository_access(&repository)
                .await
                .context(|| format!("cannot list the collaborators of {repository}"))?;
            let users = access
                .users
                .iter()
                .map(|(login, role)| vec![format!("user:{login}"), role.to_string()]);
            let teams = access
                .teams
                .iter()
                .map(|(team, role)| vec![format!("team:{team}"), role.to_string()]);
            write_table(out, &["COLLABORATOR", "ROLE"], users.chain(teams).collect())
        }
    }
}

async fn list_accounts(
    store: &dyn PackageStore,
    out: &mut dyn std::io::Write,
) -> Result<(), AdminError> {
    let mut rows = Vec::new();
    let mut page = wharf_packages::PageRequest::first(500);
    loop {
        let listed = store
            .list_accounts(&page)
            .await
            .context(|| "cannot list accounts".to_owned())?;
        for account in &listed.items {
            let kind = if account.is_organization() {
                "organization"
            } else {
                "user"
            };
            rows.push(vec![
                account.login.to_string(),
                kind.to_owned(),
                rfc3339(account.created_at),
            ]);
        }
        match listed.next {
            Some(next) => page = wharf_packages::PageRequest::after(next, 500),
            None => break,
        }
    }
    write_table(out, &["LOGIN", "KIND", "CREATED"], rows)
}

async fn expect_user(store: &dyn PackageStore, login: &Login) -> Result<(), AdminError> {
    expect_account(store, login, true).await
}

async fn expect_organization(store: &dyn PackageStore, org: &Login) -> Result<(), AdminError> {
    expect_account(store, org, false).await
}

/// Checks that `login` is a user (`user`) or an organization (not `user`).
async fn expect_account(
    store: &dyn PackageStore,
    login: &Login,
    user: bool,
) -> Result<(), AdminError> {
    let (is_kind, other, kind, create): (fn(&Account) -> bool, _, _, _) = if user {
        (
            Account::is_user,
            "is an organization, not a user",
            "user",
            "user create",
        )
    } else {
        (
            Account::is_organization,
            "is a user, not an organization",
            "organization",
            "org create",
        )
    };
    match store
        .account(login)
        .await
        .context(|| format!("cannot look {login} up"))?
    {
        Some(account) if is_kind(&account) => Ok(()),
        Some(_) => Err(AdminError::Invalid(format!("{login} {other}"))),
        None => Err(AdminError::Invalid(format!(
            "unknown {kind} {login}: create it with `{create} {login}`"
        ))),
    }
}

fn with_article(word: &str) -> String {
    let article = if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {word}")
}

fn describe_owner(record: &TokenRecord) -> String {
    match &record.credential {
        Credential::Personal(token) if token.note.is_empty() => {
            format!("personal access token of {}", token.owner)
        }
        Credential::Personal(token) => {
            format!("personal access token of {}: {}", token.owner, token.note)
        }
        Credential::Workflow(token) => format!("workflow token of {}", token.repository),
    }
}

/// Prints a new token's secret alone on standard output (the only time it
/// is shown), then `created` and its expiry on standard error.
fn announce_token(
    out: &mut dyn std::io::Write,
    secret: &PersonalAccessToken,
    created: &str,
    expires_at: Option<Timestamp>,
) -> Result<(), AdminError> {
    writeln!(out, "{}", secret.expose_secret())?;
    out.flush()?;
    eprintln!(
        "created {created}{}; it is shown only once",
        expires_at.map_or_else(String::new, |at| format!(", expiring {}", rfc3339(at))),
    );
    Ok(())
}

/// A table of tokens, one [`token_row`] each.
fn write_tokens(
    out: &mut dyn std::io::Write,
    tokens: &[TokenRecord],
    now: Timestamp,
) -> Result<(), AdminError> {
    let rows = tokens.iter().map(|record| token_row(record, now)).collect();
    write_table(
        out,
        &[
            "ID",
            "NOTE",
            "SCOPES",
            "CREATED",
            "EXPIRES",
            "LAST USED",
            "REVOKED",
        ],
        rows,
    )
}

/// One row of a token listing. Never the secret (the store does not have
/// it) nor the hash.
fn token_row(record: &TokenRecord, now: Timestamp) -> Vec<String> {
    let (note, scopes, expires) = match &record.credential {
        Credential::Personal(token) => (
            token.note.clone(),
            token
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(","),
            token.expires_at,
        ),
        Credential::Workflow(token) => (
            String::new(),
            format!("packages:{}", token.packages),
            token.expires_at,
        ),
    };
    let expires = match expires {
        None => "never".to_owned(),
        Some(at) if at <= now => format!("{} (expired)", rfc3339(at)),
        Some(at) => rfc3339(at),
    };
    vec![
        record.id.to_string(),
        if note.is_empty() {
            "-".to_owned()
        } else {
            note
        },
        scopes,
        rfc3339(record.created_at),
        expires,
        record
            .last_used_at
            .map_or_else(|| "never".to_owned(), rfc3339),
        record.revoked_at.map_or_else(|| "no".to_owned(), rfc3339),
    ]
}

/// Writes rows under a header, columns padded to their widest cell. Cells
/// are made single-line so that a note cannot break the table.
fn write_table(
    out: &mut dyn std::io::Write,
    header: &[&str],
    rows: Vec<Vec<String>>,
) -> Result<(), AdminError> {
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|cell| cell.replace(['\n', '\r', '\t'], " "))
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<width$}  ");
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    out.write_all(text.as_bytes())?;
    Ok(())
}

/// `2024-03-01T12:00:00Z`.
fn rfc3339(at: Timestamp) -> String {
    at.to_rfc3339()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc3339_utc() {
        for (seconds, expected) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_700_000_000, "2023-11-14T22:13:20Z"),
        ] {
            assert_eq!(rfc3339(Timestamp::from_unix_seconds(seconds)), expected);
        }
    }

    #[test]
    fn collaborators_are_logins_or_prefixed() {
        assert_eq!(
            parse_collaborator("alice").unwrap(),
            Collaborator::User("alice".parse().unwrap())
        );
        assert_eq!(
            parse_collaborator("team:devs").unwrap(),
            Collaborator::Team("devs".parse().unwrap())
        );
        assert!(parse_collaborator("repository:a/b").is_err());
        assert!(parse_collaborator("not a login").is_err());
    }

    #[test]
    fn tables_pad_columns_and_keep_cells_on_one_line() {
        let mut out = Vec::new();
        write_table(
            &mut out,
            &["ID", "NOTE"],
            vec![
                vec!["1".into(), "laptop".into()],
                vec!["12".into(), "two\nlines".into()],
            ],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ID  NOTE\n1   laptop\n12  two lines\n"
        );
    }

    #[test]
    fn data_dir_and_config_may_follow_the_command() {
        for args in [
            &[
                "minimal-registry",
                "--data-dir",
                "/d",
                "user",
                "create",
                "alice",
            ][..],
            &[
                "minimal-registry",
                "user",
                "create",
                "alice",
                "--data-dir",
                "/d",
            ][..],
            &[
                "minimal-registry",
                "user",
                "--data-dir",
                "/d",
                "create",
                "alice",
            ][..],
        ] {
            let invocation = Invocation::parse_from_iter(args.iter().copied());
            let settings = Settings::load(&invocation.settings, None).expect("settings");
            assert_eq!(settings.data_dir, Path::new("/d"), "{args:?}");
            assert!(matches!(
                invocation.command,
                Some(Command::User(UserCommand::Create { .. }))
            ));
        }
        let serve = Invocation::parse_from_iter(["minimal-registry", "--listen", "127.0.0.1:1"]);
        assert!(serve.command.is_none());
    }
}
