//! `token ...` and `workflow-token ...`: creating, listing and revoking
//! personal access tokens and workflow tokens.

use std::time::Duration;

use clap::Subcommand;
use wharf_auth::{
    CodeRepository, Login, PersonalAccessToken, StoredToken, Timestamp, TokenScopes,
    WorkflowPermission,
};
use wharf_packages::{Credential, PackageStore, TokenId, TokenRecord, WorkflowToken};

use super::table::{rfc3339, write_table};
use super::{expect_user, AdminError, Context, Session};

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

impl TokenCommand {
    pub(super) async fn execute(self, session: Session<'_>) -> Result<(), AdminError> {
        let Session { store, now, out } = session;
        match self {
            TokenCommand::Create {
                login,
                scopes,
                expires_in_days,
                note,
            } => {
                if scopes.is_empty() {
                    return Err(AdminError::Invalid(
                        "a token needs at least one scope: --scopes read:packages, write:packages or delete:packages".to_owned(),
                    ));
                }
                expect_user(store, &login).await?;
                let new =
                    NewToken::generate(now, expires_in_days.map(|days| u64::from(days) * 86_400))?;
                let mut token =
                    StoredToken::new(&new.secret, login.clone(), scopes, new.expires_at);
                token.note = note;
                let record = store
                    .insert_personal_token(&token, now)
                    .await
                    .context(|| format!("cannot store a token for {login}"))?;
                new.announce(
                    out,
                    &format!("token {} for {login} with scopes {scopes}", record.id),
                )
            }
            TokenCommand::List { login } => {
                expect_user(store, &login).await?;
                let tokens = store
                    .personal_tokens(&login)
                    .await
                    .context(|| format!("cannot list the tokens of {login}"))?;
                write_tokens(out, &tokens, now)
            }
            TokenCommand::Revoke { id } => revoke(store, id, now).await,
        }
    }
}

impl WorkflowTokenCommand {
    pub(super) async fn execute(self, session: Session<'_>) -> Result<(), AdminError> {
        let Session { store, now, out } = session;
        match self {
            WorkflowTokenCommand::Create {
                repository,
                permission,
                expires_in_hours,
            } => {
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
                let lifetime = (expires_in_hours > 0).then(|| u64::from(expires_in_hours) * 3600);
                let new = NewToken::generate(now, lifetime)?;
                let token = WorkflowToken::new(
                    new.secret.hash(),
                    repository.clone(),
                    permission,
                    new.expires_at,
                );
                let record = store
                    .insert_workflow_token(&token, now)
                    .await
                    .context(|| format!("cannot store a workflow token for {repository}"))?;
                new.announce(
                    out,
                    &format!(
                        "workflow token {} for {repository} (packages: {permission})",
                        record.id
                    ),
                )
            }
            WorkflowTokenCommand::List { repository } => {
                let tokens = store
                    .workflow_tokens(&repository)
                    .await
                    .context(|| format!("cannot list the workflow tokens of {repository}"))?;
                write_tokens(out, &tokens, now)
            }
        }
    }
}

/// Revokes token `id` (of either kind), or says it already was.
async fn revoke(store: &dyn PackageStore, id: TokenId, now: Timestamp) -> Result<(), AdminError> {
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

/// A token being created: its secret, and when it expires.
struct NewToken {
    secret: PersonalAccessToken,
    expires_at: Option<Timestamp>,
}

impl NewToken {
    /// A fresh secret, expiring `lifetime` seconds after `now` (never
    /// without).
    fn generate(now: Timestamp, lifetime: Option<u64>) -> Result<NewToken, AdminError> {
        Ok(NewToken {
            secret: PersonalAccessToken::generate()?,
            expires_at: lifetime.map(|seconds| now.saturating_add(Duration::from_secs(seconds))),
        })
    }

    /// Prints the secret alone on standard output (the only time it is
    /// shown), then `created` and its expiry on standard error.
    fn announce(&self, out: &mut dyn std::io::Write, created: &str) -> Result<(), AdminError> {
        writeln!(out, "{}", self.secret.expose_secret())?;
        out.flush()?;
        eprintln!(
            "created {created}{}; it is shown only once",
            self.expires_at
                .map_or_else(String::new, |at| format!(", expiring {}", rfc3339(at))),
        );
        Ok(())
    }
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
