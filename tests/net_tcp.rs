//! TCP basics on every runtime configuration: echo, large transfers through
//! split halves, readiness and `try_*`, addresses and options, std
//! conversions, address lists, name lookup, IPv6, and `TcpSocket`.

use std::io;
use std::net::SocketAddr;

use keen::io::{AsyncReadExt, AsyncWriteExt, Interest};
use keen::net::{TcpListener, TcpSocket, TcpStream, lookup_host};
use keen_suite::{ALL, each, join2, run_in_task};

const LOCAL: &str = "127.0.0.1:0";

/// An address nothing listens on (a port just freed).
fn refused_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind(LOCAL).unwrap();
    listener.local_addr().unwrap()
}

#[test]
fn echo_round_trips_on_every_configuration() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = TcpListener::bind(LOCAL).await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = keen::spawn(async move {
                for _ in 0..3 {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    keen::spawn(async move {
                        let mut buf = [0; 1024];
                        loop {
                            let n = stream.read(&mut buf).await.unwrap();
                            if n == 0 {
                                break;
                            }
                            stream.write_all(&buf[..n]).await.unwrap();
                        }
                    });
                }
            });
            for i in 0..3u8 {
                let mut stream = TcpStream::connect(addr).await.unwrap();
                let msg = [i; 100];
                stream.write_all(&msg).await.unwrap();
                let mut back = [0; 100];
                stream.read_exact(&mut back).await.unwrap();
                assert_eq!(back, msg);
            }
            server.await.unwrap();
        });
    });
}

/// 4 MiB each way through owned halves in two tasks, beyond any socket
/// buffer, so reads and writes both hit `WouldBlock` and wake many times.
#[test]
fn owned_halves_move_megabytes_both_ways() {
    const LEN: usize = 4 << 20;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = TcpListener::bind(LOCAL).await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let (mut server_read, mut server_write) = server.into_split();
            // The server echoes everything it reads.
            let echo = keen::spawn(async move {
                keen::io::copy(&mut server_read, &mut server_write)
                    .await
                    .unwrap()
            });
            let (mut read, mut write) = client.into_split();
            let writer = keen::spawn(async move {
                let data: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
                write.write_all(&data).await.unwrap();
                write.close().await.unwrap(); // the echo sees end of file
            });
            let mut got = Vec::with_capacity(LEN);
            read.read_to_end(&mut got).await.unwrap();
            writer.await.unwrap();
            assert_eq!(echo.await.unwrap(), LEN as u64);
            assert_eq!(got.len(), LEN);
            assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        });
    });
}

#[test]
fn borrowed_halves_read_and_write_at_once() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = TcpListener::bind(LOCAL).await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            client.write_all(b"from client").await.unwrap();
            // With `AsyncReadExt` in scope `server.split()` would be futures-util's
            // consuming `split`; name keen's borrowed one.
            let (mut read, mut write) = TcpStream::split(&mut server);
            let (sent, got) = join2(
                async {
                    write.write_all(b"from server").await.unwrap();
                    write.close().await.unwrap();
                },
                async {
                    let mut buf = [0; 11];
                    read.read_exact(&mut buf).await.unwrap();
                    buf
                },
            )
            .await;
            let _: () = sent;
            assert_eq!(&got, b"from client");
            let mut buf = Vec::new();
            client.read_to_end(&mut buf).await.unwrap();
            assert_eq!(buf, b"from server");
        });
    });
}

#[test]
fn reunite_gives_the_stream_back_and_refuses_strangers() {
    let rt = ALL[0].build();
    rt.block_on(async {
        let listener = TcpListener::bind(LOCAL).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let a = TcpStream::connect(addr).await.unwrap();
        let b = TcpStream::connect(addr).await.unwrap();
        let (a_read, a_write) = a.into_split();
        let (b_read, b_write) = b.into_split();
        let err = a_read.reunite(b_write).unwrap_err();
        let (a_read, b_write) = (err.0, err.1);
        let a = a_read.reunite(a_write).unwrap();
        let b = b_write.reunite(b_read).unwrap();
        assert_ne!(a.local_addr().unwrap(), b.local_addr().unwrap());
    });
}

#[test]
fn dropping_the_owned_write_half_shuts_the_write_side() {
    let rt = ALL[0].build();
    rt.block_on(async {
        let listener = TcpListener::bind(LOCAL).await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let (_read, write) = client.into_split();
        drop(write);
        let mut buf = [0; 8];
        assert_eq!(server.read(&mut buf).await.unwrap(), 0, "end of file");
    });
}

#[test]
fn readable_try_read_peek_and_try_write() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = TcpListener::bind(LOCAL).await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let mut buf = [0; 16];
            // Nothing sent yet: try_read would block (it may make one
            // optimistic system call to learn that).
            let err = server.try_read(&mut buf).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
            client.writable().await.unwrap();
            assert_eq!(client.try_write(b"peekaboo").unwrap(), 8);
            let n = server.peek(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"peekaboo", "peek does not take");
            let n = loop {
                server.readable().await.unwrap();
                match server.try_read(&mut buf) {
                    Ok(n) => break n,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(err) => panic!("{err}"),
                }
            };
            assert_eq!(&buf[..n], b"peekaboo");
            let ready = server.ready(Interest::WRITABLE).await.unwrap();
            assert!(ready.is_writable());
        });
    });
}

#[test]
fn addresses_options_and_std_round_trips() {
    let rt = ALL[0].build();
    rt.block_on(async {
        let listener = TcpListener::bind(LOCAL).await.unwrap();
        let addr = listener.local_addr().unwrap();
        listener.set_ttl(42).unwrap();
        assert_eq!(listener.ttl().unwrap(), 42);
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        assert_eq!(client.peer_addr().unwrap(), addr);
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_ttl(7).unwrap();
        assert_eq!(client.ttl().unwrap(), 7);
        client
            .set_linger(Some(std::time::Duration::from_secs(1)))
            .unwrap();
        assert!(client.linger().unwrap().is_some());
        assert!(client.take_error().unwrap().is_none());

        // std and back, for a stream and a listener, still working.
        let std_client = client.into_std().unwrap();
        let mut client = TcpStream::from_std(std_client).unwrap();
        let std_listener = listener.into_std().unwrap();
        let listener = TcpListener::from_std(std_listener).unwrap();
        let mut server = server;
        client.write_all(b"x").await.unwrap();
        let mut one = [0];
        server.read_exact(&mut one).await.unwrap();
        let _second = TcpStream::connect(addr).await.unwrap();
        listener.accept().await.unwrap();
    });
}

#[test]
fn connect_and_bind_try_every_address_in_turn() {
    let rt = ALL[0].build();
    rt.block_on(async {
        let listener = TcpListener::bind(LOCAL).await.unwrap();
        let good = listener.local_addr().unwrap();
        let addrs = [refused_addr(), good];
        let stream = TcpStream::connect(&addrs[..]).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap(), good);
        // Binding: the first address is taken, the second is free.
        let both = [good, "127.0.0.1:0".parse().unwrap()];
        let second = TcpListener::bind(&both[..]).await.unwrap();
        assert_ne!(second.local_addr().unwrap(), good);
        // "host:port" and (host, port) forms.
        let by_str = TcpStream::connect(good.to_string()).await.unwrap();
        let by_pair = TcpStream::connect(("127.0.0.1", good.port()))
            .await
            .unwrap();
        assert_eq!(by_str.peer_addr().unwrap(), by_pair.peer_addr().unwrap());
        // An empty list is an error, not a hang.
        let err = TcpStream::connect(&[][..]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    });
}

#[test]
fn host_names_are_looked_up_on_the_blocking_pool() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let addrs: Vec<SocketAddr> = run_in_task(&rt, async {
            lookup_host("localhost:80").await.unwrap().collect()
        });
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
        assert!(
            rt.metrics().blocking_threads >= 1,
            "the lookup ran on the pool"
        );
    });
}

#[test]
fn ipv6_loopback_works_where_the_host_has_it() {
    let rt = ALL[0].build();
    rt.block_on(async {
        let listener = match TcpListener::bind("[::1]:0").await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("no IPv6 loopback here ({err}); skipped");
                return;
            }
        };
        let addr = listener.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"v6").await.unwrap();
        let mut buf = [0; 2];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"v6");
    });
}

#[test]
fn tcp_socket_sets_options_then_listens_and_connects() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let first = TcpSocket::new_v4().unwrap();
            first.set_reuseaddr(true).unwrap();
            first.set_reuseport(true).unwrap();
            assert!(first.reuseaddr().unwrap() && first.reuseport().unwrap());
            first.set_recv_buffer_size(1 << 16).unwrap();
            first.set_send_buffer_size(1 << 16).unwrap();
            assert!(first.recv_buffer_size().unwrap() >= 1 << 16);
            assert!(first.send_buffer_size().unwrap() >= 1 << 16);
            first.bind(LOCAL.parse().unwrap()).unwrap();
            let addr = first.local_addr().unwrap();
            let listener = first.listen(128).unwrap();
            // SO_REUSEPORT: a second listener on the same port.
            let second = TcpSocket::new_v4().unwrap();
            second.set_reuseport(true).unwrap();
            second.bind(addr).unwrap();
            let _second = second.listen(128).unwrap();

            let client = TcpSocket::new_v4().unwrap();
            client.set_nodelay(true).unwrap();
            client.set_keepalive(true).unwrap();
            let mut stream = client.connect(addr).await.unwrap();
            assert!(stream.nodelay().unwrap());
            stream.write_all(b"via TcpSocket").await.unwrap();
            drop(stream);
            // One of the two listeners got it; this test only checks ours
            // when the kernel chose it, so accept from both is not needed.
            let _ = listener;

            let refused = TcpSocket::new_v4().unwrap();
            let err = refused.connect(refused_addr()).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        });
    });
}

#[test]
fn poll_accept_and_several_acceptors_on_one_listener() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = std::sync::Arc::new(TcpListener::bind(LOCAL).await.unwrap());
            let addr = listener.local_addr().unwrap();
            // Two tasks accept on one &TcpListener; both must be served.
            let acceptors: Vec<_> = (0..2)
                .map(|_| {
                    let listener = listener.clone();
                    keen::spawn(async move { listener.accept().await.unwrap().1 })
                })
                .collect();
            let a = TcpStream::connect(addr).await.unwrap();
            let b = TcpStream::connect(addr).await.unwrap();
            let mut peers = Vec::new();
            for task in acceptors {
                peers.push(task.await.unwrap());
            }
            peers.sort();
            let mut expected = vec![a.local_addr().unwrap(), b.local_addr().unwrap()];
            expected.sort();
            assert_eq!(peers, expected);
            // poll_accept.
            let c = TcpStream::connect(addr).await.unwrap();
            let (_, peer) = std::future::poll_fn(|cx| listener.poll_accept(cx))
                .await
                .unwrap();
            assert_eq!(peer, c.local_addr().unwrap());
        });
    });
}
