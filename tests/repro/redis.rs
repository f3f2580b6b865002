//! The seed's pattern against a real Redis (issue 16, row R1): a pool of
//! connections; 100 children gathered, each takes a connection, checks it
//! for stale data with `timeout(0)` around a read (redis-py's
//! `can_read_destructive`), then sends a command and reads its reply. In
//! Python with an eager task factory the zero timeout cancelled the
//! parent; here every child must get its own reply, no byte lost or
//! misattributed, and the parent's scope untouched.

use std::net::SocketAddr;
use std::time::Duration;

use keen::io::{AsyncReadExt, AsyncWriteExt};
use keen::net::TcpStream;
use keen::patterns::Pool;
use keen::scope::CancelScope;
use keen::time::timeout;
use keen_suite::{Config, run_in_task};

use super::Check;
use crate::ensure;

const CHILDREN: usize = 100;
const CONNECTIONS: usize = 10;

/// `ECHO msg` in RESP.
fn echo_command(msg: &str) -> String {
    format!("*2\r\n$4\r\nECHO\r\n${}\r\n{msg}\r\n", msg.len())
}

/// Reads one bulk-string reply (`$len\r\n…\r\n`) exactly: no byte of a
/// later reply is consumed.
async fn read_bulk(stream: &mut TcpStream) -> Result<String, String> {
    let mut header = Vec::new();
    let mut byte = [0u8; 1];
    while !header.ends_with(b"\r\n") {
        let n = stream.read(&mut byte).await.map_err(|e| e.to_string())?;
        ensure!(n == 1, "connection closed inside a reply header");
        header.push(byte[0]);
    }
    let header = String::from_utf8_lossy(&header);
    let len: usize = header
        .strip_prefix('$')
        .and_then(|h| h.trim_end().parse().ok())
        .ok_or_else(|| format!("not a bulk reply: {header:?}"))?;
    let mut body = vec![0u8; len + 2];
    stream
        .read_exact(&mut body)
        .await
        .map_err(|e| e.to_string())?;
    ensure!(body.ends_with(b"\r\n"), "a bulk reply without its CRLF");
    body.truncate(len);
    String::from_utf8(body).map_err(|e| e.to_string())
}

/// What `can_read_destructive` asks: is anything already waiting on the
/// connection? A zero timeout around a one-byte read; `Elapsed` (nothing
/// there) is the normal answer and must cost nothing but this check.
async fn has_stale_data(stream: &mut TcpStream) -> Result<bool, String> {
    let mut byte = [0u8; 1];
    match timeout(Duration::ZERO, stream.read(&mut byte)).await {
        Err(_elapsed) => Ok(false),
        Ok(Ok(0)) => Err("the server closed a pooled connection".to_owned()),
        Ok(Ok(_)) => Ok(true),
        Ok(Err(e)) => Err(e.to_string()),
    }
}

/// Row R1 on one configuration, against the server at `addr`.
pub fn seed_over_redis(cfg: Config, addr: SocketAddr) -> Check {
    let rt = cfg.build();
    run_in_task(&rt, async move {
        let pool = std::sync::Arc::new(
            Pool::builder(CONNECTIONS, move || TcpStream::connect(addr)).build(),
        );
        let parent = CancelScope::new();
        let result = parent
            .run(async {
                let children: Vec<_> = (0..CHILDREN)
                    .map(|i| {
                        let pool = pool.clone();
                        keen::spawn(async move {
                            let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
                            ensure!(
                                !has_stale_data(&mut conn).await?,
                                "child {i}: stale bytes on a pooled connection"
                            );
                            let msg = format!("child-{i}");
                            conn.write_all(echo_command(&msg).as_bytes())
                                .await
                                .map_err(|e| e.to_string())?;
                            let reply = read_bulk(&mut conn).await?;
                            ensure!(reply == msg, "child {i} got {reply:?}");
                            Ok::<(), String>(())
                        })
                    })
                    .collect();
                for (i, child) in children.into_iter().enumerate() {
                    child.await.map_err(|e| format!("child {i}: {e}"))??;
                }
                Ok::<(), String>(())
            })
            .await;
        ensure!(!parent.is_cancelled(), "the parent's scope was cancelled");
        match result {
            Ok(checked) => checked,
            Err(cancelled) => Err(format!("the parent was cancelled: {cancelled:?}")),
        }
    })
}
