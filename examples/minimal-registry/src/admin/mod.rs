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
//!
//! One module per command group: [`user`], [`org`], [`token`] (personal
//! access and workflow tokens) and [`repo_access`]; [`table`] writes their
//! listings.

mod org;
mod repo_access;
mod table;
mod token;
mod user;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use wharf_auth::{Login, Timestamp};
use wharf_packages::{Account, PackageStore};

pub use org::OrgCommand;
pub use repo_access::RepoAccessCommand;
pub use token::{TokenCommand, WorkflowTokenCommand};
pub use user::UserCommand;

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
    /// Bring the database schemas (storage metadata and package store) up
    /// to date and exit. A replica does the same when it starts; run it
    /// before starting a new version on several replicas.
    Migrate,
    /// Copy a registry that ran on the embedded default (its data
    /// directory) into the stores these settings name, typically
    /// `--database postgres://...` and `--blob-store URL`, and report what
    /// was moved. Running it again after an interruption continues; what
    /// is already there is skipped.
    Import {
        /// The data directory of the registry to copy.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
    },
    /// Run one garbage collection and print what it removed: the links of
    /// repositories to blobs no manifest references, the blobs no
    /// repository (live, or a deleted package within its restore window)
    /// links, and the bytes freed. Safe while the registry runs; on
    /// shared stores, one collection at a time.
    Gc {
        /// Change nothing: print what a collection would remove.
        #[arg(long)]
        dry_run: bool,
        /// Keep what was uploaded or referenced this recently [default:
        /// --gc-grace, 1h].
        #[arg(long, value_name = "DURATION", value_parser = crate::config::values::parse_duration)]
        grace: Option<std::time::Duration>,
    },
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
    let Some(runtime) = crate::runtime(tokio::runtime::Builder::new_current_thread()) else {
        return ExitCode::FAILURE;
    };
    let result = runtime.block_on(async {
        let store = crate::stores::open_package_store(settings).await?;
        let now = Timestamp::from_system_time(SystemTime::now());
        let mut out = std::io::stdout().lock();
        execute(command, store.as_ref(), now, &mut out).await
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

/// Runs one command on `store` at `now`, writing its result to `out`
/// (and notes for people to standard error).
pub async fn execute(
    command: Command,
    store: &dyn PackageStore,
    now: Timestamp,
    out: &mut dyn std::io::Write,
) -> Result<(), AdminError> {
    let session = Session { store, now, out };
    match command {
        Command::Serve | Command::Migrate | Command::Import { .. } | Command::Gc { .. } => {
            Err(AdminError::Invalid(
                "`serve`, `migrate`, `import` and `gc` are not administration commands of the \
                 package store"
                    .to_owned(),
            ))
        }
        Command::User(command) => command.execute(session).await,
        Command::Org(command) => command.execute(session).await,
        Command::Token(command) => command.execute(session).await,
        Command::WorkflowToken(command) => command.execute(session).await,
        Command::RepoAccess(command) => command.execute(session).await,
    }
}

/// What a command runs against: the store, the time it runs at, and where
/// its result goes.
struct Session<'a> {
    store: &'a dyn PackageStore,
    now: Timestamp,
    out: &'a mut dyn std::io::Write,
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

#[cfg(test)]
mod tests {
    use super::*;

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
