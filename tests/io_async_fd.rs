//! `AsyncFd` over fds keen has no type for: readiness guards, `try_io`,
//! `clear_ready` (the next wait really waits), mutable guards, `async_io`,
//! `into_inner`, and several waiters on one fd.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use keen::io::{AsyncFd, Interest};
use keen_suite::{ALL, each, poll_once, run_in_task};

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (a, b)
}

#[test]
fn guards_try_io_and_clear_ready() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (a, mut b) = pair();
            let fd = AsyncFd::new(a).unwrap();
            // Writable at once (epoll reports it on registration).
            assert!(fd.writable().await.unwrap().ready().is_writable());
            b.write_all(b"hello").unwrap();
            let mut buf = [0; 5];
            let n = loop {
                let mut guard = fd.readable().await.unwrap();
                match guard.try_io(|fd| fd.get_ref().read(&mut buf)) {
                    Ok(n) => break n.unwrap(),
                    Err(_would_block) => continue,
                }
            };
            assert_eq!(&buf[..n], b"hello");
            // Drained: try_io sees WouldBlock and clears, so the next wait
            // is pending until more data comes.
            let mut guard = fd.readable().await.unwrap();
            assert!(guard.try_io(|fd| fd.get_ref().read(&mut buf)).is_err());
            let mut wait = Box::pin(fd.readable());
            assert!(poll_once(&mut wait).is_pending(), "readiness was cleared");
            drop(wait);
            b.write_all(b"!").unwrap();
            let got = fd
                .async_io(Interest::READABLE, |s| {
                    let mut one = [0];
                    (&*s).read(&mut one).map(|_| one[0])
                })
                .await
                .unwrap();
            assert_eq!(got, b'!');
            // Mutable guards and into_inner.
            let mut fd = fd;
            let mut guard = fd.writable_mut().await.unwrap();
            guard.get_inner_mut().write_all(b"back").unwrap();
            guard.retain_ready();
            let mut back = [0; 4];
            b.read_exact(&mut back).unwrap();
            assert_eq!(&back, b"back");
            let a = fd.into_inner();
            assert!(a.set_nonblocking(false).is_ok());
        });
    });
}

#[test]
fn every_task_waiting_on_one_fd_is_woken() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (a, mut b) = pair();
            let fd = Arc::new(AsyncFd::with_interest(a, Interest::READABLE).unwrap());
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let fd = fd.clone();
                    keen::spawn(async move { fd.readable().await.map(|g| g.ready().is_readable()) })
                })
                .collect();
            b.write_all(b"x").unwrap();
            for waiter in waiters {
                assert!(waiter.await.unwrap().unwrap());
            }
            let mut one = [0];
            assert_eq!(fd.get_ref().read(&mut one).unwrap(), 1);
            let err = fd.get_ref().read(&mut one).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        });
    });
}
