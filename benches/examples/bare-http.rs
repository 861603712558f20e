//! The ceiling for small responses on this machine: a bare axum server
//! that answers every GET with the same bytes and headers, as a manifest
//! GET does, and does nothing else (no routing, no storage, no auth, no
//! logging). `benches/registry-vs-distribution.sh` measures Wharf's
//! manifest GET against it in the same run.
//!
//! ```text
//! cargo run --release -p wharf-benches --example bare-http -- ADDR FILE CONTENT-TYPE DIGEST
//! ```

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::IntoResponse;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, file, content_type, digest] = args.as_slice() else {
        return Err("usage: bare-http ADDR FILE CONTENT-TYPE DIGEST".into());
    };
    let addr: SocketAddr = addr.parse()?;
    let body = Bytes::from(std::fs::read(file)?);
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_str(content_type)?),
        (
            HeaderName::from_static("docker-content-digest"),
            HeaderValue::from_str(digest)?,
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&format!("\"{digest}\""))?,
        ),
    ];
    let app = axum::Router::new().fallback(move || {
        let response = (headers.clone(), body.clone());
        async move { response.into_response() }
    });
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            axum::serve(listener, app).await
        })?;
    Ok(())
}
