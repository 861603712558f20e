//! Change notifications for caches on other replicas: `NOTIFY
//! wharf_packages, '<what>:<key>'`, sent inside the transaction that makes
//! the change, so PostgreSQL delivers it when (and only if) the change
//! commits.
//!
//! The payloads are documented on [`CHANNEL`].

use deadpool_postgres::GenericClient;

use crate::error::Error;
use crate::postgres::statement::execute;

/// The channel a [`PgPackageStore`](crate::PgPackageStore) notifies on
/// (`NOTIFY wharf_packages, '<what>:<key>'`), in the transaction that
/// makes a change, so PostgreSQL delivers the notification when (and
/// only if) the change commits.
///
/// A replica that caches answers (a [`CachedStore`](crate::CachedStore))
/// and `LISTEN`s on [`CHANNEL`] drops what a payload names; the payloads,
/// and the cached answers they concern, are:
///
/// | payload | sent when | a cache drops |
/// |---|---|---|
/// | `token:ID` | a token is revoked | the token with that id (by id and by hash) |
/// | `package:OWNER/NAME` | a package is created, changed (visibility, link, inheritance, metadata), granted or ungranted, deleted, restored or purged; a version is pushed, deleted, restored or purged | the package of that name and every access context of that name |
/// | `account:LOGIN` | an account is created; an organization's policy, members, teams or team members change | every access context in that namespace |
/// | `repository:OWNER/NAME` | a collaborator of that source repository is set or removed | every access context (packages linked to the repository inherit from it) |
///
/// What is not announced cannot make a cached answer wrong: new tokens (a
/// hash is never looked up before its token exists), token uses (the
/// cached `last_used_at` may lag, as documented), tag moves and version
/// lookups (not cached). A listener that cannot tell keys apart may drop
/// everything on any payload. Payloads are ASCII and at most a few hundred
/// bytes (PostgreSQL's limit is 8000).
pub const CHANNEL: &str = "wharf_packages";

/// A change a cache on another replica must hear about.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Change<'a> {
    /// `token:ID`.
    Token(i64),
    /// `package:OWNER/NAME`.
    Package(&'a str),
    /// `account:LOGIN`.
    Account(&'a str),
    /// `repository:OWNER/NAME`.
    Repository(&'a str),
}

impl Change<'_> {
    /// The payload: `<what>:<key>`.
    pub(crate) fn payload(self) -> String {
        match self {
            Change::Token(id) => format!("token:{id}"),
            Change::Package(name) => format!("package:{name}"),
            Change::Account(login) => format!("account:{login}"),
            Change::Repository(repository) => format!("repository:{repository}"),
        }
    }
}

/// Queues `change` on [`CHANNEL`], delivered when the transaction `c`
/// belongs to commits.
pub(crate) async fn notify(c: &impl GenericClient, change: Change<'_>) -> Result<(), Error> {
    execute(
        c,
        "SELECT pg_notify('wharf_packages', $1)",
        &[&change.payload()],
        "announcing a change",
    )
    .await?;
    Ok(())
}
