use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::error::{Error, Part};
use crate::grammar::{self, NAME_TOTAL_LENGTH_MAX};
use crate::{Digest, RepositoryName, Tag};

/// An image reference, `[registry[:port]/]path[:tag][@digest]`, as users
/// write it on a command line or in a `FROM` line.
///
/// The grammar is distribution's (`reference/regexp.go`) and the OCI
/// Distribution Specification's:
///
/// ```text
/// reference        := name [ ':' tag ] [ '@' digest ]
/// name             := [ registry '/' ] path
/// registry         := host [ ':' port-number ]
/// host             := domain-name | '[' ipv6address ']'
/// domain-name      := domain-component ( '.' domain-component )*
/// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
/// port-number      := [0-9]+
/// path             := path-component ( '/' path-component )*
/// path-component   := [a-z0-9]+ ( ( '.' | '_' | '__' | '-'+ ) [a-z0-9]+ )*
/// tag              := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
/// digest           := algorithm ':' encoded
/// ```
///
/// The first `/`-separated component is the registry exactly when docker
/// would take it for one: it contains `.` or `:`, is `localhost`, or
/// contains an upper-case letter (so `Foo/bar` is registry `Foo`,
/// repository `bar`, while `foo/bar` is the Docker Hub repository
/// `foo/bar`). A name without `/` is always a repository. The path is at
/// most 255 bytes, and so is the whole name (`registry/path`), as docker
/// checks.
///
/// A digest in a reference must satisfy both the image-spec grammar that
/// [`Digest`] checks and distribution's stricter reference production:
/// every algorithm component starts with a letter and the encoded part is
/// at least 32 hexadecimal digits. Digests of unregistered algorithms that
/// meet both (`sha3-256:<hex>`) are kept, and [`Digest::verify`] reports
/// them unsupported; docker would refuse them at parse time.
///
/// A tag and a digest may both be present, and both are kept (some tools
/// drop the tag). Parsing keeps every part exactly as written, so
/// `to_string()` gives back the input byte for byte. Nothing is implied:
/// `busybox` has no registry and no tag; [`Reference::normalized`] is the
/// explicit step that fills in Docker Hub's defaults.
///
/// ```
/// use wharf_reference::Reference;
///
/// let r: Reference = "ghcr.io/octocat/my-repo:latest".parse()?;
/// assert_eq!(r.registry(), Some("ghcr.io"));
/// assert_eq!(r.repository(), "octocat/my-repo");
/// assert_eq!(r.tag().map(|t| t.as_str()), Some("latest"));
/// assert_eq!(r.digest(), None);
/// assert_eq!(r.to_string(), "ghcr.io/octocat/my-repo:latest");
///
/// let hub: Reference = "busybox".parse()?;
/// assert_eq!(hub.registry(), None);
/// assert_eq!(hub.normalized()?.to_string(), "docker.io/library/busybox");
///
/// let err = "ghcr.io/Octocat/app".parse::<Reference>().unwrap_err();
/// assert_eq!(err.offset(), Some(8));
/// # Ok::<(), wharf_reference::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: Option<Arc<str>>,
    repository: RepositoryName,
    tag: Option<Tag>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference. Equivalent to `s.parse()`.
    ///
    /// Errors name the part and the rule that failed, with the byte offset
    /// in `s`. Parts are checked left to right, so the error is the first
    /// one in the string.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.is_empty() {
            return Err(Error::Empty {
                part: Part::Reference,
                offset: 0,
            });
        }
        // Neither a name nor a tag may contain `@`, and a digest never
        // contains `/`, so the first `@` ends the name and tag, and the
        // first `:` after the last `/` of what precedes it starts the tag.
        let (name_and_tag, at) = match s.find('@') {
            Some(at) => (&s[..at], Some(at)),
            None => (s, None),
        };
        let last_component = name_and_tag.rfind('/').map_or(0, |slash| slash + 1);
        let (name, tag_start) = match name_and_tag[last_component..].find(':') {
            Some(colon) => (
                &name_and_tag[..last_component + colon],
                Some(last_component + colon + 1),
            ),
            None => (name_and_tag, None),
        };

        let (registry, path, path_start) = match name.find('/') {
            Some(slash) if grammar::looks_like_registry(&name[..slash]) => {
                let registry = &name[..slash];
                grammar::domain(registry)?;
                (Some(registry), &name[slash + 1..], slash + 1)
            }
            _ => (None, name, 0),
        };
        grammar::path(path).map_err(|e| e.shifted(path_start))?;
        check_name_length(name.len())?;

        let tag = match tag_start {
            Some(start) => {
                let tag = &name_and_tag[start..];
                grammar::tag(tag).map_err(|e| e.shifted(start))?;
                Some(Tag::from_checked(tag))
            }
            None => None,
        };
        let digest = match at {
            Some(at) => {
                let digest = &s[at + 1..];
                Some(reference_digest(digest).map_err(|e| e.shifted(at + 1))?)
            }
            None => None,
        };
        Ok(Reference {
            registry: registry.map(Arc::from),
            repository: RepositoryName::from_checked(path),
            tag,
            digest,
        })
    }

    /// Builds a reference from its parts.
    ///
    /// Fails, with offsets into the offending part, when the parts could not
    /// be written as a reference that reads back the same:
    /// - `registry` must match the registry grammar and be recognisable as
    ///   one (contain `.` or `:`, be `localhost`, or have an upper-case
    ///   letter): `Some("registry")` would read back as a path component;
    /// - without a registry, a multi-component `repository` must not start
    ///   with a component that would be read as a registry (`example.com/app`);
    /// - `registry/repository` must be at most 255 bytes;
    /// - `digest` must meet the reference digest production (see
    ///   [`Reference`]).
    ///
    /// ```
    /// use wharf_reference::{Digest, Reference};
    ///
    /// let r = Reference::new(
    ///     Some("localhost:5000"),
    ///     "team/app".parse()?,
    ///     Some("v1".parse()?),
    ///     Some(Digest::sha256(b"manifest")),
    /// )?;
    /// assert!(r.to_string().starts_with("localhost:5000/team/app:v1@sha256:"));
    ///
    /// assert!(Reference::new(Some("registry"), "app".parse()?, None, None).is_err());
    /// # Ok::<(), wharf_reference::Error>(())
    /// ```
    pub fn new(
        registry: Option<&str>,
        repository: RepositoryName,
        tag: Option<Tag>,
        digest: Option<Digest>,
    ) -> Result<Self, Error> {
        let mut name_len = repository.as_str().len();
        match registry {
            Some(registry) => {
                grammar::domain(registry)?;
                if !grammar::looks_like_registry(registry) {
                    return Err(Error::invalid(
                        Part::Registry,
                        0,
                        "a registry must contain `.` or `:`, be `localhost`, or have an \
                         upper-case letter; otherwise it reads as a path component",
                    ));
                }
                name_len += registry.len() + 1;
            }
            None => check_registry_free_path(&repository)?,
        }
        check_name_length(name_len)?;
        if let Some(digest) = &digest {
            check_reference_digest(digest)?;
        }
        Ok(Reference {
            registry: registry.map(Arc::from),
            repository,
            tag,
            digest,
        })
    }

    /// Assembles parts whose combination the caller has already checked.
    pub(crate) fn from_checked_parts(
        registry: Option<&str>,
        repository: RepositoryName,
        tag: Option<Tag>,
        digest: Option<Digest>,
    ) -> Self {
        Reference {
            registry: registry.map(Arc::from),
            repository,
            tag,
            digest,
        }
    }

    /// The same reference with `tag` instead of its tag (if any).
    pub fn with_tag(self, tag: Tag) -> Self {
        Reference {
            tag: Some(tag),
            ..self
        }
    }

    /// The same reference without a tag.
    pub fn without_tag(self) -> Self {
        Reference { tag: None, ..self }
    }

    /// The same reference with `digest` instead of its digest (if any).
    ///
    /// Fails only for a digest of an unregistered algorithm that does not
    /// meet the reference digest production (see [`Reference`]); `sha256`,
    /// `sha384` and `sha512` digests always fit.
    pub fn with_digest(self, digest: Digest) -> Result<Self, Error> {
        check_reference_digest(&digest)?;
        Ok(Reference {
            digest: Some(digest),
            ..self
        })
    }

    /// The same reference without a digest.
    pub fn without_digest(self) -> Self {
        Reference {
            digest: None,
            ..self
        }
    }

    /// The registry host and optional port, exactly as written
    /// (`ghcr.io`, `localhost:5000`, `[::1]:5000`), or `None` when the
    /// reference names none (Docker Hub, once [normalized](Self::normalized)).
    pub fn registry(&self) -> Option<&str> {
        self.registry.as_deref()
    }

    /// The repository path (`octocat/my-repo`), without the registry.
    pub fn repository(&self) -> &str {
        self.repository.as_str()
    }

    /// The repository path as a [`RepositoryName`].
    pub fn repository_name(&self) -> &RepositoryName {
        &self.repository
    }

    /// The tag, if one was written. `Tag` dereferences to `str` and compares
    /// with `&str`: `r.tag() == Some(&"latest".parse()?)`, or
    /// `r.tag().map(|t| t.as_str())`.
    pub fn tag(&self) -> Option<&Tag> {
        self.tag.as_ref()
    }

    /// The digest, if one was written.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }
}

/// Parses the digest of a reference: the image-spec grammar first (whose
/// errors are the most precise), then distribution's reference production.
fn reference_digest(s: &str) -> Result<Digest, Error> {
    let digest = Digest::parse(s)?;
    check_reference_digest(&digest)?;
    Ok(digest)
}

fn check_reference_digest(digest: &Digest) -> Result<(), Error> {
    // Registered algorithms are strict lower-case hex of 64 or more digits
    // and start with a letter: they always meet the reference production.
    if digest.algorithm().is_supported() {
        return Ok(());
    }
    grammar::reference_digest(digest.as_str(), digest.algorithm().as_str().len())
}

pub(crate) fn check_name_length(len: usize) -> Result<(), Error> {
    if len > NAME_TOTAL_LENGTH_MAX {
        return Err(Error::TooLong {
            part: Part::Name,
            len,
            max: NAME_TOTAL_LENGTH_MAX,
        });
    }
    Ok(())
}

/// Without a registry, the first component of a multi-component path must
/// not read as one, or the written form would parse differently.
pub(crate) fn check_registry_free_path(path: &RepositoryName) -> Result<(), Error> {
    if let Some((first, _)) = path.as_str().split_once('/') {
        if grammar::looks_like_registry(first) {
            return Err(Error::invalid(
                Part::Repository,
                0,
                "without a registry, a first component with `.` or named `localhost` \
                 reads as a registry; name the registry explicitly",
            ));
        }
    }
    Ok(())
}

crate::debug_as_display!(Reference);

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(registry) = &self.registry {
            f.write_str(registry)?;
            f.write_str("/")?;
        }
        f.write_str(self.repository.as_str())?;
        if let Some(tag) = &self.tag {
            f.write_str(":")?;
            f.write_str(tag.as_str())?;
        }
        if let Some(digest) = &self.digest {
            f.write_str("@")?;
            f.write_str(digest.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Reference::parse(s)
    }
}

impl TryFrom<&str> for Reference {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        Reference::parse(s)
    }
}

crate::oci_spec_conversions! {
    impl TryFrom<&oci_spec::distribution::Reference> for Reference {
        type Error = Error;

        /// Reads an `oci-spec` (and so `oci-client`) reference through its
        /// written form. Theirs always names a registry (`docker.io` when
        /// parsed from a familiar name), and so does the result.
        fn try_from(r: &oci_spec::distribution::Reference) -> Result<Self, Error> {
            r.whole().parse()
        }
    }

    impl TryFrom<&Reference> for oci_spec::distribution::Reference {
        type Error = Error;

        /// Converts to an `oci-spec` (and so `oci-client`) reference, which
        /// always names a registry: the reference is
        /// [normalized](Reference::normalized) first, which fails only when the normalized
        /// name is longer than 255 bytes. Like `oci-spec`'s own parser, a
        /// reference with neither tag nor digest gets the tag `latest`.
        fn try_from(r: &Reference) -> Result<Self, Error> {
            let r = r.normalized()?;
            let registry = r
                .registry()
                .unwrap_or(crate::normalize::DOCKER_HUB)
                .to_owned();
            let repository = r.repository().to_owned();
            Ok(match (r.tag(), r.digest()) {
                (Some(tag), Some(digest)) => oci_spec::distribution::Reference::with_tag_and_digest(
                    registry,
                    repository,
                    tag.to_string(),
                    digest.to_string(),
                ),
                (None, Some(digest)) => oci_spec::distribution::Reference::with_digest(
                    registry,
                    repository,
                    digest.to_string(),
                ),
                (Some(tag), None) => {
                    oci_spec::distribution::Reference::with_tag(registry, repository, tag.to_string())
                }
                (None, None) => oci_spec::distribution::Reference::with_tag(
                    registry,
                    repository,
                    crate::normalize::DEFAULT_TAG.to_owned(),
                ),
            })
        }
    }
}
