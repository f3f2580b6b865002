//! `keen::fs`: the filesystem with tokio's names and meanings. Every
//! operation runs `std::fs` on the runtime's blocking pool
//! ([`crate::spawn_blocking`]); the OS's `io::Error`s come back unchanged
//! (same kind, same `raw_os_error`).
//!
//! Files: `ops.rs` (the free functions), `read_dir.rs` ([`ReadDir`],
//! [`DirEntry`]), `open_options.rs` ([`OpenOptions`]), `file.rs`
//! ([`File`] and its Idle/Busy state machine), `buf.rs` (the buffer a
//! `File` hands to the pool), `file_tokio.rs` (tokio's I/O traits, feature
//! `tokio-io`). `docs/io.md`, section "Files", has the design.
//!
//! ```
//! use keen::io::{AsyncReadExt, AsyncWriteExt};
//!
//! keen::block_on(async {
//!     let dir = std::env::temp_dir().join(format!("keen-fs-doc-{}", std::process::id()));
//!     keen::fs::create_dir_all(&dir).await?;
//!     let path = dir.join("hello.txt");
//!     let mut file = keen::fs::File::create(&path).await?;
//!     file.write_all(b"hello").await?;
//!     file.flush().await?; // reports an error of the write in flight
//!     assert_eq!(keen::fs::read_to_string(&path).await?, "hello");
//!     let mut text = String::new();
//!     keen::fs::File::open(&path).await?.read_to_string(&mut text).await?;
//!     assert_eq!(text, "hello");
//!     keen::fs::remove_dir_all(&dir).await?;
//!     Ok::<_, std::io::Error>(())
//! })
//! .unwrap();
//! ```

mod buf;
mod file;
#[cfg(feature = "tokio-io")]
mod file_tokio;
mod open_options;
mod ops;
mod read_dir;

use std::io;

use crate::Handle;
use crate::task::JoinHandle;

pub use file::File;
pub use open_options::OpenOptions;
#[cfg(unix)]
pub use ops::symlink;
pub use ops::{
    canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read, read_link,
    read_to_string, remove_dir, remove_dir_all, remove_file, rename, set_permissions,
    symlink_metadata, try_exists, write,
};
pub use read_dir::{DirEntry, ReadDir, read_dir};

/// Starts `f` on the current runtime's blocking pool; the error keen's
/// sockets give outside a runtime (tokio panics there).
fn spawn<F, R>(f: F) -> io::Result<JoinHandle<R>>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Ok(current()?.spawn_blocking(f))
}

/// The current runtime, or the error keen's sockets give outside one.
fn current() -> io::Result<Handle> {
    Handle::try_current().map_err(|_| crate::io::error::no_runtime())
}

/// What a blocking job that never ran (the pool shut down) or panicked
/// turns into.
fn job_failed(err: crate::task::JoinError) -> io::Error {
    if err.is_panic() {
        io::Error::other("keen: a blocking file operation panicked")
    } else {
        io::Error::other("keen: the blocking pool shut down before the file operation ran")
    }
}

/// Runs `f` on the blocking pool and waits for its result.
async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    spawn(f)?.await.map_err(job_failed)?
}
