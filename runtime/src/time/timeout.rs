//! [`timeout`] and [`timeout_at`]: tokio's signatures on top of a
//! [`CancelScope`] with a deadline, so a timeout obeys the scope rules
//! (attribution, shields, eager children) like every other deadline.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::Instant;
use crate::scope::{CancelScope, Run};

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
        run: CancelScope::with_timeout(duration).into_run(future),
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
        run: CancelScope::with_deadline(deadline).into_run(future),
    }
}

pin_project! {
    /// Future of [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        run: Run<F>,
    }
}

impl<F> Timeout<F> {
    /// The scope that carries the deadline (to move it, or cancel early).
    pub fn scope(&self) -> &CancelScope {
        self.run.scope()
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
