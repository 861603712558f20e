#![allow(clippy::unwrap_used)]
//! The pages' markup and view models, rendered without a store.

use wharf_annotations::{Field, Licenses};
use wharf_auth::Timestamp;
use wharf_packages::{PackageRecord, VersionRecord};
use wharf_reference::RepositoryName;

use super::routes::is_plausible_host;
use super::templates::link;
use super::view::{format_time, package_path, short_digest};
use super::{render_package_page, PackageView};
use wharf_annotations::{Origin, PackageMetadata};
use wharf_auth::{Package, Visibility};
use wharf_packages::{PackageId, VersionId};
use wharf_reference::Digest;

/// A package with no metadata.
fn record(name: &str, visibility: Visibility) -> PackageRecord {
    let name: RepositoryName = name.parse().unwrap();
    let mut package = Package::new(name.clone());
    package.visibility = visibility;
    let mut record = PackageRecord::new(
        PackageId::new(1),
        name.namespace().parse().unwrap(),
        package,
        Timestamp::from_unix_seconds(1_700_000_000),
    );
    record.version_count = 2;
    record.updated_at = Timestamp::from_unix_seconds(1_700_086_400);
    record
}

fn version(id: i64, body: &[u8], tags: &[&str], platforms: &[&str], at: u64) -> VersionRecord {
    let mut version = VersionRecord::new(
        VersionId::new(id),
        Digest::sha256(body),
        wharf_reference::MediaType::OCI_IMAGE_MANIFEST,
        body.len() as u64,
        Timestamp::from_unix_seconds(at),
    );
    version.tags = tags.iter().map(|t| t.parse().unwrap()).collect();
    version.platforms = platforms.iter().map(|p| (*p).to_owned()).collect();
    version
}

/// The public `alice/app`, with the metadata `edit` gives it.
fn with_metadata(edit: impl FnOnce(&mut PackageMetadata)) -> PackageRecord {
    let mut record = record("alice/app", Visibility::Public);
    edit(&mut record.metadata);
    record
}

fn described(description: &str) -> PackageRecord {
    with_metadata(|m| m.description = Some(Field::new(description.to_owned(), Origin::ConfigLabel)))
}

fn render(package: &PackageRecord, versions: &[VersionRecord]) -> String {
    render_package_page(&PackageView {
        package,
        versions,
        more_versions: false,
        host: "registry.example:5000",
    })
}

#[test]
fn a_description_with_markup_is_shown_as_text_with_its_line_breaks() {
    let package = described("First line <script>alert('x')</script>\nSecond <b>line</b>");
    let html = render(&package, &[]);
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    // maud escapes `&<>"`; a `'` needs none in text or in the
    // double-quoted attributes maud always writes.
    assert!(html.contains(
        "First line &lt;script&gt;alert('x')&lt;/script&gt;\nSecond &lt;b&gt;line&lt;/b&gt;"
    ));
    // The line breaks show through the linked style sheet.
    assert!(html.contains(r#"<link rel="stylesheet" href="/_wharf/style.css?v="#));
    assert!(
        super::STYLE.contains(".description p{margin:0 0 24px;font-size:16px;white-space:pre-wrap")
    );
}

#[test]
fn the_page_holds_no_script_at_all() {
    let package = described("x");
    let html = render(&package, &[version(1, b"a", &["1.0"], &[], 1_700_000_000)]);
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(!html.contains("javascript:"));
}

/// The pull commands name the host, and the tag `latest` when a version
/// has it, else the most recent tag (none when nothing is tagged); and the
/// digest of the version pulled.
#[test]
fn pull_commands_name_the_host_a_tag_and_a_digest() {
    let latest = [
        version(2, b"new", &["2.0"], &[], 1_700_000_200),
        version(1, b"old", &["1.0", "latest"], &[], 1_700_000_100),
    ];
    let most_recent = [
        version(1, b"old", &["1.0"], &[], 1_700_000_100),
        version(2, b"new", &["2.0"], &[], 1_700_000_200),
    ];
    let untagged = [version(1, b"x", &[], &[], 1_700_000_000)];
    let cases = [
        ("alice/app", &latest[..], Some("latest"), "old"),
        ("acme/tools/cli", &most_recent[..], Some("2.0"), "new"),
        ("alice/app", &untagged[..], None, "x"),
    ];
    for (name, versions, tag, pulled) in cases {
        let html = render(&record(name, Visibility::Public), versions);
        let pull = format!("docker pull registry.example:5000/{name}");
        let case = format!("{name} tagged {tag:?}");
        match tag {
            Some(tag) => assert!(html.contains(&format!("{pull}:{tag}")), "{case}: {html}"),
            None => {
                assert!(html.contains("1 untagged version<"), "{case}: {html}");
                assert!(!html.contains(&format!("{name}:")), "{case}: {html}");
            }
        }
        let by_digest = format!("{pull}@{}", Digest::sha256(pulled.as_bytes()));
        assert!(html.contains(&by_digest), "{case}: {html}");
    }
}

#[test]
fn tags_are_listed_newest_first_with_digests_platforms_and_dates() {
    let package = record("alice/app", Visibility::Public);
    let versions = [
        version(1, b"old", &["1.0"], &[], 1_700_000_000),
        version(
            3,
            b"index",
            &["2.0"],
            &["linux/amd64", "linux/arm64/v8"],
            1_700_172_800,
        ),
        version(2, b"mid", &["1.5"], &[], 1_700_086_400),
    ];
    let html = render(&package, &versions);
    let at = |needle: &str| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} missing"))
    };
    assert!(at(">2.0<") < at(">1.5<") && at(">1.5<") < at(">1.0<"));
    assert!(html.contains(">linux/amd64<") && html.contains(">linux/arm64/v8<"));
    assert!(html.contains(&short_digest(&Digest::sha256(b"index"))));
    assert!(html.contains("Nov 16, 2023"), "{html}");
    assert!(html.contains(r#"datetime="2023-11-16T22:13:20Z""#));
}

#[test]
fn licences_show_an_spdx_note_only_when_valid() {
    let cases = [
        ("MIT", true, Some("https://spdx.org/licenses/MIT.html")),
        ("MIT OR Apache-2.0", true, None),
        ("MIT/Apache-2.0", false, None),
    ];
    for (raw, valid, link) in cases {
        let package = with_metadata(|m| {
            m.licenses = Some(Field::new(Licenses::new(raw), Origin::ConfigLabel));
        });
        let html = render(&package, &[]);
        assert_eq!(html.contains(r#"class="spdx""#), valid, "{raw}");
        assert_eq!(
            html.contains("Not an SPDX license expression"),
            !valid,
            "{raw}"
        );
        if let Some(link) = link {
            assert!(html.contains(link), "{raw}");
        }
    }
    let package = with_metadata(|m| {
        m.licenses = Some(Field::new(
            Licenses::new("MIT/Apache-2.0"),
            Origin::ConfigLabel,
        ));
    });
    let html = render(&package, &[]);
    assert!(html.contains("did you mean <code>MIT OR Apache-2.0</code>"));
}

#[test]
fn the_source_url_is_a_link() {
    let package = with_metadata(|m| {
        m.source = Some(Field::new(
            "https://code.example/alice/app".parse().unwrap(),
            Origin::ConfigLabel,
        ));
    });
    let html = render(&package, &[]);
    assert!(html.contains(r#"<a href="https://code.example/alice/app" rel="nofollow noopener noreferrer">code.example/alice/app</a>"#), "{html}");
}

#[test]
fn only_http_urls_become_links() {
    let html = link("javascript:alert(1)", "click").into_string()
        + &link("https://ok.example/", "ok").into_string();
    assert_eq!(
        html,
        r#"click<a href="https://ok.example/" rel="nofollow noopener noreferrer">ok</a>"#
    );
}

#[test]
fn the_visibility_badge_names_the_visibility() {
    for visibility in [
        Visibility::Public,
        Visibility::Private,
        Visibility::Internal,
    ] {
        let html = render(&record("alice/app", visibility), &[]);
        assert!(html.contains(&format!(
            r#"<span class="badge {visibility}">{visibility}</span>"#
        )));
    }
}

#[test]
fn dates_are_utc_calendar_dates() {
    let cases = [
        (0, "1970-01-01T00:00:00Z", "Jan 1, 1970 00:00 UTC"),
        (
            951_782_400,
            "2000-02-29T00:00:00Z",
            "Feb 29, 2000 00:00 UTC",
        ),
        (
            1_709_251_199,
            "2024-02-29T23:59:59Z",
            "Feb 29, 2024 23:59 UTC",
        ),
        (
            4_102_444_800,
            "2100-01-01T00:00:00Z",
            "Jan 1, 2100 00:00 UTC",
        ),
    ];
    for (secs, iso, display) in cases {
        let (got_iso, got_display) = format_time(Timestamp::from_unix_seconds(secs));
        assert_eq!(
            (got_iso.as_str(), got_display.as_str()),
            (iso, display),
            "{secs}"
        );
    }
}

#[test]
fn nested_package_links_encode_their_slashes() {
    assert_eq!(package_path("acme", "app"), "/acme/packages/container/app");
    assert_eq!(
        package_path("acme", "app/release"),
        "/acme/packages/container/app%2Frelease"
    );
}

#[test]
fn hosts_from_requests_are_accepted_only_when_plausible() {
    for (host, ok) in [
        ("registry.example", true),
        ("127.0.0.1:5000", true),
        ("[::1]:5000", true),
        ("", false),
        ("evil.example/<script>", false),
        ("a b", false),
    ] {
        assert_eq!(is_plausible_host(host), ok, "{host:?}");
    }
}

/// What an attacker's value must not become: markup, an attribute, a
/// script or a clickable `javascript:` link.
fn assert_inert(html: &str) {
    let lower = html.to_ascii_lowercase();
    for bad in ["<script", "<img", "href=\"javascript:", "<b>", "<iframe"] {
        assert!(!lower.contains(bad), "{bad} in {html}");
    }
}

#[test]
fn a_javascript_source_url_is_text_not_a_link() {
    for url in [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
    ] {
        let package = with_metadata(|m| {
            m.source = Some(Field::new(url.parse().unwrap(), Origin::ConfigLabel));
            m.url = Some(Field::new(url.parse().unwrap(), Origin::ConfigLabel));
            m.documentation = Some(Field::new(url.parse().unwrap(), Origin::ConfigLabel));
        });
        let html = render(&package, &[]);
        assert_inert(&html);
        assert!(
            !html.to_ascii_lowercase().contains("href=\"data:"),
            "{html}"
        );
        assert!(html.contains("<dt>Source repository</dt><dd>"), "{html}");
    }
}

#[test]
fn annotations_that_try_to_break_out_of_an_attribute_stay_text() {
    let attack = r#""><img src=x onerror=alert(1)>'"#;
    let package = with_metadata(|m| {
        for field in [
            &mut m.title,
            &mut m.version,
            &mut m.revision,
            &mut m.vendor,
            &mut m.authors,
            &mut m.base_name,
            &mut m.description,
        ] {
            *field = Some(Field::new(attack.to_owned(), Origin::ManifestAnnotation));
        }
        m.licenses = Some(Field::new(
            Licenses::new(attack),
            Origin::ManifestAnnotation,
        ));
        m.created = Some(Field::new(
            wharf_annotations::Timestamp::new(attack),
            Origin::ManifestAnnotation,
        ));
    });
    let html = render(&package, &[]);
    assert_inert(&html);
    let escaped = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'";
    // Title, version, revision, vendor, authors, base image, description,
    // licence and created: each shown, as text.
    assert!(html.matches(escaped).count() >= 9, "{html}");
}

#[test]
fn a_source_url_with_quotes_stays_inside_its_attribute() {
    let package = with_metadata(|m| {
        m.source = Some(Field::new(
            r#"https://code.example/a"onmouseover="alert(1)'x"#.parse().unwrap(),
            Origin::ConfigLabel,
        ));
    });
    let html = render(&package, &[]);
    assert_inert(&html);
    assert!(
        !html.contains(r#"" onmouseover"#) && !html.contains(r#""onmouseover="#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="https://code.example/a%22onmouseover=%22alert(1)'x""#),
        "{html}"
    );
}

#[test]
fn platforms_and_owner_list_descriptions_stay_text() {
    let package = described("<script>alert(1)</script> and \"quotes\"");
    let html = render(
        &package,
        &[version(
            1,
            b"a",
            &["1.0"],
            &["linux/<script>"],
            1_700_000_000,
        )],
    );
    assert_inert(&html);
    assert!(html.contains(r#"<span class="platform">linux/&lt;script&gt;</span>"#));
    let list = super::render_owner_page(&"alice".parse().unwrap(), &[package], false);
    assert_inert(&list);
    assert!(
        list.contains(
            r#"<p class="summary">&lt;script&gt;alert(1)&lt;/script&gt; and &quot;quotes&quot;</p>"#
        ),
        "{list}"
    );
}

#[test]
fn pages_link_the_style_sheet_and_have_no_inline_style() {
    let html = render(&described("x"), &[]);
    assert!(
        !html.contains("<style") && !html.contains(" style="),
        "{html}"
    );
    assert_eq!(html.matches(r#"rel="stylesheet""#).count(), 1);
    let not_found = super::templates::not_found().into_string();
    assert!(not_found.contains(super::style_href()));
    assert!(super::routes::CONTENT_SECURITY_POLICY.contains("style-src 'self';"));
    assert!(!super::routes::CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
}
