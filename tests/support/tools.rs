//! Real external programs for tests and the runner: a `redis-server`
//! started on a free loopback port, killed on drop. When a program is not
//! on `PATH`, [`missing`] says how to install it, and with
//! `KEEN_REQUIRE_TOOLS=1` (set by `.ci/run`) it is a failure instead.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};

/// Whether a missing tool must fail the run (CI) rather than be skipped.
pub fn tools_required() -> bool {
    std::env::var_os("KEEN_REQUIRE_TOOLS").is_some_and(|v| v == "1")
}

/// Reports a missing tool: panics when tools are required, else prints
/// one line saying how to install it.
pub fn missing(what: &str, install: &str) {
    let line = format!("{what} is not installed: skipped (install with `{install}`)");
    assert!(!tools_required(), "KEEN_REQUIRE_TOOLS=1: {line}");
    eprintln!("{line}");
}

/// A `redis-server` of its own, on a free loopback port, with nothing
/// saved to disk; killed when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    addr: SocketAddr,
}

impl RedisServer {
    /// Starts one, or `None` (after [`missing`]) if `redis-server` is not
    /// installed.
    pub fn start() -> Option<RedisServer> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            missing("redis-server", "apt-get install -y redis-server");
            return None;
        }
        // A port the kernel just handed out and took back; another process
        // could take it in between, so a failed start tries a new one.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free loopback port")
                .port();
            if let Some(server) = RedisServer::start_on(port) {
                return Some(server);
            }
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    fn start_on(port: u16) -> Option<RedisServer> {
        let mut child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        // It logs to stdout: ready once it says so; end of file first
        // means it exited (the port was taken, say).
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        if lines.any(|line| line.contains("Ready to accept connections")) {
            // Keep draining its log so it never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            Some(RedisServer { child, addr })
        } else {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
