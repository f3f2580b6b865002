//! A hello-world HTTP/1.1 server on hyper, the same handler on three
//! runtimes, for a load generator such as `wrk`:
//!
//! - `keen`: one keen multi-thread runtime, `keen::compat::hyper`;
//! - `tokio`: one tokio multi-thread runtime, hyper-util's tokio glue;
//! - `tokio-per-core`: one current-thread tokio runtime per worker, each
//!   accepting on its own `SO_REUSEPORT` listener on the same port (what
//!   hyper's own benchmark entry does).
//!
//! `cargo run --release --example http_server -- --runtime keen --workers 2
//! --port 8080`, then `wrk -t2 -c64 -d10s http://127.0.0.1:8080/`. With
//! `--port 0` (the default) the kernel picks a free port. The first line
//! on stdout is `listening on ADDR`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::mpsc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};

/// The handler every runtime serves.
async fn hello(_req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

struct Args {
    runtime: String,
    workers: usize,
    port: u16,
}

fn args() -> Args {
    let mut args = Args {
        runtime: "keen".into(),
        workers: 2,
        port: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--runtime" => args.runtime = value,
            "--workers" => args.workers = value.parse().unwrap_or_else(|_| usage("--workers N")),
            "--port" => args.port = value.parse().unwrap_or_else(|_| usage("--port P")),
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    args
}

fn usage(why: &str) -> ! {
    eprintln!(
        "{why}\nusage: http_server [--runtime keen|tokio|tokio-per-core] [--workers N] [--port P]"
    );
    std::process::exit(2)
}

fn announce(addr: SocketAddr) {
    println!("listening on {addr}");
}

fn run_keen(workers: usize, port: u16) {
    let rt = keen::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("keen runtime");
    rt.block_on(rt.spawn(async move {
        let listener = keen::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        announce(listener.local_addr().unwrap());
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue; // e.g. EMFILE: the next accept may succeed
            };
            let _ = stream.set_nodelay(true);
            keen::spawn(async move {
                let _ = http1::Builder::new()
                    .timer(keen::compat::hyper::Timer::new())
                    .serve_connection(stream, service_fn(hello))
                    .await;
            });
        }
    }))
    .expect("accept loop");
}

async fn tokio_accept_loop(listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service_fn(hello))
                .await;
        });
    }
}

fn run_tokio(workers: usize, port: u16) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind");
        announce(listener.local_addr().unwrap());
        tokio_accept_loop(listener).await;
    });
}

fn reuseport_listener(addr: SocketAddr) -> tokio::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.set_reuseport(true).expect("SO_REUSEPORT");
    socket.bind(addr).expect("bind");
    socket.listen(1024).expect("listen")
}

/// One server thread: a current-thread tokio runtime on its own listener;
/// sends the bound address once it accepts.
fn spawn_core(addr: SocketAddr, bound: mpsc::Sender<SocketAddr>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(async move {
            let listener = reuseport_listener(addr);
            bound.send(listener.local_addr().unwrap()).unwrap();
            tokio_accept_loop(listener).await;
        });
    })
}

fn run_tokio_per_core(workers: usize, port: u16) {
    // The first listener fixes the port (the kernel's pick for port 0);
    // the others join it with SO_REUSEPORT. Announced once all listen.
    let (bound, listening) = mpsc::channel();
    let mut threads = vec![spawn_core(
        SocketAddr::from(([127, 0, 0, 1], port)),
        bound.clone(),
    )];
    let addr = listening.recv().expect("first listener");
    threads.extend((1..workers).map(|_| spawn_core(addr, bound.clone())));
    for _ in 1..workers {
        listening.recv().expect("listener");
    }
    announce(addr);
    for thread in threads {
        thread.join().expect("server thread");
    }
}

fn main() {
    let args = args();
    match args.runtime.as_str() {
        "keen" => run_keen(args.workers, args.port),
        "tokio" => run_tokio(args.workers, args.port),
        "tokio-per-core" => run_tokio_per_core(args.workers, args.port),
        other => usage(&format!("unknown runtime {other}")),
    }
}
