//! [`map_concurrent`]: a bounded parallel map over a task group, results in
//! input order.

use std::future::Future;
use std::panic::resume_unwind;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use parking_lot::Mutex;

use crate::group::{ChildError, TaskGroup};

/// Runs `f` on every item with at most `limit` calls in flight at once (on
/// the runtime's threads) and returns the outputs in input order: always
/// one per item. The calls run as children of a task group: cancelling the
/// caller cancels them all (and this future never completes: the scope
/// that was cancelled catches), and a panicking call cancels the others
/// and is resumed here.
///
/// ```
/// use keen::patterns::map_concurrent;
///
/// let rt = keen::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// let squares = rt.block_on(map_concurrent(1..=5u64, 2, |n| async move {
///     keen::task::yield_now().await;
///     n * n
/// }));
/// assert_eq!(squares, [1, 4, 9, 16, 25]);
/// ```
///
/// # Panics
/// If `limit` is 0, outside a runtime, or (resumed) if a call panicked.
pub async fn map_concurrent<I, F, Fut, T>(items: I, limit: usize, f: F) -> Vec<T>
where
    I: IntoIterator,
    I::IntoIter: Send + 'static,
    I::Item: Send + 'static,
    F: Fn(I::Item) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    assert!(limit > 0, "map_concurrent needs a limit of at least 1");
    let queue = Arc::new(Mutex::new(items.into_iter().enumerate()));
    let done: Arc<Mutex<Vec<(usize, T)>>> = Arc::new(Mutex::new(Vec::new()));
    let f = Arc::new(f);
    let finished = Arc::new(AtomicUsize::new(0));
    let group = TaskGroup::new();
    for _ in 0..limit {
        let (queue, done, f) = (queue.clone(), done.clone(), f.clone());
        let finished = finished.clone();
        // Lazily: the workers start together once the caller waits, rather
        // than the first one draining the queue inside `spawn`.
        group.spawn_lazy(async move {
            loop {
                let next = queue.lock().next();
                let Some((index, item)) = next else { break };
                let out = f(item).await;
                done.lock().push((index, out));
            }
            finished.fetch_add(1, Relaxed);
        });
    }
    if let Err(error) = group.join().await {
        let panic = error.into_errors().into_iter().find(ChildError::is_panic);
        resume_unwind(panic.expect("workers only fail by panicking").into_panic());
    }
    // Workers are cancelled only through a scope around this call, and
    // then `join` does not return (that scope catches there), so every
    // worker ran out of items: one output per item.
    assert_eq!(
        finished.load(Relaxed),
        limit,
        "map_concurrent: a worker was cut short but no scope caught it"
    );
    let mut done = std::mem::take(&mut *done.lock());
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, out)| out).collect()
}
