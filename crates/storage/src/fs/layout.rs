//! Where everything lives under the storage root.
//!
//! Every path is built from validated values only ([`Digest`],
//! [`RepositoryName`], [`Tag`], [`UploadId`]), whose grammars exclude `/`
//! inside a component, `.` and `..`, so no input can name a path outside the
//! root. Repository path components never start with `_`, so the `_links`,
//! `_manifests`, `_tags` and `_referrers` directories cannot collide with a
//! nested repository.
//!
//! ```text
//! <root>/blobs/<algorithm>/<first two hex digits>/<encoded>
//! <root>/blobs/.condemned/<algorithm>/<encoded>   blobs condemned by garbage collection
//! <root>/uploads/<id>/data            the bytes received so far
//! <root>/uploads/<id>/meta            {"repository": ..., "started_ms": ...}
//! <root>/repositories/<name>/_links/<algorithm>/<encoded>
//! <root>/repositories/<name>/_manifests/<algorithm>/<encoded>
//! <root>/repositories/<name>/_tags/<tag>
//! <root>/repositories/<name>/_referrers/<subject algorithm>/<subject encoded>/<algorithm>/<encoded>
//! <root>/tmp/<random>                 files being written, renamed into place
//! <root>/archives/<key>/origin        {"repository": ...}
//! <root>/archives/<key>/journal       {"op": ..., "repository": ...} while a move is under way
//! <root>/archives/<key>/_links, _manifests, _tags, _referrers   as in a repository
//! <root>/archives/.tmp/<random>/      archives being created or removed
//! ```
//!
//! Archive keys never start with `.`, so `.tmp` cannot collide with one;
//! nor do digest algorithms, so `.condemned` cannot collide with one.
//! Condemned blobs stay under `blobs/` so that condemning and pardoning
//! are renames on one filesystem, whatever is mounted where.

use std::path::{Path, PathBuf};

use wharf_reference::{Digest, RepositoryName, Tag};

use crate::archive::ArchiveKey;
use crate::upload::UploadId;

pub(crate) const BLOBS: &str = "blobs";
/// The directory of condemned blobs under `blobs/`.
pub(crate) const CONDEMNED: &str = ".condemned";
pub(crate) const UPLOADS: &str = "uploads";
pub(crate) const REPOSITORIES: &str = "repositories";
pub(crate) const TMP: &str = "tmp";
pub(crate) const ARCHIVES: &str = "archives";

pub(crate) const LINKS: &str = "_links";
pub(crate) const MANIFESTS: &str = "_manifests";
pub(crate) const TAGS: &str = "_tags";
pub(crate) const REFERRERS: &str = "_referrers";

/// The directories that hold a repository's content, which an archive
/// moves whole.
pub(crate) const CONTENT: [&str; 4] = [LINKS, MANIFESTS, TAGS, REFERRERS];

/// Path arithmetic over a storage root.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    pub(crate) fn new(root: PathBuf) -> Self {
        Layout { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn blobs(&self) -> PathBuf {
        self.root.join(BLOBS)
    }

    pub(crate) fn blob(&self, digest: &Digest) -> PathBuf {
        let encoded = digest.encoded();
        let shard = encoded.get(..2).unwrap_or(encoded);
        self.blobs()
            .join(digest.algorithm().as_str())
            .join(shard)
            .join(encoded)
    }

    /// Where condemned blobs wait for their verdict, as
    /// `<algorithm>/<encoded>`.
    pub(crate) fn condemned_blobs(&self) -> PathBuf {
        self.blobs().join(CONDEMNED)
    }

    pub(crate) fn condemned_blob(&self, digest: &Digest) -> PathBuf {
        digest_path(self.condemned_blobs(), digest)
    }

    pub(crate) fn uploads(&self) -> PathBuf {
        self.root.join(UPLOADS)
    }

    pub(crate) fn upload(&self, id: &UploadId) -> PathBuf {
        self.uploads().join(id.as_str())
    }

    pub(crate) fn upload_data(&self, id: &UploadId) -> PathBuf {
        self.upload(id).join("data")
    }

    pub(crate) fn upload_meta(&self, id: &UploadId) -> PathBuf {
        self.upload(id).join("meta")
    }

    pub(crate) fn tmp(&self) -> PathBuf {
        self.root.join(TMP)
    }

    /// A fresh, unique temporary path on the same filesystem as everything
    /// else, so that renaming it into place is atomic.
    pub(crate) fn temp_file(&self) -> PathBuf {
        self.tmp().join(UploadId::random().as_str())
    }

    pub(crate) fn repositories(&self) -> PathBuf {
        self.root.join(REPOSITORIES)
    }

    pub(crate) fn repository(&self, name: &RepositoryName) -> PathBuf {
        let mut path = self.repositories();
        path.extend(name.components());
        path
    }

    pub(crate) fn links(&self, name: &RepositoryName) -> PathBuf {
        self.repository(name).join(LINKS)
    }

    pub(crate) fn link(&self, name: &RepositoryName, digest: &Digest) -> PathBuf {
        digest_path(self.links(name), digest)
    }

    pub(crate) fn manifests(&self, name: &RepositoryName) -> PathBuf {
        self.repository(name).join(MANIFESTS)
    }

    pub(crate) fn manifest(&self, name: &RepositoryName, digest: &Digest) -> PathBuf {
        digest_path(self.manifests(name), digest)
    }

    pub(crate) fn tags(&self, name: &RepositoryName) -> PathBuf {
        self.repository(name).join(TAGS)
    }

    pub(crate) fn tag(&self, name: &RepositoryName, tag: &Tag) -> PathBuf {
        self.tags(name).join(tag.as_str())
    }

    pub(crate) fn archives(&self) -> PathBuf {
        self.root.join(ARCHIVES)
    }

    pub(crate) fn archive(&self, key: &ArchiveKey) -> PathBuf {
        self.archives().join(key.as_str())
    }

    pub(crate) fn archive_origin(&self, key: &ArchiveKey) -> PathBuf {
        self.archive(key).join("origin")
    }

    pub(crate) fn archive_journal(&self, key: &ArchiveKey) -> PathBuf {
        self.archive(key).join("journal")
    }

    /// Where archives are assembled before they appear under their key,
    /// and moved to be removed; emptied when the storage is opened.
    pub(crate) fn archives_tmp(&self) -> PathBuf {
        self.archives().join(".tmp")
    }

    pub(crate) fn referrers(&self, name: &RepositoryName, subject: &Digest) -> PathBuf {
        digest_path(self.repository(name).join(REFERRERS), subject)
    }

    pub(crate) fn referrer(
        &self,
        name: &RepositoryName,
        subject: &Digest,
        referrer: &Digest,
    ) -> PathBuf {
        digest_path(self.referrers(name, subject), referrer)
    }
}

pub(super) fn digest_path(base: PathBuf, digest: &Digest) -> PathBuf {
    base.join(digest.algorithm().as_str())
        .join(digest.encoded())
}

#[cfg(test)]
mod tests {
    use std::path::Component;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever valid name, tag or digest comes off the wire, every path
        /// built from it is plain components below the root.
        #[test]
        fn paths_never_leave_the_root(
            name in "[a-z0-9._/-]{1,40}",
            tag in "[A-Za-z0-9_.-]{1,20}",
            encoded in "[a-zA-Z0-9=_.-]{1,20}",
        ) {
            let layout = Layout::new(PathBuf::from("/root"));
            let digest = Digest::parse(&format!("other+alg:{encoded}")).ok();
            let (Ok(name), Ok(tag)) = (name.parse::<RepositoryName>(), tag.parse::<Tag>()) else {
                return Ok(());
            };
            let digest = digest.unwrap_or_else(|| Digest::sha256(b""));
            for path in [
                layout.blob(&digest),
                layout.condemned_blob(&digest),
                layout.link(&name, &digest),
                layout.manifest(&name, &digest),
                layout.tag(&name, &tag),
                layout.referrer(&name, &digest, &digest),
            ] {
                let rel = path.strip_prefix("/root").expect("under the root");
                prop_assert!(rel.components().all(|c| matches!(c, Component::Normal(_))), "{}", path.display());
            }
        }
    }

    #[test]
    fn paths_follow_the_documented_layout() {
        let layout = Layout::new(PathBuf::from("/r"));
        let d = Digest::sha256(b"");
        let hex = d.encoded().to_owned();
        let repo: RepositoryName = "octo/app/release".parse().expect("valid name");
        let tag: Tag = "v1.0".parse().expect("valid tag");
        let cases = [
            (
                layout.blob(&d),
                format!("/r/blobs/sha256/{}/{hex}", &hex[..2]),
            ),
            (
                layout.condemned_blob(&d),
                format!("/r/blobs/.condemned/sha256/{hex}"),
            ),
            (
                layout.link(&repo, &d),
                format!("/r/repositories/octo/app/release/_links/sha256/{hex}"),
            ),
            (
                layout.manifest(&repo, &d),
                format!("/r/repositories/octo/app/release/_manifests/sha256/{hex}"),
            ),
            (
                layout.tag(&repo, &tag),
                "/r/repositories/octo/app/release/_tags/v1.0".to_owned(),
            ),
            (
                layout.referrer(&repo, &d, &d),
                format!("/r/repositories/octo/app/release/_referrers/sha256/{hex}/sha256/{hex}"),
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, PathBuf::from(want));
        }
    }
}
