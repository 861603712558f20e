//! Credentials presented in an `Authorization` header.

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::error::{excerpt, Error};

/// A secret string (a password, a token) that does not show itself in
/// `Debug` output or logs. Read it with [`Secret::expose_secret`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret itself. Call only where it is needed (hashing,
    /// verifying), never to log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Longest `Authorization` header accepted (a bearer token of this crate is
/// far shorter; this bounds work on hostile input).
const MAX_AUTHORIZATION_LEN: usize = 8 * 1024;

/// Base64 as clients send it in Basic credentials: the standard alphabet,
/// padding optional.
const BASIC: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What an `Authorization` header carries.
///
/// ```
/// use wharf_auth::Credentials;
///
/// // `docker login -u octocat` with a personal access token as password:
/// let header = "Basic b2N0b2NhdDp3aGFyZl9wYXRfc2VjcmV0";
/// match Credentials::parse_authorization(header)? {
///     Credentials::Basic { username, password } => {
///         assert_eq!(username, "octocat");
///         assert_eq!(password.expose_secret(), "wharf_pat_secret");
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// assert!(matches!(
///     Credentials::parse_authorization("Bearer abc.def.ghi")?,
///     Credentials::Bearer { .. }
/// ));
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Basic base64(username:password)`.
    Basic {
        /// The username.
        username: String,
        /// The password (for this registry, a personal access token).
        password: Secret,
    },
    /// `Bearer <token>`.
    Bearer {
        /// The token.
        token: Secret,
    },
}

impl Credentials {
    /// Parses an `Authorization` header value. The scheme is
    /// case-insensitive; Basic credentials must be base64 of UTF-8
    /// `username:password`.
    pub fn parse_authorization(header: &str) -> Result<Credentials, Error> {
        let malformed = |reason| Error::MalformedAuthorization { reason };
        if header.len() > MAX_AUTHORIZATION_LEN {
            return Err(malformed("it is longer than 8 KiB"));
        }
        let header = header.trim();
        let (scheme, value) = header.split_once(' ').unwrap_or((header, ""));
        let value = value.trim();
        if value.is_empty() {
            return Err(malformed(
                "expected `<scheme> <credentials>`; the credentials are empty",
            ));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = BASIC
                .decode(value)
                .map_err(|_| malformed("Basic credentials are not valid base64"))?;
            let decoded = String::from_utf8(decoded)
                .map_err(|_| malformed("Basic credentials are not UTF-8"))?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or_else(|| malformed("Basic credentials must be `username:password`"))?;
            Ok(Credentials::Basic {
                username: username.to_owned(),
                password: Secret::new(password),
            })
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Ok(Credentials::Bearer {
                token: Secret::new(value),
            })
        } else {
            Err(Error::UnsupportedScheme {
                scheme: excerpt(scheme),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_headers_parse_by_scheme() {
        let basic = |user: &str, pass: &str| Credentials::Basic {
            username: user.into(),
            password: Secret::new(pass),
        };
        let cases: &[(&str, Result<Credentials, &str>)] = &[
            ("Basic dTpw", Ok(basic("u", "p"))),
            ("basic dTpw", Ok(basic("u", "p"))),
            ("BASIC   dTpw  ", Ok(basic("u", "p"))),
            ("Basic dTo=", Ok(basic("u", ""))),
            ("Basic dTo", Ok(basic("u", ""))),
            ("Basic dTpwOjE=", Ok(basic("u", "p:1"))),
            (
                "Bearer a.b.c",
                Ok(Credentials::Bearer {
                    token: Secret::new("a.b.c"),
                }),
            ),
            ("Basic", Err("expected")),
            ("Basic ", Err("empty")),
            ("Basic !!!", Err("base64")),
            ("Basic dQ==", Err("username:password")),
            ("Basic /w==", Err("UTF-8")),
            (
                "Digest abc",
                Err("unsupported authorization scheme `Digest`"),
            ),
        ];
        for (header, expected) in cases {
            match (Credentials::parse_authorization(header), expected) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{header}"),
                (Err(got), Err(want)) => {
                    assert!(got.to_string().contains(want), "{header}: {got}")
                }
                (got, want) => panic!("{header}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let credentials = Credentials::parse_authorization("Basic dTpodW50ZXIy").expect("valid");
        let debug = format!("{credentials:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn oversized_headers_are_refused_before_decoding() {
        let header = format!("Basic {}", "A".repeat(MAX_AUTHORIZATION_LEN));
        assert!(Credentials::parse_authorization(&header).is_err());
    }
}
