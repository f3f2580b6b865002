//! [`retry_with_timeout`]: run an operation under a per-attempt deadline,
//! retrying failures a predicate accepts, with a backoff between attempts.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::scope::fail_after;
use crate::time::sleep;

/// The wait between attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backoff {
    /// Retry at once.
    None,
    /// The same wait every time.
    Fixed(Duration),
    /// `initial`, then multiplied by `factor` after each attempt, at most
    /// `max`.
    Exponential {
        /// The first wait.
        initial: Duration,
        /// The growth per attempt (at least 1.0).
        factor: f64,
        /// The cap.
        max: Duration,
    },
}

impl Backoff {
    /// The wait after failed attempt number `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        match *self {
            Backoff::None => Duration::ZERO,
            Backoff::Fixed(d) => d,
            Backoff::Exponential {
                initial,
                factor,
                max,
            } => {
                let exp = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
                let secs = initial.as_secs_f64() * factor.max(1.0).powi(exp);
                Duration::try_from_secs_f64(secs).map_or(max, |d| d.min(max))
            }
        }
    }
}

/// Why [`retry_with_timeout`] gave up.
#[derive(Debug, PartialEq, Eq)]
pub enum RetryError<E> {
    /// The last attempt failed with an error that is not retried, or the
    /// retries ran out on an error.
    Failed {
        /// The last error.
        error: E,
        /// Attempts made.
        attempts: u32,
    },
    /// The last attempt ran out of time (and the retries ran out).
    TimedOut {
        /// Attempts made.
        attempts: u32,
    },
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryError::Failed { error, attempts } => {
                write!(f, "failed after {attempts} attempt(s): {error}")
            }
            RetryError::TimedOut { attempts } => {
                write!(f, "timed out on each of {attempts} attempt(s)")
            }
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for RetryError<E> {}

/// Calls `operation` until it succeeds: each attempt runs under its own
/// `per_attempt` deadline (a timed-out attempt is retried); an error is
/// retried if `should_retry` says so; at most `retries` retries follow the
/// first attempt, each after `backoff`'s wait. The deadlines are cancel
/// scopes, so an attempt's time-out cancels only that attempt.
///
/// ```
/// use std::time::Duration;
/// use keen::patterns::{Backoff, retry_with_timeout};
///
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let mut calls = 0;
///     let out = retry_with_timeout(
///         3,
///         Duration::from_secs(1),
///         |_e: &&str| true,
///         Backoff::Fixed(Duration::from_millis(10)),
///         || { calls += 1; let n = calls; async move { if n < 3 { Err("flaky") } else { Ok(n) } } },
///     )
///     .await;
///     assert_eq!(out, Ok(3));
/// });
/// ```
pub async fn retry_with_timeout<T, E, F, Fut>(
    retries: u32,
    per_attempt: Duration,
    should_retry: impl Fn(&E) -> bool,
    backoff: Backoff,
    mut operation: F,
) -> Result<T, RetryError<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let last = attempt > retries;
        match fail_after(per_attempt, operation()).await {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) if last || !should_retry(&error) => {
                return Err(RetryError::Failed {
                    error,
                    attempts: attempt,
                });
            }
            Err(_timed_out) if last => return Err(RetryError::TimedOut { attempts: attempt }),
            Ok(Err(_)) | Err(_) => {}
        }
        let wait = backoff.delay(attempt);
        if !wait.is_zero() {
            sleep(wait).await;
        }
    }
}
