//! [`yield_now`]: give the scheduler a turn.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Returns `Pending` once, waking itself, so other ready tasks run before
/// this one continues (a woken task that woke itself goes to the back of
/// the queue, not the LIFO slot).
///
/// ```
/// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let other = keen::spawn_lazy(async {});
///     keen::task::yield_now().await; // the queued task runs meanwhile
///     assert!(other.is_finished());
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future of [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
