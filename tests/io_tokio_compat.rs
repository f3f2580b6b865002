//! The `tokio-io` feature: keen's streams implement tokio's `AsyncRead` /
//! `AsyncWrite`, so tokio-util's `Framed` with `LinesCodec` runs on a keen
//! `TcpStream` (and on owned halves), with no tokio runtime anywhere.

use futures_util::{SinkExt, StreamExt};
use keen::net::{TcpListener, TcpStream, UnixStream};
use keen_suite::{ALL, each, run_in_task};
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LinesCodec};

#[test]
fn framed_lines_over_a_keen_tcp_stream() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = keen::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let mut lines = Framed::new(stream, LinesCodec::new());
                while let Some(line) = lines.next().await {
                    let line = line.unwrap();
                    lines.send(line.to_uppercase()).await.unwrap();
                }
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let (read, write) = stream.into_split();
            let mut out = FramedWrite::new(write, LinesCodec::new());
            let mut back = FramedRead::new(read, LinesCodec::new());
            for word in ["keen", "over", "tokio-util"] {
                out.send(word).await.unwrap();
                assert_eq!(back.next().await.unwrap().unwrap(), word.to_uppercase());
            }
            drop(out); // shuts the write side: the server's stream ends
            assert!(back.next().await.is_none());
            server.await.unwrap();
        });
    });
}

#[test]
fn tokio_traits_on_unix_streams() {
    let rt = ALL[0].build();
    rt.block_on(async {
        let (a, b) = UnixStream::pair().unwrap();
        let mut a = Framed::new(a, LinesCodec::new());
        let mut b = Framed::new(b, LinesCodec::new());
        a.send("over a unix pair").await.unwrap();
        assert_eq!(b.next().await.unwrap().unwrap(), "over a unix pair");
    });
}
