//! Any UTF-8 string: digest parsing never panics; what parses prints back
//! exactly and re-parses equal; verifying arbitrary content never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_reference::{Digest, Error};

fuzz_target!(|data: &[u8]| {
    // The first line is the digest, the rest is content to verify.
    let (text, content) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(s) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(d) = s.parse::<Digest>() else {
        return;
    };
    assert_eq!(d.as_str(), s, "Display must give back the input");
    assert_eq!(d.to_string().parse::<Digest>().as_ref(), Ok(&d));
    assert_eq!(
        d.as_str(),
        format!("{}:{}", d.algorithm(), d.encoded()),
        "algorithm and encoded part make up the digest"
    );

    match d.verify(content) {
        Ok(()) => assert_eq!(
            Digest::compute(d.algorithm().clone(), content).as_ref(),
            Ok(&d)
        ),
        Err(Error::DigestMismatch { expected, actual }) => {
            assert_eq!(expected, d);
            assert_eq!(actual.algorithm(), d.algorithm());
        }
        Err(Error::UnsupportedAlgorithm(name)) => {
            assert!(!d.algorithm().is_supported());
            assert_eq!(name, d.algorithm().as_str());
        }
        Err(other) => panic!("unexpected verify error {other:?}"),
    }
});
