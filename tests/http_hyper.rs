//! hyper 1.x on keen (`keen::compat::hyper`), no tokio runtime anywhere,
//! on every configuration: HTTP/1 keep-alive with hyper's own client,
//! pipelining from a raw socket, HTTP/2 multiplexing (with the lazy and
//! the eager executor), the header-read timeout cutting off a slow client
//! (paused clock: hyper's timer follows keen's), and graceful shutdown with
//! a request in flight. Each network wait is bounded by a generous
//! `timeout`, so a broken case fails instead of hanging.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use futures_util::future::{Either, select};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::{Request, Response};
use keen::compat::hyper::{Executor, Timer};
use keen::io::{AsyncReadExt, AsyncWriteExt};
use keen::net::{TcpListener, TcpStream};
use keen::sync::Event;
use keen::time::{Instant, timeout};
use keen_suite::{ALL, each, run_in_task};

type Body = Full<Bytes>;

/// Bounds a wait that should take milliseconds.
const PATIENCE: Duration = Duration::from_secs(30);

async fn listen() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// Answers with the request's path.
async fn echo_path(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from(
        req.uri().path().to_owned(),
    ))))
}

/// Whether `err` only says the peer closed first.
fn peer_gone(err: &hyper::Error) -> bool {
    use std::error::Error;
    let io = err
        .source()
        .and_then(|e| e.downcast_ref::<std::io::Error>());
    io.is_some_and(|io| {
        use std::io::ErrorKind::*;
        matches!(io.kind(), NotConnected | ConnectionReset | BrokenPipe)
    })
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header("host", "keen")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

async fn text(res: Response<Incoming>) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Serves HTTP/1 on every accepted connection; counts the connections.
async fn serve_http1(listener: TcpListener, accepted: Arc<AtomicUsize>) {
    while let Ok((stream, _)) = listener.accept().await {
        accepted.fetch_add(1, SeqCst);
        keen::spawn(async move {
            let _ = http1::Builder::new()
                .timer(Timer::new())
                .serve_connection(stream, service_fn(echo_path))
                .await;
        });
    }
}

#[test]
fn http1_keep_alive_serves_every_request_on_one_connection() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (listener, addr) = listen().await;
            let accepted = Arc::new(AtomicUsize::new(0));
            let server = keen::spawn(serve_http1(listener, accepted.clone()));
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
                .handshake(stream)
                .await
                .unwrap();
            let conn = keen::spawn(conn);
            for i in 0..10 {
                let res = timeout(PATIENCE, sender.send_request(get(&format!("/{i}"))))
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(res.status(), 200);
                assert_eq!(text(res).await, format!("/{i}"));
            }
            assert_eq!(accepted.load(SeqCst), 1, "one connection for every request");
            drop(sender);
            timeout(PATIENCE, conn).await.unwrap().unwrap().unwrap();
            server.abort();
        });
    });
}

#[test]
fn http1_pipelined_requests_are_answered_in_order() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (listener, addr) = listen().await;
            let server = keen::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                http1::Builder::new()
                    .timer(Timer::new())
                    .pipeline_flush(true)
                    .serve_connection(stream, service_fn(echo_path))
                    .await
                    .unwrap();
            });
            const N: usize = 16;
            let mut requests = String::new();
            for i in 0..N {
                let close = if i == N - 1 {
                    "connection: close\r\n"
                } else {
                    ""
                };
                requests.push_str(&format!("GET /{i} HTTP/1.1\r\nhost: keen\r\n{close}\r\n"));
            }
            let mut client = TcpStream::connect(addr).await.unwrap();
            client.write_all(requests.as_bytes()).await.unwrap();
            let mut out = String::new();
            timeout(PATIENCE, client.read_to_string(&mut out))
                .await
                .unwrap()
                .unwrap();
            let responses: Vec<&str> = out.split("HTTP/1.1 200 OK").skip(1).collect();
            assert_eq!(responses.len(), N, "{out}");
            for (i, response) in responses.iter().enumerate() {
                assert!(
                    response.ends_with(&format!("\r\n\r\n/{i}")),
                    "{i}: {response}"
                );
            }
            timeout(PATIENCE, server).await.unwrap().unwrap();
        });
    });
}

/// `N` requests on one HTTP/2 connection, each held by the server until
/// all `N` have arrived: only multiplexing can finish it.
fn http2_multiplexing(executor: fn() -> Executor) {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            const N: usize = 20;
            let (listener, addr) = listen().await;
            let arrived = Arc::new(AtomicUsize::new(0));
            let all_here = Arc::new(Event::new());
            let (a, e) = (arrived.clone(), all_here.clone());
            let server = keen::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let service = service_fn(move |req: Request<Incoming>| {
                    let (arrived, all_here) = (a.clone(), e.clone());
                    async move {
                        if arrived.fetch_add(1, SeqCst) + 1 == N {
                            all_here.set();
                        }
                        all_here.wait().await;
                        echo_path(req).await
                    }
                });
                let served = http2::Builder::new(executor())
                    .timer(Timer::new())
                    .serve_connection(stream, service)
                    .await;
                // The client may be gone before the server's own shutdown
                // of the socket (as on any runtime): only that may fail.
                if let Err(err) = served {
                    assert!(peer_gone(&err), "{err:?}");
                }
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let (sender, conn) = hyper::client::conn::http2::Builder::new(executor())
                .timer(Timer::new())
                .handshake(stream)
                .await
                .unwrap();
            let conn = keen::spawn(conn);
            let requests: Vec<_> = (0..N)
                .map(|i| {
                    let mut sender = sender.clone();
                    keen::spawn(async move {
                        let res = sender.send_request(get(&format!("/{i}"))).await.unwrap();
                        assert_eq!(res.status(), 200);
                        text(res).await
                    })
                })
                .collect();
            for (i, request) in requests.into_iter().enumerate() {
                let body = timeout(PATIENCE, request).await.unwrap().unwrap();
                assert_eq!(body, format!("/{i}"));
            }
            assert_eq!(arrived.load(SeqCst), N);
            drop(sender);
            timeout(PATIENCE, conn).await.unwrap().unwrap().unwrap();
            timeout(PATIENCE, server).await.unwrap().unwrap();
        });
    });
}

#[test]
fn http2_multiplexes_concurrent_requests_with_the_lazy_executor() {
    http2_multiplexing(Executor::new);
}

#[test]
fn http2_multiplexes_concurrent_requests_with_the_eager_executor() {
    http2_multiplexing(|| Executor::new().eager());
}

/// A client that sends half its headers and stalls is cut off when the
/// header-read timeout passes on keen's (paused) clock: not before, and
/// not at hyper's 30 s default.
#[test]
fn the_header_read_timeout_cuts_off_a_slow_client() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let (listener, addr) = listen().await;
            let server = keen::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                http1::Builder::new()
                    .timer(Timer::new())
                    .header_read_timeout(Duration::from_secs(5))
                    .serve_connection(stream, service_fn(echo_path))
                    .await
            });
            let mut client = TcpStream::connect(addr).await.unwrap();
            let start = Instant::now();
            client
                .write_all(b"GET /slow HTTP/1.1\r\nhost: ke")
                .await
                .unwrap();
            let mut out = Vec::new();
            let _ = client.read_to_end(&mut out).await;
            let waited = start.elapsed();
            assert!(
                waited >= Duration::from_secs(5) && waited < Duration::from_secs(30),
                "cut off after {waited:?}"
            );
            let out = String::from_utf8_lossy(&out);
            assert!(out.is_empty() || out.starts_with("HTTP/1.1 408"), "{out}");
            let err = server.await.unwrap().unwrap_err();
            assert!(err.is_timeout(), "{err}");
        });
    });
}

/// Graceful shutdown while a request is in flight: the request is
/// answered, then the connection closes; nothing is cut.
#[test]
fn graceful_shutdown_finishes_the_request_in_flight() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let (listener, addr) = listen().await;
            let in_flight = Arc::new(Event::new());
            let release = Arc::new(Event::new());
            let (f, r) = (in_flight.clone(), release.clone());
            let server = keen::spawn(async move {
                let (stream, _) = listener.accept().await.unwrap();
                let service = service_fn(move |req: Request<Incoming>| {
                    let (in_flight, release) = (f.clone(), r.clone());
                    async move {
                        in_flight.set();
                        release.wait().await;
                        echo_path(req).await
                    }
                });
                let mut conn = pin!(
                    http1::Builder::new()
                        .timer(Timer::new())
                        .serve_connection(stream, service)
                );
                let entered = pin!(in_flight.wait());
                match select(conn.as_mut(), entered).await {
                    Either::Left((done, _)) => panic!("connection ended early: {done:?}"),
                    Either::Right(((), _)) => {}
                }
                conn.as_mut().graceful_shutdown();
                release.set();
                conn.await
            });
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
            let conn = keen::spawn(conn);
            let res = timeout(PATIENCE, sender.send_request(get("/in-flight")))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(text(res).await, "/in-flight");
            timeout(PATIENCE, server).await.unwrap().unwrap().unwrap();
            // The server closed the connection after the answer.
            timeout(PATIENCE, conn).await.unwrap().unwrap().unwrap();
        });
    });
}
