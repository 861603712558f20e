//! Who is asking: teams, source repositories, and the principal a request
//! authenticated as (logins are in `login.rs`).

use std::fmt;
use std::sync::Arc;

use wharf_reference::RepositoryName;

use super::keyword::keywords;
use crate::error::{excerpt, Error};
use crate::protocol::{Claims, TokenSubject};
// Logins are part of who is asking; the modules that speak of both import them here.
pub(crate) use super::login::Login;
use super::token_scope::TokenScopes;

/// Parses `s`, lowercased, as one repository path component.
fn path_component(what: &'static str, s: &str) -> Result<Arc<str>, Error> {
    let invalid = |reason| Error::InvalidName {
        what,
        input: excerpt(s),
        reason,
    };
    if s.contains('/') {
        return Err(invalid("it must not contain `/`"));
    }
    let lower = s.to_ascii_lowercase();
    RepositoryName::parse(&lower).map_err(|_| {
        invalid("use letters, digits and single `-`, `_` or `.` between them (at most 255 bytes)")
    })?;
    Ok(lower.into())
}

/// The slug of a team within an organization (`justice-league`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TeamSlug(Arc<str>);

impl TeamSlug {
    /// Parses a team slug, lowercasing it. Equivalent to `s.parse()`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        path_component("team slug", s).map(TeamSlug)
    }

    /// The team slug, lowercase.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

wharf_reference::string_type!(TeamSlug: Error, "a team slug"; Debug);

/// Serde as the `Display` string, parsed (and so validated) on the way in.
pub(crate) use wharf_reference::serde_as_string;

/// A repository on the code host, `OWNER/REPO`: what a package can be
/// linked to and what a workflow token is bound to, as an identity for
/// access decisions (lowercased). The repository an image's `source`
/// annotation names, as written, is `wharf_annotations::SourceRepository`;
/// the registry turns one into the other only when linking a package.
///
/// Repository names are case-insensitive, as on GitHub, and kept lowercase.
///
/// ```
/// use wharf_auth::CodeRepository;
///
/// let repo: CodeRepository = "Octocat/Hello-World".parse()?;
/// assert_eq!(repo.owner(), "octocat");
/// assert_eq!(repo.name(), "hello-world");
/// assert_eq!(repo.to_string(), "octocat/hello-world");
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeRepository {
    full: Arc<str>,
    slash: usize,
}

/// GitHub's limit on a repository name's length.
const MAX_REPOSITORY_NAME: usize = 100;

impl CodeRepository {
    /// Parses `OWNER/REPO`, lowercasing it. Equivalent to `s.parse()`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidName {
            what: "source repository",
            input: excerpt(s),
            reason,
        };
        let (owner, name) = s
            .split_once('/')
            .ok_or_else(|| invalid("expected `OWNER/REPO`"))?;
        let owner = Login::parse(owner).map_err(|_| invalid("the owner is not a valid login"))?;
        let valid_name = !name.is_empty()
            && name.len() <= MAX_REPOSITORY_NAME
            && name != "."
            && name != ".."
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid_name {
            return Err(invalid(
                "the repository name is 1 to 100 letters, digits, `-`, `_` or `.`",
            ));
        }
        let full = format!("{}/{}", owner.as_str(), name.to_ascii_lowercase());
        Ok(CodeRepository {
            slash: owner.as_str().len(),
            full: full.into(),
        })
    }

    /// The owner's login.
    pub fn owner(&self) -> &str {
        &self.full[..self.slash]
    }

    /// The repository's name within its owner.
    pub fn name(&self) -> &str {
        &self.full[self.slash + 1..]
    }

    /// `owner/name`.
    pub fn as_str(&self) -> &str {
        &self.full
    }
}

wharf_reference::string_type!(
    CodeRepository: Error,
    "a source repository such as `octocat/app`";
    Debug
);

/// Who a request is from, without credentials: what a bearer token's `sub`
/// records and what a new package records as its creator.
///
/// Its subject string is `""` for anonymous (as distribution's token
/// specification asks), the login for a user, and `repo:OWNER/REPO` for a
/// workflow (a login never contains `:`).
///
/// ```
/// use wharf_auth::Identity;
///
/// for subject in ["", "octocat", "repo:octocat/app"] {
///     assert_eq!(Identity::from_subject(subject)?.subject(), subject);
/// }
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identity {
    /// No credentials.
    Anonymous,
    /// A user.
    User(Login),
    /// A workflow of a source repository.
    Workflow(CodeRepository),
}

const WORKFLOW_SUBJECT_PREFIX: &str = "repo:";

impl Identity {
    /// The subject string (see the type's documentation).
    pub fn subject(&self) -> String {
        match self {
            Identity::Anonymous => String::new(),
            Identity::User(login) => login.to_string(),
            Identity::Workflow(repo) => format!("{WORKFLOW_SUBJECT_PREFIX}{repo}"),
        }
    }

    /// Parses a subject string.
    pub fn from_subject(subject: &str) -> Result<Identity, Error> {
        if subject.is_empty() {
            Ok(Identity::Anonymous)
        } else if let Some(repo) = subject.strip_prefix(WORKFLOW_SUBJECT_PREFIX) {
            CodeRepository::parse(repo).map(Identity::Workflow)
        } else {
            Login::parse(subject).map(Identity::User)
        }
    }
}

impl fmt::Display for Identity {
    /// For people and logs: `anonymous`, `user octocat`,
    /// `workflow of octocat/app`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Anonymous => f.write_str("anonymous"),
            Identity::User(login) => write!(f, "user {login}"),
            Identity::Workflow(repo) => write!(f, "workflow of {repo}"),
        }
    }
}

/// A token's `sub`: [`Identity::subject`].
impl TokenSubject for Identity {
    fn token_subject(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Owned(self.subject())
    }
}

/// GitHub policy meets the token protocol here, so that
/// [`crate::protocol`] needs nothing from [`crate::github`].
impl Claims {
    /// Who the token was issued to, read from `sub` as
    /// [`Identity::subject`] writes it.
    pub fn identity(&self) -> Result<Identity, Error> {
        Identity::from_subject(&self.sub)
    }
}

impl serde::Serialize for Identity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.subject())
    }
}

impl<'de> serde::Deserialize<'de> for Identity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Identity::from_subject(&s).map_err(serde::de::Error::custom)
    }
}

/// The `packages` permission a workflow gave its token
/// (`permissions: packages: read`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum WorkflowPermission {
    /// `none`: the token can do nothing with packages beyond what anyone
    /// can.
    None,
    /// `read`: pull.
    Read,
    /// `write`: pull, push, and (where the repository is admin of the
    /// package) delete, restore and change settings.
    Write,
}

keywords!(WorkflowPermission, "workflow permission", expected "none, read or write", {
    None => "none",
    Read => "read",
    Write => "write",
});

/// Who a request authenticated as, with the limits of its credentials.
///
/// ```
/// use wharf_auth::{Principal, TokenScopes};
///
/// let alice = Principal::User {
///     login: "alice".parse()?,
///     scopes: "read:packages".parse()?,
/// };
/// assert!(alice.is_authenticated());
/// assert_eq!(alice.identity().subject(), "alice");
/// assert!(!Principal::Anonymous.is_authenticated());
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// No credentials were presented.
    Anonymous,
    /// A user, authenticated by a personal access token with these scopes
    /// (an interactive session of the user has [`TokenScopes::all`]).
    User {
        /// The user.
        login: Login,
        /// What the token may do at most.
        scopes: TokenScopes,
    },
    /// A workflow's token (the `GITHUB_TOKEN` analogue), bound to the
    /// repository the workflow runs in. It may publish packages into that
    /// repository's owner namespace, which get linked to the repository,
    /// and is admin of packages linked to it; it cannot touch packages not
    /// linked to its repository unless they grant the repository access.
    Workflow {
        /// The repository the workflow runs in.
        repository: CodeRepository,
        /// The token's `packages` permission.
        packages: WorkflowPermission,
    },
}

impl Principal {
    /// Who this is, without the credential's limits.
    pub fn identity(&self) -> Identity {
        match self {
            Principal::Anonymous => Identity::Anonymous,
            Principal::User { login, .. } => Identity::User(login.clone()),
            Principal::Workflow { repository, .. } => Identity::Workflow(repository.clone()),
        }
    }

    /// Whether any credentials were presented and accepted.
    pub fn is_authenticated(&self) -> bool {
        !matches!(self, Principal::Anonymous)
    }

    /// The user's login, for a user.
    pub fn login(&self) -> Option<&Login> {
        match self {
            Principal::User { login, .. } => Some(login),
            _ => None,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Anonymous => f.write_str("anonymous"),
            Principal::User { login, scopes } if scopes.is_empty() => {
                write!(f, "user {login} (token scopes: none)")
            }
            Principal::User { login, scopes } => write!(f, "user {login} (token scopes: {scopes})"),
            Principal::Workflow {
                repository,
                packages,
            } => write!(f, "workflow of {repository} (packages: {packages})"),
        }
    }
}
