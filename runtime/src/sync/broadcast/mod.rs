//! A multi-producer, multi-consumer channel where every receiver gets
//! every value, shaped like `tokio::sync::broadcast`.
//!
//! The channel keeps the last `capacity` values in a ring (`capacity`
//! rounded up to a power of two, as tokio does). Sending never waits: when
//! the ring is full the oldest value is overwritten, and a receiver that
//! had not taken it gets [`RecvError::Lagged(n)`](error::RecvError::Lagged)
//! with the number it missed, then continues from the oldest value kept.
//! Each receiver gets its own clone of each value (the last one to take a
//! value gets the value itself); a value is dropped once every receiver
//! that existed when it was sent has taken it, or when it is overwritten.
//! Each slot of the ring has its own lock and the clone is made under it
//! (tokio uses a read-write lock per slot, so its receivers clone one
//! value at the same time): a `Clone` impl must not use the same channel
//! (it could deadlock), and an expensive one holds up the other receivers
//! of that value; send an `Arc<T>` or a cheap handle.
//! [`Receiver::recv`] is cancel-safe. `send` fails, handing the value
//! back, when no receiver exists; receivers see
//! [`Closed`](error::RecvError::Closed) after the last sender is dropped
//! and they have taken every value.
//!
//! ```
//! use keen::sync::broadcast;
//!
//! keen::block_on(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!     let a = keen::spawn(async move { (rx1.recv().await, rx1.recv().await) });
//!     let b = keen::spawn(async move { (rx2.recv().await, rx2.recv().await) });
//!     tx.send(10).unwrap();
//!     tx.send(20).unwrap();
//!     assert_eq!(a.await.unwrap(), (Ok(10), Ok(20)));
//!     assert_eq!(b.await.unwrap(), (Ok(10), Ok(20)));
//! });
//! ```

pub mod error;
mod receiver;
mod ring;
mod sender;

use std::sync::Arc;

pub use receiver::Receiver;
pub use sender::{Sender, WeakSender};

/// The largest capacity [`channel`] accepts (as tokio: `usize::MAX >> 1`).
const MAX_CAPACITY: usize = usize::MAX >> 1;

/// Creates a broadcast channel keeping the last `capacity` values, rounded
/// up to a power of two (as tokio: `channel(3)` keeps 4).
///
/// # Panics
/// If `capacity` is 0 or above `usize::MAX >> 1`, as tokio.
///
/// ```
/// let (tx, mut rx) = keen::sync::broadcast::channel(3);
/// for i in 0..4 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!(rx.try_recv(), Ok(0), "rounded up to 4: nothing lost yet");
/// ```
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(ring::Shared::new(ring_size(capacity), 1));
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver::from_shared(shared, 0),
    )
}

/// The ring size for `capacity`: the next power of two.
fn ring_size(capacity: usize) -> usize {
    assert!(capacity > 0, "broadcast channel capacity must be above 0");
    assert!(
        capacity <= MAX_CAPACITY,
        "broadcast channel capacity exceeded `usize::MAX / 2`"
    );
    capacity.next_power_of_two()
}
