//! The one-line forms of a scope with a deadline: `move_on_*` (give up
//! quietly, `None`) and `fail_*` (give up with [`TimedOut`]).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use super::LazyRun;
use crate::time::Instant;

/// Runs `body` in a scope with a deadline `timeout` after its first poll;
/// `None` if the scope caught the cancellation.
///
/// ```
/// use std::time::Duration;
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let slow = keen::scope::move_on_after(Duration::from_millis(5), async {
///         keen::time::sleep(Duration::from_secs(1)).await;
///         "done"
///     });
///     assert_eq!(slow.await, None);
///     assert_eq!(keen::scope::move_on_after(Duration::ZERO, async { 7 }).await, Some(7));
/// });
/// ```
pub async fn move_on_after<F: Future>(timeout: Duration, body: F) -> Option<F::Output> {
    LazyRun::after(timeout, body).await.ok()
}

/// Runs `body` in a scope with deadline `deadline`; `None` if the scope
/// caught the cancellation.
///
/// ```
/// use std::time::Duration;
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let at = keen::time::Instant::now() + Duration::from_millis(5);
///     assert_eq!(keen::scope::move_on_at(at, std::future::pending::<()>()).await, None);
/// });
/// ```
pub async fn move_on_at<F: Future>(deadline: Instant, body: F) -> Option<F::Output> {
    LazyRun::at(deadline, body).await.ok()
}

/// Runs `body` in a scope with a deadline `timeout` after its first poll;
/// `Err(TimedOut)` if the scope caught the cancellation.
///
/// ```
/// use std::time::Duration;
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let r = keen::scope::fail_after(Duration::from_millis(5), std::future::pending::<()>()).await;
///     assert!(r.is_err());
/// });
/// ```
pub async fn fail_after<F: Future>(timeout: Duration, body: F) -> Result<F::Output, TimedOut> {
    LazyRun::after(timeout, body)
        .await
        .map_err(|_| TimedOut(()))
}

/// Runs `body` in a scope with deadline `deadline`; `Err(TimedOut)` if the
/// scope caught the cancellation.
///
/// ```
/// use std::time::Duration;
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let at = keen::time::Instant::now() + Duration::from_millis(5);
///     assert_eq!(keen::scope::fail_at(at, async { 1 }).await, Ok(1));
/// });
/// ```
pub async fn fail_at<F: Future>(deadline: Instant, body: F) -> Result<F::Output, TimedOut> {
    LazyRun::at(deadline, body).await.map_err(|_| TimedOut(()))
}

/// Error of [`fail_after`] and [`fail_at`]: the deadline passed while the
/// body was pending (or, for a scope under a cancelled task group, the group
/// was cancelled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut(());

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline passed before the operation completed")
    }
}

impl std::error::Error for TimedOut {}
