//! `repo-access ...`: the collaborators of a source repository, whose
//! roles the packages linked to it inherit.

use clap::Subcommand;
use wharf_auth::{CodeRepository, Login, RepositoryRole};
use wharf_packages::Collaborator;

use super::table::write_table;
use super::{expect_user, AdminError, Context, Session};

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

impl RepoAccessCommand {
    pub(super) async fn execute(self, session: Session<'_>) -> Result<(), AdminError> {
        let Session { store, out, .. } = session;
        match self {
            RepoAccessCommand::Set {
                repository,
                collaborator,
                role,
            } => {
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
            RepoAccessCommand::Remove {
                repository,
                collaborator,
            } => {
                store
                    .remove_collaborator(&repository, &collaborator)
                    .await
                    .context(|| format!("cannot remove {collaborator} from {repository}"))?;
                eprintln!("{collaborator} has no role on {repository} any more");
                Ok(())
            }
            RepoAccessCommand::List { repository } => {
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
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
}
