//! Serving a router on a TCP listener, over cleartext or TLS, with the
//! connection-level limits `axum::serve` does not set, and a graceful
//! shutdown with a deadline.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tower::ServiceExt as _;

use crate::http::connections::{default_max_connections, Admission, Connection, Connections};
use crate::http::stall::StallGuard;
use crate::http::tap::Tapped;

/// Connection settings for [`serve`].
///
/// ```
/// use std::time::Duration;
/// let mut options = wharf_server::ServeOptions::default();
/// options.shutdown_grace = Duration::from_secs(5);
/// assert_eq!(options.header_read_timeout, Duration::from_secs(30));
/// assert_eq!(options.idle_timeout, Duration::from_secs(30));
/// assert_eq!(options.max_connections, None); // derived from the fd limit
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeOptions {
    /// How long a client may take to send a request head, and how long an
    /// idle keep-alive connection stays open (default 30 s). Without it a
    /// client trickling header bytes holds its connection forever.
    pub header_read_timeout: Duration,
    /// After the shutdown signal, how long in-flight requests may run
    /// before their connections are dropped (default 30 s).
    pub shutdown_grace: Duration,
    /// Disable Nagle's algorithm on accepted sockets (default true): small
    /// responses such as manifests go out at once.
    pub tcp_nodelay: bool,
    /// How long a response write may wait for the client to read before the
    /// connection is closed (default 60 s). Without it a client that stops
    /// reading a blob download holds its connection and the open blob
    /// forever; a slow client that keeps reading is never cut off.
    pub write_stall_timeout: Duration,
    /// How long a connection may stay open with no request in flight
    /// (default 30 s), counted from accept: a client that connects and
    /// never speaks, or an HTTP/2 client that sends a preface, settings or
    /// an unfinished header block and nothing else, is closed after it.
    pub idle_timeout: Duration,
    /// The most connections open at once. At the cap, the connection idle
    /// the longest is closed to make room for a new client; a new client
    /// is turned away only while every open connection has a request in
    /// flight. `None` (the default) derives it from the file-descriptor
    /// limit: half of it, less a reserve of 64, at least 64.
    pub max_connections: Option<usize>,
    /// How often an HTTP/2 connection with requests in flight is pinged to
    /// find a peer that vanished (default 30 s); a ping unanswered for as
    /// long closes the connection.
    pub http2_keep_alive_interval: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
            tcp_nodelay: true,
            write_stall_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(30),
            max_connections: None,
            http2_keep_alive_interval: Duration::from_secs(30),
        }
    }
}

/// How [`serve`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// Every in-flight request finished within the grace period.
    Graceful,
    /// The grace period ran out; the remaining connections were dropped.
    GraceExpired,
}

/// Serves `router` (HTTP/1.1 and HTTP/2 over cleartext) on `listener` until
/// `signal` completes, then stops accepting, lets in-flight requests finish
/// for up to [`ServeOptions::shutdown_grace`] and returns.
///
/// Failing to accept a connection (out of file descriptors, say) closes the
/// longest-idle connection to free a descriptor, and is logged and retried
/// after a growing pause (up to a second) rather than ending the server.
///
/// ```no_run
/// use std::sync::Arc;
/// use wharf_server::{serve, Registry, ServeOptions};
///
/// # async fn run() -> std::io::Result<()> {
/// let registry = Registry::builder(Arc::new(wharf_storage::MemoryStorage::new())).build();
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
/// let ctrl_c = async { let _ = tokio::signal::ctrl_c().await; };
/// serve(listener, registry.router(), ServeOptions::default(), ctrl_c).await?;
/// # Ok(())
/// # }
/// ```
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    signal: impl Future<Output = ()> + Send,
) -> io::Result<Shutdown> {
    serve_on(listener, router, options, Transport::Plain, signal).await
}

/// Serves `router` over TLS on `listener` as [`serve`] does over cleartext:
/// HTTP/2 or HTTP/1.1 as ALPN chose (see
/// [`tls::server_config`](crate::http::tls::server_config)), with the same
/// limits and graceful shutdown. The handshake counts as idle time: a
/// client that connects and never finishes it is closed after
/// [`ServeOptions::idle_timeout`], like one that never speaks; a handshake
/// still running at shutdown is dropped.
///
/// See [`http::tls`](crate::http::tls) for an example.
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub async fn serve_tls(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    tls: Arc<crate::http::tls::rustls::ServerConfig>,
    signal: impl Future<Output = ()> + Send,
) -> io::Result<Shutdown> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    serve_on(listener, router, options, Transport::Tls(acceptor), signal).await
}

/// What runs between the TCP connection and HTTP.
#[derive(Clone)]
enum Transport {
    Plain,
    #[cfg(feature = "tls")]
    Tls(tokio_rustls::TlsAcceptor),
}

async fn serve_on(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    transport: Transport,
    signal: impl Future<Output = ()> + Send,
) -> io::Result<Shutdown> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(options.http2_keep_alive_interval)
        .keep_alive_timeout(options.http2_keep_alive_interval);
    let builder = Arc::new(builder);
    let table = Arc::new(Connections::new(
        options
            .max_connections
            .unwrap_or_else(default_max_connections),
    ));
    let mut accept_failures = 0u32;
    let graceful = GracefulShutdown::new();
    // Set at shutdown: handshakes still running are dropped (the graceful
    // shutdown only knows connections that reached HTTP).
    let (draining, _) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        // Reap finished connections so the set stays small.
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut signal => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                accept_failures = 0;
                accepted
            }
            Err(err) => {
                // Out of descriptors, most likely: free one held by an idle
                // connection, and back off (logging at 1, 2, 4, ... failures
                // in a row, not every 50 ms).
                let freed = table.close_idlest();
                accept_failures = accept_failures.saturating_add(1);
                if accept_failures.is_power_of_two() {
                    tracing::warn!(error = %err, failures = accept_failures, freed_idle = freed,
                        "accepting a connection failed; retrying");
                }
                let pause = 50u64 << accept_failures.min(5);
                tokio::time::sleep(Duration::from_millis(pause.min(1_000))).await;
                continue;
            }
        };
        let (admission, registration) = table.admit();
        let Some(registration) = registration else {
            tracing::warn!(%peer, open = table.len(),
                "connection refused: the connection cap is reached and every connection is busy");
            drop(stream);
            continue;
        };
        if admission == Admission::AdmittedClosingIdle {
            tracing::debug!(%peer, "at the connection cap: closed the longest-idle connection");
        }
        if options.tcp_nodelay {
            let _ = stream.set_nodelay(true);
        }
        // The stall guard sits under TLS: what it watches is the socket.
        let io = StallGuard::new(stream, options.write_stall_timeout);
        let http = Http {
            builder: builder.clone(),
            router: router.clone(),
            peer,
            tracked: registration.connection().clone(),
            watcher: graceful.watcher(),
        };
        let transport = transport.clone();
        let draining = draining.subscribe();
        let idle_timeout = options.idle_timeout;
        connections.spawn(async move {
            let tracked = registration.connection().clone();
            let session = async move {
                match transport {
                    Transport::Plain => {
                        drop(draining);
                        http.serve(io).await;
                    }
                    #[cfg(feature = "tls")]
                    Transport::Tls(acceptor) => {
                        let mut draining = draining;
                        let handshake = tokio::select! {
                            handshake = acceptor.accept(io) => handshake,
                            _ = draining.wait_for(|draining| *draining) => return,
                        };
                        match handshake {
                            Ok(tls) => http.serve(tls).await,
                            Err(err) => {
                                tracing::debug!(%peer, error = %err, "TLS handshake failed");
                            }
                        }
                    }
                }
            };
            tokio::select! {
                () = session => {}
                () = tracked.idle_timeout(idle_timeout) => {
                    tracing::debug!(%peer, "closed a connection idle for the idle timeout");
                }
                () = tracked.closed() => {}
            }
            drop(registration);
        });
    }
    drop(listener);
    draining.send_replace(true);
    match tokio::time::timeout(options.shutdown_grace, graceful.shutdown()).await {
        Ok(()) => Ok(Shutdown::Graceful),
        Err(_) => {
            connections.shutdown().await;
            Ok(Shutdown::GraceExpired)
        }
    }
}

/// What serving HTTP on an accepted connection needs, whatever runs under
/// it.
struct Http {
    builder: Arc<Builder<TokioExecutor>>,
    router: Router,
    peer: SocketAddr,
    tracked: Arc<Connection>,
    watcher: Watcher,
}

impl Http {
    /// Serves requests on `io` until the client or the graceful shutdown
    /// ends the connection.
    async fn serve<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Http {
            builder,
            router,
            peer,
            tracked,
            watcher,
        } = self;
        let service = tower::service_fn(move |mut request: axum::extract::Request<_>| {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let guard = tracked.begin_request();
            let response = router.clone().oneshot(request);
            async move {
                let response = response.await?;
                Ok::<_, Infallible>(response.map(|body| Tapped::wrap(body, guard)))
            }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service))
            .into_owned();
        if let Err(err) = watcher.watch(connection).await {
            tracing::debug!(%peer, error = %err, "connection ended with an error");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    type Running = (
        std::net::SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<io::Result<Shutdown>>,
    );

    /// Serves `/` ("hi") and `/sleep/{ms}` (answers after sleeping).
    async fn start(options: ServeOptions) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = Router::new()
            .route("/", axum::routing::get(|| async { "hi" }))
            .route(
                "/sleep/{ms}",
                axum::routing::get(
                    |axum::extract::Path(ms): axum::extract::Path<u64>| async move {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                        "slept"
                    },
                ),
            )
            .route(
                "/endless",
                axum::routing::get(|| async {
                    let chunk = bytes::Bytes::from(vec![0u8; 64 * 1024]);
                    let chunks = futures::stream::repeat_with(move || {
                        Ok::<_, std::convert::Infallible>(chunk.clone())
                    });
                    axum::body::Body::from_stream(chunks)
                }),
            );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, router, options, async {
            let _ = stopped.await;
        }));
        (addr, stop, server)
    }

    #[tokio::test]
    async fn a_client_trickling_its_request_head_is_disconnected() {
        let options = ServeOptions {
            header_read_timeout: Duration::from_millis(200),
            ..ServeOptions::default()
        };
        let (addr, stop, server) = start(options).await;
        let mut stream = connect_and_send(addr, b"GET / HTTP/1.1\r\nHost: x\r\n").await;
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
        assert!(
            read.is_ok(),
            "the server closes the connection after the timeout"
        );
        let _ = stop.send(());
        assert_eq!(
            server.await.expect("join").expect("serve"),
            Shutdown::Graceful
        );
    }

    /// A connection to `addr` that has sent `bytes`.
    async fn connect_and_send(addr: std::net::SocketAddr, bytes: &[u8]) -> tokio::net::TcpStream {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.write_all(bytes).await.expect("write");
        stream
    }

    /// Whether the server closes `stream` within `limit` (reading and
    /// discarding whatever it sends).
    async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> bool {
        let mut sink = [0u8; 4096];
        tokio::time::timeout(limit, async {
            loop {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await
        .is_ok()
    }

    fn idle_options(idle_ms: u64) -> ServeOptions {
        ServeOptions {
            idle_timeout: Duration::from_millis(idle_ms),
            shutdown_grace: Duration::from_millis(100),
            ..ServeOptions::default()
        }
    }

    #[tokio::test]
    async fn silent_connections_are_closed_from_accept_on() {
        let (addr, stop, server) = start(idle_options(200)).await;
        // (what the client sends before falling silent)
        let table: [(&str, &[u8]); 3] = [
            ("nothing", b""),
            // HTTP/2 with prior knowledge: the preface and an empty SETTINGS.
            (
                "an h2c preface and SETTINGS",
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
            ),
            // ... and a HEADERS frame without END_HEADERS (stream 1, one
            // byte of header block: indexed :method GET).
            (
                "an h2c header block never finished",
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x01\x01\x01\x00\x00\x00\x01\x82",
            ),
        ];
        for (what, sent) in table {
            let mut stream = connect_and_send(addr, sent).await;
            assert!(
                closed_within(&mut stream, Duration::from_secs(5)).await,
                "{what}: the connection stays open"
            );
        }
        let _ = stop.send(());
        let _ = server.await.expect("join");
    }

    #[tokio::test]
    async fn a_request_in_flight_is_not_idle() {
        let (addr, stop, server) = start(idle_options(200)).await;
        let reply = reqwest::get(format!("http://{addr}/sleep/800"))
            .await
            .expect("request");
        assert_eq!(reply.text().await.expect("body"), "slept");
        let _ = stop.send(());
        let _ = server.await.expect("join");
    }

    #[tokio::test]
    async fn at_the_cap_idle_connections_make_room_and_busy_ones_do_not() {
        let options = ServeOptions {
            max_connections: Some(2),
            ..idle_options(60_000)
        };
        let (addr, stop, server) = start(options).await;
        // Two clients connect and say nothing: the cap is reached by idle
        // connections, and a new client is still served.
        let mut silent = Vec::new();
        for _ in 0..2 {
            silent.push(tokio::net::TcpStream::connect(addr).await.expect("connect"));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let fresh = reqwest::Client::new();
        let reply = fresh.get(format!("http://{addr}/")).send().await;
        assert!(
            reply.is_ok_and(|r| r.status() == 200),
            "a new client is served"
        );
        assert!(
            closed_within(&mut silent[0], Duration::from_secs(5)).await,
            "the longest-idle connection was closed to make room"
        );
        drop(silent);
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Two requests in flight hold both places: a third client is turned
        // away at once instead of waiting, and served once they finish.
        let slow: Vec<_> = (0..2)
            .map(|_| {
                tokio::spawn(async move {
                    reqwest::Client::new()
                        .get(format!("http://{addr}/sleep/1500"))
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                })
            })
            .collect();
        drop(fresh);
        tokio::time::sleep(Duration::from_millis(400)).await;
        let mut refused = tokio::net::TcpStream::connect(addr).await.expect("connect");
        assert!(
            closed_within(&mut refused, Duration::from_secs(1)).await,
            "every connection is busy: the new one is closed"
        );
        for request in slow {
            assert_eq!(request.await.expect("join").ok(), Some(200));
        }
        let reply = reqwest::get(format!("http://{addr}/")).await;
        assert!(reply.is_ok_and(|r| r.status() == 200), "served again");
        let _ = stop.send(());
        let _ = server.await.expect("join");
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_a_download_is_disconnected() {
        let options = ServeOptions {
            write_stall_timeout: Duration::from_millis(300),
            shutdown_grace: Duration::from_millis(100),
            ..ServeOptions::default()
        };
        let (addr, stop, server) = start(options).await;
        let mut stream = connect_and_send(addr, b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n").await;
        // Read nothing while the server fills the socket buffers and stalls.
        tokio::time::sleep(Duration::from_secs(2)).await;
        // The body is endless, so reaching the end means the server closed
        // the connection; a server without the guard would keep it forever.
        let mut sink = [0u8; 64 * 1024];
        let drained = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(drained.is_ok(), "the stalled connection is closed");
        let _ = stop.send(());
        let _ = server.await.expect("join");
    }

    #[tokio::test]
    async fn in_flight_requests_finish_within_the_grace_period_or_are_cut() {
        // (handler time, grace, outcome, whether the client gets its answer)
        let table = [
            (200, 5_000, Shutdown::Graceful, true),
            (5_000, 200, Shutdown::GraceExpired, false),
        ];
        for (work_ms, grace_ms, outcome, answered) in table {
            let options = ServeOptions {
                shutdown_grace: Duration::from_millis(grace_ms),
                ..ServeOptions::default()
            };
            let (addr, stop, server) = start(options).await;
            // A first request opens the connection, so the second one is
            // surely in flight when the signal comes.
            let client = reqwest::Client::new();
            let warm = client.get(format!("http://{addr}/")).send().await;
            assert!(warm.is_ok_and(|r| r.status() == 200));
            let request = tokio::spawn(async move {
                client
                    .get(format!("http://{addr}/sleep/{work_ms}"))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            });
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = stop.send(());
            let result = server.await.expect("join").expect("serve");
            assert_eq!(result, outcome, "work {work_ms} ms, grace {grace_ms} ms");
            let reply = request.await.expect("join");
            assert_eq!(reply.is_ok_and(|s| s == 200), answered, "work {work_ms} ms");
            assert!(
                tokio::net::TcpStream::connect(addr).await.is_err(),
                "no longer listening"
            );
        }
    }
}
