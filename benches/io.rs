//! Network I/O on keen beside tokio, in one criterion run, on loopback:
//!
//! | group | workload |
//! |---|---|
//! | `io_ping_pong_64` | one connection, a 64-byte message echoed back, per iteration; `std_blocking` is two threads with blocking `std::net` sockets: the floor a reactor adds to |
//! | `io_echo_64_conns` | 64 connections, each echoing 64 KiB in 4 KiB writes, all at once; throughput in bytes |
//! | `io_connect_rate` | connect, accept, one byte each way, close; per iteration |
//!
//! Both runtimes: current-thread and multi-thread with 2 workers
//! (`common::keen_rt` / `common::tokio_rt`). Each connection's server side
//! is a spawned task, as a server would have it.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod common;
use common::{flavor, keen_rt, tokio_rt};

const MSG: usize = 64;
const CONNS: usize = 64;
const PER_CONN: usize = 64 * 1024;
const CHUNK: usize = 4 * 1024;

mod on_keen {
    use keen::io::{AsyncReadExt, AsyncWriteExt};
    use keen::net::{TcpListener, TcpStream};

    use super::*;

    pub async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.set_nodelay(true).unwrap();
        server.set_nodelay(true).unwrap();
        (client, server)
    }

    pub async fn echo(mut stream: TcpStream) {
        let mut buf = vec![0; CHUNK];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => stream.write_all(&buf[..n]).await.unwrap(),
            }
        }
    }

    pub fn ping_pong(rt: &keen::Runtime, iters: u64) -> Duration {
        rt.block_on(rt.spawn(async move {
            let (mut client, server) = pair().await;
            drop(keen::spawn(echo(server)));
            let mut buf = [7; MSG];
            let start = Instant::now();
            for _ in 0..iters {
                client.write_all(&buf).await.unwrap();
                client.read_exact(&mut buf).await.unwrap();
            }
            start.elapsed()
        }))
        .unwrap()
    }

    pub fn echo_many(rt: &keen::Runtime) {
        rt.block_on(rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            drop(keen::spawn(async move {
                for _ in 0..CONNS {
                    let (s, _) = listener.accept().await.unwrap();
                    drop(keen::spawn(echo(s)));
                }
            }));
            let clients: Vec<_> = (0..CONNS)
                .map(|_| {
                    keen::spawn(async move {
                        let stream = TcpStream::connect(addr).await.unwrap();
                        let (mut r, mut w) = stream.into_split();
                        let writer = keen::spawn(async move {
                            let chunk = [1; CHUNK];
                            for _ in 0..PER_CONN / CHUNK {
                                w.write_all(&chunk).await.unwrap();
                            }
                            w
                        });
                        let mut buf = vec![0; PER_CONN];
                        r.read_exact(&mut buf).await.unwrap();
                        drop(writer.await.unwrap());
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
        }))
        .unwrap();
    }

    pub fn connect_rate(rt: &keen::Runtime, iters: u64) -> Duration {
        rt.block_on(rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let start = Instant::now();
            for _ in 0..iters {
                let mut client = TcpStream::connect(addr).await.unwrap();
                let (mut server, _) = listener.accept().await.unwrap();
                let mut one = [0];
                client.write_all(b"x").await.unwrap();
                server.read_exact(&mut one).await.unwrap();
                server.write_all(b"y").await.unwrap();
                client.read_exact(&mut one).await.unwrap();
                super::reset_on_close(&client);
            }
            start.elapsed()
        }))
        .unwrap()
    }
}

mod on_tokio {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    pub async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        client.set_nodelay(true).unwrap();
        server.set_nodelay(true).unwrap();
        (client, server)
    }

    pub async fn echo(mut stream: TcpStream) {
        let mut buf = vec![0; CHUNK];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => stream.write_all(&buf[..n]).await.unwrap(),
            }
        }
    }

    pub fn ping_pong(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        rt.block_on(rt.spawn(async move {
            let (mut client, server) = pair().await;
            drop(tokio::spawn(echo(server)));
            let mut buf = [7; MSG];
            let start = Instant::now();
            for _ in 0..iters {
                client.write_all(&buf).await.unwrap();
                client.read_exact(&mut buf).await.unwrap();
            }
            start.elapsed()
        }))
        .unwrap()
    }

    pub fn echo_many(rt: &tokio::runtime::Runtime) {
        rt.block_on(rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            drop(tokio::spawn(async move {
                for _ in 0..CONNS {
                    let (s, _) = listener.accept().await.unwrap();
                    drop(tokio::spawn(echo(s)));
                }
            }));
            let clients: Vec<_> = (0..CONNS)
                .map(|_| {
                    tokio::spawn(async move {
                        let stream = TcpStream::connect(addr).await.unwrap();
                        let (mut r, mut w) = stream.into_split();
                        let writer = tokio::spawn(async move {
                            let chunk = [1; CHUNK];
                            for _ in 0..PER_CONN / CHUNK {
                                w.write_all(&chunk).await.unwrap();
                            }
                            w
                        });
                        let mut buf = vec![0; PER_CONN];
                        r.read_exact(&mut buf).await.unwrap();
                        drop(writer.await.unwrap());
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
        }))
        .unwrap();
    }

    pub fn connect_rate(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        rt.block_on(rt.spawn(async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let start = Instant::now();
            for _ in 0..iters {
                let mut client = TcpStream::connect(addr).await.unwrap();
                let (mut server, _) = listener.accept().await.unwrap();
                let mut one = [0];
                client.write_all(b"x").await.unwrap();
                server.read_exact(&mut one).await.unwrap();
                server.write_all(b"y").await.unwrap();
                client.read_exact(&mut one).await.unwrap();
                super::reset_on_close(&client);
            }
            start.elapsed()
        }))
        .unwrap()
    }
}

/// `SO_LINGER` 0: the close sends a reset and leaves no TIME_WAIT entry,
/// so a connection-rate run cannot exhaust the ephemeral ports. (Zero
/// linger never blocks the closing thread.)
fn reset_on_close(socket: &impl std::os::fd::AsRawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid fd and a pointer to a `linger` of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
}

/// Two threads, blocking sockets: the cost of the round trip itself.
fn std_ping_pong(iters: u64) -> Duration {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.set_nodelay(true).unwrap();
    server.set_nodelay(true).unwrap();
    let echo = std::thread::spawn(move || {
        let mut buf = [0; MSG];
        while server.read_exact(&mut buf).is_ok() {
            server.write_all(&buf).unwrap();
        }
    });
    let mut buf = [7; MSG];
    let start = Instant::now();
    for _ in 0..iters {
        client.write_all(&buf).unwrap();
        client.read_exact(&mut buf).unwrap();
    }
    let took = start.elapsed();
    drop(client);
    echo.join().unwrap();
    took
}

fn ping_pong(c: &mut Criterion) {
    let mut group = c.benchmark_group("io_ping_pong_64");
    group.bench_function("std_blocking", |b| b.iter_custom(std_ping_pong));
    for multi in [false, true] {
        let rt = keen_rt(multi);
        group.bench_function(format!("keen/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| on_keen::ping_pong(&rt, iters))
        });
        let rt = tokio_rt(multi);
        group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| on_tokio::ping_pong(&rt, iters))
        });
    }
    group.finish();
}

fn echo_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("io_echo_64_conns");
    group.throughput(Throughput::Bytes((CONNS * PER_CONN) as u64));
    group.sample_size(20);
    for multi in [false, true] {
        let rt = keen_rt(multi);
        group.bench_function(format!("keen/{}", flavor(multi)), |b| {
            b.iter(|| on_keen::echo_many(&rt))
        });
        let rt = tokio_rt(multi);
        group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
            b.iter(|| on_tokio::echo_many(&rt))
        });
    }
    group.finish();
}

fn connect_rate(c: &mut Criterion) {
    let mut group = c.benchmark_group("io_connect_rate");
    group.sample_size(20);
    for multi in [false, true] {
        let rt = keen_rt(multi);
        group.bench_function(format!("keen/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| on_keen::connect_rate(&rt, iters))
        });
        let rt = tokio_rt(multi);
        group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| on_tokio::connect_rate(&rt, iters))
        });
    }
    group.finish();
}

criterion_group!(benches, ping_pong, echo_many, connect_rate);
criterion_main!(benches);
