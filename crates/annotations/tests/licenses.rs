//! `org.opencontainers.image.licenses`: which expressions are SPDX, what is
//! suggested for those that are not.

// Tests may unwrap: a panic there is a failed test with its message.
#![allow(clippy::unwrap_used)]

use wharf_annotations::Licenses;

#[test]
fn spdx_expressions_are_recognised() {
    // (expression, valid, suggestion when invalid)
    let cases: [(&str, bool, Option<&str>); 30] = [
        ("MIT", true, None),
        ("Apache-2.0", true, None),
        ("MIT OR Apache-2.0", true, None),
        ("MIT or Apache-2.0", true, None),
        ("MIT AND BSD-3-Clause", true, None),
        ("(MIT AND BSD-3-Clause) OR Apache-2.0", true, None),
        ("Apache-2.0 WITH LLVM-exception", true, None),
        ("GPL-2.0-only WITH Classpath-exception-2.0", true, None),
        ("GPL-3.0-or-later", true, None),
        ("LGPL-2.1-only", true, None),
        ("MPL-2.0+", true, None),
        // Deprecated, but everywhere in older images.
        ("GPL-2.0", true, None),
        ("GPL-2.0+", true, None),
        ("LGPL-2.1+", true, None),
        ("LicenseRef-Proprietary", true, None),
        (
            "DocumentRef-spdx-tool-1.2:LicenseRef-MIT-Style-2",
            true,
            None,
        ),
        ("0BSD", true, None),
        ("Unlicense", true, None),
        // Not SPDX.
        ("MIT/Apache-2.0", false, Some("MIT OR Apache-2.0")),
        ("Apache 2.0", false, Some("Apache-2.0")),
        ("MIT License", false, None),
        ("GPLv3", false, Some("GPL-3.0-only")),
        ("apache2", false, Some("Apache-2.0")),
        ("BSD", false, Some("BSD-2-Clause")), // the spdx crate's guess: a suggestion only
        ("Proprietary", false, None),
        ("MIT OR", false, None),
        ("(MIT", false, None),
        ("MIT)", false, None),
        ("MIT Apache-2.0", false, None),
        ("MIT WITH Apache-2.0", false, None),
    ];
    for (expression, valid, suggestion) in cases {
        let licenses = Licenses::new(expression);
        assert_eq!(licenses.raw, expression);
        assert_eq!(
            licenses.is_valid_spdx(),
            valid,
            "{expression:?}: {:?}",
            licenses.spdx_error
        );
        assert_eq!(licenses.suggestion.as_deref(), suggestion, "{expression:?}");
        if let Some(suggestion) = suggestion {
            assert!(Licenses::new(suggestion).is_valid_spdx(), "{suggestion}");
        }
    }
}

#[test]
fn the_spdx_error_says_what_and_where() {
    let cases = [
        ("MIT License", "unknown term at character offset 4"),
        ("Apache-2.0 OR", "expected one of"),
        ("(MIT", "unclosed parens"),
        ("Café MIT", "unknown term at character offset 0"),
        ("MIT OR café", "at character offset 7"),
    ];
    for (expression, expected) in cases {
        let error = Licenses::new(expression).spdx_error.unwrap();
        assert!(error.contains(expected), "{expression:?}: {error}");
    }
}
