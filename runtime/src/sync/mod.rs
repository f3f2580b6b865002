//! Synchronisation primitives that work from any thread and any runtime:
//! they rely on nothing but wakers, never on a keen runtime context.
//!
//! | type | what it is | blocking form |
//! |---|---|---|
//! | [`Mutex`] | async lock, FIFO hand-off | [`Mutex::blocking_lock`] |
//! | [`Semaphore`] | counting semaphore, FIFO, closable | — |
//! | [`CapacityLimiter`] | trio's limiter: one token per [`Borrower`] | — |
//! | [`Event`] | set-once flag | [`Event::wait_blocking`] |
//! | [`Condition`] | condition variable for [`Mutex`] | — |
//! | [`oneshot`] | one value, once | [`oneshot::Receiver::blocking_recv`] |
//! | [`mpsc`] | bounded and unbounded queues | `blocking_send`, `blocking_recv` |
//! | [`watch`] | one value, many watchers, latest wins | — |
//! | [`broadcast`] | every value to every receiver, bounded ring | [`broadcast::Receiver::blocking_recv`] |
//! | [`RwLock`] | reader-writer lock, FIFO, write-preferring | [`RwLock::blocking_read`], [`RwLock::blocking_write`] |
//! | [`Notify`] | wake one waiter (or store a permit), or all waiters | — |
//! | [`Barrier`] | `n` tasks meet, one leader per generation | — |
//! | [`OnceCell`] | set-once value with an async initialiser | — |
//!
//! Names follow tokio where tokio has the same thing. Every waiter is
//! cancel-safe: dropping a waiting future loses no permit, token,
//! notification or message, and whatever was already handed to it goes to
//! the next waiter. The blocking forms panic inside a keen task or
//! `block_on`, where they would stall a runtime thread. `docs/sync.md`
//! explains the design and compares each with tokio.
//!
//! The fair primitives share one FIFO waiter queue (`waiters.rs`) kept
//! under a `parking_lot` mutex; `raw_semaphore.rs` adds an atomic fast path
//! for the uncontended case.
//!
//! ```
//! use std::sync::Arc;
//! use keen::sync::{Mutex, mpsc};
//!
//! keen::block_on(async {
//!     let total = Arc::new(Mutex::new(0));
//!     let (tx, mut rx) = mpsc::unbounded_channel();
//!     for i in 1..=3 {
//!         let (total, tx) = (total.clone(), tx.clone());
//!         keen::spawn(async move {
//!             *total.lock().await += i;
//!             tx.send(()).unwrap();
//!         });
//!     }
//!     drop(tx);
//!     while rx.recv().await.is_some() {}
//!     assert_eq!(*total.lock().await, 6);
//! });
//! ```

mod barrier;
mod borrower;
pub mod broadcast;
mod condition;
mod event;
mod limiter;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
pub(crate) mod raw_semaphore;
mod rwlock;
mod semaphore;
mod thread_wait;
mod waiters;
pub mod watch;

pub use borrower::Borrower;
pub use condition::Condition;
pub use event::{Event, EventWait};
pub use limiter::{
    BorrowError, CapacityLimiter, CapacityToken, OwnedCapacityToken, TryBorrowError,
};
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

// Issue 18.
pub use barrier::{Barrier, BarrierWaitResult};
pub use notify::{Notified, Notify, OwnedNotified};
pub use once_cell::{OnceCell, SetError};
pub use rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};

/// Compile-time check: every primitive is `Send + Sync` where tokio's is
/// (guards and permits included), so all of them work across threads.
#[allow(dead_code, reason = "compile-time check only")]
fn _ensure_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<Mutex<Vec<u8>>>();
    both::<MutexGuard<'static, Vec<u8>>>();
    both::<OwnedMutexGuard<Vec<u8>>>();
    both::<Semaphore>();
    both::<SemaphorePermit<'static>>();
    both::<OwnedSemaphorePermit>();
    both::<CapacityLimiter>();
    both::<CapacityToken<'static>>();
    both::<OwnedCapacityToken>();
    both::<Borrower>();
    both::<Event>();
    both::<EventWait<'static>>();
    both::<Condition>();
    both::<oneshot::Sender<Vec<u8>>>();
    both::<oneshot::Receiver<Vec<u8>>>();
    both::<mpsc::Sender<Vec<u8>>>();
    both::<mpsc::Receiver<Vec<u8>>>();
    both::<mpsc::UnboundedSender<Vec<u8>>>();
    both::<mpsc::UnboundedReceiver<Vec<u8>>>();
    both::<watch::Sender<Vec<u8>>>();
    both::<watch::Receiver<Vec<u8>>>();
    both::<watch::error::SendError<Vec<u8>>>();
    both::<watch::error::RecvError>();
    both::<broadcast::Sender<Vec<u8>>>();
    both::<broadcast::WeakSender<Vec<u8>>>();
    both::<broadcast::Receiver<Vec<u8>>>();
    both::<broadcast::error::SendError<Vec<u8>>>();
    both::<broadcast::error::RecvError>();
    both::<broadcast::error::TryRecvError>();
    both::<RwLock<Vec<u8>>>();
    both::<RwLockReadGuard<'static, Vec<u8>>>();
    both::<RwLockWriteGuard<'static, Vec<u8>>>();
    both::<OwnedRwLockReadGuard<Vec<u8>>>();
    both::<OwnedRwLockWriteGuard<Vec<u8>>>();
    both::<RwLockMappedWriteGuard<'static, [u8]>>();
    both::<OwnedRwLockMappedWriteGuard<Vec<u8>, [u8]>>();
    both::<OwnedRwLockReadGuard<Vec<u8>, [u8]>>();
    both::<Notify>();
    both::<Notified<'static>>();
    both::<OwnedNotified>();
    both::<Barrier>();
    both::<BarrierWaitResult>();
    both::<OnceCell<Vec<u8>>>();
    both::<SetError<Vec<u8>>>();
}
