//! The owned-task list: every unfinished task that has gone idle at least
//! once (or was spawned lazily), so shutdown can drop each future exactly
//! once; a task queued straight from its eager step joins only when it
//! first goes idle (`harness.rs`, `bind_before_idle`), and until then
//! shutdown reaches it through its queue. Sharded by task id to keep promotion and
//! completion on different workers off one lock.

use std::ptr::NonNull;

use parking_lot::Mutex;
use slab::Slab;

use super::Task;
use super::core::Header;

const SHARDS: usize = 16;

struct Shard {
    tasks: Slab<Task>,
    closed: bool,
}

/// One shard's lock and slab header on cache lines of their own.
/// Consecutive task ids go to consecutive shards, and unpadded (~56 bytes,
/// two shards to a line) a worker binding one task and a sibling removing
/// another fought over the same line: `spawn_many` on two workers spent
/// ~60% of its CPU in `bind` and `remove`, 2.8 → 2.5 ms per batch padded.
#[repr(align(128))]
struct Padded(Mutex<Shard>);

/// Promoted tasks, each holding one reference.
pub(crate) struct OwnedTasks {
    shards: Box<[Padded]>,
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            shards: (0..SHARDS)
                .map(|_| {
                    Padded(Mutex::new(Shard {
                        tasks: Slab::new(),
                        closed: false,
                    }))
                })
                .collect(),
        }
    }

    fn shard(&self, header: &Header) -> &Mutex<Shard> {
        &self.shards[header.id.as_u64() as usize % SHARDS].0
    }

    /// Adds a task; gives it back if the list is closed (shutting down).
    pub(crate) fn bind(&self, task: Task) -> Result<(), Task> {
        let header = task.0.header();
        let mut shard = self.shard(header).lock();
        if shard.closed {
            return Err(task);
        }
        let entry = shard.tasks.vacant_entry();
        // SAFETY: the binder owns the task exclusively and holds this
        // shard's lock (the field rules in `core.rs`).
        unsafe { *header.owned_slot.get() = entry.key() };
        entry.insert(task);
        Ok(())
    }

    /// Removes a completed task, returning the list's reference.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> Option<Task> {
        // SAFETY: the caller holds a reference, so the header is live.
        let header = unsafe { ptr.as_ref() };
        let mut shard = self.shard(header).lock();
        // SAFETY: written only at bind, by the task's exclusive owner,
        // before the task was reachable from here; read under the lock.
        let slot = unsafe { *header.owned_slot.get() };
        match shard.tasks.get(slot) {
            Some(task) if task.0.ptr == ptr => Some(shard.tasks.remove(slot)),
            _ => None,
        }
    }

    /// Closes the list (later binds fail) and takes every task out.
    pub(crate) fn close_and_take_all(&self) -> Vec<Task> {
        let mut all = Vec::new();
        for Padded(shard) in self.shards.iter() {
            let mut shard = shard.lock();
            shard.closed = true;
            all.extend(shard.tasks.drain());
        }
        all
    }

    /// Number of promoted, unfinished tasks.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.lock().tasks.len()).sum()
    }
}

impl std::fmt::Debug for OwnedTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedTasks")
            .field("len", &self.len())
            .finish()
    }
}
