//! Network I/O benches, keen beside tokio and smol in one criterion run
//! (issue 15's targets against tokio; keen ahead of smol, the second peer),
//! on current-thread and multi-thread with 2 workers, all on loopback:
//!
//! | group | what one iteration is |
//! |---|---|
//! | `io_ping_pong` | one 64-byte message from a client task to an echo task and back, on one connection (latency) |
//! | `io_echo_64` | 64 connections at once, each sending 64 KiB in 4 KiB writes and reading it all back (throughput; bytes reported) |
//! | `io_connect` | connect, accept, spawn a handler, one 8-byte request and reply, close (connection rate; the client closes with a reset so no TIME_WAIT piles up) |
//!
//! and, as the floor of the ping-pong, the same 64-byte round trip on
//! blocking `std::net` sockets between two threads (`io_ping_pong/floor`).
//! The workload is written once (`workloads!`) and instantiated for each
//! runtime with its own `spawn`, sockets and extension traits, so all three
//! run the same code: `keen/…`, `tokio/…` and `smol/…` cells, smol's sockets
//! being async-io's `Async<std::net::TcpStream>` and `Async<TcpListener>`
//! with futures-lite's `AsyncReadExt`/`AsyncWriteExt` (`common/smol.rs`). Targets (issue 15): ping-pong ≥ 1.0× tokio and ≤ 1.3× the
//! floor; echo and connection rate ≥ 1.2× tokio. `cargo bench --bench io`.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod common;
use common::{flavor, keen_rt, smol_rt, tokio_rt};

const MSG: usize = 64;
const CONNS: usize = 64;
const ECHO_BYTES: usize = 64 * 1024;
const CHUNK: usize = 4 * 1024;

/// The workloads, written once over a runtime's names.
macro_rules! workloads {
    ($name:ident, $spawn:path, $listener:ty, $stream:ty, $($ext:path),+) => {
        mod $name {
            use super::*;
            $(use $ext;)+

            async fn listen() -> ($listener, SocketAddr) {
                let listener = <$listener>::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                (listener, addr)
            }

            /// Echoes everything until the peer closes.
            async fn echo(mut stream: $stream) {
                let mut buf = vec![0u8; CHUNK];
                loop {
                    let n = stream.read(&mut buf).await.unwrap_or(0);
                    if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }

            /// Accepts forever, one echo task per connection.
            async fn serve(listener: $listener) {
                while let Ok((stream, _)) = listener.accept().await {
                    stream.set_nodelay(true).unwrap();
                    drop($spawn(echo(stream)));
                }
            }

            /// `iters` 64-byte round trips on one connection.
            pub async fn ping_pong(iters: u64) -> Duration {
                let (listener, addr) = listen().await;
                let server = $spawn(serve(listener));
                let mut client = <$stream>::connect(addr).await.unwrap();
                client.set_nodelay(true).unwrap();
                let out = [7u8; MSG];
                let mut back = [0u8; MSG];
                let start = Instant::now();
                for _ in 0..iters {
                    client.write_all(&out).await.unwrap();
                    client.read_exact(&mut back).await.unwrap();
                }
                let elapsed = start.elapsed();
                black_box(back);
                server.abort();
                elapsed
            }

            /// `iters` batches of 64 connections echoing 64 KiB each.
            pub async fn echo_64(iters: u64) -> Duration {
                let (listener, addr) = listen().await;
                let server = $spawn(serve(listener));
                let mut clients = Vec::with_capacity(CONNS);
                for _ in 0..CONNS {
                    let stream = <$stream>::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    clients.push(stream);
                }
                let start = Instant::now();
                for _ in 0..iters {
                    let tasks: Vec<_> = clients
                        .drain(..)
                        .map(|mut stream| {
                            $spawn(async move {
                                let chunk = vec![1u8; CHUNK];
                                let mut back = vec![0u8; CHUNK];
                                // Write and read in step: the echo's buffers
                                // never fill, whatever the socket sizes.
                                for _ in 0..ECHO_BYTES / CHUNK {
                                    stream.write_all(&chunk).await.unwrap();
                                    stream.read_exact(&mut back).await.unwrap();
                                }
                                stream
                            })
                        })
                        .collect();
                    for task in tasks {
                        clients.push(task.await.unwrap());
                    }
                }
                let elapsed = start.elapsed();
                server.abort();
                elapsed
            }

            /// `iters` connections: connect, one request and reply, close.
            pub async fn connect(iters: u64) -> Duration {
                let (listener, addr) = listen().await;
                let server = $spawn(serve(listener));
                let mut back = [0u8; 8];
                let start = Instant::now();
                for _ in 0..iters {
                    let mut stream = <$stream>::connect(addr).await.unwrap();
                    stream.write_all(b"request!").await.unwrap();
                    stream.read_exact(&mut back).await.unwrap();
                    // Close with a reset, so a long run leaves no TIME_WAIT
                    // sockets behind to use up loopback's ephemeral ports.
                    // (tokio deprecates it because a *nonzero* linger blocks
                    // the dropping thread; zero resets at once.)
                    #[allow(deprecated)]
                    stream.set_linger(Some(Duration::ZERO)).unwrap();
                    drop(stream);
                }
                let elapsed = start.elapsed();
                black_box(back);
                server.abort();
                elapsed
            }
        }
    };
}

workloads!(
    on_keen,
    keen::spawn,
    keen::net::TcpListener,
    keen::net::TcpStream,
    keen::io::AsyncReadExt,
    keen::io::AsyncWriteExt
);
workloads!(
    on_tokio,
    tokio::spawn,
    tokio::net::TcpListener,
    tokio::net::TcpStream,
    tokio::io::AsyncReadExt,
    tokio::io::AsyncWriteExt
);
workloads!(
    on_smol,
    crate::common::smol::spawn,
    crate::common::smol::net::TcpListener,
    crate::common::smol::net::TcpStream,
    futures_lite::AsyncReadExt,
    futures_lite::AsyncWriteExt,
    crate::common::smol::net::StreamOptions
);

/// The floor: `iters` 64-byte round trips on blocking sockets, the echo on
/// its own thread.
fn ping_pong_blocking(iters: u64) -> Duration {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_nodelay(true).unwrap();
        let mut buf = [0u8; MSG];
        while stream.read_exact(&mut buf).is_ok() {
            if stream.write_all(&buf).is_err() {
                return;
            }
        }
    });
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client.set_nodelay(true).unwrap();
    let out = [7u8; MSG];
    let mut back = [0u8; MSG];
    let start = Instant::now();
    for _ in 0..iters {
        client.write_all(&out).unwrap();
        client.read_exact(&mut back).unwrap();
    }
    let elapsed = start.elapsed();
    drop(client);
    server.join().unwrap();
    elapsed
}

/// Runs `$workload(iters)` inside one task of `$rt`, as applications do.
macro_rules! in_task {
    ($rt:expr, $workload:path) => {
        |b: &mut criterion::Bencher<'_>| {
            b.iter_custom(|iters| $rt.block_on($rt.spawn($workload(iters))).unwrap())
        }
    };
}

fn io(c: &mut Criterion) {
    let mut group = c.benchmark_group("io_ping_pong");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("floor/std_blocking", |b| b.iter_custom(ping_pong_blocking));
    for multi in [false, true] {
        let keen = keen_rt(multi);
        group.bench_function(
            format!("keen/{}", flavor(multi)),
            in_task!(keen, on_keen::ping_pong),
        );
        let tokio = tokio_rt(multi);
        group.bench_function(
            format!("tokio/{}", flavor(multi)),
            in_task!(tokio, on_tokio::ping_pong),
        );
        let smol = smol_rt(multi);
        group.bench_function(
            format!("smol/{}", flavor(multi)),
            in_task!(smol, on_smol::ping_pong),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("io_echo_64");
    group.sample_size(10);
    group.throughput(Throughput::Bytes((CONNS * ECHO_BYTES) as u64));
    for multi in [false, true] {
        let keen = keen_rt(multi);
        group.bench_function(
            format!("keen/{}", flavor(multi)),
            in_task!(keen, on_keen::echo_64),
        );
        let tokio = tokio_rt(multi);
        group.bench_function(
            format!("tokio/{}", flavor(multi)),
            in_task!(tokio, on_tokio::echo_64),
        );
        let smol = smol_rt(multi);
        group.bench_function(
            format!("smol/{}", flavor(multi)),
            in_task!(smol, on_smol::echo_64),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("io_connect");
    group.measurement_time(Duration::from_secs(3));
    for multi in [false, true] {
        let keen = keen_rt(multi);
        group.bench_function(
            format!("keen/{}", flavor(multi)),
            in_task!(keen, on_keen::connect),
        );
        let tokio = tokio_rt(multi);
        group.bench_function(
            format!("tokio/{}", flavor(multi)),
            in_task!(tokio, on_tokio::connect),
        );
        let smol = smol_rt(multi);
        group.bench_function(
            format!("smol/{}", flavor(multi)),
            in_task!(smol, on_smol::connect),
        );
    }
    group.finish();
}

criterion_group!(benches, io);
criterion_main!(benches);
