//! Cancel safety: `read`, `accept`, `recv_from`, `readable` dropped before
//! they complete — by `timeout`, by a cancel scope, or by a plain drop —
//! lose no byte, no connection, no datagram; and a scope around
//! `connect`/`accept`/`read` cancels exactly that operation, leaving the
//! socket usable.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use keen::io::{AsyncReadExt, AsyncWriteExt};
use keen::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use keen::scope::CancelScope;
use keen::task::yield_now;
use keen::time::timeout;
use keen_suite::{ALL, each, poll_once, run_in_task};

/// Bytes of the pattern at `offset..offset + len`.
fn pattern(offset: usize, len: usize) -> Vec<u8> {
    (offset..offset + len).map(|i| (i % 253) as u8).collect()
}

/// A std thread writes `total` pattern bytes in uneven chunks, then closes.
fn writer(addr: SocketAddr, total: usize) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        let mut sent = 0;
        let mut chunk = 1;
        while sent < total {
            let len = chunk.min(total - sent);
            stream.write_all(&pattern(sent, len)).unwrap();
            sent += len;
            chunk = chunk * 7 % 4093 + 1;
        }
    })
}

/// The seed pattern: `timeout(Duration::ZERO, stream.read(..))` in a loop
/// on a connection whose peer is writing. Every byte must arrive, in order.
#[test]
fn timeout_zero_around_read_never_loses_a_byte() {
    const TOTAL: usize = 1 << 20;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let writer = writer(listener.local_addr().unwrap(), TOTAL);
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut got = Vec::with_capacity(TOTAL);
            let mut buf = [0; 1500];
            let (mut reads, mut elapsed) = (0u64, 0u64);
            for _ in 0..50_000_000u64 {
                match timeout(Duration::ZERO, stream.read(&mut buf)).await {
                    Ok(Ok(0)) => break,
                    Ok(Ok(n)) => {
                        got.extend_from_slice(&buf[..n]);
                        reads += 1;
                    }
                    Ok(Err(err)) => panic!("read failed: {err}"),
                    Err(_) => {
                        elapsed += 1;
                        yield_now().await;
                    }
                }
            }
            writer.join().unwrap();
            assert_eq!(got.len(), TOTAL, "{reads} reads, {elapsed} timeouts");
            assert!(got == pattern(0, TOTAL), "bytes out of order");
        });
    });
}

/// The same through a cancel scope cancelled before each read is polled,
/// and through a read polled once and dropped.
#[test]
fn cancelled_scopes_and_dropped_reads_lose_no_byte() {
    const TOTAL: usize = 256 << 10;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let writer = writer(listener.local_addr().unwrap(), TOTAL);
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut got = Vec::with_capacity(TOTAL);
            let mut buf = [0; 700];
            for round in 0..50_000_000u64 {
                let n = if round % 2 == 0 {
                    let scope = CancelScope::new();
                    scope.cancel();
                    match scope.run(stream.read(&mut buf)).await {
                        Ok(n) => Some(n.unwrap()),
                        Err(_) => None,
                    }
                } else {
                    let mut read = stream.read(&mut buf);
                    match poll_once(&mut read) {
                        std::task::Poll::Ready(n) => Some(n.unwrap()),
                        std::task::Poll::Pending => None, // dropped here
                    }
                };
                match n {
                    Some(0) => break,
                    Some(n) => got.extend_from_slice(&buf[..n]),
                    None => yield_now().await,
                }
            }
            writer.join().unwrap();
            assert!(got == pattern(0, TOTAL), "{} of {TOTAL} bytes", got.len());
        });
    });
}

#[test]
fn accept_under_timeout_zero_loses_no_connection() {
    const CONNECTIONS: usize = 200;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let clients = std::thread::spawn(move || {
                (0..CONNECTIONS)
                    .map(|i| {
                        let mut s = std::net::TcpStream::connect(addr).unwrap();
                        s.write_all(&(i as u32).to_le_bytes()).unwrap();
                        s
                    })
                    .collect::<Vec<_>>()
            });
            let mut seen = [false; CONNECTIONS];
            let mut accepted = 0;
            for _ in 0..50_000_000u64 {
                if accepted == CONNECTIONS {
                    break;
                }
                match timeout(Duration::ZERO, listener.accept()).await {
                    Ok(conn) => {
                        let (mut stream, _) = conn.unwrap();
                        let mut id = [0; 4];
                        stream.read_exact(&mut id).await.unwrap();
                        seen[u32::from_le_bytes(id) as usize] = true;
                        accepted += 1;
                    }
                    Err(_) => yield_now().await,
                }
            }
            drop(clients.join().unwrap());
            assert!(seen.iter().all(|&s| s), "every connection accepted once");
        });
    });
}

#[test]
fn recv_from_and_readable_under_timeout_zero_lose_nothing() {
    const DATAGRAMS: u32 = 64;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let addr = socket.local_addr().unwrap();
            let sender = std::thread::spawn(move || {
                let out = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                for i in 0..DATAGRAMS {
                    out.send_to(&i.to_le_bytes(), addr).unwrap();
                }
            });
            let mut next = 0;
            let mut buf = [0; 16];
            for round in 0..50_000_000u64 {
                if next == DATAGRAMS {
                    break;
                }
                if round % 3 == 0 {
                    // readable() dropped by a zero timeout, then retried.
                    if timeout(Duration::ZERO, socket.readable()).await.is_err() {
                        yield_now().await;
                        continue;
                    }
                }
                match timeout(Duration::ZERO, socket.recv_from(&mut buf)).await {
                    Ok(got) => {
                        let (n, _) = got.unwrap();
                        assert_eq!(n, 4);
                        assert_eq!(u32::from_le_bytes(buf[..4].try_into().unwrap()), next);
                        next += 1;
                    }
                    Err(_) => yield_now().await,
                }
            }
            sender.join().unwrap();
            assert_eq!(next, DATAGRAMS);
        });
    });
}

#[test]
fn a_scope_around_read_or_accept_cancels_that_op_and_the_socket_stays_usable() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // accept with no client: the scope's deadline cancels it.
            let scope = CancelScope::with_timeout(Duration::from_millis(20));
            assert!(scope.run(listener.accept()).await.is_err());
            let mut client = TcpStream::connect(addr).await.unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            // read with nothing sent: cancelled by keen::time::timeout.
            let mut buf = [0; 4];
            assert!(
                timeout(Duration::from_millis(20), server.read(&mut buf))
                    .await
                    .is_err()
            );
            client.write_all(b"late").await.unwrap();
            server.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"late");
        });
    });
}

/// A connect that cannot finish (the listener's accept queue is full, so
/// loopback SYNs are dropped) cancelled by a scope; the listener and the
/// runtime go on, and a connect made once there is room succeeds.
#[test]
fn a_scope_around_a_stuck_connect_cancels_only_the_connect() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let socket = TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            let addr = socket.local_addr().unwrap();
            let listener = socket.listen(1).unwrap();
            let mut established = Vec::new();
            let mut cancelled = false;
            for _ in 0..64 {
                let scope = CancelScope::with_timeout(Duration::from_millis(50));
                match scope.run(TcpStream::connect(addr)).await {
                    Ok(stream) => established.push(stream.unwrap()),
                    Err(_) => {
                        cancelled = true;
                        break;
                    }
                }
            }
            assert!(cancelled, "the accept queue never filled");
            // Make room, then connect again: it completes.
            let (_first, _) = listener.accept().await.unwrap();
            let scope = CancelScope::with_timeout(Duration::from_secs(30));
            let stream = scope
                .run(TcpStream::connect(addr))
                .await
                .expect("connects once there is room");
            stream.unwrap();
        });
    });
}
