//! [`read_dir`], [`ReadDir`] and [`DirEntry`]: a directory listing read
//! in chunks on the blocking pool, tokio's names and meanings.
//! `next_entry` is cancel-safe: a chunk being read when the caller gives
//! up stays with the `ReadDir` and the next call takes from it.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs::{FileType, Metadata};
use std::future::Future;
use std::future::poll_fn;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::{asyncify, job_failed, spawn};
use crate::task::JoinHandle;

/// Entries read per blocking job.
const CHUNK: usize = 32;

/// The entries of a directory; see [`read_dir`].
///
/// ```
/// keen::block_on(async {
///     let dir = std::env::temp_dir().join(format!("keen-read-dir-doc-{}", std::process::id()));
///     keen::fs::create_dir_all(&dir).await?;
///     keen::fs::write(dir.join("a"), b"").await?;
///     let mut entries = keen::fs::read_dir(&dir).await?;
///     let mut names = Vec::new();
///     while let Some(entry) = entries.next_entry().await? {
///         names.push(entry.file_name());
///     }
///     assert_eq!(names, ["a"]);
///     keen::fs::remove_dir_all(&dir).await
/// })
/// .unwrap();
/// ```
pub struct ReadDir {
    state: State,
}

type Chunk = (VecDeque<io::Result<DirEntry>>, Option<std::fs::ReadDir>);

enum State {
    /// Entries read ahead, and the std iterator (`None` once it ended).
    Idle(VecDeque<io::Result<DirEntry>>, Option<std::fs::ReadDir>),
    /// A chunk is being read.
    Busy(JoinHandle<Chunk>),
}

/// Opens the directory at `path` for listing (`.` and `..` are skipped,
/// the order is the OS's).
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = asyncify(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir {
        state: State::Idle(VecDeque::new(), Some(std)),
    })
}

fn read_chunk(mut std: std::fs::ReadDir) -> Chunk {
    let mut entries = VecDeque::with_capacity(CHUNK);
    for _ in 0..CHUNK {
        match std.next() {
            Some(entry) => entries.push_back(entry.map(|e| DirEntry(Arc::new(e)))),
            None => return (entries, None),
        }
    }
    (entries, Some(std))
}

impl ReadDir {
    /// The next entry, `Ok(None)` at the end. Cancel-safe.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.state {
                State::Idle(entries, std) => {
                    if let Some(entry) = entries.pop_front() {
                        return Poll::Ready(entry.map(Some));
                    }
                    let Some(dir) = std.take() else {
                        return Poll::Ready(Ok(None));
                    };
                    match spawn(move || read_chunk(dir)) {
                        Ok(job) => self.state = State::Busy(job),
                        Err(err) => return Poll::Ready(Err(err)),
                    }
                }
                State::Busy(job) => {
                    let done = ready!(Pin::new(job).poll(cx));
                    self.state = match done {
                        Ok((entries, std)) => State::Idle(entries, std),
                        Err(err) => {
                            // The iterator went with the job: the listing ends.
                            self.state = State::Idle(VecDeque::new(), None);
                            return Poll::Ready(Err(job_failed(err)));
                        }
                    };
                }
            }
        }
    }
}

impl fmt::Debug for ReadDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let busy = matches!(self.state, State::Busy(_));
        f.debug_struct("ReadDir").field("busy", &busy).finish()
    }
}

/// One entry of a [`ReadDir`].
#[derive(Debug, Clone)]
pub struct DirEntry(Arc<std::fs::DirEntry>);

impl DirEntry {
    /// The entry's full path (the directory's path joined with its name).
    pub fn path(&self) -> PathBuf {
        self.0.path()
    }

    /// The entry's name, without the directory.
    pub fn file_name(&self) -> OsString {
        self.0.file_name()
    }

    /// The entry's inode number (Unix).
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.0)
    }

    /// The entry's metadata (symlinks not followed, as `std`'s).
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let entry = self.0.clone();
        asyncify(move || entry.metadata()).await
    }

    /// The entry's file type (symlinks not followed).
    pub async fn file_type(&self) -> io::Result<FileType> {
        let entry = self.0.clone();
        asyncify(move || entry.file_type()).await
    }
}
