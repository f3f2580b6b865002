//! Review findings: each test demonstrates one bug found in the review of
//! the sync types, JoinSet, signal, fs and the macros (it failed before the
//! fix committed with it).

use std::future::Future;
use std::pin::pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use keen::io::{AsyncReadExt, AsyncSeekExt, SeekFrom};

/// Bound on waiting for a result that a broken build never delivers (a
/// spinning poll): generous, so only a hang fails it.
const HANG: Duration = Duration::from_secs(30);

/// Runs `f` on a fresh thread and returns its result, or `None` if it did
/// not finish within [`HANG`] (the thread is then left spinning).
fn bounded<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(HANG) {
        Ok(Ok(value)) => Some(value),
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => None,
    }
}

/// Polls `future` once with a no-op waker.
fn poll_once_noop<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// A `File` whose runtime has shut down, with that runtime's handle
/// entered on this thread (so its jobs go to a blocking pool that refuses
/// them and come back as cancelled `JoinError`s).
fn file_of_a_dead_runtime(name: &str) -> (keen::fs::File, keen::Handle, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("keen-review-{name}-{}", std::process::id()));
    std::fs::write(&path, b"hello world").unwrap();
    let rt = keen::Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let file = rt
        .block_on(
            keen::fs::File::options()
                .read(true)
                .write(true)
                .open(path.clone()),
        )
        .unwrap();
    drop(rt);
    (file, handle, path)
}

/// A read whose blocking job can never run (the pool shut down) must fail,
/// as tokio's does; it used to stash the job's error as a "write error" and
/// start another read job, forever: `poll_read` never returned.
#[test]
fn fs_read_with_a_failed_job_returns_an_error_instead_of_spinning() {
    let (mut file, handle, path) = file_of_a_dead_runtime("read");
    let outcome = bounded(move || {
        let _in_rt = handle.enter();
        let mut dst = [0u8; 4];
        let read = pin!(file.read(&mut dst));
        match poll_once_noop(read) {
            Poll::Ready(result) => result.map(drop).map_err(|e| e.to_string()),
            Poll::Pending => Ok(()),
        }
    });
    let _ = std::fs::remove_file(&path);
    let result = outcome.expect("poll_read spun forever on a job that can never run");
    assert!(result.is_err(), "the failed job is reported: {result:?}");
}

/// The same for a seek (futures-io `poll_seek`): it used to spin.
#[test]
fn fs_seek_with_a_failed_job_returns_an_error_instead_of_spinning() {
    let (mut file, handle, path) = file_of_a_dead_runtime("seek");
    let outcome = bounded(move || {
        let _in_rt = handle.enter();
        let seek = pin!(file.seek(SeekFrom::Start(3)));
        match poll_once_noop(seek) {
            Poll::Ready(result) => result.map(drop).map_err(|e| e.to_string()),
            Poll::Pending => Ok(()),
        }
    });
    let _ = std::fs::remove_file(&path);
    let result = outcome.expect("poll_seek spun forever on a job that can never run");
    assert!(result.is_err(), "the failed job is reported: {result:?}");
}

/// `set_len` whose job can never run must return the error; it used to
/// hit `unreachable!("set_len's job is in flight")`.
#[test]
fn fs_set_len_with_a_failed_job_returns_an_error_instead_of_panicking() {
    let (file, handle, path) = file_of_a_dead_runtime("set-len");
    let outcome = bounded(move || {
        let _in_rt = handle.enter();
        let set_len = pin!(file.set_len(2));
        match poll_once_noop(set_len) {
            Poll::Ready(result) => result.map_err(|e| e.to_string()),
            Poll::Pending => Ok(()),
        }
    });
    let _ = std::fs::remove_file(&path);
    let result = outcome.expect("set_len hung");
    assert!(result.is_err(), "the failed job is reported: {result:?}");
}

/// `#[keen::test]`/`#[keen::main]` on a function whose body opens with an
/// inner attribute: syn files `#![..]` with the outer attributes, and the
/// expansion wrote it before the `fn` ("an inner attribute is not
/// permitted following an outer attribute"), so this file did not compile.
/// tokio's macros accept it. (The `allow` must also take effect: the
/// unused variable below gives no warning.)
#[keen::test]
async fn macro_keeps_an_inner_attribute_of_the_body() {
    #![allow(unused_variables)]
    let unused = keen::spawn(async { 1 }).await.unwrap();
}

/// The same through tokio's seek (`start_seek` + `poll_complete`, feature
/// `tokio-io`): the failed job used to be kept as a write error for later
/// and `poll_complete` reported success at the old position.
#[test]
fn fs_tokio_seek_with_a_failed_job_returns_an_error() {
    let (mut file, handle, path) = file_of_a_dead_runtime("tokio-seek");
    let outcome = bounded(move || {
        let _in_rt = handle.enter();
        let seek = pin!(tokio::io::AsyncSeekExt::seek(&mut file, SeekFrom::Start(3)));
        match poll_once_noop(seek) {
            Poll::Ready(result) => result.map(drop).map_err(|e| e.to_string()),
            Poll::Pending => Ok(()),
        }
    });
    let _ = std::fs::remove_file(&path);
    let result = outcome.expect("the tokio seek hung");
    assert!(result.is_err(), "the failed job is reported: {result:?}");
}
