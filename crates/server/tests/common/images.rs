//! The images the isolation tests push, and what of them must never reach
//! someone who may not pull them: their digests and their description.

use reqwest::Method;
use serde_json::json;
use wharf_reference::Digest;

use super::ghcr::Ghcr;
use super::{artifact_manifest, Reply};

/// An image pushed to a package, with a referrer (an artifact whose
/// subject is the image).
#[derive(Debug, Clone)]
pub struct Image {
    pub repository: String,
    pub tag: String,
    pub manifest: Digest,
    pub config: Digest,
    pub layer: Digest,
    pub referrer: Digest,
    /// The description its config labels give the package.
    pub description: String,
}

impl Image {
    /// The strings only those who may pull the image may see: its digests
    /// (without the algorithm) and its description.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> = [&self.manifest, &self.config, &self.layer, &self.referrer]
            .iter()
            .map(|d| d.encoded().to_owned())
            .collect();
        secrets.push(self.description.clone());
        secrets
    }
}

/// The empty JSON object `{}`, the config of artifacts.
const EMPTY: &[u8] = b"{}";

/// Pushes an image tagged `tag` to `repository` as `authorization`,
/// described by a text naming `seed` (different seeds make different
/// blobs), and an artifact referring to it. Panics unless every push is
/// accepted.
pub async fn push(
    ghcr: &Ghcr,
    authorization: &str,
    repository: &str,
    tag: &str,
    seed: &str,
) -> Image {
    let description = format!("isolation secret {seed}");
    let (reply, manifest, size) = ghcr
        .push_image_as(
            authorization,
            repository,
            tag,
            json!({
                "org.opencontainers.image.description": description,
                "org.example.seed": seed,
            }),
            json!({}),
        )
        .await;
    assert_eq!(reply.status, 201, "push {repository}:{tag}: {reply:?}");
    let pulled = ghcr
        .get(
            &format!("/v2/{repository}/manifests/{manifest}"),
            Some(authorization),
        )
        .await;
    assert_eq!(pulled.status, 200, "read back {repository}: {pulled:?}");
    let value = pulled.json();
    let digest = |v: &serde_json::Value| -> Digest {
        v["digest"]
            .as_str()
            .expect("digest")
            .parse()
            .expect("digest")
    };
    let config = digest(&value["config"]);
    let layer = digest(&value["layers"][0]);
    let referrer = push_referrer(ghcr, authorization, repository, (&manifest, size), seed).await;
    Image {
        repository: repository.to_owned(),
        tag: tag.to_owned(),
        manifest,
        config,
        layer,
        referrer,
        description,
    }
}

async fn push_referrer(
    ghcr: &Ghcr,
    authorization: &str,
    repository: &str,
    subject: (&Digest, usize),
    seed: &str,
) -> Digest {
    let empty = Digest::sha256(EMPTY);
    let reply = ghcr.push_blob_as(authorization, repository, EMPTY).await;
    assert_eq!(reply.status, 201, "push the empty config: {reply:?}");
    let bytes = artifact_manifest(
        "application/vnd.example.signature",
        &empty,
        subject,
        &format!("signature of {seed}"),
    );
    let digest = Digest::sha256(&bytes);
    let reply: Reply = ghcr
        .server
        .send(
            Method::PUT,
            &format!("/v2/{repository}/manifests/{digest}"),
            &[
                ("authorization", authorization),
                ("content-type", super::OCI_MANIFEST),
            ],
            bytes,
        )
        .await;
    assert_eq!(reply.status, 201, "push the referrer: {reply:?}");
    digest
}

/// The strings of `forbidden` that `reply` shows (in its body or a
/// header) and that the request did not itself name (a name or digest a
/// client sent may be echoed back).
pub fn leaked<'a>(reply: &Reply, request: &str, forbidden: &'a [String]) -> Vec<&'a str> {
    let body = String::from_utf8_lossy(&reply.body);
    let headers: String = reply
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {}\n", String::from_utf8_lossy(value.as_bytes())))
        .collect();
    forbidden
        .iter()
        .map(String::as_str)
        .filter(|secret| !request.contains(secret))
        .filter(|secret| body.contains(secret) || headers.contains(secret))
        .collect()
}
