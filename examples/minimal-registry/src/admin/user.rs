//! `user ...`: creating users, and listing the accounts (users and
//! organizations).

use clap::Subcommand;
use wharf_auth::Login;
use wharf_packages::PackageStore;

use super::table::{rfc3339, write_table};
use super::{AdminError, Context, Session};

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

impl UserCommand {
    pub(super) async fn execute(self, session: Session<'_>) -> Result<(), AdminError> {
        let Session { store, now, out } = session;
        match self {
            UserCommand::Create { login } => {
                store
                    .create_user(&login, now)
                    .await
                    .context(|| format!("cannot create user {login}"))?;
                eprintln!("created user {login}");
                Ok(())
            }
            UserCommand::List => list_accounts(store, out).await,
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
