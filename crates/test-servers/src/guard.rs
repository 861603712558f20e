//! A server process that lives exactly as long as the test process.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

/// A shell running `start`, then waiting for its standard input to close,
/// then running `stop`. The test process holds the write end of that input
/// for its whole life, so the server goes when the process goes.
#[derive(Debug)]
pub(crate) struct Guard {
    _child: Mutex<Child>,
    _stdin: Mutex<ChildStdin>,
}

impl Guard {
    /// Runs `start` (a shell script that must leave the server running and
    /// return, sending its output elsewhere than standard output), and
    /// arranges for `stop` to run when this process exits.
    pub(crate) fn spawn(start: &str, stop: &str) -> std::io::Result<Guard> {
        let script = format!("set -e\n{start}\necho started\nset +e\ncat >/dev/null\n{stop}\n");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        if line.trim() != "started" {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(
                "the server's start script failed (its errors are above)",
            ));
        }
        Ok(Guard {
            _child: Mutex::new(child),
            _stdin: Mutex::new(stdin),
        })
    }
}
