//! A TCP echo server on keen: one task per connection, spawned eagerly
//! right after `accept` (so a client that sent its first line along with
//! the connection is answered without a queue hop).
//!
//! ```text
//! cargo run --example echo            # listens on 127.0.0.1:7878
//! cargo run --example echo -- 127.0.0.1:0
//! nc 127.0.0.1 7878                   # type lines; they come back
//! ```
//!
//! Out of file descriptors (`EMFILE`), the accept loop backs off for a
//! moment instead of spinning; other accept errors are printed and the
//! loop goes on.

use std::io;
use std::time::Duration;

use keen::io::{AsyncReadExt, AsyncWriteExt};
use keen::net::{TcpListener, TcpStream};

async fn serve(mut stream: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0; 16 * 1024];
    let mut total = 0;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(total); // the client closed its side
        }
        stream.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7878".to_owned());
    let rt = keen::Runtime::new()?;
    rt.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        println!("echo: listening on {}", listener.local_addr()?);
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    drop(keen::spawn(async move {
                        match serve(stream).await {
                            Ok(bytes) => println!("echo: {peer} done, {bytes} bytes"),
                            Err(err) => println!("echo: {peer} failed: {err}"),
                        }
                    }));
                }
                Err(err) if err.raw_os_error() == Some(libc::EMFILE) => {
                    eprintln!("echo: out of file descriptors; backing off");
                    keen::time::sleep(Duration::from_millis(100)).await;
                }
                Err(err) => eprintln!("echo: accept failed: {err}"),
            }
        }
    })
}
