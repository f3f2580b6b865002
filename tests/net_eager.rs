//! What eager spawn means for I/O: a handler spawned right after `accept`
//! reads data that is already there in its first poll, inside `spawn`,
//! with no queue hop; the waker it leaves behind is its own and keeps
//! working after the task is promoted (and, on multi-thread, stolen).

use std::io::Write;

use keen::io::AsyncReadExt;
use keen::net::TcpListener;
use keen_suite::{ALL, FirstSteps, each, run_in_task};

#[test]
fn a_handler_spawned_after_accept_reads_in_its_first_poll() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let mut handlers = Vec::new();
            let mut clients = Vec::new();
            for i in 0..16 {
                // The client writes before the server accepts.
                let mut client = std::net::TcpStream::connect(addr).unwrap();
                client.write_all(b"first").unwrap();
                let (stream, _) = listener.accept().await.unwrap();
                // Make sure the bytes arrived (peek takes nothing and
                // leaves the readiness set), so the test is about spawn.
                let mut probe = [0; 5];
                while stream.peek(&mut probe).await.unwrap() < 5 {
                    keen::task::yield_now().await;
                }
                let steps = FirstSteps::new();
                let record = steps.clone();
                let handler = keen::spawn(async move {
                    let mut stream = stream;
                    let mut first = [0; 5];
                    stream.read_exact(&mut first).await.unwrap();
                    record.record(i);
                    // Now wait: the task is promoted, its waker stays
                    // with the reactor, and the next bytes wake it.
                    let mut rest = [0; 4];
                    stream.read_exact(&mut rest).await.unwrap();
                    (first, rest)
                });
                assert_eq!(
                    steps.ran_here(i),
                    cfg.eager,
                    "the first read ran inside spawn exactly when spawn is eager"
                );
                handlers.push(handler);
                clients.push(client);
            }
            for client in &mut clients {
                client.write_all(b"more").unwrap();
            }
            for handler in handlers {
                assert_eq!(handler.await.unwrap(), (*b"first", *b"more"));
            }
        });
    });
}
