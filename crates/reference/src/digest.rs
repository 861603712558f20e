use std::sync::Arc;

use crate::digester::Digester;
use crate::error::{Error, Part};
use crate::grammar;

/// A digest algorithm.
///
/// `sha256`, `sha384` and `sha512` are verified strictly (lower-case hex of
/// the right length) and can be computed; any other well-formed algorithm is
/// representable as [`Algorithm::Other`] but cannot be verified.
///
/// The OCI image-spec registers `sha256` and `sha512`; `sha384` is accepted
/// too because docker's `go-digest` and `oci-spec` both know it, so a digest
/// that parses here always converts to an `oci_spec::image::Digest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// SHA-256, 64 lower-case hex characters. The registry default.
    Sha256,
    /// SHA-384, 96 lower-case hex characters.
    Sha384,
    /// SHA-512, 128 lower-case hex characters.
    Sha512,
    /// Any other algorithm that matches the image-spec grammar.
    Other(Box<str>),
}

impl Algorithm {
    /// The algorithm as written in a digest (`sha256`).
    pub fn as_str(&self) -> &str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
            Algorithm::Other(s) => s,
        }
    }

    /// Parses an algorithm as written in a digest (`sha256`). Equivalent to
    /// `s.parse()`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "sha256" => Algorithm::Sha256,
            "sha384" => Algorithm::Sha384,
            "sha512" => Algorithm::Sha512,
            other => {
                grammar::algorithm(other)?;
                Algorithm::Other(other.into())
            }
        })
    }

    /// Whether this crate can compute and verify digests of this algorithm.
    pub fn is_supported(&self) -> bool {
        !matches!(self, Algorithm::Other(_))
    }

    /// The length of the hex encoding for supported algorithms.
    pub fn encoded_len(&self) -> Option<usize> {
        match self {
            Algorithm::Sha256 => Some(64),
            Algorithm::Sha384 => Some(96),
            Algorithm::Sha512 => Some(128),
            Algorithm::Other(_) => None,
        }
    }
}

crate::string_type!(Algorithm: Error, "a digest algorithm such as `sha256`");

/// A content digest, `algorithm:encoded`, as the OCI image-spec defines it.
///
/// Valid by construction: parsing checks the grammar, and for `sha256`,
/// `sha384` and `sha512` the exact length and lower-case hex. Cheap to clone.
///
/// ```
/// use wharf_reference::{Algorithm, Digest};
///
/// let d = Digest::sha256(b"hello");
/// assert_eq!(d.algorithm(), &Algorithm::Sha256);
/// assert_eq!(
///     d.to_string(),
///     "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
/// );
/// assert!(d.verify(b"hello").is_ok());
/// assert!(d.verify(b"world").is_err());
///
/// // Upper-case hex is not a sha256 digest.
/// assert!("sha256:2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824"
///     .parse::<Digest>()
///     .is_err());
/// ```
#[derive(Clone)]
pub struct Digest {
    repr: Arc<str>,
    colon: usize,
    algorithm: Algorithm,
}

impl Digest {
    /// Parses `algorithm:encoded`. Equivalent to `s.parse()`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let Some(colon) = s.find(':') else {
            return Err(if s.is_empty() {
                Error::empty(Part::Digest)
            } else {
                Error::invalid(
                    Part::Digest,
                    s.len(),
                    "a digest is `algorithm:encoded`; the `:` is missing",
                )
            });
        };
        let (alg, enc) = (&s[..colon], &s[colon + 1..]);
        let algorithm: Algorithm = alg.parse()?;
        grammar::encoded(enc).map_err(|e| e.shifted(colon + 1))?;
        if let Some(len) = algorithm.encoded_len() {
            grammar::lower_hex(enc, len).map_err(|e| e.shifted(colon + 1))?;
        }
        Ok(Digest {
            repr: s.into(),
            colon,
            algorithm,
        })
    }

    /// The SHA-256 digest of `data`.
    pub fn sha256(data: &[u8]) -> Self {
        let mut d = Digester::new(Algorithm::Sha256).expect("sha256 is supported");
        d.update(data);
        d.finish()
    }

    /// The digest of `data` under `algorithm`.
    pub fn compute(algorithm: Algorithm, data: &[u8]) -> Result<Self, Error> {
        let mut d = Digester::new(algorithm)?;
        d.update(data);
        Ok(d.finish())
    }

    pub(crate) fn from_parts(algorithm: Algorithm, hex: &str) -> Self {
        let repr: Arc<str> = format!("{}:{}", algorithm.as_str(), hex).into();
        Digest {
            colon: algorithm.as_str().len(),
            repr,
            algorithm,
        }
    }

    /// The algorithm (`sha256`).
    pub fn algorithm(&self) -> &Algorithm {
        &self.algorithm
    }

    /// The encoded part after the `:` (the hex string for sha256).
    pub fn encoded(&self) -> &str {
        &self.repr[self.colon + 1..]
    }

    /// The whole digest, `algorithm:encoded`.
    pub fn as_str(&self) -> &str {
        &self.repr
    }

    /// Checks that `data` hashes to this digest.
    ///
    /// Fails with [`Error::UnsupportedAlgorithm`] for algorithms this crate
    /// cannot compute and with [`Error::DigestMismatch`] when the content
    /// differs.
    pub fn verify(&self, data: &[u8]) -> Result<(), Error> {
        let actual = Digest::compute(self.algorithm.clone(), data)?;
        if actual == *self {
            Ok(())
        } else {
            Err(Error::DigestMismatch {
                expected: self.clone(),
                actual,
            })
        }
    }
}

crate::string_type!(
    Digest: Error,
    "a digest string such as `sha256:<64 hex>`";
    Debug,
    Borrow,
    OrdByStr
);

crate::oci_spec_conversions! {
    impl From<&Digest> for oci_spec::image::Digest {
        fn from(d: &Digest) -> Self {
            // Our grammar is the image-spec grammar, which oci-spec also parses,
            // with the same strict lengths for sha256, sha384 and sha512; a
            // failure here would be a bug in one of the two parsers (the
            // `digest_converts_to_oci_spec_and_back` property test guards it).
            d.as_str()
                .parse()
                .expect("a valid wharf digest is a valid oci-spec digest")
        }
    }

    impl TryFrom<&oci_spec::image::Digest> for Digest {
        type Error = Error;
        fn try_from(d: &oci_spec::image::Digest) -> Result<Self, Error> {
            d.to_string().parse()
        }
    }
}
