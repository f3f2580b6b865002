//! What the network can do, as errors and never panics or hangs: address
//! in use, connection refused, a peer reset mid-read, writes after the
//! peer closed (`BrokenPipe`), sockets created outside any runtime, and
//! sockets outliving their runtime. (SIGPIPE with the default disposition:
//! `net_sigpipe.rs`; `EMFILE`: `net_emfile.rs`; fd accounting and 10,000
//! connections: `net_fds.rs`.)

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use keen::io::{AsyncFd, AsyncReadExt, AsyncWriteExt};
use keen::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};
use keen_suite::{ALL, announce_pending, each, poll_once, run_in_task, signal};

fn refused_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn address_in_use_and_connection_refused_are_errors() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let taken = listener.local_addr().unwrap();
            let err = TcpListener::bind(taken).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
            let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let err = UdpSocket::bind(udp.local_addr().unwrap())
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
            let err = TcpStream::connect(refused_addr()).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
        });
    });
}

#[test]
fn a_peer_reset_mid_read_is_connection_reset() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            let reader = keen::spawn(async move {
                let mut buf = [0; 64];
                for _ in 0..1000 {
                    match server.read(&mut buf).await {
                        Ok(0) => return Err("end of file instead of a reset".to_owned()),
                        Ok(_) => continue,
                        Err(err) => return Ok(err.kind()),
                    }
                }
                Err("no reset".to_owned())
            });
            let mut client = client;
            client.write_all(b"some bytes, then a reset").await.unwrap();
            client.set_linger(Some(Duration::ZERO)).unwrap();
            drop(client); // SO_LINGER 0: close sends RST
            assert_eq!(reader.await.unwrap(), Ok(io::ErrorKind::ConnectionReset));
        });
    });
}

#[test]
fn writing_after_the_peer_closed_is_broken_pipe() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            drop(listener.accept().await.unwrap());
            let mut kinds = Vec::new();
            for _ in 0..1000 {
                match client.write(&[0; 1024]).await {
                    Ok(_) => continue, // the reset has not come back yet
                    Err(err) => {
                        kinds.push(err.kind());
                        if err.kind() == io::ErrorKind::BrokenPipe {
                            break;
                        }
                    }
                }
            }
            assert_eq!(kinds.last(), Some(&io::ErrorKind::BrokenPipe), "{kinds:?}");

            let (mut a, b) = UnixStream::pair().unwrap();
            drop(b);
            let err = a.write_all(b"to nobody").await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        });
    });
}

#[test]
fn sockets_made_outside_any_runtime_get_an_error_naming_the_fix() {
    let check = |err: io::Error| {
        let msg = err.to_string();
        assert!(msg.contains("no keen runtime"), "{msg}");
        assert!(
            msg.contains("Handle::enter") && msg.contains("block_on"),
            "{msg}"
        );
    };
    let std_stream = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap()
    };
    check(TcpStream::from_std(std_stream).unwrap_err());
    check(UnixStream::pair().unwrap_err());
    check(UnixDatagram::unbound().unwrap_err());
    let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    check(AsyncFd::new(a).unwrap_err());
    // An async constructor polled by some other executor.
    let mut bind = Box::pin(TcpListener::bind("127.0.0.1:0"));
    match poll_once(&mut bind) {
        std::task::Poll::Ready(Err(err)) => check(err),
        other => panic!("{other:?}"),
    }
    // And entering a runtime is the fix.
    let rt = ALL[0].build();
    let _guard = rt.enter();
    assert!(UnixStream::pair().is_ok());
}

#[test]
fn a_socket_outliving_its_runtime_returns_an_error_saying_so() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (mut stream, listener, udp) = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let stream = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            (
                stream,
                listener,
                UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            )
        });
        drop(rt);
        let other = ALL[0].build();
        let gone = |err: io::Error| {
            assert!(err.to_string().contains("has shut down"), "{err}");
        };
        other.block_on(async {
            let mut buf = [0; 4];
            gone(stream.read(&mut buf).await.unwrap_err());
            gone(stream.write(b"x").await.unwrap_err());
            gone(stream.try_read(&mut buf).unwrap_err());
            gone(stream.readable().await.unwrap_err());
            gone(listener.accept().await.unwrap_err());
            gone(udp.recv_from(&mut buf).await.unwrap_err());
        });
        // A handle that outlived its runtime cannot register new sockets.
        let rt = cfg.build();
        let handle = rt.handle().clone();
        drop(rt);
        let _guard = handle.enter();
        gone(UnixStream::pair().unwrap_err());
    });
}

/// A task of another runtime waits on a socket whose runtime then shuts
/// down: the wait ends with the error (no hang).
#[test]
fn a_wait_in_progress_ends_when_the_sockets_runtime_shuts_down() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (a, _b) = {
            let _guard = rt.enter();
            UnixStream::pair().unwrap()
        };
        // Readiness may be spurious (new sockets start optimistically
        // readable, and a clear that races the reactor's first event is
        // dropped), so wait the way real code does: until a read would
        // block *and* the wait is pending.
        let wait = async {
            loop {
                if let Err(err) = a.readable().await {
                    break err;
                }
                let err = a.try_read(&mut [0; 1]).unwrap_err();
                assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
            }
        };
        let (pending, waiting) = signal();
        let other = ALL[0].build();
        std::thread::scope(|s| {
            s.spawn(|| {
                keen::block_on(waiting);
                drop(rt);
            });
            let err = other.block_on(announce_pending(wait, pending));
            assert!(err.to_string().contains("has shut down"), "{err}");
        });
    });
}
