//! A line-based TCP chat server, written as a tokio user would write it,
//! with keen's names: `TcpListener`, a `broadcast` channel that carries
//! every line to every client, a `JoinSet` of client tasks, and `ctrl_c`
//! for a graceful shutdown that tells every client goodbye.
//!
//! ```text
//! cargo run --example chat                 # listens on 127.0.0.1:7879
//! cargo run --example chat -- 127.0.0.1:0  # any free port
//! nc 127.0.0.1 7879                        # in several terminals; type lines
//! ```
//!
//! Where a tokio program would `select!` between the accept loop and the
//! shutdown signal, this one runs the loop inside a `CancelScope` and
//! cancels the scope when the signal comes; a client's writer loop is
//! stopped the same way when its reader sees the client leave.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use keen::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use keen::net::tcp::OwnedReadHalf;
use keen::net::{TcpListener, TcpStream};
use keen::scope::CancelScope;
use keen::sync::broadcast::{self, error::RecvError};
use keen::task::JoinSet;

/// What the broadcast channel carries to every client's writer.
#[derive(Clone, Debug)]
enum Event {
    /// A line typed by the client at `from`.
    Line { from: SocketAddr, text: String },
    /// The server is going down: say goodbye and close.
    Shutdown,
}

/// How many lines a slow client may fall behind before it is told it
/// missed some.
const BACKLOG: usize = 1024;

/// Serves chat clients on `listener` until `shutdown` completes, then tells
/// every client goodbye and waits for their tasks to finish.
async fn run<S>(listener: TcpListener, shutdown: S) -> io::Result<()>
where
    S: Future<Output = ()> + Send + 'static,
{
    let (events, _) = broadcast::channel::<Event>(BACKLOG);
    let accepting = CancelScope::new();
    let stop = accepting.clone();
    // Eager: the shutdown future is polled (and so registered) before
    // `spawn` returns, so a signal sent after this line is not missed.
    let _watch = keen::spawn(async move {
        shutdown.await;
        stop.cancel();
    });
    let mut clients = JoinSet::new();
    let accept_loop = accepting.run(async {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    // Subscribed before the task starts, so no line sent
                    // after the client connected is missed.
                    let feed = events.subscribe();
                    clients.spawn(client(stream, peer, events.clone(), feed));
                }
                Err(err) => eprintln!("chat: accept failed: {err}"),
            }
            // Reap the clients that left, so the set does not grow.
            while let Some(done) = clients.try_join_next() {
                report(done);
            }
        }
    });
    let _: Result<(), _> = accept_loop.await;
    // Nobody may be subscribed (no client): that is not an error.
    let _ = events.send(Event::Shutdown);
    while let Some(done) = clients.join_next().await {
        report(done);
    }
    Ok(())
}

fn report(done: Result<io::Result<()>, keen::task::JoinError>) {
    match done {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!("chat: a client failed: {err}"),
        Err(err) => eprintln!("chat: a client task failed: {err}"),
    }
}

/// One client: a reader task that broadcasts the client's lines, and this
/// task, which writes everyone else's lines to the client.
async fn client(
    stream: TcpStream,
    peer: SocketAddr,
    events: broadcast::Sender<Event>,
    mut feed: broadcast::Receiver<Event>,
) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    write.write_all(b"welcome\n").await?;
    let writing = CancelScope::new();
    let reader = keen::spawn(read_lines(read, peer, events, writing.clone()));
    let said_goodbye = writing
        .run(async {
            loop {
                match feed.recv().await {
                    Ok(Event::Line { from, text }) if from != peer => {
                        write
                            .write_all(format!("{from}: {text}\n").as_bytes())
                            .await?;
                    }
                    Ok(Event::Line { .. }) => {} // the client's own line
                    Ok(Event::Shutdown) | Err(RecvError::Closed) => {
                        write.write_all(b"goodbye\n").await?;
                        return Ok::<_, io::Error>(());
                    }
                    Err(RecvError::Lagged(missed)) => {
                        let note = format!("*** you missed {missed} lines\n");
                        write.write_all(note.as_bytes()).await?;
                    }
                }
            }
        })
        .await;
    reader.abort();
    match said_goodbye {
        Ok(result) => result,
        Err(_) => Ok(()), // the reader cancelled us: the client left
    }
}

/// Broadcasts every line the client sends; when the client leaves (end of
/// stream or an error), cancels its writer.
async fn read_lines(
    read: OwnedReadHalf,
    peer: SocketAddr,
    events: broadcast::Sender<Event>,
    writing: CancelScope,
) {
    let mut read = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        match read.read_line(&mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = line.trim_end_matches(['\r', '\n']).to_owned();
                let _ = events.send(Event::Line { from: peer, text });
            }
        }
    }
    writing.cancel();
}

#[keen::main]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7879".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    println!(
        "chat: listening on {} (Ctrl-C to stop)",
        listener.local_addr()?
    );
    run(listener, async {
        if let Err(err) = keen::signal::ctrl_c().await {
            eprintln!("chat: cannot listen for Ctrl-C: {err}");
            std::future::pending::<()>().await;
        }
    })
    .await?;
    println!("chat: every client was told goodbye");
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Several real clients on loopback: every line reaches every other
    //! client (and not its sender), a client that leaves does not disturb
    //! the others, and shutdown — by a trigger, and by a real SIGINT through
    //! `ctrl_c` — tells every client goodbye and closes it.

    use super::*;
    use keen::io::AsyncReadExt;
    use keen::net::tcp::OwnedWriteHalf;
    use keen::sync::oneshot;
    use keen_suite::{ALL, each};

    struct Client {
        lines: BufReader<OwnedReadHalf>,
        write: OwnedWriteHalf,
        addr: SocketAddr,
    }

    impl Client {
        async fn connect(server: SocketAddr) -> Client {
            let stream = TcpStream::connect(server).await.unwrap();
            let addr = stream.local_addr().unwrap();
            let (read, write) = stream.into_split();
            let mut client = Client {
                lines: BufReader::new(read),
                write,
                addr,
            };
            // The welcome line comes after the server subscribed us.
            assert_eq!(client.line().await, "welcome");
            client
        }

        async fn say(&mut self, text: &str) {
            self.write
                .write_all(format!("{text}\n").as_bytes())
                .await
                .unwrap();
        }

        async fn line(&mut self) -> String {
            let mut line = String::new();
            self.lines.read_line(&mut line).await.unwrap();
            line.trim_end().to_owned()
        }

        async fn goodbye_then_closed(&mut self) {
            assert_eq!(self.line().await, "goodbye");
            let mut rest = Vec::new();
            self.lines.read_to_end(&mut rest).await.unwrap();
            assert!(rest.is_empty(), "closed after goodbye");
        }
    }

    /// Every client says one line; each must receive exactly the others'.
    async fn round(clients: &mut [Client], tag: &str) {
        for (i, c) in clients.iter_mut().enumerate() {
            c.say(&format!("{tag} from {i}")).await;
        }
        let addrs: Vec<_> = clients.iter().map(|c| c.addr).collect();
        for (i, c) in clients.iter_mut().enumerate() {
            let mut got = Vec::new();
            for _ in 1..addrs.len() {
                got.push(c.line().await);
            }
            got.sort();
            let mut want: Vec<_> = (0..addrs.len())
                .filter(|&j| j != i)
                .map(|j| format!("{}: {tag} from {j}", addrs[j]))
                .collect();
            want.sort();
            assert_eq!(got, want, "client {i}");
        }
    }

    #[test]
    fn every_line_reaches_every_other_client_and_shutdown_says_goodbye() {
        each(&ALL, |cfg| {
            let rt = cfg.build();
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let server_addr = listener.local_addr().unwrap();
                let (stop, stopped) = oneshot::channel::<()>();
                let server = keen::spawn(run(listener, async {
                    let _ = stopped.await;
                }));
                let mut clients = Vec::new();
                for _ in 0..4 {
                    clients.push(Client::connect(server_addr).await);
                }
                round(&mut clients, "hello").await;
                // One leaves; the rest go on.
                drop(clients.pop());
                round(&mut clients, "again").await;
                stop.send(()).unwrap();
                for c in &mut clients {
                    c.goodbye_then_closed().await;
                }
                server.await.unwrap().unwrap();
            });
        });
    }

    #[test]
    fn ctrl_c_shuts_the_server_down_gracefully() {
        let rt = keen::Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let server_addr = listener.local_addr().unwrap();
            let server = keen::spawn(run(listener, async {
                keen::signal::ctrl_c().await.unwrap();
            }));
            let mut pair = [
                Client::connect(server_addr).await,
                Client::connect(server_addr).await,
            ];
            round(&mut pair, "before").await;
            // The ctrl_c listener was registered before `run` accepted
            // anyone (it is spawned eagerly first), so this SIGINT goes to
            // keen's handler, not to the default one that would kill us.
            // SAFETY: `raise` has no memory-safety preconditions.
            assert_eq!(unsafe { libc::raise(libc::SIGINT) }, 0);
            for c in &mut pair {
                c.goodbye_then_closed().await;
            }
            server.await.unwrap().unwrap();
        });
    }
}
