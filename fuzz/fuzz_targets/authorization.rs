//! Any string as an `Authorization` header: parsing never panics; Basic
//! credentials re-encode to a header that parses to the same username and
//! password; a Bearer token is the trimmed value; the registry's fast path
//! for bearer JWTs agrees with the general parser; `Debug` never shows a
//! secret.
#![no_main]

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use wharf_auth::{Credentials, Secret};
use wharf_server::fuzzing;

/// The longest header `Credentials::parse_authorization` reads.
const MAX: usize = 8 * 1024;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = Credentials::parse_authorization(header);
    if let Err(err) = &parsed {
        assert!(!err.to_string().is_empty());
    }

    // The registry's fast path takes a bearer JWT without the general
    // parser: it must find exactly what the parser finds.
    if let Some(jwt) = fuzzing::bearer_jwt(header) {
        assert_eq!(jwt.bytes().filter(|&b| b == b'.').count(), 2, "{header:?}");
        if header.len() <= MAX {
            match &parsed {
                Ok(Credentials::Bearer { token }) => assert_eq!(token.expose_secret(), jwt),
                other => panic!("fast path took {header:?} as a bearer JWT, the parser: {other:?}"),
            }
        }
    }

    match parsed {
        Ok(Credentials::Basic { username, password }) => {
            assert!(
                !username.contains(':'),
                "the username ends at the first `:`"
            );
            // Written back as a client would, padded or not, the header
            // gives the same credentials.
            let plain = format!("{username}:{}", password.expose_secret());
            for encoded in [STANDARD.encode(&plain), STANDARD_NO_PAD.encode(&plain)] {
                let again = format!("Basic {encoded}");
                if again.len() > MAX {
                    continue;
                }
                match Credentials::parse_authorization(&again) {
                    Ok(Credentials::Basic {
                        username: u,
                        password: p,
                    }) => {
                        assert_eq!(u, username);
                        assert_eq!(p, password);
                    }
                    other => panic!("{again:?} re-parsed as {other:?}"),
                }
            }
            let debug = format!(
                "{:?}",
                Credentials::Basic {
                    username: username.clone(),
                    password: password.clone()
                }
            );
            let redacted = format!(
                "{:?}",
                Credentials::Basic {
                    username,
                    password: Secret::new("")
                }
            );
            assert_eq!(debug, redacted, "Debug shows nothing of the password");
        }
        Ok(Credentials::Bearer { token }) => {
            let (scheme, value) = header.trim().split_once(' ').expect("a scheme and a value");
            assert!(scheme.eq_ignore_ascii_case("bearer"));
            assert_eq!(token.expose_secret(), value.trim());
            assert!(!token.expose_secret().is_empty());
            assert_eq!(
                format!("{:?}", Credentials::Bearer { token }),
                format!(
                    "{:?}",
                    Credentials::Bearer {
                        token: Secret::new("")
                    }
                )
            );
        }
        Err(_) => {}
    }
});
