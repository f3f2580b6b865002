//! [`File`]: an open file whose reads, writes and seeks each run as one
//! blocking-pool job, tokio's `fs::File` in names and meanings.
//!
//! The state machine: `Idle(buf)` (no job; `buf` may hold read-ahead the
//! caller has not taken) or `Busy(job)` (one job owns the buffer and hands
//! it back with its [`Operation`]'s result). A read that finds `Idle` with
//! no read-ahead starts a job that reads up to the caller's length into
//! the buffer; a write copies the caller's bytes into the buffer, starts a
//! job that writes them all and returns at once (its error comes back
//! with the next write, flush, close, `sync_all` or `sync_data`). Any
//! operation that finds `Busy` first waits for the job. Read-ahead is
//! given back to the OS (a relative seek) before a write, seek or
//! `set_len`, so the file position is always the caller's.

use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::{Future, poll_fn};
use std::io::{self, Seek, SeekFrom};
use std::mem;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::buf::{Buf, DEFAULT_MAX_BUF_SIZE};
use super::{OpenOptions, asyncify, current, job_failed};
use crate::sync::Mutex;
use crate::task::JoinHandle;

/// An open file; see the module docs of [`crate::fs`] for an example.
///
/// Dropping a `File` with a write in flight still completes that write on
/// the blocking pool, but its error is lost: call `flush` (or
/// `sync_all`) first to see it, as with tokio.
///
/// ```
/// use keen::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
///
/// keen::block_on(async {
///     let path = std::env::temp_dir().join(format!("keen-file-doc-{}", std::process::id()));
///     let mut file = keen::fs::File::options()
///         .read(true).write(true).create(true).truncate(true)
///         .open(&path).await?;
///     file.write_all(b"hello world").await?;
///     file.seek(SeekFrom::Start(6)).await?;
///     let mut word = String::new();
///     file.read_to_string(&mut word).await?;
///     assert_eq!(word, "world");
///     keen::fs::remove_file(&path).await
/// })
/// .unwrap();
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    inner: Mutex<Inner>,
    max_buf_size: usize,
}

/// What a job did, handed back with the buffer.
#[derive(Debug)]
pub(crate) enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
    /// `set_len`: touches the position (gives read-ahead back) but has
    /// no position to report.
    SetLen(io::Result<()>),
}

enum State {
    Idle(Buf),
    Busy(JoinHandle<(Operation, Buf)>),
}

pub(crate) struct Inner {
    state: State,
    /// The error of a write that completed after its `poll_write` returned.
    last_write_err: Option<io::Error>,
    /// The position the last seek reported (tokio's `poll_complete` when
    /// no seek is in flight).
    pos: u64,
    /// What the seek in flight was asked for.
    seek: Option<SeekFrom>,
}

impl File {
    /// Opens `path` read-only.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path).await
    }

    /// Opens `path` write-only, creating it or truncating it.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .await
    }

    /// Creates `path` read-write, failing with `AlreadyExists` if it exists.
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// A builder for opening a file in a chosen mode.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps an open `std` file (no runtime needed until it is used).
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner {
                state: State::Idle(Buf::default()),
                last_write_err: None,
                pos: 0,
                seek: None,
            }),
            max_buf_size: DEFAULT_MAX_BUF_SIZE,
        }
    }

    /// Waits for the job in flight and returns the `std` file. Read-ahead
    /// is dropped, so its position may be past what was read (as tokio's).
    pub async fn into_std(mut self) -> std::fs::File {
        poll_fn(|cx| self.inner.get_mut().poll_idle(cx)).await;
        let File { std, .. } = self;
        // Only a detached `sync_all`/`metadata`… job (its future was
        // dropped) can still share the file: hand out a duplicate then.
        Arc::try_unwrap(std).unwrap_or_else(|shared| {
            shared
                .try_clone()
                .expect("keen: File::into_std could not duplicate the file descriptor")
        })
    }

    /// The `std` file if no job is in flight and nothing else shares it.
    #[allow(clippy::result_large_err)] // tokio's signature: the file comes back
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        if matches!(self.inner.get_mut().state, State::Busy(_)) {
            return Err(self);
        }
        let File {
            std,
            inner,
            max_buf_size,
        } = self;
        Arc::try_unwrap(std).map_err(|std| File {
            std,
            inner,
            max_buf_size,
        })
    }

    /// Waits for the job in flight, then flushes data and metadata to the
    /// disk. Reports a failed earlier write first.
    pub async fn sync_all(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.wait_idle().await?;
        let std = self.std.clone();
        asyncify(move || std.sync_all()).await
    }

    /// Like [`sync_all`](Self::sync_all) without the metadata that reading
    /// the data back does not need.
    pub async fn sync_data(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.wait_idle().await?;
        let std = self.std.clone();
        asyncify(move || std.sync_data()).await
    }

    /// Truncates or extends the file to `size` bytes (the position does
    /// not move). Runs as a job of the state machine, so a cancelled
    /// `set_len` is waited for by the next operation.
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        poll_fn(|cx| inner.poll_idle(cx)).await;
        let handle = current()?;
        let mut buf = inner.take_idle_buf();
        let back = buf.discard_read();
        let std = self.std.clone();
        inner.state = State::Busy(handle.spawn_blocking(move || {
            let result = if back != 0 {
                (&*std).seek(SeekFrom::Current(back)).map(drop)
            } else {
                Ok(())
            };
            (
                Operation::SetLen(result.and_then(|()| std.set_len(size))),
                buf,
            )
        }));
        loop {
            match poll_fn(|cx| inner.poll_busy(cx)).await {
                Some(Ok(Operation::SetLen(result))) => return result,
                // The job never ran (the pool shut down) or panicked.
                Some(Err(err)) => return Err(err),
                Some(other) => inner.absorb(other),
                None => unreachable!("set_len's job is in flight"),
            }
        }
    }

    /// The file's metadata, once the job in flight (a write, say) is done.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let mut inner = self.inner.lock().await;
        poll_fn(|cx| inner.poll_idle(cx)).await;
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// A new `File` on a duplicate of the descriptor (sharing the OS
    /// position, not this one's buffer).
    pub async fn try_clone(&self) -> io::Result<File> {
        let std = self.std.clone();
        let clone = asyncify(move || std.try_clone()).await?;
        Ok(File::from_std(clone))
    }

    /// Changes the file's permissions.
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        asyncify(move || std.set_permissions(perm)).await
    }

    /// The most bytes one read or write job moves (2 MiB by default).
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        self.max_buf_size = max_buf_size.max(1);
    }

    /// The state machine and the file, for the trait impls.
    pub(crate) fn parts(&mut self) -> (&mut Inner, &Arc<std::fs::File>, usize) {
        (self.inner.get_mut(), &self.std, self.max_buf_size)
    }
}

impl Inner {
    fn take_idle_buf(&mut self) -> Buf {
        match &mut self.state {
            State::Idle(buf) => mem::take(buf),
            State::Busy(_) => unreachable!("taken only while idle"),
        }
    }

    fn idle_buf(&mut self) -> &mut Buf {
        match &mut self.state {
            State::Idle(buf) => buf,
            State::Busy(_) => unreachable!("the job just finished"),
        }
    }

    /// Waits for the job in flight, if any (`None`: idle), and takes back
    /// its buffer.
    fn poll_busy(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Operation>>> {
        let State::Busy(job) = &mut self.state else {
            return Poll::Ready(None);
        };
        let done = ready!(Pin::new(job).poll(cx));
        Poll::Ready(Some(match done {
            Ok((op, buf)) => {
                self.state = State::Idle(buf);
                Ok(op)
            }
            Err(err) => {
                self.state = State::Idle(Buf::default());
                Err(job_failed(err))
            }
        }))
    }

    /// The result of a job nobody is waiting for: a write's error is kept
    /// for later, a seek's position noted, the rest has nothing to say
    /// (read-ahead stays in the buffer).
    fn absorb(&mut self, op: io::Result<Operation>) {
        match op {
            Ok(Operation::Write(Err(err))) | Err(err) => self.last_write_err = Some(err),
            Ok(Operation::Seek(Ok(pos))) => {
                self.seek = None;
                self.pos = pos;
            }
            Ok(Operation::Seek(Err(_))) => self.seek = None,
            Ok(_) => {}
        }
    }

    /// Waits until no job is in flight.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while let Some(op) = ready!(self.poll_busy(cx)) {
            self.absorb(op);
        }
        Poll::Ready(())
    }

    /// Waits until idle and reports a failed earlier write.
    async fn wait_idle(&mut self) -> io::Result<()> {
        poll_fn(|cx| self.poll_idle(cx)).await;
        self.last_write_err.take().map_or(Ok(()), Err)
    }

    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        std: &Arc<std::fs::File>,
        max: usize,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match &mut self.state {
                State::Idle(buf) => {
                    if !buf.is_empty() || dst.is_empty() {
                        return Poll::Ready(Ok(buf.copy_to(dst)));
                    }
                    let handle = current()?;
                    let mut buf = mem::take(buf);
                    let (std, want) = (std.clone(), dst.len().min(max));
                    self.state = State::Busy(handle.spawn_blocking(move || {
                        let result = buf.read_from(&std, want);
                        (Operation::Read(result), buf)
                    }));
                }
                State::Busy(_) => match ready!(self.poll_busy(cx)).expect("busy") {
                    Ok(Operation::Read(result)) => {
                        let buf = self.idle_buf();
                        return Poll::Ready(match result {
                            Ok(_) => Ok(buf.copy_to(dst)),
                            Err(err) => {
                                buf.clear();
                                Err(err)
                            }
                        });
                    }
                    // A job that never ran (the pool shut down): starting
                    // another would fail the same way, forever.
                    Err(err) => return Poll::Ready(Err(err)),
                    other => self.absorb(other),
                },
            }
        }
    }

    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        std: &Arc<std::fs::File>,
        max: usize,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match &mut self.state {
                State::Idle(buf) => {
                    if let Some(err) = self.last_write_err.take() {
                        return Poll::Ready(Err(err));
                    }
                    if src.is_empty() {
                        return Poll::Ready(Ok(0));
                    }
                    // Before touching the buffer: a refusal loses nothing.
                    let handle = current()?;
                    let mut buf = mem::take(buf);
                    let back = buf.discard_read();
                    let n = buf.copy_from(src, max);
                    let std = std.clone();
                    self.state = State::Busy(handle.spawn_blocking(move || {
                        let result = if back != 0 {
                            (&*std).seek(SeekFrom::Current(back)).map(drop)
                        } else {
                            Ok(())
                        };
                        let result = result.and_then(|()| buf.write_to(&std));
                        buf.clear();
                        (Operation::Write(result), buf)
                    }));
                    return Poll::Ready(Ok(n));
                }
                State::Busy(_) => match ready!(self.poll_busy(cx)).expect("busy") {
                    Ok(Operation::Write(Err(err))) => return Poll::Ready(Err(err)),
                    other => self.absorb(other),
                },
            }
        }
    }

    /// Waits for the job in flight and reports a failed write.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_idle(cx));
        Poll::Ready(self.last_write_err.take().map_or(Ok(()), Err))
    }

    /// Starts a seek job (tokio's `start_seek`); an error if a job is in
    /// flight.
    pub(crate) fn start_seek(&mut self, std: &Arc<std::fs::File>, pos: SeekFrom) -> io::Result<()> {
        let State::Idle(buf) = &mut self.state else {
            return Err(io::Error::other(
                "other file operation is pending, call poll_complete before start_seek",
            ));
        };
        let handle = current()?;
        let mut buf = mem::take(buf);
        let back = buf.discard_read();
        let target = match pos {
            SeekFrom::Current(offset) => SeekFrom::Current(offset.saturating_add(back)),
            absolute => absolute,
        };
        let std = std.clone();
        self.seek = Some(pos);
        self.state = State::Busy(
            handle.spawn_blocking(move || (Operation::Seek((&*std).seek(target)), buf)),
        );
        Ok(())
    }

    /// Waits for the seek in flight (tokio's `poll_complete`); with none,
    /// the position the last seek reported.
    #[cfg(feature = "tokio-io")]
    pub(crate) fn poll_complete(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        loop {
            match ready!(self.poll_busy(cx)) {
                None => return Poll::Ready(Ok(self.pos)),
                Some(Ok(Operation::Seek(result))) => {
                    self.seek = None;
                    if let Ok(pos) = result {
                        self.pos = pos;
                    }
                    return Poll::Ready(result);
                }
                // The job never ran (pool shut down) or panicked: report it,
                // as tokio does, rather than as a write error for later.
                Some(Err(err)) => {
                    self.seek = None;
                    return Poll::Ready(Err(err));
                }
                Some(other) => self.absorb(other),
            }
        }
    }

    /// futures-io's one-call seek: starts the seek, or waits for the one
    /// this same request started. A seek whose caller gave up (and was
    /// asked for something else) is waited for and then superseded.
    pub(crate) fn poll_seek(
        &mut self,
        cx: &mut Context<'_>,
        std: &Arc<std::fs::File>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        loop {
            if matches!(self.state, State::Idle(_)) {
                self.start_seek(std, pos)?;
            }
            match ready!(self.poll_busy(cx)).expect("busy") {
                Ok(Operation::Seek(result)) => {
                    let asked = self.seek.take();
                    if let Ok(at) = result {
                        self.pos = at;
                    }
                    if asked == Some(pos) {
                        return Poll::Ready(result);
                    }
                }
                // As in `poll_read`: retrying a job that cannot run spins.
                Err(err) => {
                    self.seek = None;
                    return Poll::Ready(Err(err));
                }
                other => self.absorb(other),
            }
        }
    }
}

impl futures_io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let (inner, std, max) = self.get_mut().parts();
        inner.poll_read(cx, std, max, dst)
    }
}

impl futures_io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let (inner, std, max) = self.get_mut().parts();
        inner.poll_write(cx, std, max, src)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.get_mut().poll_flush(cx)
    }

    /// A file has nothing to shut down: waits for the write in flight and
    /// reports its error, like `poll_flush`.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.get_mut().poll_flush(cx)
    }
}

impl futures_io::AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        pos: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let (inner, std, _) = self.get_mut().parts();
        inner.poll_seek(cx, std, pos)
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for File {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.std.as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for File {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.std.as_fd()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("std", &self.std).finish()
    }
}
