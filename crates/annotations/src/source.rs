//! Linking `org.opencontainers.image.source` to a repository:
//! [`CodeHost`] and [`SourceRepository`].

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use url::Url;

use crate::error::Error;

/// A code host whose repositories a source URL can link a package to: its
/// scheme, host and port (an origin, as browsers compare them).
///
/// Parsed from `HOST`, `HOST:PORT` (both https) or an origin URL
/// `https://HOST[:PORT]` / `http://HOST[:PORT]` (plain http for a registry
/// served without TLS, e.g. on localhost). Host names compare without
/// regard to case; an explicit default port (`:443` for https) is the same
/// as none.
///
/// ```
/// use wharf_annotations::CodeHost;
///
/// let host: CodeHost = "GitHub.Example.com".parse()?;
/// assert_eq!(host.to_string(), "https://github.example.com");
/// assert_eq!(host.port(), 443);
/// let local: CodeHost = "http://localhost:5000".parse()?;
/// assert_eq!(local.to_string(), "http://localhost:5000");
/// # Ok::<(), wharf_annotations::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeHost {
    /// `scheme://host[:port]/`, normalized by the URL parser (lower-case
    /// host, default port removed).
    origin: Url,
}

impl CodeHost {
    /// The host name (or IP literal), lower case.
    pub fn host(&self) -> &str {
        self.origin.host_str().unwrap_or_default()
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.origin.port_or_known_default().unwrap_or(443)
    }

    /// Whether the host is served over https.
    pub fn is_https(&self) -> bool {
        self.origin.scheme() == "https"
    }

    /// The URL of a repository on this host, `https://HOST/OWNER/REPO`.
    pub fn repository_url(&self, repository: &SourceRepository) -> Url {
        let mut url = self.origin.clone();
        url.set_path(&format!("/{}/{}", repository.owner, repository.name));
        url
    }

    /// Whether `url` is on this host, port and scheme included.
    fn serves(&self, url: &Url) -> bool {
        self.same_host_name(url)
            && url.scheme() == self.origin.scheme()
            && url.port_or_known_default() == Some(self.port())
    }

    fn same_host_name(&self, url: &Url) -> bool {
        url.host_str()
            .is_some_and(|host| host.eq_ignore_ascii_case(self.host()))
    }
}

impl FromStr for CodeHost {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| Error::InvalidCodeHost {
            value: s.to_owned(),
            reason: reason.to_owned(),
        };
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("it contains whitespace or control characters"));
        }
        let with_scheme = if s.contains("://") {
            s.to_owned()
        } else {
            format!("https://{s}")
        };
        let origin = Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(origin.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if !origin.username().is_empty() || origin.password().is_some() {
            return Err(invalid("it contains credentials"));
        }
        if origin.path() != "/" || origin.query().is_some() || origin.fragment().is_some() {
            return Err(invalid(
                "give only the scheme, host and port, without a path",
            ));
        }
        Ok(CodeHost { origin })
    }
}

impl fmt::Display for CodeHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `Url` always has a path; an origin is written without it.
        f.write_str(self.origin.as_str().trim_end_matches('/'))
    }
}

wharf_reference::serde_as_string!(CodeHost);

/// A repository on a code host, `OWNER/REPO`, as a source URL names it.
///
/// Owners are 1 to 39 ASCII letters, digits and hyphens, not starting or
/// ending with a hyphen; repository names are 1 to 100 ASCII letters,
/// digits, `.`, `-` and `_`, other than `.` and `..` (GitHub's rules).
/// Comparison, hashing and ordering ignore ASCII case, as GitHub does:
/// `Octocat/Hello-World` and `octocat/hello-world` are the same
/// repository. The case as written is kept for display.
///
/// ```
/// use wharf_annotations::{CodeHost, SourceRepository};
/// use url::Url;
///
/// let hosts = ["github.example.com".parse::<CodeHost>()?];
/// let source = Url::parse("https://github.example.com/Octocat/my-repo.git").unwrap();
/// let repo = SourceRepository::from_url(&source, &hosts)?;
/// assert_eq!(repo.owner(), "Octocat");
/// assert_eq!(repo.name(), "my-repo");
/// assert_eq!(repo, "octocat/MY-REPO".parse()?);
/// assert_eq!(repo.to_string(), "Octocat/my-repo");
/// # Ok::<(), wharf_annotations::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct SourceRepository {
    owner: String,
    name: String,
}

const OWNER_MAX_LEN: usize = 39;
const NAME_MAX_LEN: usize = 100;

impl SourceRepository {
    /// A repository from its owner and name, checked against the rules
    /// above.
    pub fn new(owner: &str, name: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidRepository {
            value: format!("{owner}/{name}"),
            reason: reason.to_owned(),
        };
        if owner.is_empty() || owner.len() > OWNER_MAX_LEN {
            return Err(invalid("the owner must be 1 to 39 characters"));
        }
        if !owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(invalid(
                "the owner may hold only ASCII letters, digits and hyphens",
            ));
        }
        if owner.starts_with('-') || owner.ends_with('-') {
            return Err(invalid("the owner may not start or end with a hyphen"));
        }
        if name.is_empty() || name.len() > NAME_MAX_LEN {
            return Err(invalid("the repository name must be 1 to 100 characters"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
        {
            return Err(invalid(
                "the repository name may hold only ASCII letters, digits, '.', '-' and '_'",
            ));
        }
        if name == "." || name == ".." {
            return Err(invalid("the repository name may not be '.' or '..'"));
        }
        Ok(SourceRepository {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The repository that `url` names on one of `hosts`.
    ///
    /// The URL must be exactly `https://HOST/OWNER/REPO` on one of the
    /// hosts (its scheme and port included), as GitHub links them. A
    /// trailing slash and a `.git` suffix (a clone URL) are accepted. A path
    /// inside the repository (`/tree/main/subdir`), a query, a fragment or
    /// credentials are refused, as are other hosts, including `www.`
    /// variants.
    pub fn from_url(url: &Url, hosts: &[CodeHost]) -> Result<Self, Error> {
        let not_a_repository = |reason: &str| Error::NotARepository {
            url: url.to_string(),
            reason: reason.to_owned(),
        };
        let same_name: Vec<&CodeHost> = hosts.iter().filter(|h| h.same_host_name(url)).collect();
        if same_name.is_empty() {
            let accepted = if hosts.is_empty() {
                "none configured".to_owned()
            } else {
                hosts
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(Error::ForeignHost {
                url: url.to_string(),
                accepted,
            });
        }
        if !same_name.iter().any(|h| h.serves(url)) {
            return Err(Error::OriginMismatch {
                url: url.to_string(),
                expected: same_name
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(not_a_repository("it contains credentials"));
        }
        if url.query().is_some() {
            return Err(not_a_repository("it has a query (?...)"));
        }
        if url.fragment().is_some() {
            return Err(not_a_repository("it has a fragment (#...)"));
        }
        let path = url.path().strip_prefix('/').unwrap_or(url.path());
        let path = path.strip_suffix('/').unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        match segments.as_slice() {
            [owner, name] => {
                let name = name.strip_suffix(".git").unwrap_or(name);
                SourceRepository::new(owner, name)
            }
            [""] | [_] => Err(not_a_repository("the path names no repository")),
            _ => Err(not_a_repository(
                "the path goes past OWNER/REPO; only the repository itself can be linked",
            )),
        }
    }

    /// The owner (user or organization), as written.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository name, as written, without a `.git` suffix.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn key(&self) -> impl Iterator<Item = u8> + '_ {
        self.owner
            .bytes()
            .chain([b'/'])
            .chain(self.name.bytes())
            .map(|b| b.to_ascii_lowercase())
    }
}

impl PartialEq for SourceRepository {
    fn eq(&self, other: &Self) -> bool {
        self.owner.eq_ignore_ascii_case(&other.owner) && self.name.eq_ignore_ascii_case(&other.name)
    }
}

impl Eq for SourceRepository {}

impl Hash for SourceRepository {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for b in self.key() {
            state.write_u8(b);
        }
    }
}

impl PartialOrd for SourceRepository {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SourceRepository {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(other.key())
    }
}

impl fmt::Display for SourceRepository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl FromStr for SourceRepository {
    type Err = Error;

    /// Parses `OWNER/REPO`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            Some((owner, name)) => SourceRepository::new(owner, name),
            None => Err(Error::InvalidRepository {
                value: s.to_owned(),
                reason: "expected OWNER/REPO".to_owned(),
            }),
        }
    }
}

wharf_reference::serde_as_string!(SourceRepository);
