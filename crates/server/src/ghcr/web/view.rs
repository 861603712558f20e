//! View models: what a page shows, worked out from the records before any
//! markup (which version a pull command names, tagged and untagged
//! versions, dates, short forms of names, digests and URLs).

use wharf_auth::Timestamp;
use wharf_packages::{PackageRecord, VersionRecord};
use wharf_reference::Digest;

/// What a package page shows.
#[derive(Debug, Clone, Copy)]
pub struct PackageView<'a> {
    /// The package, with its metadata.
    pub package: &'a PackageRecord,
    /// Its live versions, newest first (as
    /// [`PackageRecords::list_versions`](wharf_packages::PackageRecords::list_versions)
    /// gives them).
    pub versions: &'a [VersionRecord],
    /// Whether older versions exist beyond `versions`.
    pub more_versions: bool,
    /// The registry host pull commands name (`registry.example:5000`).
    pub host: &'a str,
}

/// The versions of a package page, sorted and chosen for display.
pub(super) struct Versions<'a> {
    /// Tagged versions, newest first.
    pub(super) tagged: Vec<&'a VersionRecord>,
    /// Untagged versions, in the store's order (newest first).
    pub(super) untagged: Vec<&'a VersionRecord>,
    /// The tag a pull command names with its version: `latest` when there
    /// is one, else the most recently moved tag.
    pub(super) latest: Option<(&'a VersionRecord, &'a str)>,
}

impl<'a> PackageView<'a> {
    /// The full name (`owner/app`).
    pub(super) fn name(&self) -> &'a str {
        self.package.name().as_str()
    }

    /// The name without its owner (`app`, `tools/cli`).
    pub(super) fn short_name(&self) -> &'a str {
        short_name(self.package)
    }

    /// The versions, sorted and chosen for display.
    pub(super) fn versions(&self) -> Versions<'a> {
        let mut tagged: Vec<&VersionRecord> = self
            .versions
            .iter()
            .filter(|v| !v.tags.is_empty())
            .collect();
        // Newest first by when the version last changed (a tag moving to it
        // changes it); the store's id order breaks ties.
        tagged.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(b.id.cmp(&a.id)));
        let untagged = self.versions.iter().filter(|v| v.tags.is_empty()).collect();
        let latest = tagged
            .iter()
            .find_map(|v| {
                v.tags
                    .iter()
                    .find(|t| t.as_str() == "latest")
                    .map(|t| (*v, t.as_str()))
            })
            .or_else(|| {
                tagged.first().and_then(|v| {
                    v.tags
                        .iter()
                        .max_by(|a, b| a.as_str().cmp(b.as_str()))
                        .map(|t| (*v, t.as_str()))
                })
            });
        Versions {
            tagged,
            untagged,
            latest,
        }
    }
}

/// A package's name without its owner.
pub(super) fn short_name(package: &PackageRecord) -> &str {
    let name = package.name().as_str();
    name.strip_prefix(package.owner.as_str())
        .map_or(name, |rest| rest.trim_start_matches('/'))
}

/// How a licence is shown.
pub(super) struct LicenceView<'a> {
    /// The expression as written.
    pub(super) raw: &'a str,
    /// Its SPDX page, for a single valid identifier.
    pub(super) spdx_url: Option<String>,
    /// Whether it is a valid SPDX expression.
    pub(super) is_valid_spdx: bool,
    /// A valid expression it probably means, when it is not one.
    pub(super) suggestion: Option<&'a str>,
}

impl<'a> LicenceView<'a> {
    pub(super) fn new(licenses: &'a wharf_annotations::Licenses) -> LicenceView<'a> {
        let single_identifier = licenses
            .raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'+'));
        let is_valid_spdx = licenses.is_valid_spdx();
        LicenceView {
            raw: &licenses.raw,
            spdx_url: (is_valid_spdx && single_identifier).then(|| {
                format!(
                    "https://spdx.org/licenses/{}.html",
                    licenses.raw.trim_end_matches('+')
                )
            }),
            is_valid_spdx,
            suggestion: licenses.suggestion.as_deref(),
        }
    }
}

/// The page path of a package: nested names have their `/` encoded, so
/// the path has exactly one segment after `container/`.
pub(super) fn package_path(owner: &str, short_name: &str) -> String {
    format!(
        "/{owner}/packages/container/{}",
        short_name.replace('/', "%2F")
    )
}

/// The first line of `text`, cut to `max` characters with an ellipsis.
pub(super) fn first_line(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > max {
        let cut: String = line.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    } else {
        line.to_owned()
    }
}

/// A URL as shown: without its scheme and trailing slash.
pub(super) fn display_url(url: &str) -> &str {
    url.trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
}

/// Whether `url` may be a link's target: http(s) only, never
/// `javascript:`, `data:` or anything else.
pub(super) fn is_linkable(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// `sha256:` and the first 12 hex digits.
pub(super) fn short_digest(digest: &Digest) -> String {
    let encoded = digest.encoded();
    format!(
        "{}:{}",
        digest.algorithm().as_str(),
        encoded.get(..12).unwrap_or(encoded)
    )
}

/// A UTC date and time: `(RFC 3339, display)`, as in
/// `("2023-11-16T22:13:20Z", "Nov 16, 2023 22:13 UTC")`.
pub(super) fn format_time(at: Timestamp) -> (String, String) {
    let iso = at.to_rfc3339();
    let display = match iso.parse::<jiff::Timestamp>() {
        Ok(instant) => instant.strftime("%b %-d, %Y %H:%M UTC").to_string(),
        Err(_) => iso.clone(),
    };
    (iso, display)
}
