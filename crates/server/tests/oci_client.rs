//! A real client, `oci-client`, pushes and pulls images and a multi-arch
//! index against the registry served on a random local port.

mod common;

use common::*;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{OciImageIndex, OciManifest, IMAGE_MANIFEST_MEDIA_TYPE};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde_json::json;

fn client(monolithic: bool) -> Client {
    Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        use_monolithic_push: monolithic,
        ..Default::default()
    })
}

fn reference(server: &TestServer, path: &str) -> Reference {
    format!("{}/{path}", server.addr)
        .parse()
        .expect("reference")
}

/// A config for `arch` and two layers, one larger than oci-client's 4 MiB
/// push chunk so the chunked push sends several PATCHes.
fn image(arch: &str) -> (Vec<ImageLayer>, Config) {
    let big: Vec<u8> = (0..(5 * 1024 * 1024 + 17))
        .map(|i: usize| (i % 253) as u8 ^ arch.len() as u8)
        .collect();
    let layers = vec![
        ImageLayer::oci_v1_gzip(format!("small layer for {arch}").into_bytes(), None),
        ImageLayer::oci_v1_gzip(big, None),
    ];
    let config = serde_json::to_vec(&json!({
        "architecture": arch,
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": []}
    }))
    .expect("json");
    (layers, Config::oci_v1(config, None))
}

/// The layer media types the tests accept when pulling.
fn gzip_layers() -> Vec<&'static str> {
    vec![oci_client::manifest::IMAGE_LAYER_GZIP_MEDIA_TYPE]
}

async fn oci_client_pushes_and_pulls_an_image_chunked_and_monolithic(backend: Backend) {
    let server = start(backend).await;
    for (monolithic, repo) in [(false, "octocat/chunked"), (true, "octocat/monolithic")] {
        let client = client(monolithic);
        let auth = RegistryAuth::Anonymous;
        let image_ref = reference(&server, &format!("{repo}:1.0"));
        let (layers, config) = image("amd64");
        let pushed = client
            .push(&image_ref, &layers, config.clone(), &auth, None)
            .await
            .unwrap_or_else(|err| panic!("[{backend:?}] push {repo}: {err}"));
        assert!(
            pushed.manifest_url.contains(repo),
            "{}",
            pushed.manifest_url
        );

        let pulled = client
            .pull(&image_ref, &auth, gzip_layers())
            .await
            .unwrap_or_else(|err| panic!("[{backend:?}] pull {repo}: {err}"));
        // oci-client downloads layers concurrently and returns them in
        // completion order: compare their digests as sets.
        let digests = |layers: &[ImageLayer]| {
            let mut d: Vec<String> = layers.iter().map(|l| l.sha256_digest()).collect();
            d.sort();
            d
        };
        assert_eq!(
            digests(&pulled.layers),
            digests(&layers),
            "[{backend:?}] {repo}"
        );
        assert_eq!(pulled.config.data, config.data);

        let digest = client
            .fetch_manifest_digest(&image_ref, &auth)
            .await
            .expect("HEAD manifest");
        assert_eq!(Some(digest), pulled.digest);
        let tags = client
            .list_tags(&image_ref, &auth, None, None)
            .await
            .expect("tags");
        assert_eq!(tags.tags, ["1.0"]);
    }
}
on_each_backend!(oci_client_pushes_and_pulls_an_image_chunked_and_monolithic);

async fn oci_client_pushes_and_pulls_a_multi_arch_index(backend: Backend) {
    let server = start(backend).await;
    let client = client(false);
    let auth = RegistryAuth::Anonymous;
    let mut entries = Vec::new();
    for arch in ["amd64", "arm64"] {
        let image_ref = reference(&server, &format!("octocat/multi:{arch}"));
        let (layers, config) = image(arch);
        client
            .push(&image_ref, &layers, config, &auth, None)
            .await
            .unwrap_or_else(|err| panic!("[{backend:?}] push {arch}: {err}"));
        let (manifest, digest) = client
            .pull_manifest(&image_ref, &auth)
            .await
            .expect("pull manifest");
        assert!(matches!(manifest, OciManifest::Image(_)));
        let raw = server
            .get(&format!("/v2/octocat/multi/manifests/{digest}"))
            .await;
        assert_eq!(raw.status, 200);
        entries.push(json!({
            "mediaType": IMAGE_MANIFEST_MEDIA_TYPE,
            "digest": digest,
            "size": raw.body.len(),
            "platform": {"architecture": arch, "os": "linux"}
        }));
    }
    let index: OciImageIndex = serde_json::from_value(json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    }))
    .expect("index");
    let index_ref = reference(&server, "octocat/multi:latest");
    client
        .push_manifest_list(&index_ref, &auth, index)
        .await
        .unwrap_or_else(|err| panic!("[{backend:?}] push index: {err}"));

    // Pulling the index picks this machine's platform (linux/amd64 here)
    // and fetches that image.
    let (manifest, _) = client
        .pull_manifest(&index_ref, &auth)
        .await
        .expect("pull index");
    let OciManifest::ImageIndex(pulled_index) = manifest else {
        panic!("expected an index");
    };
    assert_eq!(pulled_index.manifests.len(), 2);
    if std::env::consts::ARCH == "x86_64" {
        let image = client
            .pull(&index_ref, &auth, gzip_layers())
            .await
            .expect("pull through the index");
        assert!(
            image
                .layers
                .iter()
                .any(|l| l.data.as_ref() == b"small layer for amd64"),
            "[{backend:?}] the amd64 image was pulled"
        );
    }

    // Mount a layer of the index's image into another repository.
    let (layers, _) = image("amd64");
    let target = reference(&server, "octocat/mounted:1");
    let digest = layers[0].sha256_digest();
    client
        .mount_blob(&target, &index_ref, &digest)
        .await
        .expect("mount");
    assert!(client
        .blob_exists(&target, &digest)
        .await
        .expect("HEAD blob"));

    let index_digest = client
        .fetch_manifest_digest(&index_ref, &auth)
        .await
        .expect("HEAD index");
    let by_digest = reference(&server, &format!("octocat/multi@{index_digest}"));
    let referrers = client
        .pull_referrers(&by_digest, None)
        .await
        .expect("referrers");
    assert!(referrers.manifests.is_empty());
}
on_each_backend!(oci_client_pushes_and_pulls_a_multi_arch_index);

#[tokio::test]
async fn oci_client_logs_in_through_the_token_endpoint_with_accounts_on() {
    let ghcr = common::ghcr::Ghcr::start_reachable().await;
    let server = &ghcr.server;
    let client = client(false);
    let alice = RegistryAuth::Basic("alice".into(), ghcr.secret("alice").to_owned());
    let bob = RegistryAuth::Basic("bob".into(), ghcr.secret("bob").to_owned());
    let image_ref = reference(server, "alice/app:1.0");
    let (layers, config) = image("amd64");
    client
        .push(&image_ref, &layers, config, &alice, None)
        .await
        .expect("alice pushes into her namespace");

    let media = gzip_layers();
    let fresh = || self::client(false);
    assert!(
        fresh()
            .pull(&image_ref, &RegistryAuth::Anonymous, media.clone())
            .await
            .is_err(),
        "first publish is private"
    );
    assert!(
        fresh().pull(&image_ref, &bob, media.clone()).await.is_err(),
        "an outsider cannot pull it"
    );
    let pulled = fresh()
        .pull(&image_ref, &alice, media.clone())
        .await
        .expect("alice pulls");
    assert_eq!(pulled.layers.len(), 2);

    ghcr.make_public("alice", "/user", "app").await;
    let pulled = fresh()
        .pull(&image_ref, &RegistryAuth::Anonymous, media)
        .await
        .expect("a public package pulls anonymously");
    assert_eq!(pulled.layers.len(), 2);
    let bob_push = fresh()
        .push(&image_ref, &image("arm64").0, image("arm64").1, &bob, None)
        .await;
    assert!(
        bob_push.is_err(),
        "an outsider cannot push to a public package"
    );
}
