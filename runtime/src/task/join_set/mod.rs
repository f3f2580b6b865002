//! [`JoinSet`]: a collection of tasks whose results are taken as they
//! finish, with tokio's names and meanings, and one eager-specific rule:
//! children that finished inside `spawn` come out first, in spawn order.
//!
//! The set owns each task's [`JoinHandle`]. Handles of tasks that were
//! already finished when they were added sit in a FIFO (`done`) and need no
//! waker at all. Every other handle is an entry in a slab, polled with its
//! own waker (`wake_queue.rs`): when a task finishes, its waker puts the
//! entry on a shared queue and wakes the task waiting in `join_next`, which
//! then polls only the entries that have news.

mod wake_queue;

// Here, not in lib.rs: the models need this module's private wake queue.
#[cfg(all(test, loom))]
#[path = "../../../tests/loom_join_set.rs"]
mod loom_join_set;

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use slab::Slab;

use super::{AbortHandle, Id, JoinError, JoinHandle};
use crate::Handle;
use wake_queue::{EntryWaker, Shared};

/// A set of tasks spawned on a keen runtime, whose results come out as the
/// tasks finish. Dropping the set aborts every task still in it.
///
/// Eager children that finished inside `spawn` come out of
/// [`join_next`](JoinSet::join_next) first, in spawn order; the others come
/// out in the order they finish.
///
/// ```
/// use keen::task::JoinSet;
///
/// keen::block_on(async {
///     let mut set = JoinSet::new();
///     for i in 0..3u32 {
///         set.spawn(async move {
///             if i == 0 {
///                 keen::task::yield_now().await; // pending: finishes later
///             }
///             i
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(result) = set.join_next().await {
///         order.push(result.unwrap());
///     }
///     // 1 and 2 finished inside `spawn`, so they come out first.
///     assert_eq!(order, [1, 2, 0]);
/// });
/// ```
///
/// # `JoinSet` or `TaskGroup`?
/// A [`TaskGroup`](crate::group::TaskGroup) is structured: its children
/// cannot outlive it, the first failure cancels the siblings and the group
/// reports it. Prefer it whenever the tasks are parts of one job. A
/// `JoinSet` is the tokio-shaped collection: tasks fail independently, the
/// owner decides what an error means, and results are taken one by one as
/// they arrive (a server's connection tasks, a crawler's fetches).
pub struct JoinSet<T> {
    /// Handles of tasks that were finished when they were added, oldest
    /// first: `join_next` takes these before any other.
    done: VecDeque<JoinHandle<T>>,
    /// Handles of tasks that were still running when added.
    entries: Slab<Entry<T>>,
    /// Entries to poll next: new ones (their first poll registers their
    /// waker) and those taken from `shared`.
    to_poll: VecDeque<Arc<EntryWaker>>,
    /// Where entry wakers record which entries have news.
    shared: Arc<Shared>,
}

struct Entry<T> {
    handle: JoinHandle<T>,
    waker: Arc<EntryWaker>,
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            done: VecDeque::new(),
            entries: Slab::new(),
            to_poll: VecDeque::new(),
            shared: Arc::default(),
        }
    }

    /// How many tasks are in the set: running, or finished but not yet
    /// taken out.
    pub fn len(&self) -> usize {
        self.done.len() + self.entries.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        if handle.is_finished() {
            self.done.push_back(handle);
        } else {
            let key = self.entries.vacant_key();
            let waker = EntryWaker::new(key, &self.shared);
            self.to_poll.push_back(waker.clone());
            self.entries.insert(Entry { handle, waker });
        }
        abort
    }

    /// Spawns `future` with [`keen::spawn`](crate::spawn) (eager on a
    /// runtime thread) and adds it to the set.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(crate::spawn(future))
    }

    /// Spawns `future` on `handle`'s runtime and adds it to the set.
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Spawns `future` with [`keen::spawn_lazy`](crate::spawn_lazy): queued,
    /// never polled inside this call.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn_lazy<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(crate::spawn_lazy(future))
    }

    /// Spawns a `!Send` future with [`keen::spawn_local`](crate::spawn_local)
    /// and adds it to the set.
    ///
    /// # Panics
    /// Outside a current-thread runtime's `block_on`.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.insert(crate::spawn_local(future))
    }

    /// Runs `f` on the blocking pool with
    /// [`keen::spawn_blocking`](crate::spawn_blocking) and adds it to the
    /// set. Aborting it before it starts keeps it from running; once
    /// running it completes.
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.insert(crate::spawn_blocking(f))
    }

    /// Runs `f` on `handle`'s blocking pool and adds it to the set.
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.insert(handle.spawn_blocking(f))
    }

    /// Waits for a task to finish and returns its result; `None` once the
    /// set is empty.
    ///
    /// Cancel-safe: dropped before it completes, it takes nothing out of
    /// the set, and the next call sees every task that finished meanwhile.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// Like [`join_next`](JoinSet::join_next), with the finished task's id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// A finished task's result, if one is ready now; never waits.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        // Matched out directly rather than mapped over the `_with_id` form.
        // It means the same, but with the nested `map`s memcheck reported an
        // uninitialised value in the discriminant check of the returned
        // `None` at opt-level 1 (never at opt-level 0, no unsafe involved:
        // an optimiser-widened read). This form keeps `.ci/valgrind` clean.
        match self.poll_join_next_with_id(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Some(Ok((_, value)))) => Some(Ok(value)),
            Poll::Ready(Some(Err(err))) => Some(Err(err)),
            Poll::Ready(None) | Poll::Pending => None,
        }
    }

    /// Like [`try_join_next`](JoinSet::try_join_next), with the task's id.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        match self.poll_join_next_with_id(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(Some(result)) => Some(result),
            Poll::Ready(None) | Poll::Pending => None,
        }
    }

    /// Polls for a finished task: `Ready(None)` when the set is empty,
    /// `Pending` (with `cx`'s waker registered) while every task runs.
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|next| next.map(|result| result.map(|(_, value)| value)))
    }

    /// Like [`poll_join_next`](JoinSet::poll_join_next), with the task's id.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if let Some(mut handle) = self.done.pop_front() {
            let id = handle.id();
            let noop = &mut Context::from_waker(Waker::noop());
            let Poll::Ready(result) = Pin::new(&mut handle).poll(noop) else {
                unreachable!("a finished task's handle is ready");
            };
            return Poll::Ready(Some(result.map(|value| (id, value))));
        }
        loop {
            while let Some(waker) = self.to_poll.pop_front() {
                let Some(entry) = self.entries.get_mut(waker.key) else {
                    continue;
                };
                if !Arc::ptr_eq(&entry.waker, &waker) {
                    continue; // a stale wake for a key since reused
                }
                // Cleared before the poll: a finish racing the poll queues
                // the entry again rather than being lost.
                waker.clear();
                let task_waker = Waker::from(waker);
                let polled =
                    Pin::new(&mut entry.handle).poll(&mut Context::from_waker(&task_waker));
                if let Poll::Ready(result) = polled {
                    let id = entry.handle.id();
                    let key = entry.waker.key;
                    drop(self.entries.remove(key));
                    return Poll::Ready(Some(result.map(|value| (id, value))));
                }
            }
            if self.entries.is_empty() {
                return Poll::Ready(None);
            }
            if !self.shared.take_woken(&mut self.to_poll, cx.waker()) {
                return Poll::Pending;
            }
        }
    }

    /// Aborts every task in the set. They stay in it: `join_next` then
    /// returns a cancelled [`JoinError`] for each that had not finished (a
    /// task that finished first still gives its value).
    pub fn abort_all(&mut self) {
        for (_, entry) in &self.entries {
            entry.handle.abort();
        }
    }

    /// Removes every task from the set without aborting it: they run on,
    /// detached. Outputs of finished tasks not yet taken are dropped.
    pub fn detach_all(&mut self) {
        self.done.clear();
        self.entries.clear();
        self.to_poll.clear();
        self.shared.clear();
    }

    /// Aborts every task and waits until all of them are gone; the set is
    /// then empty. Results, panics included, are discarded.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task and returns their outputs in the order they
    /// came out of [`join_next`](JoinSet::join_next).
    ///
    /// # Panics
    /// If a task panicked, the panic is resumed here (the other tasks are
    /// aborted when the set is dropped); if a task was cancelled, with a
    /// message saying so.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(value) => outputs.push(value),
                Err(err) => match err.try_into_panic() {
                    Ok(payload) => std::panic::resume_unwind(payload),
                    Err(err) => panic!("a task in `JoinSet::join_all` was cancelled: {err}"),
                },
            }
        }
        outputs
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        // The handles are dropped next, with the fields.
        self.abort_all();
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    /// Spawns every future with [`keen::spawn`](crate::spawn).
    fn from_iter<I: IntoIterator<Item = F>>(futures: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(futures);
        set
    }
}

impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    /// Spawns every future with [`keen::spawn`](crate::spawn).
    fn extend<I: IntoIterator<Item = F>>(&mut self, futures: I) {
        for future in futures {
            self.spawn(future);
        }
    }
}

/// Compile-time check: a set of `Send` outputs is `Send + Sync`, as
/// tokio's is, so it can move into a task on another worker.
#[allow(dead_code, reason = "compile-time check only")]
fn _ensure_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<JoinSet<Vec<u8>>>();
}
