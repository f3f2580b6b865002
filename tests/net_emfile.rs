//! `EMFILE` on accept: with the fd table full, `accept` returns the error
//! (no panic, no spin inside keen), the listener keeps its place, and once
//! fds are free it accepts again. Shows the server loop that backs off.
//! A binary of its own: lowering `RLIMIT_NOFILE` is process-wide.

use std::fs::File;
use std::io::{self, Write};
use std::time::Duration;

use keen::io::AsyncReadExt;
use keen::net::TcpListener;
use keen_suite::{ALL, each, run_in_task};

const CLIENTS: usize = 3;

fn nofile() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0);
    limit
}

fn set_nofile(limit: libc::rlimit) {
    // SAFETY: `limit` is a valid rlimit; only the soft limit changes.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0);
}

/// The highest open fd number.
fn highest_fd() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .max()
        .unwrap()
}

fn is_out_of_fds(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
}

#[test]
fn accept_reports_emfile_and_works_again_once_fds_are_free() {
    let original = nofile();
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            // Clients connect (into the accept queue) while fds are free.
            let clients: Vec<_> = (0..CLIENTS)
                .map(|i| {
                    let mut s = std::net::TcpStream::connect(addr).unwrap();
                    s.write_all(&[i as u8]).unwrap();
                    s
                })
                .collect();
            // Fill the fd table: a limit just above the highest fd, then
            // /dev/null until the system says no.
            set_nofile(libc::rlimit {
                rlim_cur: highest_fd() + 1,
                rlim_max: original.rlim_max,
            });
            let mut filler = Vec::new();
            loop {
                match File::open("/dev/null") {
                    Ok(f) => filler.push(f),
                    Err(err) if is_out_of_fds(&err) => break,
                    Err(err) => panic!("{err}"),
                }
                assert!(filler.len() < 4096, "the limit did not take");
            }
            let err = listener.accept().await.unwrap_err();
            assert!(is_out_of_fds(&err), "{err}");

            // The server loop: on EMFILE, back off (here: free one fd, as
            // a finishing connection would) and try again; other errors
            // would end it.
            let mut served = Vec::new();
            let mut backoffs = 0;
            while served.len() < CLIENTS {
                match listener.accept().await {
                    Ok((mut stream, _)) => {
                        let mut id = [0];
                        stream.read_exact(&mut id).await.unwrap();
                        served.push(id[0]);
                    }
                    Err(err) if is_out_of_fds(&err) => {
                        backoffs += 1;
                        assert!(backoffs <= 64, "freeing fds did not help");
                        drop(filler.pop());
                        keen::time::sleep(Duration::from_millis(1)).await;
                    }
                    Err(err) => panic!("accept failed: {err}"),
                }
            }
            set_nofile(original);
            served.sort();
            assert_eq!(served, [0, 1, 2]);
            assert!(backoffs >= 1);
            drop((clients, filler));
        });
    });
}
