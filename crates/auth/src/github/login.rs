//! Logins: the names of users and organizations, with GitHub's rules, and
//! the names kept for the registry's own paths.

use std::sync::Arc;

use crate::error::{excerpt, Error};

/// GitHub's limit on a login's length.
pub const MAX_LOGIN_LEN: usize = 39;

/// Names no user or organization may take, because a registry serves
/// something else at `/{name}`: its own routes (`/v2/`, `/token`,
/// `/metrics`, the REST API's `/user`, `/users` and `/orgs`), and a few
/// more kept for routes a deployment commonly adds in front of it or a
/// later version may serve. An owner named like one of them would have
/// pages nobody can reach.
pub const RESERVED_LOGINS: &[&str] = &[
    "api",
    "assets",
    "health",
    "healthz",
    "login",
    "logout",
    "metrics",
    "orgs",
    "organizations",
    "packages",
    "readyz",
    "settings",
    "static",
    "token",
    "user",
    "users",
    "v1",
    "v2",
    "v3",
];

/// A user's or an organization's login: the first component of the
/// repository names it owns (`octocat` in `octocat/app`).
///
/// A login follows GitHub's rule: 1 to 39 letters, digits and single
/// hyphens, neither first nor last (`octo-cat`, not `octo_cat`, `octo.cat`,
/// `octo--cat` or `-octocat`), and is none of the [`RESERVED_LOGINS`].
/// Logins are case-insensitive, as on GitHub; they are kept lowercase, the
/// form namespaces have. Every way a login enters (an administration
/// command, a store read, a token's subject, a URL) parses it, so none
/// holds a login the rule forbids.
///
/// ```
/// use wharf_auth::Login;
///
/// let login: Login = "Octocat".parse()?;
/// assert_eq!(login.as_str(), "octocat");
/// for invalid in ["octo/cat", "octo_cat", "octo.cat", "octo--cat", "-octocat", "v2", "token"] {
///     assert!(invalid.parse::<Login>().is_err(), "{invalid}");
/// }
/// # Ok::<(), wharf_auth::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Login(Arc<str>);

impl Login {
    /// Parses a login, lowercasing it. Equivalent to `s.parse()`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidName {
            what: "login",
            input: excerpt(s),
            reason,
        };
        if s.is_empty() || s.len() > MAX_LOGIN_LEN {
            return Err(invalid("a login is 1 to 39 characters long"));
        }
        if !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(invalid(
                "use only letters, digits and single hyphens (no `_`, `.` or `/`)",
            ));
        }
        if s.starts_with('-') || s.ends_with('-') {
            return Err(invalid("a login neither starts nor ends with a hyphen"));
        }
        if s.contains("--") {
            return Err(invalid("a login has no two hyphens in a row"));
        }
        let lower = s.to_ascii_lowercase();
        if RESERVED_LOGINS.contains(&lower.as_str()) {
            return Err(invalid(
                "the name is reserved: the registry serves its own pages at that path",
            ));
        }
        Ok(Login(lower.into()))
    }

    /// The login, lowercase.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

wharf_reference::string_type!(Login: Error, "a login"; Debug);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_follow_githubs_rule() {
        let valid = [
            ("octocat", "octocat"),
            ("Octo-Cat", "octo-cat"),
            ("a", "a"),
            ("0", "0"),
            ("a-b-c", "a-b-c"),
            ("1password", "1password"),
            ("v2a", "v2a"),
            ("tokens", "tokens"),
            (&"a".repeat(39), &"a".repeat(39)),
        ];
        for (input, login) in valid {
            assert_eq!(
                Login::parse(input).map(|l| l.to_string()),
                Ok(login.to_owned())
            );
        }
        let invalid = [
            "",
            "a_b",
            "a.b",
            "a--b",
            "-a",
            "a-",
            "-",
            "a/b",
            "a b",
            "é",
            "a:b",
            &"a".repeat(40),
        ];
        for input in invalid {
            let err = Login::parse(input).expect_err(input);
            assert!(
                matches!(err, Error::InvalidName { what: "login", .. }),
                "{input}: {err}"
            );
        }
    }

    #[test]
    fn route_names_are_reserved_in_any_case() {
        for name in [
            "v2", "V2", "token", "metrics", "user", "users", "orgs", "packages", "static",
        ] {
            let err = Login::parse(name).expect_err(name);
            assert!(err.to_string().contains("reserved"), "{name}: {err}");
        }
        for name in RESERVED_LOGINS {
            assert!(Login::parse(name).is_err(), "{name}");
        }
    }

    proptest::proptest! {
        /// A login is exactly GitHub's shape, and always a valid
        /// namespace, so it compares equal to the names it owns.
        #[test]
        fn a_login_is_githubs_shape_and_a_namespace(s in "[a-zA-Z0-9_.-]{0,41}") {
            let github = (1..=MAX_LOGIN_LEN).contains(&s.len())
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !s.starts_with('-')
                && !s.ends_with('-')
                && !s.contains("--")
                && !RESERVED_LOGINS.contains(&s.to_ascii_lowercase().as_str());
            let parsed = Login::parse(&s);
            proptest::prop_assert_eq!(parsed.is_ok(), github, "{}", s);
            if let Ok(login) = parsed {
                let name = wharf_reference::RepositoryName::parse(login.as_str());
                proptest::prop_assert!(name.is_ok(), "{}", login);
            }
        }
    }

    #[test]
    fn serde_parses_and_so_validates() {
        let login: Login = serde_json::from_str("\"Alice\"").expect("valid");
        assert_eq!(serde_json::to_string(&login).expect("json"), "\"alice\"");
        assert!(serde_json::from_str::<Login>("\"a_b\"").is_err());
        assert!(serde_json::from_str::<Login>("\"v2\"").is_err());
    }
}
