//! Retention policies: which versions of a package a registry deletes on
//! its own, as GitHub users script with the `delete-package-versions`
//! action.
//!
//! A [`RetentionPolicy`] (whose documentation gives the rules and how
//! they combine) is set on a package, or on an organization as the
//! default of its packages without one of their own.

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

/// Which versions of a package may be deleted without anyone asking.
///
/// A policy is set on a package, or on an organization as the default of
/// its packages that have none of their own (a package's own
/// policy, even one without rules, replaces the default). Its rules:
///
/// - `keep_latest: N`: every version but the N most recent is deleted;
/// - `delete_untagged_after_days: D`: a version without tags pushed D days
///   ago or longer is deleted;
/// - `protected_tags: ["v*", "latest"]`: a version with a tag matching one
///   of these patterns (`*` matches any run of characters, nothing else is
///   special) is never deleted.
///
/// # The rules together
///
/// A live version is deleted when at least one rule says so and nothing
/// protects it, so each rule can be read alone:
///
/// 1. Protected versions are set aside first: those with a tag matching a
///    pattern, and the child manifests of a multi-arch index that the
///    policy keeps (deleting them would break the index's pulls). They are
///    never deleted and **do not count toward N**: `keep_latest: 5` with
///    `protected_tags: ["v*"]` keeps every `v*` release and the five most
///    recent other versions, as `min-versions-to-keep` does with
///    `ignore-versions` in `delete-package-versions`.
/// 2. The untagged child manifests of an index of the package are not
///    judged on their own either (GitHub lists each platform's image as a
///    version without tags, which scripted cleanups famously delete from
///    under their index): they go with their index, once every index
///    listing them goes, and do not count toward N.
/// 3. Of the other versions, ordered newest first (by when they were first
///    pushed, then by id), those after the first N are deleted; and those
///    without tags and at least D days old are deleted, even among the N
///    most recent.
/// 4. A package is never left without a live version: when every live
///    version would go, the newest stays (GitHub refuses to delete a
///    package's last version; delete the package instead).
///
/// Deleted versions are not looked at: the policy only deletes, restorably,
/// as a user's delete would, and a restored version is judged again on the
/// next run.
///
/// # JSON
///
/// Serializes as `{"keep_latest": 10, "delete_untagged_after_days": 30,
/// "protected_tags": ["v*"]}`, each field optional; unknown fields, negative
/// numbers, more than [`MAX_DAYS`] days or [`MAX_PATTERNS`] patterns, and
/// patterns no tag could match are refused with the reason.
///
/// ```
/// use std::collections::HashMap;
/// use wharf_auth::Timestamp;
/// use wharf_packages::RetentionPolicy;
///
/// let policy: RetentionPolicy =
///     serde_json::from_str(r#"{"keep_latest": 2, "protected_tags": ["v*"]}"#)?;
/// policy.validate()?;
/// let versions: Vec<wharf_packages::VersionRecord> = Vec::new(); // from the store
/// let now = Timestamp::from_unix_seconds(1_700_000_000);
/// assert!(policy.select(&versions, now, &HashMap::new()).is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Non-exhaustive so that rules can be added in a minor release: start
/// from `RetentionPolicy::default()` (no rule) and set the fields, then
/// [`validate`](Self::validate) it; or read it from JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "PolicyFields")]
#[non_exhaustive]
pub struct RetentionPolicy {
    /// Keep this many of the most recent unprotected versions; delete the
    /// others. Default `None`: no such rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_latest: Option<u32>,
    /// Delete versions without tags first pushed this many days ago or
    /// longer (at most [`MAX_DAYS`]). Default `None`: no such rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_untagged_after_days: Option<u32>,
    /// Never delete a version with a tag matching one of these (at most
    /// [`MAX_PATTERNS`]). Default none.
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
        // The live indexes listing each digest, by position in `live`.
        let mut parents: HashMap<&Digest, Vec<usize>> = HashMap::new();
        for (i, version) in live.iter().enumerate() {
            for child in children.get(&version.digest).into_iter().flatten() {
                parents.entry(child).or_default().push(i);
            }
        }
        // An untagged child of a live index is not judged alone: it goes
        // when every index listing it goes.
        let follows = |version: &VersionRecord| {
            version.tags.is_empty()
                && parents.contains_key(&version.digest)
                && !kept_anyway.contains(&version.id)
        };
        let cutoff = self
            .delete_untagged_after_days
            .map(|days| u64::from(days) * DAY_SECONDS);
        // Protecting the children of kept indexes can only shrink the
        // candidates, which keeps more versions: repeat until the kept
        // indexes protect nothing new.
        let mut protected_children: HashSet<&Digest> = HashSet::new();
        loop {
            let mut deleted = vec![false; live.len()];
            let mut rank = 0u64;
            for (i, version) in live.iter().enumerate() {
                if follows(version) {
                    deleted[i] = true;
                    continue;
                }
                let protected = self.protects(version)
                    || kept_anyway.contains(&version.id)
                    || protected_children.contains(&version.digest);
                if protected {
                    continue;
                }
                let beyond_n = self.keep_latest.is_some_and(|n| rank >= u64::from(n));
                rank += 1;
                let stale_untagged = version.tags.is_empty()
                    && cutoff.is_some_and(|age| {
                        now.unix_seconds()
                            .saturating_sub(version.created_at.unix_seconds())
                            >= age
                    });
                deleted[i] = beyond_n || stale_untagged;
            }
            // Followers of a kept index are kept, down nested indexes.
            let mut changed = true;
            while changed {
                changed = false;
                for (i, version) in live.iter().enumerate() {
                    if deleted[i]
                        && follows(version)
                        && parents[&version.digest].iter().any(|&p| !deleted[p])
                    {
                        deleted[i] = false;
                        changed = true;
                    }
                }
            }
            let kept_children: HashSet<&Digest> = live
                .iter()
                .enumerate()
                .filter(|&(i, _)| !deleted[i])
                .flat_map(|(_, version)| children.get(&version.digest).into_iter().flatten())
                .collect();
            if kept_children.is_subset(&protected_children) {
                return live
                    .iter()
                    .zip(deleted)
                    .filter(|(_, deleted)| *deleted)
                    .map(|(version, _)| version.id)
                    .collect();
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
    pub fn new(
        id: PackageId,
        name: RepositoryName,
        policy: RetentionPolicy,
        inherited: bool,
    ) -> Self {
        RetainedPackage {
            id,
            name,
            policy,
            inherited,
        }
    }
}

#[cfg(test)]
mod tests {
    use wharf_reference::MediaType;

    use super::*;

    const NOW: u64 = 1_700_000_000;
    const DAY: u64 = DAY_SECONDS;

    /// Version `id`, pushed `age_days` before `NOW`, with `tags`.
    fn version(id: i64, age_days: u64, tags: &[&str]) -> VersionRecord {
        let mut v = VersionRecord::new(
            VersionId::new(id),
            digest(id),
            MediaType::OCI_IMAGE_MANIFEST,
            100,
            Timestamp::from_unix_seconds(NOW - age_days * DAY),
        );
        v.tags = tags.iter().map(|t| t.parse().expect("tag")).collect();
        v
    }

    fn digest(id: i64) -> Digest {
        Digest::sha256(id.to_string().as_bytes())
    }

    fn policy(keep: Option<u32>, days: Option<u32>, patterns: &[&str]) -> RetentionPolicy {
        RetentionPolicy {
            keep_latest: keep,
            delete_untagged_after_days: days,
            protected_tags: patterns
                .iter()
                .map(|p| p.parse().expect("pattern"))
                .collect(),
        }
    }

    fn ids(selected: &[VersionId]) -> Vec<i64> {
        selected.iter().map(|id| id.get()).collect()
    }

    /// Versions 1..=6, oldest first: 1 `v1.0` (60 days), 2 untagged (50),
    /// 3 `v2.0` (40), 4 untagged (20), 5 `dev` (10), 6 `latest` (0).
    fn history() -> Vec<VersionRecord> {
        vec![
            version(1, 60, &["v1.0"]),
            version(2, 50, &[]),
            version(3, 40, &["v2.0"]),
            version(4, 20, &[]),
            version(5, 10, &["dev"]),
            version(6, 0, &["latest"]),
        ]
    }

    #[test]
    fn each_rule_alone_and_together() {
        let table: &[(&str, RetentionPolicy, &[i64])] = &[
            ("no rule deletes nothing", policy(None, None, &[]), &[]),
            (
                "patterns alone delete nothing",
                policy(None, None, &["v*"]),
                &[],
            ),
            ("keep 3", policy(Some(3), None, &[]), &[3, 2, 1]),
            (
                "keep 0 still leaves the newest",
                policy(Some(0), None, &[]),
                &[5, 4, 3, 2, 1],
            ),
            ("keep more than there are", policy(Some(10), None, &[]), &[]),
            ("untagged after 30 days", policy(None, Some(30), &[]), &[2]),
            (
                "untagged after 20 days: exactly 20 counts",
                policy(None, Some(20), &[]),
                &[4, 2],
            ),
            ("untagged after 0 days", policy(None, Some(0), &[]), &[4, 2]),
            (
                "protected versions do not count toward N",
                policy(Some(2), None, &["v*"]),
                &[4, 2],
            ),
            (
                "either rule deletes: untagged among the N newest too",
                policy(Some(4), Some(15), &[]),
                &[4, 2, 1],
            ),
            (
                "a pattern protects from both rules",
                policy(Some(1), Some(1), &["v*", "dev"]),
                &[4, 2],
            ),
            (
                "a whole-tag pattern matches only that tag",
                policy(Some(0), None, &["latest", "v1.0"]),
                &[5, 4, 3, 2],
            ),
        ];
        let versions = history();
        let now = Timestamp::from_unix_seconds(NOW);
        for (case, policy, expected) in table {
            let selected = policy.select(&versions, now, &HashMap::new());
            assert_eq!(ids(&selected), *expected, "{case}");
        }
    }

    #[test]
    fn deleted_versions_are_ignored_and_order_is_by_push_time_then_id() {
        let mut versions = history();
        versions[5].deleted_at = Some(Timestamp::from_unix_seconds(NOW));
        // Same push time as 5: the higher id is the newer.
        versions.push(version(7, 10, &[]));
        let now = Timestamp::from_unix_seconds(NOW);
        let selected = policy(Some(2), None, &[]).select(&versions, now, &HashMap::new());
        assert_eq!(ids(&selected), [4, 3, 2, 1]);
    }

    #[test]
    fn the_last_live_version_stays_even_if_every_rule_deletes_it() {
        let versions = vec![version(1, 90, &[]), version(2, 80, &[])];
        let now = Timestamp::from_unix_seconds(NOW);
        let selected = policy(None, Some(30), &[]).select(&versions, now, &HashMap::new());
        assert_eq!(ids(&selected), [1]);
        assert!(policy(Some(0), None, &[])
            .select(&[], now, &HashMap::new())
            .is_empty());
    }

    #[test]
    fn children_of_a_kept_index_are_protected_and_not_counted() {
        // 10 is a tagged index of 11 and 12 (untagged, old); 20 an index
        // of 21, old and untagged itself.
        let mut index = version(10, 40, &["v1"]);
        index.media_type = MediaType::OCI_IMAGE_INDEX;
        let mut old_index = version(20, 100, &[]);
        old_index.media_type = MediaType::OCI_IMAGE_INDEX;
        let versions = vec![
            version(11, 40, &[]),
            version(12, 40, &[]),
            index,
            version(21, 100, &[]),
            old_index,
            version(30, 1, &["latest"]),
        ];
        let children = HashMap::from([
            (digest(10), vec![digest(11), digest(12)]),
            (digest(20), vec![digest(21)]),
        ]);
        let now = Timestamp::from_unix_seconds(NOW);
        let untagged = policy(None, Some(30), &[]).select(&versions, now, &children);
        assert_eq!(
            ids(&untagged),
            [21, 20],
            "a kept index keeps its children; a deleted one does not"
        );
        let keep_two = policy(Some(2), None, &[]).select(&versions, now, &children);
        assert_eq!(
            ids(&keep_two),
            [21, 20],
            "the children of an index do not take places among the N, and go with it"
        );
        let mut tagged_child = versions.clone();
        tagged_child[3].tags = vec!["arm".parse().expect("tag")];
        let keep_three = policy(Some(3), None, &[]).select(&tagged_child, now, &children);
        assert_eq!(
            ids(&keep_three),
            [20],
            "a tagged child is judged alone, and counts"
        );
    }

    #[test]
    fn patterns_match_whole_tags_with_stars() {
        let table = [
            ("v*", "v1.2", true),
            ("v*", "v", true),
            ("v*", "xv1", false),
            ("*", "anything", true),
            ("*-rc*", "1.0-rc2", true),
            ("*-rc*", "1.0-beta", false),
            ("1.*.*", "1.2.3", true),
            ("1.*.*", "1.2", false),
            ("a*b*a", "aba", true),
            ("a*a", "a", false),
            ("latest", "latest", true),
            ("latest", "latest2", false),
            ("*.sig", "sha256-abc.sig", true),
            ("**", "", true),
        ];
        for (pattern, tag, matches) in table {
            let parsed: TagPattern = pattern.parse().expect("valid");
            assert_eq!(parsed.matches(tag), matches, "{pattern} vs {tag}");
        }
    }

    #[test]
    fn invalid_policies_are_refused_with_the_reason() {
        let table = [
            (r#"{"protected_tags": [""]}"#, "empty"),
            (r#"{"protected_tags": ["v[0-9]"]}"#, "`[` cannot appear"),
            (r#"{"protected_tags": ["a/b"]}"#, "`/` cannot appear"),
            (r#"{"keep_latest": -1}"#, "invalid value"),
            (r#"{"delete_untagged_after_days": 99999}"#, "at most 36500"),
            (r#"{"keep_last": 3}"#, "unknown field"),
            (r#"{"keep_latest": "3"}"#, "invalid type"),
        ];
        for (json, reason) in table {
            let err = serde_json::from_str::<RetentionPolicy>(json)
                .expect_err(json)
                .to_string();
            assert!(err.contains(reason), "{json}: {err}");
        }
        let long = format!(r#"{{"protected_tags": ["{}"]}}"#, "a".repeat(129));
        assert!(serde_json::from_str::<RetentionPolicy>(&long).is_err());
        let many: Vec<String> = (0..=MAX_PATTERNS).map(|n| format!("\"t{n}\"")).collect();
        let many = format!(r#"{{"protected_tags": [{}]}}"#, many.join(","));
        assert!(serde_json::from_str::<RetentionPolicy>(&many)
            .expect_err("too many")
            .to_string()
            .contains("at most 100"));
        let ok: RetentionPolicy =
            serde_json::from_str(r#"{"keep_latest": 3, "protected_tags": ["v*"]}"#).expect("ok");
        assert_eq!(
            serde_json::to_string(&ok).expect("json"),
            r#"{"keep_latest":3,"protected_tags":["v*"]}"#
        );
    }
}
