//! Recycled task cells: each thread keeps the last few task allocations it
//! freed and hands one back to the next spawn of the same layout, so a loop
//! that spawns tasks which finish (the eager fast path frees a task inside
//! `spawn`) reuses one block instead of a `malloc` and a `free` per task.
//!
//! - At most [`SLOTS`] blocks per thread, each at most [`MAX_SIZE`] bytes:
//!   the memory a thread keeps is bounded (a few KiB), and a large future's
//!   block goes straight back to the allocator.
//! - A block freed on one thread may be reused on another thread's next
//!   spawn only through the global allocator; the cache itself is never
//!   shared, so it needs no synchronisation.
//! - A slot is taken by exact [`Layout`] (size and alignment), newest first:
//!   nested spawns free their cells innermost first, so the next round's
//!   allocations, outermost first, find theirs on top.
//! - The thread's blocks are freed when it exits. A cell freed after that
//!   (a task dropped by another thread-local's destructor) or on a thread
//!   whose cache is full goes to the allocator directly.
//! - Under `cfg(loom)` the cache is off: loom runs its model threads on one
//!   OS thread, and the models check the state machine, not the allocator.

// The cache itself is compiled but unused under loom (see above).
#![cfg_attr(loom, allow(dead_code, unused_imports))]

use std::alloc::{self, Layout};
use std::cell::RefCell;
use std::ptr::NonNull;

/// Blocks kept per thread.
const SLOTS: usize = 4;

/// The largest block kept (bytes); larger cells are freed at once.
const MAX_SIZE: usize = 2048;

/// One thread's freed blocks, newest last.
struct Cache {
    len: usize,
    blocks: [(Layout, *mut u8); SLOTS],
}

impl Drop for Cache {
    fn drop(&mut self) {
        for &(layout, ptr) in &self.blocks[..self.len] {
            // SAFETY: every block below `len` came from `alloc::alloc` with
            // this layout (see `alloc`) and was given up by its task.
            unsafe { alloc::dealloc(ptr, layout) };
        }
    }
}

#[cfg(not(loom))]
thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache {
            len: 0,
            blocks: [(Layout::new::<u8>(), std::ptr::null_mut()); SLOTS],
        })
    };
}

/// A block for `layout` (not zero-sized): a recycled one if this thread
/// kept one of that layout, else a fresh one from the global allocator.
#[inline]
pub(crate) fn alloc(layout: Layout) -> NonNull<u8> {
    #[cfg(not(loom))]
    if layout.size() <= MAX_SIZE {
        let reused = CACHE
            .try_with(|cache| {
                let mut cache = cache.borrow_mut();
                let len = cache.len;
                let found = (0..len).rev().find(|&i| cache.blocks[i].0 == layout)?;
                let ptr = cache.blocks[found].1;
                cache.blocks[found] = cache.blocks[len - 1];
                cache.len = len - 1;
                Some(ptr)
            })
            .ok()
            .flatten();
        if let Some(ptr) = reused {
            // SAFETY: only non-null blocks from `alloc::alloc` are kept.
            return unsafe { NonNull::new_unchecked(ptr) };
        }
    }
    // SAFETY: `layout` has a non-zero size (the caller's contract: a task
    // cell always holds its header).
    let ptr = unsafe { alloc::alloc(layout) };
    NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout))
}

/// Gives back a block from [`alloc`] with the same `layout`, whose contents
/// were dropped already: kept for this thread's next spawn of that layout,
/// or freed.
///
/// # Safety
/// `ptr` came from [`alloc`] with `layout`, and nothing refers to it.
#[inline]
pub(crate) unsafe fn free(ptr: NonNull<u8>, layout: Layout) {
    #[cfg(not(loom))]
    if layout.size() <= MAX_SIZE {
        let kept = CACHE
            .try_with(|cache| {
                let mut cache = cache.borrow_mut();
                let len = cache.len;
                if len == SLOTS {
                    return false;
                }
                cache.blocks[len] = (layout, ptr.as_ptr());
                cache.len = len + 1;
                true
            })
            .unwrap_or(false);
        if kept {
            return;
        }
    }
    // SAFETY: the caller's contract: the block came from the global
    // allocator (through `alloc`) with `layout` and is no longer used.
    unsafe { alloc::dealloc(ptr.as_ptr(), layout) };
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn cached() -> usize {
        CACHE.with(|c| c.borrow().len)
    }

    #[test]
    fn a_freed_block_is_reused_by_the_next_alloc_of_its_layout_only() {
        let small = Layout::from_size_align(96, 8).unwrap();
        let other = Layout::from_size_align(128, 8).unwrap();
        let a = alloc(small);
        // SAFETY: `a` came from `alloc(small)` and is not used after this.
        unsafe { free(a, small) };
        let b = alloc(other);
        assert_ne!(a, b, "a different layout never gets the block");
        let c = alloc(small);
        assert_eq!(a, c, "the same layout gets it back");
        // SAFETY: as above, each with its own layout.
        unsafe {
            free(b, other);
            free(c, small);
        }
    }

    #[test]
    fn the_cache_is_bounded_in_count_and_block_size() {
        let layout = Layout::from_size_align(64, 8).unwrap();
        let blocks: Vec<_> = (0..SLOTS + 3).map(|_| alloc(layout)).collect();
        let before = cached();
        for &b in &blocks {
            // SAFETY: each came from `alloc(layout)`, freed once.
            unsafe { free(b, layout) };
        }
        assert_eq!(cached(), SLOTS, "at most SLOTS kept (had {before})");
        let big = Layout::from_size_align(MAX_SIZE + 1, 8).unwrap();
        let taken: Vec<_> = (0..SLOTS).map(|_| alloc(layout)).collect();
        assert_eq!(cached(), 0);
        let p = alloc(big);
        // SAFETY: from `alloc(big)`, freed once.
        unsafe { free(p, big) };
        assert_eq!(cached(), 0, "a large block is never kept");
        for b in taken {
            // SAFETY: each came from `alloc(layout)`, freed once.
            unsafe { free(b, layout) };
        }
    }

    #[test]
    fn blocks_freed_on_an_exiting_thread_are_released() {
        // Run under valgrind (`.ci/valgrind`), a block the cache failed to
        // release at thread exit is reported as definitely lost.
        std::thread::spawn(|| {
            let layout = Layout::from_size_align(256, 16).unwrap();
            let p = alloc(layout);
            // SAFETY: from `alloc(layout)`, freed once.
            unsafe { free(p, layout) };
            assert_eq!(cached(), 1);
        })
        .join()
        .unwrap();
    }
}
