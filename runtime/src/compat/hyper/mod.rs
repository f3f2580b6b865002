//! hyper 1.x on keen, with no tokio runtime anywhere: an [`Executor`] for
//! the tasks hyper spawns (HTTP/2 streams, client connections), a
//! [`Timer`] on keen's time (so header-read timeouts and keep-alive
//! settings work, and follow a paused clock), and hyper's
//! [`Read`](::hyper::rt::Read)/[`Write`](::hyper::rt::Write) for every keen
//! stream and stream half, plus [`FuturesIo`] for any other futures-io
//! stream (a TLS stream, say).
//!
//! ```
//! use std::convert::Infallible;
//! use http_body_util::Full;
//! use hyper::{Request, Response, body::{Bytes, Incoming}};
//! use keen::compat::hyper::Timer;
//!
//! async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     Ok(Response::new(Full::new(Bytes::from("hello"))))
//! }
//!
//! let rt = keen::Runtime::new().unwrap();
//! rt.block_on(async {
//!     let listener = keen::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     keen::spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         hyper::server::conn::http1::Builder::new()
//!             .timer(Timer::new())
//!             .serve_connection(stream, hyper::service::service_fn(hello))
//!             .await
//!             .unwrap();
//!     });
//!     let stream = keen::net::TcpStream::connect(addr).await.unwrap();
//!     let (mut sender, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
//!     keen::spawn(conn);
//!     let req = Request::get("/").header("host", "keen").body(Full::new(Bytes::new())).unwrap();
//!     let res = sender.send_request(req).await.unwrap();
//!     assert_eq!(res.status(), 200);
//! });
//! ```

mod executor;
mod io;
mod timer;

pub use executor::Executor;
pub use io::FuturesIo;
pub use timer::{Sleep, Timer};
