//! UDP and Unix-domain sockets: datagrams both ways, several tasks waiting
//! on one shared `&UdpSocket` (each woken), connected sockets, try_* and
//! readiness, Unix listeners and streams (halves, std conversions), and
//! Unix datagrams.

use std::io;
use std::sync::Arc;

use keen::io::{AsyncReadExt, AsyncWriteExt};
use keen::net::{UdpSocket, UnixDatagram, UnixListener, UnixStream};
use keen_suite::{ALL, each, run_in_task};

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("keen-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&dir);
    dir
}

#[test]
fn udp_send_recv_connected_and_unconnected() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            assert_eq!(a.send_to(b"one", b_addr).await.unwrap(), 3);
            let mut buf = [0; 16];
            let (n, from) = b.peek_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"one"[..], a_addr));
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"one"[..], a_addr));
            a.connect(b_addr).await.unwrap();
            b.connect(a_addr).await.unwrap();
            assert_eq!(a.peer_addr().unwrap(), b_addr);
            b.send(b"two").await.unwrap();
            assert_eq!(a.recv(&mut buf).await.unwrap(), 3);
            // try_* after readiness.
            assert_eq!(
                b.try_recv(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            a.writable().await.unwrap();
            a.try_send(b"three").unwrap();
            let n = loop {
                b.readable().await.unwrap();
                match b.try_recv(&mut buf) {
                    Ok(n) => break n,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(err) => panic!("{err}"),
                }
            };
            assert_eq!(&buf[..n], b"three");
            // poll_* forms.
            std::future::poll_fn(|cx| a.poll_send(cx, b"four"))
                .await
                .unwrap();
            let n = std::future::poll_fn(|cx| b.poll_recv(cx, &mut buf))
                .await
                .unwrap();
            assert_eq!(&buf[..n], b"four");
            a.set_ttl(9).unwrap();
            assert_eq!(a.ttl().unwrap(), 9);
            a.set_broadcast(true).unwrap();
            assert!(a.broadcast().unwrap());
            // std round trip.
            let a = UdpSocket::from_std(a.into_std().unwrap()).unwrap();
            a.send(b"five").await.unwrap();
            assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
        });
    });
}

/// Four tasks wait in `recv_from` on one `Arc<UdpSocket>`; four datagrams
/// arrive; every task gets one (nobody is left waiting on a lost wake).
#[test]
fn every_task_waiting_on_a_shared_udp_socket_is_woken() {
    const WAITERS: usize = 4;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let socket = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
            // Learn that nothing is there yet, so the waiters really wait.
            let _ = socket.try_recv_from(&mut [0; 8]);
            let waiters: Vec<_> = (0..WAITERS)
                .map(|_| {
                    let socket = socket.clone();
                    keen::spawn(async move {
                        let mut buf = [0; 8];
                        let (n, _) = socket.recv_from(&mut buf).await.unwrap();
                        assert_eq!(n, 1);
                        buf[0] as usize
                    })
                })
                .collect();
            let out = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            for i in 0..WAITERS {
                out.send_to(&[i as u8], socket.local_addr().unwrap())
                    .unwrap();
            }
            let mut got = Vec::new();
            for waiter in waiters {
                got.push(waiter.await.unwrap());
            }
            got.sort();
            assert_eq!(got, [0, 1, 2, 3]);
        });
    });
}

#[test]
fn unix_listener_and_streams() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let path = temp_path(&format!("stream-{cfg}").replace('/', "-"));
        let path2 = path.clone();
        run_in_task(&rt, async move {
            let listener = UnixListener::bind(&path2).unwrap();
            assert_eq!(
                listener.local_addr().unwrap().as_pathname(),
                Some(path2.as_path())
            );
            let server = keen::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let (mut read, mut write) = stream.into_split();
                keen::io::copy(&mut read, &mut write).await.unwrap()
            });
            let mut client = UnixStream::connect(&path2).await.unwrap();
            assert!(client.peer_addr().unwrap().as_pathname().is_some());
            client.write_all(&[7; 100_000]).await.unwrap();
            client.shutdown(std::net::Shutdown::Write).unwrap();
            let mut back = Vec::new();
            client.read_to_end(&mut back).await.unwrap();
            assert_eq!(back.len(), 100_000);
            assert_eq!(server.await.unwrap(), 100_000);

            let (a, mut b) = UnixStream::pair().unwrap();
            let mut a = UnixStream::from_std(a.into_std().unwrap()).unwrap();
            let (mut r, mut w) = UnixStream::split(&mut a);
            w.write_all(b"ab").await.unwrap();
            let mut two = [0; 2];
            b.read_exact(&mut two).await.unwrap();
            b.write_all(b"cd").await.unwrap();
            r.read_exact(&mut two).await.unwrap();
            assert_eq!(&two, b"cd");
        });
        let _ = std::fs::remove_file(path);
    });
}

#[test]
fn unix_datagrams() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let path = temp_path(&format!("dgram-{cfg}").replace('/', "-"));
        let path2 = path.clone();
        run_in_task(&rt, async move {
            let bound = UnixDatagram::bind(&path2).unwrap();
            let unbound = UnixDatagram::unbound().unwrap();
            unbound.send_to(b"to a path", &path2).await.unwrap();
            let mut buf = [0; 32];
            let (n, _) = bound.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"to a path");
            let (a, b) = UnixDatagram::pair().unwrap();
            a.send(b"paired").await.unwrap();
            let n = b.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"paired");
            assert_eq!(
                b.try_recv(&mut buf).unwrap_err().kind(),
                io::ErrorKind::WouldBlock
            );
            let b = UnixDatagram::from_std(b.into_std().unwrap()).unwrap();
            a.try_send(b"again").unwrap();
            b.readable().await.unwrap();
            assert_eq!(b.try_recv(&mut buf).unwrap(), 5);
        });
        let _ = std::fs::remove_file(path);
    });
}
