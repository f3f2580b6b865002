//! Time: [`sleep`], [`timeout`], [`interval`], [`Instant`], and the paused
//! test clock ([`pause`], [`advance`], `Builder::start_paused`).
//!
//! Every runtime has one timer driver: a hierarchical timing wheel at 10 µs
//! per tick (`keen-timer-wheel`) that the workers park on until the next
//! deadline (on Linux to that instant, through a timerfd in the reactor).
//! A timer enters the wheel only once its future is pending and leaves it
//! when dropped, so a `timeout` around a future that is ready at once costs
//! no wheel operation. Timers never fire early;
//! deadlines too large for an `Instant` become "about 30 years".
//!
//! On a paused clock time moves only by [`advance`], or by itself when every
//! thread of the runtime is idle (parked, no blocking task running, no wake
//! in flight): then the clock jumps to the next timer, as tokio's test-util
//! does. Both flavours support it. See `docs/timers.md`.

pub(crate) mod clock;
pub(crate) mod current;
pub(crate) mod driver;
mod instant;
mod interval;
mod sleep;

use std::time::Duration;

pub use self::instant::Instant;
pub use self::interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use self::sleep::{Sleep, sleep, sleep_until};
// A timeout is a cancel scope with a deadline: it lives with the lazy scope
// it is built from (`scope/lazy.rs`), and is offered here under tokio's name.
pub use crate::scope::lazy::{Elapsed, Timeout, timeout, timeout_at};

/// Errors, where tokio keeps them (`tokio::time::error::Elapsed`).
pub mod error {
    pub use crate::scope::lazy::Elapsed;
}

/// Freezes the current runtime's clock: from now on time moves only through
/// [`advance`] and auto-advance. Calling it on a paused clock does nothing.
///
/// # Panics
/// Outside a keen runtime.
///
/// ```
/// use std::time::Duration;
/// let rt = keen::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// rt.block_on(async {
///     keen::time::pause();
///     let t = keen::time::Instant::now();
///     keen::time::sleep(Duration::from_secs(30)).await; // auto-advance
///     assert_eq!(t.elapsed(), Duration::from_secs(30));
/// });
/// ```
#[track_caller]
pub fn pause() {
    current::expect("keen::time::pause called").pause();
}

/// Moves the current runtime's paused clock forward by `duration`, fires the
/// timers that became due, then yields once so their tasks can run.
///
/// # Panics
/// Outside a keen runtime, or if the clock is not paused.
///
/// ```
/// use std::time::Duration;
/// use keen::time::{Instant, advance};
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let t = Instant::now();
///     advance(Duration::from_millis(1500)).await;
///     assert_eq!(t.elapsed(), Duration::from_millis(1500));
/// });
/// ```
pub async fn advance(duration: Duration) {
    // Cloned: no borrow of the thread's context is held while `advance`
    // wakes tasks.
    current::expect("keen::time::advance called").advance(duration);
    crate::task::yield_now().await;
}
