//! SIGPIPE never kills the process. Rust programs start with SIGPIPE
//! ignored, which would hide a missing `MSG_NOSIGNAL`; this binary (one
//! test, so the process-wide change touches nothing else) puts SIGPIPE
//! back to its default, terminating disposition first — as a C host or
//! an embedding application may have it — and then writes to closed
//! peers every way keen can: each must return an error.

use std::io::{self, IoSlice};

use keen::io::AsyncWriteExt;
use keen::net::{TcpListener, TcpStream, UnixStream};
use keen_suite::{ALL, each, run_in_task};

fn broken(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
    )
}

#[test]
fn writes_to_a_closed_peer_are_errors_with_sigpipe_at_its_default() {
    // SAFETY: `signal` with a valid signal number and `SIG_DFL` only
    // changes the disposition; no handler runs any code of ours.
    let previous = unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    assert_ne!(previous, libc::SIG_ERR);
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            // TCP: write until the reset has come back and writes fail.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            drop(listener.accept().await.unwrap());
            let (_read, mut write) = client.into_split();
            let mut failures = 0;
            for round in 0..2000 {
                let result = match round % 3 {
                    0 => write.write(&[1; 512]).await,
                    1 => {
                        write
                            .write_vectored(&[IoSlice::new(&[2; 256]), IoSlice::new(&[3; 256])])
                            .await
                    }
                    _ => write.as_ref().try_write(&[4; 512]),
                };
                match result {
                    Ok(_) => {}
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                    Err(err) => {
                        assert!(broken(err.kind()), "{err}");
                        failures += 1;
                        if failures > 6 {
                            break;
                        }
                    }
                }
            }
            assert!(
                failures > 6,
                "every way of writing failed, and we are alive"
            );

            // Unix streams: std's own write(2) would raise SIGPIPE here.
            let (mut a, b) = UnixStream::pair().unwrap();
            drop(b);
            assert!(broken(a.write(b"x").await.unwrap_err().kind()));
            let bufs = [IoSlice::new(b"y"), IoSlice::new(b"z")];
            assert!(broken(a.write_vectored(&bufs).await.unwrap_err().kind()));
            assert!(broken(a.try_write(b"w").unwrap_err().kind()));
        });
    });
}
