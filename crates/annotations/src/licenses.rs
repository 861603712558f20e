//! [`Licenses`]: the `org.opencontainers.image.licenses` expression as
//! written, with its SPDX verdict.

use serde::{Deserialize, Serialize};
use spdx::{Expression, ParseMode};

/// The `org.opencontainers.image.licenses` value: the text as written (at
/// most 256 characters) and whether it is a valid SPDX license expression.
///
/// The text is kept even when it is not SPDX (`"MIT License"`, `"BSD"`):
/// GitHub shows it all the same, and the verdict lets a UI mark it.
///
/// *Valid* means an SPDX 2.x expression (`AND`, `OR`, `WITH`, parentheses,
/// operators in any case) of identifiers from the SPDX license and
/// exception lists, `LicenseRef-*` and `DocumentRef-*:LicenseRef-*`,
/// as the [`spdx`] crate parses it:
///
/// - accepted: `MIT`, `MIT OR Apache-2.0`, `Apache-2.0 WITH LLVM-exception`,
///   `(MIT AND BSD-3-Clause) OR Apache-2.0`, `LicenseRef-Proprietary`, and
///   deprecated identifiers still common in images, such as `GPL-2.0` and
///   `GPL-2.0+`;
/// - refused: unknown identifiers (`MIT License`, `Apache 2`), `/` instead
///   of `OR` (`MIT/Apache-2.0`), unbalanced parentheses. For these,
///   [`suggestion`](Self::suggestion) holds the canonical form when the
///   `spdx` crate can derive one (`MIT OR Apache-2.0`, `GPL-3.0-only`).
///
/// ```
/// use wharf_annotations::Licenses;
///
/// let ok = Licenses::new("Apache-2.0 WITH LLVM-exception");
/// assert!(ok.is_valid_spdx());
///
/// let sloppy = Licenses::new("MIT/Apache-2.0");
/// assert!(!sloppy.is_valid_spdx());
/// assert_eq!(sloppy.suggestion.as_deref(), Some("MIT OR Apache-2.0"));
/// assert_eq!(sloppy.raw, "MIT/Apache-2.0"); // kept as written
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Licenses {
    /// The expression as written (trimmed, and cut to 256 characters if the
    /// [`Field`](crate::Field) says it was truncated).
    pub raw: String,
    /// Why [`raw`](Self::raw) is not a valid SPDX expression; `None` when
    /// it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spdx_error: Option<String>,
    /// A valid SPDX expression equivalent to an invalid
    /// [`raw`](Self::raw), when one can be derived (`/` to `OR`, `GPLv3`
    /// to `GPL-3.0-only`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// What counts as valid: SPDX syntax and identifiers, deprecated ones
/// included (`GPL-2.0+` is everywhere in images built before SPDX 3);
/// no `/` and no imprecise names, which are not SPDX.
const VALID: ParseMode = ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: true,
    allow_deprecated: true,
    allow_unknown: false,
};

impl Licenses {
    /// Checks `raw` as an SPDX expression and keeps it as written.
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        match Expression::parse_mode(&raw, VALID) {
            Ok(_) => Licenses {
                raw,
                spdx_error: None,
                suggestion: None,
            },
            Err(error) => {
                let suggestion = suggest(&raw);
                Licenses {
                    spdx_error: Some(describe(&raw, &error)),
                    suggestion,
                    raw,
                }
            }
        }
    }

    /// Whether [`raw`](Self::raw) is a valid SPDX license expression.
    pub fn is_valid_spdx(&self) -> bool {
        self.spdx_error.is_none()
    }
}

/// The reason, and where: the `spdx` crate counts bytes, a UI counts
/// characters.
fn describe(raw: &str, error: &spdx::ParseError) -> String {
    match raw.get(..error.span.start) {
        Some(before) => format!(
            "{} at character offset {}",
            error.reason,
            before.chars().count()
        ),
        None => error.reason.to_string(),
    }
}

/// The `spdx` crate's canonical form of a lax expression, if it is a valid
/// one.
fn suggest(raw: &str) -> Option<String> {
    let canonical = Expression::canonicalize(raw).ok()??;
    Expression::parse_mode(&canonical, VALID)
        .is_ok()
        .then_some(canonical)
}
