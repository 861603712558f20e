//! Where everything lives in the bucket: [`Layout`].

use object_store::path::Path;
use wharf_reference::{Algorithm, Digest};

use crate::upload::UploadId;

/// The keys of one [`ObjectStorage`](super::ObjectStorage), under its
/// prefix:
///
/// ```text
/// PREFIX/blobs/<algorithm>/<hex>                 blob bytes (content-addressed)
/// PREFIX/uploads/<id>/start                      who started the session, where, when
/// PREFIX/uploads/<id>/appends/<offset, 20 digits> the append that started at that offset,
///                                                or the seal of a finishing session
/// PREFIX/uploads/<id>/parts/<offset>-<random>    the bytes of one append
/// PREFIX/uploads/<id>/alive                      refreshed while a long append or finish runs
/// PREFIX/gc/condemned/<algorithm>/<hex>          the marker of a blob condemned by garbage
///                                                collection (the blob stays under blobs/)
/// ```
///
/// Blob listings list `PREFIX/blobs/<algorithm>/` only, so they never see
/// the markers, nor the markers the blobs.
///
/// Every key is built from validated values (`Digest`, `UploadId`, numbers
/// and random hex), so no key escapes the prefix.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    root: Path,
}

/// Offsets are written with 20 digits (the most a `u64` needs), so that the
/// lexical order of the keys is their numeric order.
fn offset_key(offset: u64) -> String {
    format!("{offset:020}")
}

/// The algorithms a stored blob can have (those that can be verified), in
/// the order of their names, which is the order of their digests.
pub(super) const BLOB_ALGORITHMS: [Algorithm; 3] =
    [Algorithm::Sha256, Algorithm::Sha384, Algorithm::Sha512];

impl Layout {
    pub(super) fn new(root: Path) -> Self {
        Layout { root }
    }

    pub(super) fn root(&self) -> &Path {
        &self.root
    }

    fn under(&self, parts: &[&str]) -> Path {
        parts
            .iter()
            .fold(self.root.clone(), |path, part| path.clone().join(*part))
    }

    pub(super) fn blob(&self, digest: &Digest) -> Path {
        self.under(&["blobs", digest.algorithm().as_str(), digest.encoded()])
    }

    pub(super) fn blobs_of(&self, algorithm: &Algorithm) -> Path {
        self.under(&["blobs", algorithm.as_str()])
    }

    /// The marker of blob `digest` condemned by garbage collection.
    pub(super) fn condemned(&self, digest: &Digest) -> Path {
        self.under(&[
            "gc",
            "condemned",
            digest.algorithm().as_str(),
            digest.encoded(),
        ])
    }

    pub(super) fn condemned_of(&self, algorithm: &Algorithm) -> Path {
        self.under(&["gc", "condemned", algorithm.as_str()])
    }

    pub(super) fn uploads(&self) -> Path {
        self.under(&["uploads"])
    }

    pub(super) fn session(&self, id: &UploadId) -> Path {
        self.under(&["uploads", id.as_str()])
    }

    pub(super) fn start(&self, id: &UploadId) -> Path {
        self.under(&["uploads", id.as_str(), "start"])
    }

    pub(super) fn append(&self, id: &UploadId, offset: u64) -> Path {
        self.under(&["uploads", id.as_str(), "appends", &offset_key(offset)])
    }

    /// A fresh key for the bytes of an append at `offset`: random, so that
    /// two replicas racing at one offset never write the same object.
    pub(super) fn part(&self, id: &UploadId, offset: u64) -> Path {
        let name = format!("{}-{}", offset_key(offset), UploadId::random());
        self.under(&["uploads", id.as_str(), "parts", &name])
    }

    pub(super) fn alive(&self, id: &UploadId) -> Path {
        self.under(&["uploads", id.as_str(), "alive"])
    }

    /// What a listed key under the uploads is: its session and the rest.
    pub(super) fn session_key<'a>(&self, key: &'a Path) -> Option<(UploadId, SessionKey<'a>)> {
        let mut parts = key.prefix_match(&self.uploads())?;
        let id = parts.next()?.as_ref().parse().ok()?;
        let kind = match (parts.next(), parts.next(), parts.next()) {
            (Some(p), None, _) if p.as_ref() == "start" => SessionKey::Start,
            (Some(p), None, _) if p.as_ref() == "alive" => SessionKey::Alive,
            (Some(p), Some(n), None) if p.as_ref() == "appends" => {
                SessionKey::Append(parse_offset(n.as_ref())?)
            }
            _ => SessionKey::Other(key.as_ref()),
        };
        Some((id, kind))
    }

    /// The digest a listed key under `blobs_of(algorithm)` stores.
    pub(super) fn blob_digest(&self, algorithm: &Algorithm, key: &Path) -> Option<Digest> {
        Self::digest_under(&self.blobs_of(algorithm), algorithm, key)
    }

    /// The digest a listed key under `condemned_of(algorithm)` marks.
    pub(super) fn condemned_digest(&self, algorithm: &Algorithm, key: &Path) -> Option<Digest> {
        Self::digest_under(&self.condemned_of(algorithm), algorithm, key)
    }

    fn digest_under(prefix: &Path, algorithm: &Algorithm, key: &Path) -> Option<Digest> {
        let mut parts = key.prefix_match(prefix)?;
        let hex = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        Digest::parse(&format!("{algorithm}:{}", hex.as_ref())).ok()
    }
}

/// A key of a session, as [`Layout::session_key`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SessionKey<'a> {
    Start,
    Alive,
    /// An append (or seal) record at this offset.
    Append(u64),
    /// A part or anything else.
    Other(&'a str),
}

fn parse_offset(s: &str) -> Option<u64> {
    if s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_as_what_they_are() {
        let layout = Layout::new(Path::from("registry/one"));
        let id = UploadId::random();
        let digest = Digest::sha256(b"x");
        assert_eq!(
            layout.blob(&digest).as_ref(),
            format!("registry/one/blobs/sha256/{}", digest.encoded())
        );
        assert_eq!(
            layout.blob_digest(&Algorithm::Sha256, &layout.blob(&digest)),
            Some(digest.clone())
        );
        let marker = layout.condemned(&digest);
        assert_eq!(
            marker.as_ref(),
            format!("registry/one/gc/condemned/sha256/{}", digest.encoded())
        );
        assert_eq!(
            layout.condemned_digest(&Algorithm::Sha256, &marker),
            Some(digest.clone())
        );
        assert_eq!(layout.blob_digest(&Algorithm::Sha256, &marker), None);
        assert_eq!(
            layout.condemned_digest(&Algorithm::Sha256, &layout.blob(&digest)),
            None
        );
        let cases = [
            (layout.start(&id), SessionKey::Start),
            (layout.alive(&id), SessionKey::Alive),
            (layout.append(&id, 42), SessionKey::Append(42)),
            (layout.append(&id, u64::MAX), SessionKey::Append(u64::MAX)),
        ];
        for (key, want) in cases {
            assert_eq!(layout.session_key(&key), Some((id, want)), "{key}");
        }
        let part = layout.part(&id, 7);
        assert!(matches!(
            layout.session_key(&part),
            Some((got, SessionKey::Other(_))) if got == id
        ));
        assert_eq!(layout.session_key(&Path::from("elsewhere/start")), None);
    }

    #[test]
    fn offsets_sort_as_numbers() {
        let layout = Layout::new(Path::default());
        let id = UploadId::random();
        let mut keys: Vec<String> = [0u64, 9, 10, 5_000_000_000, u64::MAX]
            .iter()
            .map(|o| layout.append(&id, *o).to_string())
            .collect();
        let numeric = keys.clone();
        keys.sort();
        assert_eq!(keys, numeric);
    }
}
