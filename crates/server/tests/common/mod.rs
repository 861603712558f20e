//! A registry served on 127.0.0.1:0 over a chosen backend, a reqwest client
//! for it, and builders for the blobs and manifests tests push.

#![allow(dead_code, missing_docs)]

pub mod cast;
pub mod ghcr;
pub mod images;
pub mod model;

use std::net::SocketAddr;
use std::sync::Arc;

use futures::future::BoxFuture;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wharf_reference::Digest;
use wharf_server::{Limits, Registry, RegistryBuilder, Shutdown};
use wharf_storage::{FsStorage, MemoryStorage, Storage};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// The storage backends every table runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Memory,
    Filesystem,
}

/// One `#[tokio::test]` per storage backend for each `async fn
/// name(backend: Backend)` named, so that a failure names its backend:
/// `on_each_backend!(uploads_resume)` runs `uploads_resume` as the tests
/// `uploads_resume::in_memory` and `uploads_resume::on_disk`.
#[macro_export]
macro_rules! on_each_backend {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn in_memory() {
                super::$name($crate::common::Backend::Memory).await;
            }

            #[tokio::test]
            async fn on_disk() {
                super::$name($crate::common::Backend::Filesystem).await;
            }
        }
    )+};
}

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub registry: Registry,
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub async fn start(backend: Backend) -> TestServer {
    start_with(backend, |b| b).await
}

/// A server that `serve` (`wharf_server::serve` or `serve_tls`) runs on
/// a free port of 127.0.0.1 until [`stop`](Self::stop).
pub struct Serving {
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<Shutdown>>,
}

impl Serving {
    /// Binds the port and spawns `serve` with the listener and the
    /// shutdown signal.
    pub async fn start<Fut>(
        serve: impl FnOnce(tokio::net::TcpListener, BoxFuture<'static, ()>) -> Fut,
    ) -> Serving
    where
        Fut: std::future::Future<Output = std::io::Result<Shutdown>> + Send + 'static,
    {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let signal = Box::pin(async {
            let _ = stopped.await;
        });
        let task = tokio::spawn(serve(listener, signal));
        Serving { addr, stop, task }
    }

    /// Signals the shutdown; how the server ended.
    pub async fn stop(self) -> Shutdown {
        let _ = self.stop.send(());
        self.task.await.expect("join").expect("serve")
    }
}

/// With the default limits as `set` changes them.
pub async fn start_with_limits(backend: Backend, set: impl FnOnce(&mut Limits)) -> TestServer {
    let mut limits = Limits::default();
    set(&mut limits);
    start_with(backend, move |b| b.limits(limits)).await
}

pub async fn start_with(
    backend: Backend,
    configure: impl FnOnce(RegistryBuilder) -> RegistryBuilder,
) -> TestServer {
    start_bound(backend, move |builder, _| configure(builder)).await
}

/// Like [`start_with`], telling `configure` the address the server will
/// listen on (for settings that name it, such as a public URL).
pub async fn start_bound(
    backend: Backend,
    configure: impl FnOnce(RegistryBuilder, SocketAddr) -> RegistryBuilder,
) -> TestServer {
    let (storage, dir): (Arc<dyn Storage>, _) = match backend {
        Backend::Memory => (Arc::new(MemoryStorage::new()), None),
        Backend::Filesystem => {
            let dir = tempfile::tempdir().expect("tempdir");
            let storage = FsStorage::open(dir.path()).expect("open fs storage");
            (Arc::new(storage), Some(dir))
        }
    };
    serve(storage, backend, dir, configure).await
}

/// A registry over any `storage` the caller built (a `Composite`, say),
/// reported as the in-memory backend.
pub async fn start_on_storage(storage: Arc<dyn Storage>) -> TestServer {
    serve(storage, Backend::Memory, None, |b, _| b).await
}

/// A registry over `storage`, a filesystem the caller opened (and keeps).
pub async fn start_on_filesystem(
    storage: FsStorage,
    configure: impl FnOnce(RegistryBuilder) -> RegistryBuilder,
) -> TestServer {
    serve(Arc::new(storage), Backend::Filesystem, None, move |b, _| {
        configure(b)
    })
    .await
}

async fn serve(
    storage: Arc<dyn Storage>,
    backend: Backend,
    dir: Option<tempfile::TempDir>,
    configure: impl FnOnce(RegistryBuilder, SocketAddr) -> RegistryBuilder,
) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let registry = configure(Registry::builder(storage).metrics_endpoint(true), addr).build();
    let router = registry.router();
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.expect("serve");
    });
    TestServer {
        base: format!("http://{addr}"),
        addr,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        registry,
        backend,
        _dir: dir,
        server,
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: bytes::Bytes,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `WWW-Authenticate` challenge, or `""` when there is none.
    pub fn challenge(&self) -> &str {
        self.header("www-authenticate").unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| {
            panic!(
                "body is not JSON ({err}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The first error code of an OCI error body.
    pub fn error_code(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        value["errors"][0]["code"].as_str().map(str::to_owned)
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.body(body).send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("body");
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path).await
    }

    /// `PATCH path` with `chunks` streamed as the body, as a client whose
    /// body may stall or fail sends it: the response, or the error.
    pub fn patch_streaming<S>(
        &self,
        path: &str,
        chunks: S,
    ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send + 'static
    where
        S: futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static,
    {
        let request = self.client.patch(self.url(path));
        request.body(reqwest::Body::wrap_stream(chunks)).send()
    }

    /// `method path` with no headers and an empty body.
    pub async fn request(&self, method: Method, path: &str) -> Reply {
        self.send(method, path, &[], Vec::new()).await
    }

    /// Pushes a blob monolithically and returns its digest.
    pub async fn push_blob(&self, repo: &str, content: &[u8]) -> Digest {
        let headers = [("content-type", "application/octet-stream")];
        let reply = self.post_blob(repo, content, &headers).await;
        assert_eq!(reply.status, StatusCode::CREATED, "push blob: {reply:?}");
        Digest::sha256(content)
    }

    /// `POST /v2/<repo>/blobs/uploads/?digest=...` with `content`: a
    /// monolithic blob upload, with `headers`.
    pub async fn post_blob(&self, repo: &str, content: &[u8], headers: &[(&str, &str)]) -> Reply {
        let digest = Digest::sha256(content);
        let path = format!("/v2/{repo}/blobs/uploads/?digest={digest}");
        self.send(Method::POST, &path, headers, content.to_vec())
            .await
    }

    pub async fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Reply {
        self.send(
            Method::PUT,
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("content-type", media_type)],
            bytes.to_vec(),
        )
        .await
    }

    /// Pushes a config and one layer and an image manifest referencing them,
    /// tagged `tag`; returns the manifest bytes and digest.
    pub async fn push_image(&self, repo: &str, tag: &str, seed: &str) -> (Vec<u8>, Digest) {
        let config = format!("{{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"{seed}\"}}");
        let layer = format!("layer of {seed}");
        let config_digest = self.push_blob(repo, config.as_bytes()).await;
        let layer_digest = self.push_blob(repo, layer.as_bytes()).await;
        let manifest = image_manifest(
            (&config_digest, config.len()),
            &[(&layer_digest, layer.len())],
            None,
        );
        let reply = self.push_manifest(repo, tag, OCI_MANIFEST, &manifest).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "push manifest: {reply:?}"
        );
        let digest = Digest::sha256(&manifest);
        (manifest, digest)
    }
}

/// Asserts that each of `lines` is a whole line of `text` (a metrics
/// scrape, say).
pub fn assert_has_lines(text: &str, lines: &[&str]) {
    for line in lines {
        assert!(text.lines().any(|l| l == *line), "missing {line}\n{text}");
    }
}

pub fn descriptor(media_type: &str, digest: &Digest, size: usize) -> serde_json::Value {
    json!({ "mediaType": media_type, "digest": digest.to_string(), "size": size })
}

/// An OCI image manifest, optionally with a subject `(digest, size)`.
pub fn image_manifest(
    config: (&Digest, usize),
    layers: &[(&Digest, usize)],
    subject: Option<(&Digest, usize)>,
) -> Vec<u8> {
    let mut value = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor(OCI_CONFIG, config.0, config.1),
        "layers": layers.iter().map(|(d, s)| descriptor(OCI_LAYER, d, *s)).collect::<Vec<_>>(),
    });
    if let Some((digest, size)) = subject {
        value["subject"] = descriptor(OCI_MANIFEST, digest, size);
    }
    serde_json::to_vec_pretty(&value).expect("json")
}

/// An OCI 1.1 artifact: empty config, `artifactType`, a subject, annotations.
pub fn artifact_manifest(
    artifact_type: &str,
    empty_config: &Digest,
    subject: (&Digest, usize),
    annotation: &str,
) -> Vec<u8> {
    let value = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": descriptor("application/vnd.oci.empty.v1+json", empty_config, 2),
        "layers": [descriptor("application/vnd.oci.empty.v1+json", empty_config, 2)],
        "subject": descriptor(OCI_MANIFEST, subject.0, subject.1),
        "annotations": { "org.example.note": annotation },
    });
    serde_json::to_vec(&value).expect("json")
}

/// An OCI index of `(digest, size, architecture)` entries.
pub fn index(entries: &[(&Digest, usize, &str)]) -> Vec<u8> {
    let manifests: Vec<_> = entries
        .iter()
        .map(|(d, s, arch)| {
            let mut desc = descriptor(OCI_MANIFEST, d, *s);
            desc["platform"] = json!({ "os": "linux", "architecture": arch });
            desc
        })
        .collect();
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    }))
    .expect("json")
}
