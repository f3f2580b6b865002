//! The seed's pattern against a real Redis (issue 16, rows 25 to 27): a pool of
//! connections; 100 children gathered, each takes a connection, checks it
//! for stale data with `timeout(0)` around a read (redis-py's
//! `can_read_destructive`), then sends a command and reads its reply. In
//! Python with an eager task factory the zero timeout cancelled the
//! parent; here every child must get its own reply, no byte lost or
//! misattributed, and the parent's scope untouched. Row 26 does 10,000
//! commands under a 1 ms timeout each, with slow commands mixed in: every
//! timeout must be the child's own and every reply that arrives correct.
//! Row 27 runs the pattern through redis-rs on a keen socket.

use std::future::Future;
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

/// The seed's shape: `CHILDREN` children spawned (eagerly) inside a parent
/// scope and gathered; fails if a child failed or the parent's scope was
/// ever cancelled. Returns the children's outputs in order.
async fn gather_in_parent<T, Fut>(child: impl Fn(usize) -> Fut) -> Result<Vec<T>, String>
where
    T: Send + 'static,
    Fut: Future<Output = Result<T, String>> + Send + 'static,
{
    let parent = CancelScope::new();
    let result = parent
        .run(async {
            let children: Vec<_> = (0..CHILDREN).map(|i| keen::spawn(child(i))).collect();
            let mut outputs = Vec::with_capacity(CHILDREN);
            for (i, child) in children.into_iter().enumerate() {
                outputs.push(child.await.map_err(|e| format!("child {i}: {e}"))??);
            }
            Ok::<_, String>(outputs)
        })
        .await;
    ensure!(!parent.is_cancelled(), "the parent's scope was cancelled");
    result.map_err(|cancelled| format!("the parent was cancelled: {cancelled:?}"))?
}

/// Row 25 on one configuration, against the server at `addr`.
pub fn seed_over_redis(cfg: Config, addr: SocketAddr) -> Check {
    let rt = cfg.build();
    run_in_task(&rt, async move {
        let pool = std::sync::Arc::new(
            Pool::builder(CONNECTIONS, move || TcpStream::connect(addr)).build(),
        );
        gather_in_parent(|i| {
            let pool = pool.clone();
            async move {
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
                Ok(())
            }
        })
        .await
        .map(drop)
    })
}

/// A pooled connection that knows whether a reply is still owed on it: a
/// command cut short by its timeout leaves its reply in flight, and the
/// pool's health check then drops the connection instead of reusing it.
struct Conn {
    stream: TcpStream,
    clean: bool,
}

/// One command under a 1 ms timeout: `ECHO msg`, or (`slow`) a `BLPOP`
/// that blocks 10 ms on the server before its `ECHO`, which must time out.
async fn command(pool: &Pool<Conn>, msg: &str, slow: bool) -> Result<String, String> {
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    ensure!(
        !has_stale_data(&mut conn.stream).await?,
        "stale bytes on a pooled connection"
    );
    conn.clean = false;
    let mut request = String::new();
    if slow {
        request.push_str("*3\r\n$5\r\nBLPOP\r\n$10\r\nkeen:never\r\n$4\r\n0.01\r\n");
    }
    request.push_str(&echo_command(msg));
    conn.stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    if slow {
        let mut nil = [0u8; 5]; // `*-1\r\n`: the BLPOP timed out on the server
        conn.stream
            .read_exact(&mut nil)
            .await
            .map_err(|e| e.to_string())?;
        ensure!(&nil == b"*-1\r\n", "BLPOP replied {nil:?}");
    }
    let reply = read_bulk(&mut conn.stream).await?;
    conn.clean = true;
    Ok(reply)
}

/// Row 26: 100 children × 100 commands through 10 connections, each under
/// `timeout(1 ms)`; every 100th command is slow (10 ms on the server).
pub fn timeouts_over_redis(cfg: Config, addr: SocketAddr) -> Check {
    const PER_CHILD: usize = 100;
    const SLOW_EVERY: usize = 100;
    let rt = cfg.build();
    run_in_task(&rt, async move {
        let pool = std::sync::Arc::new(
            Pool::builder(CONNECTIONS, move || async move {
                let stream = TcpStream::connect(addr).await?;
                stream.set_nodelay(true)?;
                Ok::<_, std::io::Error>(Conn {
                    stream,
                    clean: true,
                })
            })
            .health_check(|conn| conn.clean)
            .build(),
        );
        let timeouts: usize = gather_in_parent(|i| {
            let pool = pool.clone();
            async move {
                let me = keen::task::id();
                let mut timeouts = 0;
                for j in 0..PER_CHILD {
                    let msg = format!("child-{i}-{j}");
                    let slow = (i * PER_CHILD + j) % SLOW_EVERY == 0;
                    let budget = Duration::from_millis(1);
                    match timeout(budget, command(&pool, &msg, slow)).await {
                        Ok(reply) => {
                            let reply = reply.map_err(|e| format!("{msg}: {e}"))?;
                            ensure!(!slow, "{msg}: a 10 ms command beat 1 ms");
                            ensure!(reply == msg, "{msg} got {reply:?}");
                        }
                        Err(_elapsed) => timeouts += 1,
                    }
                    ensure!(keen::task::id() == me, "{msg}: ran as another task");
                }
                Ok(timeouts)
            }
        })
        .await?
        .into_iter()
        .sum();
        let slow = CHILDREN * PER_CHILD / SLOW_EVERY;
        ensure!(
            timeouts >= slow,
            "{timeouts} timeouts, fewer than the {slow} slow commands"
        );
        Ok(())
    })
}

/// Row 27: the seed's pattern through a real Rust client, redis-rs's
/// multiplexed connection on a keen socket (its tokio-io traits; its
/// driver future spawned on keen, no tokio runtime). 100 children share
/// the connection; each first sends a request under `timeout(0)` (cut
/// short if it does not finish in its first poll: redis-rs then drops that
/// reply), then `ECHO child-i`, which must come back as its own.
pub fn redis_rs_over_keen(cfg: Config, addr: SocketAddr) -> Check {
    let rt = cfg.build();
    run_in_task(&rt, async move {
        let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let info = redis::RedisConnectionInfo::default();
        let (conn, driver) = redis::aio::MultiplexedConnection::new(&info, stream)
            .await
            .map_err(|e| e.to_string())?;
        let driver = keen::spawn(driver);
        let gathered = gather_in_parent(|i| {
            let mut conn = conn.clone();
            async move {
                let stale = format!("stale-{i}");
                let mut probe = redis::cmd("ECHO");
                probe.arg(&stale);
                let probe = probe.query_async::<String>(&mut conn);
                match timeout(Duration::ZERO, probe).await {
                    Err(_elapsed) => {}
                    Ok(reply) => {
                        let reply = reply.map_err(|e| format!("child {i}: {e}"))?;
                        ensure!(reply == stale, "child {i}'s probe got {reply:?}");
                    }
                }
                let msg = format!("child-{i}");
                let reply: String = redis::cmd("ECHO")
                    .arg(&msg)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| format!("child {i}: {e}"))?;
                ensure!(reply == msg, "child {i} got {reply:?}");
                Ok(())
            }
        })
        .await;
        driver.abort();
        gathered.map(drop)
    })
}
