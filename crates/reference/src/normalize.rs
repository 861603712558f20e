//! Docker Hub's defaults, applied as an explicit step: `busybox` is
//! `docker.io/library/busybox` only when asked, never implicitly.
//!
//! The rules are those of docker's and podman's `ParseNormalizedNamed` and
//! `FamiliarString` (distribution's `normalize.go`).

use crate::error::{Error, Part};
use crate::grammar;
use crate::reference::check_name_length;
use crate::{Reference, RepositoryName};

/// Docker Hub's registry name in normalized references.
pub const DOCKER_HUB: &str = "docker.io";

/// Docker Hub's legacy ("Docker Index") name, which normalization rewrites
/// to [`DOCKER_HUB`].
pub const DOCKER_HUB_LEGACY: &str = "index.docker.io";

/// The namespace of Docker Hub's official images (`library/busybox`).
const OFFICIAL_NAMESPACE: &str = "library/";

/// The tag clients pull when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";

impl Reference {
    /// The fully qualified form docker and podman use: no registry means
    /// [`DOCKER_HUB`], `index.docker.io` becomes `docker.io`, and a
    /// single-component Docker Hub repository gains the `library/`
    /// namespace. References to other registries are returned unchanged,
    /// and so are the tag and digest (no `latest` is added: see
    /// [`Reference::with_default_tag`]).
    ///
    /// Idempotent. Fails only when the normalized name
    /// (`docker.io/library/...`) would be longer than 255 bytes, which
    /// docker rejects too.
    ///
    /// ```
    /// use wharf_reference::Reference;
    ///
    /// let r: Reference = "busybox:1.36".parse()?;
    /// assert_eq!(r.normalized()?.to_string(), "docker.io/library/busybox:1.36");
    ///
    /// let r: Reference = "index.docker.io/user/app".parse()?;
    /// assert_eq!(r.normalized()?.to_string(), "docker.io/user/app");
    ///
    /// let r: Reference = "ghcr.io/octocat/app".parse()?;
    /// assert_eq!(r.normalized()?, r);
    /// # Ok::<(), wharf_reference::Error>(())
    /// ```
    pub fn normalized(&self) -> Result<Reference, Error> {
        if !self.is_docker_hub() {
            return Ok(self.clone());
        }
        let path = self.repository();
        let repository = if path.contains('/') {
            self.repository_name().clone()
        } else {
            let official = format!("{OFFICIAL_NAMESPACE}{path}");
            grammar::path(&official)?;
            RepositoryName::from_checked(&official)
        };
        check_name_length(DOCKER_HUB.len() + 1 + repository.as_str().len())?;
        Ok(Reference::from_checked_parts(
            Some(DOCKER_HUB),
            repository,
            self.tag().cloned(),
            self.digest().cloned(),
        ))
    }

    /// Parses `s` and [normalizes](Reference::normalized) it, as docker's
    /// `ParseNormalizedNamed` does for what users type.
    ///
    /// Like docker, refuses a bare 64-digit lower-case hexadecimal string:
    /// that is an image ID, not a repository name. Upper-case letters in the
    /// repository path are refused as by [`Reference::parse`] (docker says
    /// "must be lowercase"); an upper-case first component followed by `/`
    /// is a registry, as in docker.
    ///
    /// Unlike docker, a digest of an unregistered algorithm is kept (docker
    /// fails with "unsupported digest algorithm");
    /// [`Digest::verify`](crate::Digest::verify) reports it unsupported.
    ///
    /// ```
    /// use wharf_reference::Reference;
    ///
    /// let r = Reference::parse_normalized("user/app:v2")?;
    /// assert_eq!(r.to_string(), "docker.io/user/app:v2");
    /// assert!(Reference::parse_normalized(&"a".repeat(64)).is_err());
    /// # Ok::<(), wharf_reference::Error>(())
    /// ```
    pub fn parse_normalized(s: &str) -> Result<Reference, Error> {
        if grammar::is_identifier(s) {
            return Err(Error::invalid(
                Part::Repository,
                0,
                "a 64-digit hexadecimal string is an image ID, not a repository name",
            ));
        }
        Reference::parse(s)?.normalized()
    }

    /// The short form docker prints (`FamiliarString`): Docker Hub's
    /// registry is dropped, and so is the `library/` namespace of a
    /// two-component official name. Works on normalized and non-normalized
    /// references alike; other registries are kept.
    ///
    /// Unlike docker, the registry is kept when dropping it would change
    /// what the result means: `docker.io/example.com/app` stays as it is,
    /// since `example.com/app` reads as registry `example.com`. So
    /// `r.familiar()` always parses back to a reference whose normalized
    /// form is `r`'s.
    ///
    /// ```
    /// use wharf_reference::Reference;
    ///
    /// let r: Reference = "docker.io/library/busybox:1.36".parse()?;
    /// assert_eq!(r.familiar().to_string(), "busybox:1.36");
    ///
    /// let r: Reference = "docker.io/user/app".parse()?;
    /// assert_eq!(r.to_familiar_string(), "user/app");
    ///
    /// let r: Reference = "ghcr.io/octocat/app".parse()?;
    /// assert_eq!(r.to_familiar_string(), "ghcr.io/octocat/app");
    /// # Ok::<(), wharf_reference::Error>(())
    /// ```
    pub fn familiar(&self) -> Reference {
        if !self.is_docker_hub() {
            return self.clone();
        }
        let path = self.repository();
        let short = match path.strip_prefix(OFFICIAL_NAMESPACE) {
            Some(rest) if !rest.contains('/') => rest,
            _ => path,
        };
        let repository = if short.len() == path.len() {
            self.repository_name().clone()
        } else {
            RepositoryName::from_checked(short)
        };
        let registry = match crate::reference::check_registry_free_path(&repository) {
            Ok(()) => None,
            // `docker.io/example.com/app`: keep a registry so that the
            // first component is not read as one.
            Err(_) => Some(DOCKER_HUB),
        };
        Reference::from_checked_parts(
            registry,
            repository,
            self.tag().cloned(),
            self.digest().cloned(),
        )
    }

    /// [`Reference::familiar`] as a string: `busybox` for
    /// `docker.io/library/busybox`, `user/app` for `docker.io/user/app`.
    pub fn to_familiar_string(&self) -> String {
        self.familiar().to_string()
    }

    /// Whether this reference names Docker Hub: no registry, `docker.io` or
    /// `index.docker.io`.
    pub fn is_docker_hub(&self) -> bool {
        matches!(
            self.registry(),
            None | Some(DOCKER_HUB) | Some(DOCKER_HUB_LEGACY)
        )
    }

    /// The same reference, tagged [`DEFAULT_TAG`] (`latest`) when it has
    /// neither a tag nor a digest: what a client pulls for it.
    ///
    /// ```
    /// use wharf_reference::Reference;
    ///
    /// let r: Reference = "busybox".parse()?;
    /// assert_eq!(r.with_default_tag().to_string(), "busybox:latest");
    /// let r: Reference = "busybox@sha256:7cc4b5aefd1d0cadf8d97d4350462ba51c694ebca145b08d7d41b41acc8db5aa".parse()?;
    /// assert_eq!(r.clone().with_default_tag(), r);
    /// # Ok::<(), wharf_reference::Error>(())
    /// ```
    pub fn with_default_tag(self) -> Reference {
        if self.tag().is_some() || self.digest().is_some() {
            return self;
        }
        self.with_tag(crate::Tag::from_checked(DEFAULT_TAG))
    }
}
