//! Allowed requests remembered: what makes a client pulling again and
//! again with the same credentials cost one lookup instead of three
//! (the verified bearer token, the stored token behind it, the package's
//! access context) and the decision.
//!
//! An entry says that a request with exactly these `Authorization` bytes
//! may do one action to one repository. It is used only
//! - while the package store's [`Revision`] is the one it was decided
//!   under: a change made through the store, one reported to it (another
//!   replica's, through `CachedStore::invalidate`) or the end of the store
//!   cache's reuse period ends it, exactly as it ends the answers it was
//!   drawn from, so nothing is honoured later than the store itself would
//!   honour it;
//! - before the credentials' own expiry by the registry's clock (a bearer
//!   token's `exp`, a stored token's `expires_at`).
//!
//! Only allowed requests on packages that exist are kept: a denial always
//! takes the full path, so its answer (401, 403, 404 and their messages)
//! is made fresh, and nothing about a request that was refused is
//! remembered; nor is a push allowed because the name is free (the store
//! keeps no answer that a package is missing, since another replica may
//! create it at any moment). A store that gives no revision (an uncached
//! one) keeps nothing.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use wharf_auth::Timestamp;
use wharf_packages::Revision;
use wharf_reference::RepositoryName;

use crate::distribution::auth::Action;

/// How many decisions are kept (the least useful are evicted first).
const CAPACITY: u64 = 10_000;

/// How long an entry stays in memory at most; it stops being used much
/// sooner, when the store's revision moves on.
const KEPT: Duration = Duration::from_secs(60);

/// The remembered decisions. See the [module docs](self).
pub(super) struct Decisions {
    /// By a keyed hash of the request's credentials, repository and
    /// action; the entry holds all three, compared in full, so a collision
    /// is only a miss.
    map: moka::sync::Cache<u64, Arc<Allowed>>,
    hasher: std::hash::RandomState,
}

/// One allowed request.
struct Allowed {
    credentials: Box<[u8]>,
    name: RepositoryName,
    action: Action,
    revision: Revision,
    /// When the credentials stop working, if they do.
    until: Option<Timestamp>,
}

impl Default for Decisions {
    fn default() -> Self {
        Decisions {
            map: moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(KEPT)
                .build(),
            hasher: std::hash::RandomState::new(),
        }
    }
}

impl Decisions {
    /// Whether a request with `credentials` (the `Authorization` header's
    /// bytes, empty without one) was allowed `action` on `name` under
    /// `revision`, and its credentials still work at `now`.
    pub(super) fn allows(
        &self,
        credentials: &[u8],
        name: &RepositoryName,
        action: Action,
        revision: Revision,
        now: Timestamp,
    ) -> bool {
        let Some(entry) = self.map.get(&self.key(credentials, name, action)) else {
            return false;
        };
        entry.revision == revision
            && entry.until.is_none_or(|until| now < until)
            && entry.action == action
            && entry.name == *name
            && *entry.credentials == *credentials
    }

    /// Remembers that the request was allowed, decided from answers of
    /// `revision` (read before the first of them), with credentials that
    /// work until `until`.
    pub(super) fn remember(
        &self,
        credentials: &[u8],
        name: &RepositoryName,
        action: Action,
        revision: Revision,
        until: Option<Timestamp>,
    ) {
        let entry = Allowed {
            credentials: credentials.into(),
            name: name.clone(),
            action,
            revision,
            until,
        };
        self.map
            .insert(self.key(credentials, name, action), Arc::new(entry));
    }

    fn key(&self, credentials: &[u8], name: &RepositoryName, action: Action) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        credentials.hash(&mut hasher);
        name.as_str().hash(&mut hasher);
        action.hash(&mut hasher);
        hasher.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decision_holds_only_for_the_same_request_revision_and_time() {
        let decisions = Decisions::default();
        let name: RepositoryName = "octocat/app".parse().expect("name");
        let other: RepositoryName = "octocat/other".parse().expect("name");
        let revision = Revision::new(3, 7);
        let now = Timestamp::from_unix_seconds(1_700_000_000);
        let until = now.saturating_add(Duration::from_secs(60));
        let credentials = b"Bearer a.b.c";
        decisions.remember(credentials, &name, Action::Pull, revision, Some(until));

        assert!(decisions.allows(credentials, &name, Action::Pull, revision, now));
        // Another action, repository or credentials: not decided.
        assert!(!decisions.allows(credentials, &name, Action::Push, revision, now));
        assert!(!decisions.allows(credentials, &other, Action::Pull, revision, now));
        assert!(!decisions.allows(b"Bearer a.b.d", &name, Action::Pull, revision, now));
        assert!(!decisions.allows(b"", &name, Action::Pull, revision, now));
        // A change in the store, or the next reuse period: decided again.
        assert!(!decisions.allows(credentials, &name, Action::Pull, Revision::new(4, 7), now));
        assert!(!decisions.allows(credentials, &name, Action::Pull, Revision::new(3, 8), now));
        // Credentials past their expiry: decided again (and refused).
        assert!(!decisions.allows(credentials, &name, Action::Pull, revision, until));
    }
}
