//! A throwaway S3-compatible server (moto).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::guard::Guard;

/// moto's S3 server for this test process, on 127.0.0.1. It enforces S3's
/// 5 MiB minimum multipart part size and conditional puts
/// (`If-None-Match: *`); it checks no credentials (any key pair works).
#[derive(Debug)]
pub struct S3 {
    port: u16,
    _guard: Guard,
}

/// The process's S3 server, started on first use; `None` (after a loud
/// message) when moto is not installed and servers are not required.
pub fn s3() -> Option<&'static S3> {
    static SERVER: OnceLock<Option<S3>> = OnceLock::new();
    crate::started(
        &SERVER,
        S3::start,
        "S3 (moto)",
        "pip install 'moto[server]', or set WHARF_MOTO to its moto_server",
    )
}

impl S3 {
    fn start() -> Result<S3, String> {
        let server = std::env::var("WHARF_MOTO").unwrap_or_else(|_| "moto_server".into());
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {server}"))
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Err(format!("no `{server}` on PATH"));
        }
        let port = crate::free_port();
        let log = std::env::temp_dir().join(format!("wharf-moto-{port}.log"));
        let log = log.display();
        let start = format!("{server} -H 127.0.0.1 -p {port} >{log} 2>&1 &\nmoto=$!");
        let stop = format!("kill $moto 2>/dev/null\nrm -f {log}");
        let guard = Guard::spawn(&start, &stop).map_err(|e| e.to_string())?;
        let s3 = S3 {
            port,
            _guard: guard,
        };
        // About 2 s on an idle machine; a loaded one (parallel test
        // binaries, builds, a benchmark's own moto) has taken over 30.
        let deadline = Instant::now() + Duration::from_secs(90);
        while request(port, "GET", "/").is_err() {
            if Instant::now() > deadline {
                return Err(format!("moto did not answer on port {port} within 90 s"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(s3)
    }

    /// The endpoint URL, for `AWS_ENDPOINT` or
    /// `AmazonS3Builder::with_endpoint` (path-style requests, plain HTTP).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates an empty bucket no other caller gets, and returns its name.
    pub fn fresh_bucket(&self) -> String {
        let name = crate::unique_name("wharf-test-").replace('x', "-");
        let status = request(self.port, "PUT", &format!("/{name}")).expect("moto answers");
        assert!(status == 200, "creating bucket {name}: HTTP {status}");
        name
    }
}

/// One plain HTTP/1.1 request without a body; the response's status code.
fn request(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let code = std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP response"))?;
    Ok(code)
}
