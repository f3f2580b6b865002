//! Nothing leaks: a runtime dropped with 1,000 connections open (held by
//! pending tasks) closes every one of their fds and its own reactor fds;
//! and 10,000 concurrent loopback connections work in one test. Counting
//! `/proc/self/fd` needs the tests of this binary to run one at a time.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use keen::io::{AsyncReadExt, AsyncWriteExt};
use keen::net::{TcpListener, TcpStream};
use keen_suite::{ALL, Config, Flavor, each, run_in_task};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Raises the soft fd limit to the hard one.
fn raise_nofile() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0);
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: a valid rlimit whose soft limit does not exceed the hard one.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0);
}

#[test]
fn dropping_a_runtime_with_1000_connections_open_closes_every_fd() {
    const CONNECTIONS: usize = 1000;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    raise_nofile();
    each(&ALL, |cfg| {
        let before = open_fds();
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let acceptor = keen::spawn(async move {
                for _ in 0..CONNECTIONS {
                    let (mut stream, _) = listener.accept().await.unwrap();
                    // A handler that waits forever for its first byte.
                    drop(keen::spawn(async move {
                        let _ = stream.read(&mut [0; 1]).await;
                        std::future::pending::<()>().await
                    }));
                }
            });
            let mut clients = Vec::new();
            for _ in 0..CONNECTIONS {
                clients.push(TcpStream::connect(addr).await.unwrap());
            }
            acceptor.await.unwrap();
            // The clients, too, stay open inside a pending task.
            drop(keen::spawn(async move {
                let _clients = clients;
                std::future::pending::<()>().await
            }));
        });
        assert!(open_fds() >= before + 2 * CONNECTIONS);
        drop(rt);
        assert_eq!(open_fds(), before, "every socket and reactor fd closed");
    });
}

const CHILD_ADDR: &str = "KEEN_NET_FDS_CHILD_ADDR";
const CHILD_COUNT: &str = "KEEN_NET_FDS_CHILD_COUNT";

/// Not a test of its own: the client side of the 10,000-connection test,
/// run in a child process (both ends in one process would need 20,000
/// fds, more than the hard limit allows here). Returns at once unless
/// the parent started it.
#[test]
fn child_process_clients() {
    let (Ok(addr), Ok(count)) = (std::env::var(CHILD_ADDR), std::env::var(CHILD_COUNT)) else {
        return;
    };
    raise_nofile();
    let count: usize = count.parse().unwrap();
    let mut streams = Vec::with_capacity(count);
    for i in 0..count as u64 {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.write_all(&i.to_le_bytes()).unwrap();
        let mut echo = [0; 8];
        s.read_exact(&mut echo).unwrap();
        assert_eq!(u64::from_le_bytes(echo), i);
        streams.push(s);
    }
    println!("CHILD:ready {}", streams.len());
    // Hold every connection until the parent closes our stdin.
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(streams);
}

#[test]
fn ten_thousand_concurrent_loopback_connections() {
    const CONNECTIONS: usize = 10_000;
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    raise_nofile();
    let configs = [
        Config {
            flavor: Flavor::MultiThread(2),
            eager: true,
        },
        Config {
            flavor: Flavor::CurrentThread,
            eager: false,
        },
    ];
    each(&configs, |cfg| {
        let before = open_fds();
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let live = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let acceptor = {
                let (live, peak) = (live.clone(), peak.clone());
                keen::spawn(async move {
                    let mut handlers = Vec::with_capacity(CONNECTIONS);
                    for _ in 0..CONNECTIONS {
                        let (mut stream, _) = listener.accept().await.unwrap();
                        let (live, peak) = (live.clone(), peak.clone());
                        handlers.push(keen::spawn(async move {
                            let mut id = [0; 8];
                            stream.read_exact(&mut id).await.unwrap();
                            // Counted before the echo: the child reports
                            // ready once every echo came back, so every
                            // count has happened by then.
                            peak.fetch_max(live.fetch_add(1, SeqCst) + 1, SeqCst);
                            stream.write_all(&id).await.unwrap();
                            let mut rest = Vec::new();
                            stream.read_to_end(&mut rest).await.unwrap();
                            live.fetch_sub(1, SeqCst);
                            rest.len()
                        }));
                    }
                    handlers
                })
            };
            let exe = std::env::current_exe().unwrap();
            let mut child = Command::new(exe)
                .args([
                    "child_process_clients",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_ADDR, addr.to_string())
                .env(CHILD_COUNT, CONNECTIONS.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            // Read the child's stdout to its end (so its harness can still
            // print), passing the ready line on as soon as it comes.
            let (ready_tx, ready) = keen::sync::oneshot::channel();
            let drain = keen::spawn_blocking(move || {
                let mut ready_tx = Some(ready_tx);
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    // The harness may print "test ... " before it on one line.
                    if let Some(at) = line.find("CHILD:ready") {
                        if let Some(tx) = ready_tx.take() {
                            let _ = tx.send(line[at..].to_owned());
                        }
                    }
                }
            });
            let handlers = acceptor.await.unwrap();
            assert_eq!(ready.await.unwrap(), format!("CHILD:ready {CONNECTIONS}"));
            assert_eq!(live.load(SeqCst), CONNECTIONS, "all open at once");
            drop(child.stdin.take()); // the child closes everything
            for handler in handlers {
                assert_eq!(handler.await.unwrap(), 0);
            }
            drain.await.unwrap();
            assert!(child.wait().unwrap().success());
            assert_eq!(peak.load(SeqCst), CONNECTIONS);
            assert_eq!(live.load(SeqCst), 0);
        });
        drop(rt);
        assert_eq!(open_fds(), before, "no fd left behind");
    });
}

/// Sockets are closed without an explicit `EPOLL_CTL_DEL` (closing the
/// last descriptor takes a file out of epoll). A user-kept duplicate keeps
/// the dropped socket's file in epoll with the old token: its events must
/// miss, never wake or feed the socket that reuses the fd number or slot.
#[test]
fn a_dropped_sockets_duplicate_fd_never_reaches_its_successor() {
    use std::os::fd::{AsFd, AsRawFd};
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            for round in 0..50u8 {
                let (old, mut old_peer) = keen::net::UnixStream::pair().unwrap();
                let old_fd = old.as_raw_fd();
                let dup = old.as_fd().try_clone_to_owned().unwrap();
                drop(old);
                let (mut new, mut new_peer) = keen::net::UnixStream::pair().unwrap();
                let reused = new.as_raw_fd() == old_fd || new_peer.as_raw_fd() == old_fd;
                // Readiness on the dropped socket's file: an event with the
                // stale token, while `new` waits.
                old_peer.write_all(b"stale").await.unwrap();
                let mut buf = [0u8; 8];
                let reader = keen::spawn(async move {
                    let n = new.read(&mut buf).await.unwrap();
                    (n, buf)
                });
                keen::task::yield_now().await;
                new_peer.write_all(&[round]).await.unwrap();
                let (n, buf) = reader.await.unwrap();
                assert_eq!(&buf[..n], &[round], "round {round} (fd reused: {reused})");
                // The duplicate still holds the bytes sent to the old file.
                let mut stale = [0u8; 5];
                std::io::Read::read_exact(&mut std::fs::File::from(dup), &mut stale).unwrap();
                assert_eq!(&stale, b"stale");
            }
        });
    });
}
