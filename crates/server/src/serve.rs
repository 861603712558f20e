//! Serving a router on a TCP listener with the connection-level limits
//! `axum::serve` does not set, and a graceful shutdown with a deadline.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::stall::StallGuard;

/// Connection settings for [`serve`].
///
/// ```
/// use std::time::Duration;
/// let mut options = wharf_server::ServeOptions::default();
/// options.shutdown_grace = Duration::from_secs(5);
/// assert_eq!(options.header_read_timeout, Duration::from_secs(30));
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
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(30),
            tcp_nodelay: true,
            write_stall_timeout: Duration::from_secs(60),
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
/// Failing to accept a connection (out of file descriptors, say) is logged
/// and retried after a short pause rather than ending the server.
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
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
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
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "accepting a connection failed; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if options.tcp_nodelay {
            let _ = stream.set_nodelay(true);
        }
        let service = TowerToHyperService::new(router.clone());
        let connection = builder
            .serve_connection_with_upgrades(
                TokioIo::new(StallGuard::new(stream, options.write_stall_timeout)),
                service,
            )
            .into_owned();
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    match tokio::time::timeout(options.shutdown_grace, graceful.shutdown()).await {
        Ok(()) => Ok(Shutdown::Graceful),
        Err(_) => {
            connections.shutdown().await;
            Ok(Shutdown::GraceExpired)
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
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
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

    #[tokio::test]
    async fn a_client_that_stops_reading_a_download_is_disconnected() {
        let options = ServeOptions {
            write_stall_timeout: Duration::from_millis(300),
            shutdown_grace: Duration::from_millis(100),
            ..ServeOptions::default()
        };
        let (addr, stop, server) = start(options).await;
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream
            .write_all(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .expect("write");
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
