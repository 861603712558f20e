//! Retention policies: which versions of a package a registry deletes on
//! its own, as GitHub users script with the `delete-package-versions`
//! action.
//!
//! A [`RetentionPolicy`] is set on a package, or on an organization as the
//! default of its packages that have none of their own (a package's own
//! policy, even one without rules, replaces the default). Its rules:
//!
//! - `keep_latest: N`: every version but the N most recent is deleted;
//! - `delete_untagged_after_days: D`: a version without tags pushed D days
//!   ago or longer is deleted;
//! - `protected_tags: ["v*", "latest"]`: a version with a tag matching one
//!   of these patterns (`*` matches any run of characters, nothing else is
//!   special) is never deleted.
//!
//! # The rules together
//!
//! A live version is deleted when at least one rule says so and nothing
//! protects it, so each rule can be read alone:
//!
//! 1. Protected versions are set aside first: those with a tag matching a
//!    pattern, and the child manifests of a multi-arch index that the
//!    policy keeps (deleting them would break the index's pulls). They are
//!    never deleted and **do not count toward N**: `keep_latest: 5` with
//!    `protected_tags: ["v*"]` keeps every `v*` release and the five most
//!    recent other versions, as `min-versions-to-keep` does with
//!    `ignore-versions` in `delete-package-versions`.
//! 2. Of the other versions, ordered newest first (by when they were first
//!    pushed, then by id), those after the first N are deleted; and those
//!    without tags and at least D days old are deleted, even among the N
//!    most recent.
//! 3. A package is never left without a live version: when every live
//!    version would go, the newest stays (GitHub refuses to delete a
//!    package's last version; delete the package instead).
//!
//! Deleted versions are not looked at: the policy only deletes, restorably,
//! as a user's delete would, and a restored version is judged again on the
//! next run.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use wharf_auth::Timestamp;
use wharf_reference::{Digest, RepositoryName};

use crate::id::{PackageId, VersionId};
use crate::version::VersionRecord;

/// The longest tag pattern: a tag is at most 128 characters.
pub const MAX_PATTERN_LENGTH: usize = 128;
/// The most tag patterns one policy holds.
pub const MAX_PATTERNS: usize = 100;
/// The largest `delete_untagged_after_days` (a hundred years).
pub const MAX_DAYS: u32 = 36_500;
/// Seconds in a day.
const DAY_SECONDS: u64 = 86_400;

/// A pattern of tags: the characters of a tag (`A-Z a-z 0-9 _ . -`), where
/// `*` also matches any run of characters (none included).
///
/// ```
/// use wharf_packages::TagPattern;
///
/// let releases: TagPattern = "v*".parse()?;
/// assert!(releases.matches("v1.2.3"));
/// assert!(releases.matches("v"));
/// assert!(!releases.matches("latest"));
/// let candidates: TagPattern = "*-rc*".parse()?;
/// assert!(candidates.matches("2.0-rc1"));
/// assert!("v[0-9]".parse::<TagPattern>().is_err());
/// # Ok::<(), wharf_packages::RetentionError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagPattern(String);

impl TagPattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `tag` matches the pattern, whole.
    pub fn matches(&self, tag: &str) -> bool {
        let mut parts = self.0.split('*');
        // `split` yields at least one part.
        let first = parts.next().unwrap_or_default();
        let Some(mut rest) = tag.strip_prefix(first) else {
            return false;
        };
        let mut parts: Vec<&str> = parts.collect();
        let Some(last) = parts.pop() else {
            // No `*`: the prefix must be the whole tag.
            return rest.is_empty();
        };
        for part in parts {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.ends_with(last)
    }
}

impl FromStr for TagPattern {
    type Err = RetentionError;

    fn from_str(s: &str) -> Result<TagPattern, RetentionError> {
        let invalid = |reason: &str| RetentionError::InvalidPattern {
            pattern: s.to_owned(),
            reason: reason.to_owned(),
        };
        if s.is_empty() {
            return Err(invalid("it is empty"));
        }
        if s.len() > MAX_PATTERN_LENGTH {
            return Err(invalid("it is longer than a tag can be (128 characters)"));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '*')))
        {
            return Err(invalid(&format!(
                "`{c}` cannot appear in a tag: use letters, digits, `_`, `.`, `-`, and `*` for any run of characters"
            )));
        }
        Ok(TagPattern(s.to_owned()))
    }
}

impl fmt::Display for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for TagPattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for TagPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a retention policy is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RetentionError {
    /// A tag pattern that no tag could be written as.
    #[error("invalid tag pattern `{pattern}`: {reason}")]
    InvalidPattern {
        /// The pattern as given.
        pattern: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Too many tag patterns.
    #[error("a policy holds at most {MAX_PATTERNS} tag patterns, not {0}")]
    TooManyPatterns(usize),
    /// A number of days beyond [`MAX_DAYS`].
    #[error("delete_untagged_after_days is at most {MAX_DAYS}, not {0}")]
    TooManyDays(u32),
}

/// Which versions of a package may be deleted without anyone asking (see
/// the [module documentation](self) for how the rules combine). Serializes
/// as `{"keep_latest": 10, "delete_untagged_after_days": 30,
/// "protected_tags": ["v*"]}`, each field optional; unknown fields are
/// refused.
///
/// ```
/// use std::collections::HashMap;
/// use wharf_auth::Timestamp;
/// use wharf_packages::RetentionPolicy;
///
/// let policy: RetentionPolicy =
///     serde_json::from_str(r#"{"keep_latest": 2, "protected_tags": ["v*"]}"#)?;
/// policy.validate()?;
/// let versions = []; // a package's versions, from the store
/// let now = Timestamp::from_unix_seconds(1_700_000_000);
/// assert!(policy.select(&versions, now, &HashMap::new()).is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Non-exhaustive so that rules can be added in a minor release: build it
/// with `RetentionPolicy::default()` and the `with_` methods, or from JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "PolicyFields")]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// Keep this many of the most recent unprotected versions; delete the
    /// others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_latest: Option<u32>,
    /// Delete versions without tags first pushed this many days ago or
    /// longer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_untagged_after_days: Option<u32>,
    /// Never delete a version with a tag matching one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub protected_tags: Vec<TagPattern>,
}

/// The fields of a policy as read, checked by [`RetentionPolicy::validate`]
/// on their way into one.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFields {
    #[serde(default)]
    keep_latest: Option<u32>,
    #[serde(default)]
    delete_untagged_after_days: Option<u32>,
    #[serde(default)]
    protected_tags: Vec<TagPattern>,
}

impl TryFrom<PolicyFields> for RetentionPolicy {
    type Error = RetentionError;

    fn try_from(fields: PolicyFields) -> Result<Self, RetentionError> {
        let policy = RetentionPolicy {
            keep_latest: fields.keep_latest,
            delete_untagged_after_days: fields.delete_untagged_after_days,
            protected_tags: fields.protected_tags,
        };
        policy.validate()?;
        Ok(policy)
    }
}

impl RetentionPolicy {
    /// With `keep_latest`.
    #[must_use]
    pub fn with_keep_latest(mut self, n: u32) -> Self {
        self.keep_latest = Some(n);
        self
    }

    /// With `delete_untagged_after_days`.
    #[must_use]
    pub fn with_untagged_after_days(mut self, days: u32) -> Self {
        self.delete_untagged_after_days = Some(days);
        self
    }

    /// With `pattern` among the protected tags.
    #[must_use]
    pub fn with_protected_tag(mut self, pattern: TagPattern) -> Self {
        self.protected_tags.push(pattern);
        self
    }

    /// Checks the limits of a policy built in code (one read from JSON was
    /// checked as it was read; its patterns as they were parsed).
    pub fn validate(&self) -> Result<(), RetentionError> {
        if self.protected_tags.len() > MAX_PATTERNS {
            return Err(RetentionError::TooManyPatterns(self.protected_tags.len()));
        }
        match self.delete_untagged_after_days {
            Some(days) if days > MAX_DAYS => Err(RetentionError::TooManyDays(days)),
            _ => Ok(()),
        }
    }

    /// Whether the policy has no rule that deletes anything.
    pub fn deletes_nothing(&self) -> bool {
        self.keep_latest.is_none() && self.delete_untagged_after_days.is_none()
    }

    /// Whether a tag of `version` matches a protected pattern.
    pub fn protects(&self, version: &VersionRecord) -> bool {
        version
            .tags
            .iter()
            .any(|tag| self.protected_tags.iter().any(|p| p.matches(tag.as_str())))
    }

    /// The live versions among `versions` (of one package; deleted ones
    /// are ignored) that the policy deletes at `now`, newest first.
    /// `children` gives, for each index among them, the digests of its
    /// child manifests: those of an index that is kept are protected.
    pub fn select(
        &self,
        versions: &[VersionRecord],
        now: Timestamp,
        children: &HashMap<Digest, Vec<Digest>>,
    ) -> Vec<VersionId> {
        let mut live: Vec<&VersionRecord> = versions.iter().filter(|v| !v.is_deleted()).collect();
        live.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let Some(newest) = live.first().map(|v| v.id) else {
            return Vec::new();
        };
        let mut kept_anyway = HashSet::new();
        let mut deleted = self.select_sorted(&live, now, children, &kept_anyway);
        if deleted.len() == live.len() {
            kept_anyway.insert(newest);
            deleted = self.select_sorted(&live, now, children, &kept_anyway);
        }
        deleted
    }

    /// [`select`](Self::select) over live versions sorted newest first,
    /// with `kept_anyway` protected.
    fn select_sorted(
        &self,
        live: &[&VersionRecord],
        now: Timestamp,
        children: &HashMap<Digest, Vec<Digest>>,
        kept_anyway: &HashSet<VersionId>,
    ) -> Vec<VersionId> {
        let by_tag: HashSet<VersionId> = live
            .iter()
            .filter(|v| self.protects(v) || kept_anyway.contains(&v.id))
            .map(|v| v.id)
            .collect();
        let cutoff = self
            .delete_untagged_after_days
            .map(|days| u64::from(days) * DAY_SECONDS);
        // Protecting children can only shrink the candidates, which keeps
        // more versions: repeat until the kept indexes protect nothing new.
        let mut protected_children: HashSet<&Digest> = HashSet::new();
        loop {
            let mut deleted = Vec::new();
            let mut kept_children: HashSet<&Digest> = HashSet::new();
            let mut rank = 0u64;
            for version in live {
                let protected =
                    by_tag.contains(&version.id) || protected_children.contains(&version.digest);
                let delete = !protected && {
                    let beyond_n = self
                        .keep_latest
                        .is_some_and(|n| rank >= u64::from(n));
                    rank += 1;
                    let stale_untagged = version.tags.is_empty()
                        && cutoff.is_some_and(|age| {
                            now.unix_seconds()
                                .saturating_sub(version.created_at.unix_seconds())
                                >= age
                        });
                    beyond_n || stale_untagged
                };
                if delete {
                    deleted.push(version.id);
                } else if let Some(digests) = children.get(&version.digest) {
                    kept_children.extend(digests);
                }
            }
            if kept_children.is_subset(&protected_children) {
                return deleted;
            }
            protected_children.extend(kept_children);
        }
    }
}

/// A live package with a retention policy in force: its own, or its
/// organization's default.
///
/// Non-exhaustive so that fields can be added in a minor release: a store
/// builds it with [`RetainedPackage::new`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct RetainedPackage {
    /// The package's id.
    pub id: PackageId,
    /// Its name.
    pub name: RepositoryName,
    /// The policy in force.
    pub policy: RetentionPolicy,
    /// Whether the policy is the owner organization's default rather than
    /// the package's own.
    pub inherited: bool,
}

impl RetainedPackage {
    /// Package `id`, named `name`, under `policy` (its own unless
    /// `inherited`).
    pub fn new(id: PackageId, name: RepositoryName, policy: RetentionPolicy, inherited: bool) -> Self {
        RetainedPackage {
            id,
            name,
            policy,
            inherited,
        }
    }
}
