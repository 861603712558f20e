//! `org ...`: organizations and their members.

use clap::Subcommand;
use wharf_auth::{Login, OrgRole, OrganizationPolicy};

use super::table::{rfc3339, write_table};
use super::{expect_organization, AdminError, Context, Session};

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

impl OrgCommand {
    pub(super) async fn execute(self, session: Session<'_>) -> Result<(), AdminError> {
        let Session { store, now, out } = session;
        match self {
            OrgCommand::Create {
                name,
                admins_only_create_packages,
            } => {
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
            OrgCommand::AddMember { org, login, role } => {
                expect_organization(store, &org).await?;
                store
                    .add_member(&org, &login, role, now)
                    .await
                    .context(|| format!("cannot add {login} to {org}"))?;
                eprintln!("{login} is now {} of {org}", with_article(role.as_str()));
                Ok(())
            }
            OrgCommand::Members { org } => {
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
        }
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
