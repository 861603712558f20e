//! The pages' markup, as maud templates: every value interpolated with
//! `(...)` is escaped for where it stands (text or double-quoted
//! attribute), so nothing from a package (name, metadata, tags) can become
//! markup. Nothing here uses `PreEscaped`.

use maud::{html, Markup, DOCTYPE};
use wharf_annotations::{Field, Licenses};
use wharf_auth::{Login, Timestamp};
use wharf_packages::{PackageRecord, VersionRecord};

use super::view::{
    display_url, first_line, format_time, is_linkable, package_path, short_digest, short_name,
    LicenceView, PackageView,
};
use super::{style_href, MAX_PACKAGES};

/// The package icon (an octicon-like box), drawn inline.
const PACKAGE_ICON_PATH: &str = "M8.9 1.1a1.7 1.7 0 0 0-1.8 0L2 4a1.7 1.7 0 0 0-.9 1.5v5a1.7 1.7 0 0 0 .9 1.5l5.1 2.9a1.7 1.7 0 0 0 1.8 0L14 12a1.7 1.7 0 0 0 .9-1.5v-5A1.7 1.7 0 0 0 14 4ZM8 2.4l4.6 2.6L8 7.6 3.4 5Zm-5.4 3.9L7.3 9v4.9l-4.7-2.7Zm6.1 7.6V9l4.7-2.7v4.9Z";

/// A whole document: head with the title and the style sheet, the top
/// bar, then `main`.
fn document(title: &str, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Wharf" }
                link rel="stylesheet" href=(style_href());
            }
            body {
                header.top {
                    span.brand { "Wharf" }
                    span.muted { "Container registry" }
                }
                (main)
            }
        }
    }
}

/// The 404 page: the same whether the package is missing or hidden.
pub(super) fn not_found() -> Markup {
    document(
        "Not found",
        html! {
            main.narrow {
                h1 { "404: not found" }
                p.muted { "This package does not exist, or you need to sign in with a token that may read it. Private packages are not shown to visitors who may not pull them." }
            }
        },
    )
}

/// The 500 page.
pub(super) fn internal_error() -> Markup {
    document(
        "Error",
        html! {
            main.narrow {
                h1 { "Something went wrong" }
                p.muted { "The registry could not read its package records. Try again shortly." }
            }
        },
    )
}

fn visibility_badge(visibility: &str) -> Markup {
    html! { span.badge.(visibility) { (visibility) } }
}

fn command(command: &str) -> Markup {
    html! { pre.command { code { (command) } } }
}

fn time(at: Timestamp) -> Markup {
    let (iso, display) = format_time(at);
    html! { time datetime=(iso) { (display) } }
}

/// A link to an http(s) URL; anything else (`javascript:`...) is shown as
/// text.
pub(super) fn link(href: &str, label: &str) -> Markup {
    html! {
        @if is_linkable(href) {
            a href=(href) rel="nofollow noopener noreferrer" { (label) }
        } @else {
            (label)
        }
    }
}

fn optional_text(label: &str, field: &Option<Field<String>>) -> Markup {
    html! {
        @if let Some(field) = field {
            dt { (label) }
            dd { (field.value) }
        }
    }
}

fn licence(licenses: &Licenses) -> Markup {
    let licence = LicenceView::new(licenses);
    html! {
        dt { "License" }
        dd {
            @match &licence.spdx_url {
                Some(url) => (link(url, licence.raw)),
                None => (licence.raw),
            }
            @if licence.is_valid_spdx {
                " "
                span.spdx title="A valid SPDX license expression" { "SPDX" }
            } @else {
                div.muted.small {
                    "Not an SPDX license expression"
                    @if let Some(suggestion) = licence.suggestion {
                        " (did you mean " code { (suggestion) } "?)"
                    }
                }
            }
        }
    }
}

fn version_row(version: &VersionRecord) -> Markup {
    html! {
        tr {
            td {
                @if version.tags.is_empty() {
                    span.muted { "untagged" }
                }
                @for tag in &version.tags {
                    span.tag { (tag.as_str()) }
                }
            }
            td { code.digest title=(version.digest) { (short_digest(&version.digest)) } }
            td {
                @if version.platforms.is_empty() {
                    span.muted { "—" }
                }
                @for platform in &version.platforms {
                    span.platform { (platform) }
                }
            }
            td { (time(version.updated_at)) }
        }
    }
}

fn plural(count: impl Into<u64>) -> &'static str {
    if count.into() == 1 {
        ""
    } else {
        "s"
    }
}

/// The pull commands: by the latest tag and its digest, or by digest.
fn pull_commands(view: &PackageView<'_>, latest: Option<(&VersionRecord, &str)>) -> Markup {
    let (host, name) = (view.host, view.name());
    html! {
        section.card {
            h2 { "Install from the command line" }
            @if let Some((version, tag)) = latest {
                (command(&format!("docker pull {host}/{name}:{tag}")))
                h3 { "Pull by digest" }
                p.muted.small.hint { "Always the same image, whatever the tags do later." }
                (command(&format!("docker pull {host}/{name}@{}", version.digest)))
            } @else if let Some(version) = view.versions.first() {
                p.muted.small { "This package has no tags: pull it by digest." }
                (command(&format!("docker pull {host}/{name}@{}", version.digest)))
            } @else {
                p.muted { "This package has no versions yet." }
            }
        }
    }
}

/// The details sidebar: licence, source, the other annotations, counts
/// and dates.
fn details(package: &PackageRecord) -> Markup {
    let meta = &package.metadata;
    html! {
        aside.details {
            h2 { "Details" }
            dl {
                @if let Some(licenses) = &meta.licenses {
                    (licence(&licenses.value))
                }
                @if let Some(source) = &meta.source {
                    dt { "Source repository" }
                    dd {
                        (link(source.value.as_str(), display_url(source.value.as_str())))
                        @if let Some(repository) = package.linked_repository() {
                            div.muted.small { "Linked to " (repository.as_str()) }
                        }
                    }
                } @else if let Some(repository) = package.linked_repository() {
                    dt { "Linked repository" }
                    dd { (repository.as_str()) }
                }
                (optional_text("Title", &meta.title))
                (optional_text("Version", &meta.version))
                (optional_text("Revision", &meta.revision))
                (optional_text("Vendor", &meta.vendor))
                (optional_text("Authors", &meta.authors))
                @for (label, url) in [("Homepage", &meta.url), ("Documentation", &meta.documentation)] {
                    @if let Some(url) = url {
                        dt { (label) }
                        dd { (link(url.value.as_str(), display_url(url.value.as_str()))) }
                    }
                }
                @if let Some(created) = &meta.created {
                    dt { "Image created" }
                    dd { (created.value.raw) }
                }
                (optional_text("Base image", &meta.base_name))
                dt { "Versions" }
                dd { (package.version_count) }
                dt { "Published" }
                dd { (time(package.created_at)) }
                dt { "Last updated" }
                dd { (time(package.updated_at)) }
            }
        }
    }
}

/// A package page.
pub(super) fn package_page(view: &PackageView<'_>) -> Markup {
    let package = view.package;
    let owner = package.owner.as_str();
    let versions = view.versions();
    let main = html! {
        main {
            div.title {
                svg.icon viewBox="0 0 16 16" width="28" height="28" aria-hidden="true" {
                    path fill="currentColor" d=(PACKAGE_ICON_PATH) {}
                }
                h1 {
                    a.owner href={ "/" (owner) "/packages" } { (owner) }
                    span.slash { "/" }
                    span.name { (view.short_name()) }
                }
                (visibility_badge(package.visibility().as_str()))
            }
            div.layout {
                div.content {
                    @match &package.metadata.description {
                        Some(description) => section.description { p { (description.value) } },
                        None => section.description.empty {
                            p {
                                "No description provided. Add an "
                                code { "org.opencontainers.image.description" }
                                " label or annotation to the image to show one here."
                            }
                        },
                    }
                    (pull_commands(view, versions.latest))
                    section.card {
                        h2 { "Tags" }
                        @if versions.tagged.is_empty() {
                            p.muted { "No tagged versions." }
                        } @else {
                            table {
                                thead { tr { th { "Tag" } th { "Digest" } th { "Platforms" } th { "Published" } } }
                                tbody { @for version in &versions.tagged { (version_row(version)) } }
                            }
                        }
                        @if !versions.untagged.is_empty() {
                            details {
                                summary {
                                    (versions.untagged.len()) " untagged version"
                                    (plural(versions.untagged.len() as u64))
                                }
                                table { tbody { @for version in &versions.untagged { (version_row(version)) } } }
                            }
                        }
                        @if view.more_versions {
                            p.muted.small {
                                "Showing the " (view.versions.len()) " newest versions of "
                                (package.version_count) "."
                            }
                        }
                    }
                }
                (details(package))
            }
        }
    };
    document(view.name(), main)
}

/// An owner's package list: `packages` are those the viewer may see, in
/// name order.
pub(super) fn owner_page(owner: &Login, packages: &[PackageRecord], more: bool) -> Markup {
    let main = html! {
        main.narrow {
            div.title {
                h1 { (owner.as_str()) span.slash { "/" } span.name { "packages" } }
            }
            @if packages.is_empty() {
                p.muted { "No packages you can see." }
            }
            ul.packages {
                @for package in packages {
                    @let short = short_name(package);
                    li {
                        div.row {
                            a.package href=(package_path(owner.as_str(), short)) { (short) }
                            (visibility_badge(package.visibility().as_str()))
                        }
                        @if let Some(description) = &package.metadata.description {
                            p.summary { (first_line(&description.value, 160)) }
                        }
                        p.muted.small {
                            (package.version_count) " version" (plural(package.version_count))
                            " · updated " (time(package.updated_at))
                        }
                    }
                }
            }
            @if more {
                p.muted.small { "Showing the first " (MAX_PACKAGES) " packages." }
            }
        }
    };
    document(&format!("{owner}: packages"), main)
}
