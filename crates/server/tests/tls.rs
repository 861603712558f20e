//! Serving over TLS (cargo feature `tls`): a registry served with
//! `serve_tls` and a certificate authority made in the test, reached by
//! reqwest clients that trust only that authority. Run alone with
//! `cargo test -p wharf-server --features tls --test tls`.
#![cfg(feature = "tls")]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Serving;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wharf_server::http::tls::{server_config, CertificateFiles, ReloadingCertificate, TlsError};
use wharf_server::{serve_tls, Registry, ServeOptions, Shutdown};
use wharf_storage::MemoryStorage;

/// How often the test servers look at their certificate files.
const POLL: Duration = Duration::from_millis(100);

/// A certificate authority made for one test.
struct TestCa(CertifiedIssuer<'static, KeyPair>);

/// A server certificate for `localhost` and `127.0.0.1`, in PEM.
struct Leaf {
    cert: String,
    key: String,
    /// The certificate, as a TLS client sees it.
    der: Vec<u8>,
}

impl TestCa {
    fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "wharf test CA");
        let key = KeyPair::generate().expect("CA key");
        TestCa(CertifiedIssuer::self_signed(params, key).expect("CA certificate"))
    }

    fn pem(&self) -> String {
        self.0.pem()
    }

    fn issue(&self) -> Leaf {
        let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("params");
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.0).expect("certificate");
        Leaf {
            cert: cert.pem(),
            key: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }

    /// A client that trusts this authority only; `http1` keeps it off
    /// HTTP/2.
    fn client(&self, http1: bool) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(self.pem().as_bytes()).expect("CA PEM");
        let builder = reqwest::Client::builder()
            .tls_certs_only([ca])
            .tls_info(true);
        let builder = if http1 { builder.http1_only() } else { builder };
        builder.build().expect("client")
    }
}

/// Writes `text` to `path` as certificate tools do: a new file renamed over
/// the old one.
fn replace(path: &Path, text: &str) {
    let staging = path.with_extension("new");
    std::fs::write(&staging, text).expect("write");
    std::fs::rename(&staging, path).expect("rename");
}

/// A registry served over TLS with `leaf`, the certificate files watched.
struct TlsServer {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    certificate: Arc<ReloadingCertificate>,
    serving: Serving,
}

impl TlsServer {
    async fn start(leaf: &Leaf, options: ServeOptions) -> TlsServer {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("tls.pem"), &leaf.cert).expect("write");
        std::fs::write(dir.path().join("tls.key"), &leaf.key).expect("write");
        let files = CertificateFiles::new(dir.path().join("tls.pem"), dir.path().join("tls.key"));
        let certificate = Arc::new(ReloadingCertificate::load(files).expect("load"));
        let _watcher = certificate.clone().watch(POLL);
        let tls = server_config(certificate.clone()).expect("config");
        let router = Registry::builder(Arc::new(MemoryStorage::new()))
            .build()
            .router();
        let serving =
            Serving::start(|listener, stop| serve_tls(listener, router, options, tls, stop)).await;
        TlsServer {
            addr: serving.addr,
            dir,
            certificate,
            serving,
        }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/v2/", self.addr.port())
    }

    /// Replaces the certificate files with `cert` and `key`, the key first.
    fn replace_files(&self, cert: &str, key: &str) {
        replace(&self.dir.path().join("tls.key"), key);
        replace(&self.dir.path().join("tls.pem"), cert);
    }

    async fn stop(self) -> Shutdown {
        self.serving.stop().await
    }
}

/// GET /v2/ with `client`: the HTTP version and the certificate the
/// server presented on the connection the request went over.
async fn get_v2(client: &reqwest::Client, url: &str) -> (reqwest::Version, Vec<u8>) {
    let response = client.get(url).send().await.expect("GET /v2/");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["docker-distribution-api-version"],
        "registry/2.0"
    );
    let version = response.version();
    let presented = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("the TLS info of the connection")
        .to_vec();
    assert_eq!(response.text().await.expect("body"), "{}");
    (version, presented)
}

#[tokio::test]
async fn v2_answers_over_tls_with_http2_through_alpn_and_http1_still_works() {
    let ca = TestCa::new();
    let leaf = ca.issue();
    let server = TlsServer::start(&leaf, ServeOptions::default()).await;
    // (client offers HTTP/1.1 only, version negotiated)
    let table = [
        (false, reqwest::Version::HTTP_2),
        (true, reqwest::Version::HTTP_11),
    ];
    for (http1, expected) in table {
        let (version, presented) = get_v2(&ca.client(http1), &server.url()).await;
        assert_eq!(version, expected, "http1 only: {http1}");
        assert_eq!(presented, leaf.der);
    }
    // A client that does not trust the authority gets no answer.
    let stranger = reqwest::Client::builder()
        .tls_certs_only([
            reqwest::Certificate::from_pem(TestCa::new().pem().as_bytes()).expect("pem"),
        ])
        .build()
        .expect("client");
    assert!(stranger.get(server.url()).send().await.is_err());
    assert_eq!(server.stop().await, Shutdown::Graceful);
}

#[tokio::test]
async fn a_new_certificate_is_served_on_new_connections_while_open_ones_keep_working() {
    let ca = TestCa::new();
    let (first, second) = (ca.issue(), ca.issue());
    let server = TlsServer::start(&first, ServeOptions::default()).await;
    // Connections made before the renewal: one HTTP/2, one HTTP/1.1.
    let open = [ca.client(false), ca.client(true)];
    for client in &open {
        assert_eq!(get_v2(client, &server.url()).await.1, first.der);
    }

    server.replace_files(&second.cert, &second.key);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // A new client, so a new connection and a new handshake.
        let (_, presented) = get_v2(&ca.client(false), &server.url()).await;
        if presented == second.der {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate is never served"
        );
        tokio::time::sleep(POLL).await;
    }
    for client in &open {
        assert_eq!(
            get_v2(client, &server.url()).await.1,
            first.der,
            "an open connection keeps its certificate and still answers"
        );
    }
    assert_eq!(server.stop().await, Shutdown::Graceful);
}

#[tokio::test]
async fn a_bad_replacement_is_refused_and_the_old_certificate_kept() {
    let ca = TestCa::new();
    let (good, other, last) = (ca.issue(), ca.issue(), ca.issue());
    let server = TlsServer::start(&good, ServeOptions::default()).await;
    // (what replaces the files: certificate, key)
    let table = [
        (
            "a certificate file without a certificate",
            "not PEM at all",
            good.key.as_str(),
        ),
        (
            "a key file without a key",
            good.cert.as_str(),
            good.cert.as_str(),
        ),
        (
            "the key of another certificate",
            good.cert.as_str(),
            other.key.as_str(),
        ),
        (
            "a certificate whose key is not there",
            other.cert.as_str(),
            good.key.as_str(),
        ),
    ];
    for (what, cert, key) in table {
        server.replace_files(cert, key);
        // Give the watcher several looks at the files.
        tokio::time::sleep(POLL * 5).await;
        let (_, presented) = get_v2(&ca.client(false), &server.url()).await;
        assert_eq!(presented, good.der, "{what}: the old certificate is served");
        assert!(server.certificate.reload().is_err(), "{what}: refused");
    }
    // The watcher still picks up a good pair after bad ones.
    server.replace_files(&last.cert, &last.key);
    let deadline = Instant::now() + Duration::from_secs(10);
    while get_v2(&ca.client(false), &server.url()).await.1 != last.der {
        assert!(Instant::now() < deadline, "the good pair is never served");
        tokio::time::sleep(POLL).await;
    }
    assert_eq!(server.stop().await, Shutdown::Graceful);
}

#[tokio::test]
async fn a_client_that_never_finishes_the_handshake_is_closed_after_the_idle_timeout() {
    let ca = TestCa::new();
    let mut options = ServeOptions::default();
    options.idle_timeout = Duration::from_millis(300);
    let server = TlsServer::start(&ca.issue(), options).await;
    // (what the client sends before falling silent)
    let table: [(&str, &[u8]); 2] = [
        ("nothing", b""),
        // A handshake record header announcing 512 bytes, and 4 of them.
        (
            "part of a ClientHello",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc",
        ),
    ];
    for (what, sent) in table {
        let started = Instant::now();
        let mut stream = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("connect");
        stream.write_all(sent).await.expect("write");
        let mut sink = [0u8; 1024];
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            while !matches!(stream.read(&mut sink).await, Ok(0) | Err(_)) {}
        })
        .await;
        assert!(closed.is_ok(), "{what}: the connection stays open");
        assert!(
            started.elapsed() >= Duration::from_millis(250),
            "{what}: closed before the idle timeout"
        );
    }
    assert_eq!(server.stop().await, Shutdown::Graceful);
}

#[tokio::test]
async fn a_handshake_in_progress_does_not_hold_up_the_shutdown() {
    let ca = TestCa::new();
    let mut options = ServeOptions::default();
    options.idle_timeout = Duration::from_secs(60);
    options.shutdown_grace = Duration::from_secs(30);
    let server = TlsServer::start(&ca.issue(), options).await;
    let _silent = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    assert_eq!(server.stop().await, Shutdown::Graceful);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn certificate_files_that_do_not_hold_a_matching_pair_are_refused_with_the_reason() {
    let ca = TestCa::new();
    let (leaf, other) = (ca.issue(), ca.issue());
    let dir = tempfile::tempdir().expect("tempdir");
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let (cert, key) = (file("tls.pem", &leaf.cert), file("tls.key", &leaf.key));
    let both = file("both.pem", &format!("{}{}", leaf.cert, leaf.key));
    let (other_key, garbage) = (file("other.key", &other.key), file("garbage", "hello"));
    let missing = dir.path().join("missing.pem");
    let loaded = CertificateFiles::new(&cert, &key)
        .load()
        .expect("a good pair");
    assert_eq!(loaded.cert[0].as_ref(), leaf.der.as_slice());
    assert!(
        CertificateFiles::new(&both, &both).load().is_ok(),
        "one file holding both"
    );
    // (certificate file, key file, what the error says)
    let table = [
        (&missing, &key, "cannot read"),
        (&cert, &missing, "cannot read"),
        (&garbage, &key, "holds no PEM certificate"),
        (&cert, &garbage, "holds no usable PEM private key"),
        (&key, &key, "holds no PEM certificate"),
        (&cert, &cert, "holds no usable PEM private key"),
        (&cert, &other_key, "the private key in"),
    ];
    for (cert, key, expected) in table {
        let err = CertificateFiles::new(cert, key)
            .load()
            .expect_err("refused");
        let message = err.to_string();
        assert!(message.contains(expected), "{cert:?} {key:?}: {message}");
        if expected == "the private key in" {
            assert!(matches!(err, TlsError::Mismatch { .. }), "{err:?}");
        }
    }
}
