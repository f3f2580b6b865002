//! A single-value channel that many receivers watch, shaped like
//! `tokio::sync::watch`: the [`Sender`] replaces or edits one value; each
//! [`Receiver`] reads the latest one and waits for a newer one. Nothing is
//! queued: a receiver that looks late sees only the last value.
//!
//! **Versions.** Every send bumps the channel's version; each receiver
//! remembers the version it has seen. [`Receiver::changed`] completes once
//! the version differs from the seen one (and marks it seen), and fails
//! only when every sender is gone *and* the latest value was seen.
//! [`borrow`](Receiver::borrow) reads without marking,
//! [`borrow_and_update`](Receiver::borrow_and_update) marks;
//! [`Sender::subscribe`] and `clone` start from the current and the
//! cloned receiver's seen version.
//!
//! `changed` and `wait_for` are cancel-safe: nothing is marked seen unless
//! they complete. [`Sender::closed`] waits for the last receiver to go.
//! The value sits under a read-write lock: a [`Ref`] holds the read lock,
//! so keep it short and never across an `.await`.
//!
//! ```
//! use keen::sync::watch;
//!
//! keen::block_on(async {
//!     let (tx, mut rx) = watch::channel(0u32);
//!     let watcher = keen::spawn(async move {
//!         let mut last = 0;
//!         while rx.changed().await.is_ok() {
//!             last = *rx.borrow_and_update();
//!         }
//!         last
//!     });
//!     for i in 1..=3 {
//!         tx.send(i).unwrap();
//!         keen::task::yield_now().await;
//!     }
//!     drop(tx);
//!     assert_eq!(watcher.await.unwrap(), 3, "the latest value wins");
//! });
//! ```

pub mod error;
mod receiver;
mod sender;
mod shared;
mod value_ref;

use std::sync::Arc;

pub use receiver::Receiver;
pub use sender::Sender;
pub use value_ref::Ref;

/// Creates a watch channel holding `init`. The receiver has seen `init`:
/// its `changed` waits for the first send.
///
/// ```
/// let (tx, rx) = keen::sync::watch::channel("hello");
/// assert_eq!(*rx.borrow(), "hello");
/// tx.send("world").unwrap();
/// assert_eq!(*rx.borrow(), "world");
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(shared::Shared::new(init));
    let version = shared.version();
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver::from_shared(shared, version),
    )
}
