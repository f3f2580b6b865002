//! The buffer a [`File`](super::File) hands to the blocking pool with each
//! job: read-ahead that the caller has not taken yet (`data[pos..]`), or
//! the bytes of one write in flight. It travels with the job and comes
//! back with the result, so no byte is shared between threads.

use std::io::{self, Read, Write};

/// tokio's default for the most bytes one job reads or writes.
pub(crate) const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

#[derive(Debug, Default)]
pub(crate) struct Buf {
    data: Vec<u8>,
    /// Bytes of `data` already handed to the caller.
    pos: usize,
}

impl Buf {
    /// No byte waiting.
    pub(crate) fn is_empty(&self) -> bool {
        self.pos == self.data.len()
    }

    /// Bytes read ahead and not yet taken.
    pub(crate) fn len(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Hands waiting bytes to `dst`; returns how many.
    pub(crate) fn copy_to(&mut self, dst: &mut [u8]) -> usize {
        let n = self.len().min(dst.len());
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }

    /// Takes up to `max` bytes of `src` for a write; returns how many.
    pub(crate) fn copy_from(&mut self, src: &[u8], max: usize) -> usize {
        debug_assert!(self.is_empty());
        let n = src.len().min(max);
        self.clear();
        self.data.extend_from_slice(&src[..n]);
        n
    }

    /// Forgets the read-ahead; returns the (negative) offset that moves
    /// the OS position back to where the caller is.
    pub(crate) fn discard_read(&mut self) -> i64 {
        let back = -(self.len() as i64);
        self.clear();
        back
    }

    pub(crate) fn clear(&mut self) {
        self.data.clear();
        self.pos = 0;
    }

    /// Reads at most `max` bytes from `file` (on the blocking pool).
    pub(crate) fn read_from(&mut self, mut file: &std::fs::File, max: usize) -> io::Result<usize> {
        self.clear();
        self.data.resize(max, 0);
        let result = loop {
            match file.read(&mut self.data) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                result => break result,
            }
        };
        self.data.truncate(*result.as_ref().unwrap_or(&0));
        result
    }

    /// Writes every byte to `file` (on the blocking pool); the buffer is
    /// empty afterwards, whatever the outcome.
    pub(crate) fn write_to(&mut self, mut file: &std::fs::File) -> io::Result<()> {
        let result = file.write_all(&self.data[self.pos..]);
        self.clear();
        result
    }
}
