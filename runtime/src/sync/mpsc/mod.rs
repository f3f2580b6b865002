//! Multi-producer, single-consumer channels, shaped like
//! `tokio::sync::mpsc`: a bounded [`channel`] whose senders wait for room
//! (in FIFO order) and an [`unbounded_channel`] whose senders never wait.
//!
//! Both end for the receiver when every sender is dropped; both close for
//! senders when the receiver calls `close` (queued messages stay
//! receivable) or is dropped (queued messages are dropped). `recv` is
//! cancel-safe; a dropped `send` future drops its unsent value and passes
//! any slot it was handed to the next sender. `blocking_send` and
//! `blocking_recv` serve plain threads.
//!
//! ```
//! use keen::sync::mpsc;
//!
//! keen::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(16);
//!     let producer = keen::spawn(async move {
//!         for i in 0..100 {
//!             tx.send(i).await.unwrap();
//!         }
//!     });
//!     let mut total = 0;
//!     while let Some(i) = rx.recv().await {
//!         total += i;
//!     }
//!     producer.await.unwrap();
//!     assert_eq!(total, 4950);
//! });
//! ```

mod bounded;
mod chan;
pub mod error;
mod unbounded;

pub use bounded::{Receiver, Sender, channel};
pub use unbounded::{UnboundedReceiver, UnboundedSender, unbounded_channel};
