//! Any UTF-8 string: parsing never panics; what parses prints back exactly
//! and re-parses equal; normalization never panics and is idempotent, and
//! the familiar form normalizes back to the same reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_reference::Reference;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Reference::parse_normalized(s);
    let Ok(r) = s.parse::<Reference>() else {
        return;
    };
    let written = r.to_string();
    assert_eq!(written, s, "Display must give back the input");
    assert_eq!(written.parse::<Reference>().as_ref(), Ok(&r));

    let familiar: Reference = r
        .to_familiar_string()
        .parse()
        .expect("a familiar form parses");
    if let Ok(n) = r.normalized() {
        assert_eq!(
            n.normalized().as_ref(),
            Ok(&n),
            "normalized() is idempotent"
        );
        assert_eq!(familiar.normalized().as_ref(), Ok(&n));
        assert_eq!(n.to_string().parse::<Reference>().as_ref(), Ok(&n));
    }
});
