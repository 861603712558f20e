//! Content digests: the image-spec grammar, strict registered algorithms,
//! verification, streaming, and conversions to oci-spec.

#![allow(clippy::unwrap_used)] // tests unwrap what they have just asserted to be valid

use proptest::prelude::*;
use wharf_reference::{Algorithm, Digest, Digester, Error, Part};

const HELLO_SHA256: &str =
    "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
const HELLO_SHA384: &str = "sha384:59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f";
const HELLO_SHA512: &str = "sha512:9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043";

#[test]
fn valid_digests_parse_with_their_algorithm_and_encoding() {
    let cases: [(&str, Algorithm, bool); 6] = [
        (HELLO_SHA256, Algorithm::Sha256, true),
        (HELLO_SHA384, Algorithm::Sha384, true),
        (HELLO_SHA512, Algorithm::Sha512, true),
        (
            "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
            Algorithm::Other("multihash+base58".into()),
            false,
        ),
        (
            "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564",
            Algorithm::Other("sha256+b64u".into()),
            false,
        ),
        ("a.b_c-d:x=", Algorithm::Other("a.b_c-d".into()), false),
    ];
    for (input, algorithm, supported) in cases {
        let d: Digest = input.parse().unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(d.algorithm(), &algorithm, "{input}");
        assert_eq!(d.algorithm().is_supported(), supported, "{input}");
        assert_eq!(d.as_str(), input);
        assert_eq!(d.to_string(), input);
        assert_eq!(format!("{}:{}", d.algorithm(), d.encoded()), input);
    }
}

#[test]
fn invalid_digests_name_the_part_and_offset() {
    let hex = &HELLO_SHA256[7..];
    let cases: Vec<(String, Part, usize)> = vec![
        ("".into(), Part::Digest, 0),
        ("sha256".into(), Part::Digest, 6),
        (":abc".into(), Part::Algorithm, 0),
        ("sha256:".into(), Part::Encoded, 7),
        (format!("SHA256:{hex}"), Part::Algorithm, 0),
        (format!("sha256+:{hex}"), Part::Algorithm, 6),
        (format!("+sha256:{hex}"), Part::Algorithm, 0),
        (format!("sha__256:{hex}"), Part::Algorithm, 4),
        // Upper-case hex is not a sha256 digest.
        (format!("sha256:{}", hex.to_uppercase()), Part::Encoded, 8),
        // Too short, too long.
        ("sha256:abc".into(), Part::Encoded, 10),
        (format!("sha256:{hex}00"), Part::Encoded, 71),
        (format!("sha512:{hex}"), Part::Encoded, 71),
        (format!("sha384:{hex}"), Part::Encoded, 71),
        ("sha256:xyz".into(), Part::Encoded, 7),
        ("other:abc+def".into(), Part::Encoded, 9),
        ("other:abc:def".into(), Part::Encoded, 9),
    ];
    for (input, part, offset) in cases {
        let err = input.parse::<Digest>().expect_err(&input);
        match err {
            Error::Invalid {
                part: p, offset: o, ..
            }
            | Error::Empty { part: p, offset: o } => {
                assert_eq!((p, o), (part, offset), "{input}: {err}")
            }
            other => panic!("{input}: unexpected {other:?}"),
        }
    }
}

#[test]
fn verify_accepts_the_content_and_reports_mismatch_or_unsupported() {
    let d: Digest = HELLO_SHA256.parse().unwrap();
    assert_eq!(d.verify(b"hello"), Ok(()));
    assert!(matches!(
        d.verify(b"world"),
        Err(Error::DigestMismatch { expected, actual }) if expected == d && actual == Digest::sha256(b"world")
    ));
    for registered in [HELLO_SHA384, HELLO_SHA512] {
        assert_eq!(
            registered.parse::<Digest>().unwrap().verify(b"hello"),
            Ok(())
        );
    }
    let other: Digest = "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"
        .parse()
        .unwrap();
    assert_eq!(
        other.verify(b"hello"),
        Err(Error::UnsupportedAlgorithm("multihash+base58".into()))
    );
}

#[test]
fn computed_digests_match_known_values() {
    assert_eq!(Digest::sha256(b"hello").as_str(), HELLO_SHA256);
    for (algorithm, expected) in [
        (Algorithm::Sha256, HELLO_SHA256),
        (Algorithm::Sha384, HELLO_SHA384),
        (Algorithm::Sha512, HELLO_SHA512),
    ] {
        assert_eq!(
            Digest::compute(algorithm, b"hello").unwrap().as_str(),
            expected
        );
    }
    assert!(Digest::compute(Algorithm::Other("md5".into()), b"hello").is_err());
    assert!(Digester::new(Algorithm::Other("md5".into())).is_err());
}

#[test]
fn digester_reports_progress_and_can_peek_without_finishing() {
    let mut d = Digester::new(Algorithm::Sha512).unwrap();
    d.update(b"hel");
    assert_eq!(d.bytes_hashed(), 3);
    assert_eq!(
        d.current(),
        Digest::compute(Algorithm::Sha512, b"hel").unwrap()
    );
    std::io::Write::write_all(&mut d, b"lo").unwrap();
    assert_eq!(d.bytes_hashed(), 5);
    assert_eq!(d.algorithm(), Algorithm::Sha512);
    assert_eq!(d.finish().as_str(), HELLO_SHA512);
}

#[test]
fn digests_travel_through_serde_as_their_string() {
    let d: Digest = HELLO_SHA256.parse().unwrap();
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(json, format!("\"{HELLO_SHA256}\""));
    assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
    assert!(serde_json::from_str::<Digest>("\"sha256:abc\"").is_err());
}

#[test]
fn digests_compare_with_strings_and_look_up_by_str() {
    let d: Digest = HELLO_SHA256.parse().unwrap();
    assert_eq!(d, HELLO_SHA256);
    let set: std::collections::HashSet<Digest> = [d].into_iter().collect();
    assert!(set.contains(HELLO_SHA256));
}

fn lower_hex(len: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(b"0123456789abcdef".to_vec()), len)
        .prop_map(|bytes| String::from_utf8(bytes).expect("ascii"))
}

/// Any digest the image-spec grammar allows.
fn any_digest() -> impl Strategy<Value = String> {
    prop_oneof![
        lower_hex(64).prop_map(|h| format!("sha256:{h}")),
        lower_hex(96).prop_map(|h| format!("sha384:{h}")),
        lower_hex(128).prop_map(|h| format!("sha512:{h}")),
        (
            "[a-z0-9]{1,8}([+._-][a-z0-9]{1,8}){0,3}",
            "[a-zA-Z0-9=_-]{1,80}"
        )
            .prop_filter("registered algorithms are strict", |(a, _)| {
                !matches!(a.as_str(), "sha256" | "sha384" | "sha512")
            })
            .prop_map(|(a, e)| format!("{a}:{e}")),
    ]
}

proptest! {
    #[test]
    fn digest_round_trips_exactly(s in any_digest()) {
        let d: Digest = s.parse().unwrap();
        prop_assert_eq!(d.to_string(), s);
    }

    #[test]
    #[cfg(feature = "oci-spec")]
    fn digest_converts_to_oci_spec_and_back(s in any_digest()) {
        let d: Digest = s.parse().unwrap();
        let theirs = oci_spec::image::Digest::from(&d);
        prop_assert_eq!(theirs.to_string(), s.clone());
        // And oci-spec agrees on what is valid.
        prop_assert_eq!(s.parse::<oci_spec::image::Digest>().ok(), Some(theirs.clone()));
        prop_assert_eq!(Digest::try_from(theirs).unwrap(), d);
    }

    #[test]
    fn digest_parse_agrees_with_oci_spec_on_arbitrary_strings(s in "[a-zA-Z0-9:+._=-]{0,20}(:[0-9a-f]{0,130})?") {
        prop_assert_eq!(s.parse::<Digest>().is_ok(), s.parse::<oci_spec::image::Digest>().is_ok(), "{:?}", s);
    }

    #[test]
    fn digest_parse_never_panics(s in any::<String>()) {
        if let Ok(d) = s.parse::<Digest>() {
            prop_assert_eq!(d.to_string(), s);
            let _ = d.verify(b"");
        }
    }

    #[test]
    fn digester_over_any_chunking_equals_one_shot(data in proptest::collection::vec(any::<u8>(), 0..2048), cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8)) {
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        points.sort_unstable();
        let mut d = Digester::sha256();
        let mut start = 0;
        for p in points.into_iter().chain([data.len()]) {
            d.update(&data[start..p]);
            start = p;
        }
        prop_assert_eq!(d.bytes_hashed(), data.len() as u64);
        let digest = d.finish();
        prop_assert_eq!(&digest, &Digest::sha256(&data));
        prop_assert!(digest.verify(&data).is_ok());
    }
}
