//! [`timeout`] and [`timeout_at`]: tokio's signatures on top of a cancel
//! scope with a deadline, so a timeout obeys the scope rules (attribution,
//! shields, eager children) like every other deadline. The scope is lazy
//! (see `scope/lazy.rs`): an outermost timeout with no scope inside costs a
//! timer entry, not a scope. To move or cancel a deadline from elsewhere,
//! use [`CancelScope::with_timeout`](crate::scope::CancelScope::with_timeout)
//! and its `run`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::Instant;
use crate::scope::LazyRun;

/// Runs `future` with a time limit: `Err(Elapsed)` if it is still pending
/// when `duration` has passed since the first poll. The future is polled
/// before the deadline is checked, so a future that is ready at once returns
/// `Ok` even with `Duration::ZERO`; no timer is registered unless the future
/// is pending.
///
/// ```
/// use std::time::Duration;
/// use keen::time::{sleep, timeout};
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     assert_eq!(timeout(Duration::ZERO, async { 1 }).await, Ok(1));
///     let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(1)));
///     assert!(slow.await.is_err());
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        run: LazyRun::after(duration, future),
    }
}

/// Runs `future` until `deadline`: `Err(Elapsed)` if it is still pending
/// then. As [`timeout`] otherwise.
///
/// ```
/// use std::time::Duration;
/// use keen::time::{Instant, timeout_at};
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let past = Instant::now();
///     assert!(timeout_at(past, std::future::pending::<()>()).await.is_err());
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        run: LazyRun::at(deadline, future),
    }
}

pin_project! {
    /// Future of [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        run: LazyRun<F>,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .run
            .poll(cx)
            .map(|r| r.map_err(|_| Elapsed(())))
    }
}

/// Error of [`timeout`]: the deadline passed while the future was pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}
