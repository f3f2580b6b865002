//! Cancel scopes: deadlines and cancellation that belong to an explicit
//! [`CancelScope`] handle, never to "the current task".
//!
//! A scope runs one body ([`CancelScope::run`]). Cancelling the scope — by
//! [`cancel`](CancelScope::cancel) from any thread, or by its deadline firing
//! in the runtime's timer wheel — cancels that body and every scope entered
//! inside it, and nothing else. The rules (they follow trio's):
//!
//! - **Parent links** come from where a scope is first polled: the scope
//!   whose body is being polled around it. A task starts with no enclosing
//!   scope, eager spawns included, so a scope entered during a child's eager
//!   phase belongs to the child, never to the parent that spawned it.
//! - **Delivery** happens when the body suspends: the body is polled first,
//!   so a body that completes without suspending returns its value even in a
//!   cancelled or zero-deadline scope. A pending body in a cancelled scope is
//!   dropped and `run` returns `Err(Cancelled)`.
//! - **Attribution**: when nested scopes are cancelled at once, the outermost
//!   catches ([`cancelled_caught`](CancelScope::cancelled_caught) is true only
//!   there; the inner bodies are dropped without returning).
//! - **Shield**: a shielded scope ignores cancellation from outside (not its
//!   own); scopes outside it keep polling until the shielded body is done,
//!   then deliver their cancellation at the next suspension.
//! - **Deadlines**: a relative deadline ([`CancelScope::with_timeout`]) is
//!   fixed at the first poll; `cancel()` before the first poll is remembered;
//!   [`set_deadline`](CancelScope::set_deadline) after entry re-registers the
//!   timer at once. The timer is inserted only once the body is pending.
//!
//! See `docs/scopes.md` for the comparison with `asyncio.timeout` and trio.

pub(crate) mod inner;
pub(crate) mod lazy;
mod move_on_and_fail;
mod run;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use self::inner::{Deadline, ScopeInner};
pub(crate) use self::lazy::LazyRun;
pub use self::move_on_and_fail::{TimedOut, fail_after, fail_at, move_on_after, move_on_at};
pub use self::run::Run;
pub(crate) use self::run::enclosing_scope;
use crate::time::Instant;

/// A handle to a cancel scope: `Send + Sync + Clone`, usable from any thread.
/// Clones refer to the same scope.
///
/// ```
/// use std::time::Duration;
/// use keen::scope::{CancelReason, CancelScope};
///
/// let rt = keen::runtime::Builder::new_current_thread()
///     .start_paused(true)
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let scope = CancelScope::with_timeout(Duration::from_millis(10));
///     let result = scope.run(keen::time::sleep(Duration::from_secs(1))).await;
///     let cancelled = result.unwrap_err();
///     assert_eq!(cancelled.reason(), CancelReason::Deadline);
///     assert!(scope.cancelled_caught());
/// });
/// ```
#[derive(Clone)]
pub struct CancelScope {
    pub(crate) inner: Arc<ScopeInner>,
}

impl CancelScope {
    /// A scope with no deadline.
    pub fn new() -> CancelScope {
        CancelScope::from_deadline(Deadline::None)
    }

    /// A scope whose deadline is `timeout` after its first poll
    /// (`Duration::MAX` and other huge values mean "about never").
    pub fn with_timeout(timeout: Duration) -> CancelScope {
        CancelScope::from_deadline(Deadline::After(timeout))
    }

    /// A scope with a deadline at `deadline` (in the past: cancelled as soon
    /// as it is entered).
    pub fn with_deadline(deadline: Instant) -> CancelScope {
        CancelScope::from_deadline(Deadline::At(deadline))
    }

    fn from_deadline(deadline: Deadline) -> CancelScope {
        CancelScope {
            inner: Arc::new(ScopeInner::new(deadline)),
        }
    }

    /// Cancels the scope: its body (if pending, now; otherwise at its next
    /// suspension) and every scope inside it not shielded. Works from any
    /// thread, before the scope is entered too. Idempotent.
    ///
    /// ```
    /// use keen::scope::CancelScope;
    ///
    /// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
    /// let scope = CancelScope::new();
    /// scope.cancel(); // before entry: remembered
    /// let out = rt.block_on(scope.run(async {
    ///     keen::task::yield_now().await; // first suspension: cancelled here
    ///     unreachable!()
    /// }));
    /// assert!(out.is_err());
    /// ```
    pub fn cancel(&self) {
        self.inner.cancel_explicit();
    }

    /// Moves the deadline (or removes it with `None`). After entry the timer
    /// is re-registered at once; a deadline already past cancels at once.
    /// Cancellation is sticky: a later deadline does not undo it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use keen::{scope::CancelScope, time::Instant};
    ///
    /// let scope = CancelScope::with_timeout(Duration::from_secs(5));
    /// assert_eq!(scope.deadline(), None); // relative: fixed at first poll
    /// let at = Instant::now() + Duration::from_secs(1);
    /// scope.set_deadline(at);
    /// assert_eq!(scope.deadline(), Some(at));
    /// scope.set_deadline(None);
    /// assert_eq!(scope.deadline(), None);
    /// ```
    pub fn set_deadline(&self, deadline: impl Into<Option<Instant>>) {
        self.inner.set_deadline(deadline.into());
    }

    /// The absolute deadline, if any; a relative one reads `None` until the
    /// scope's first poll fixes it.
    pub fn deadline(&self) -> Option<Instant> {
        self.inner.deadline()
    }

    /// Whether this scope was cancelled — by [`cancel`](Self::cancel) or by
    /// its deadline — not counting cancellation of enclosing scopes.
    ///
    /// ```
    /// let scope = keen::scope::CancelScope::new();
    /// assert!(!scope.is_cancelled());
    /// scope.cancel();
    /// assert!(scope.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.inner.is_cancelled()
    }

    /// Whether this scope caught a cancellation: its `run` returned
    /// `Err(Cancelled)`. False on inner scopes whose body an outer scope
    /// dropped.
    ///
    /// ```
    /// let scope = keen::scope::CancelScope::new();
    /// assert!(!scope.cancelled_caught());
    /// ```
    pub fn cancelled_caught(&self) -> bool {
        self.inner.cancelled_caught()
    }

    /// Shields the body from cancellation of enclosing scopes (not from this
    /// scope's own). Can be toggled while the body runs.
    ///
    /// ```
    /// let scope = keen::scope::CancelScope::new();
    /// scope.set_shield(true);
    /// assert!(scope.is_shielded());
    /// ```
    pub fn set_shield(&self, shield: bool) {
        self.inner.set_shield(shield);
    }

    /// Whether the scope is shielded.
    pub fn is_shielded(&self) -> bool {
        self.inner.is_shielded()
    }

    /// Runs `body` inside this scope: `Ok(output)` if it completes,
    /// `Err(Cancelled)` if this scope catches a cancellation. A scope runs
    /// one body; polling a second `run` of the same scope panics.
    pub fn run<F: Future>(&self, body: F) -> Run<F> {
        Run::new(self.clone(), body)
    }

    /// Whether both handles refer to the same scope.
    pub fn ptr_eq(&self, other: &CancelScope) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Default for CancelScope {
    fn default() -> CancelScope {
        CancelScope::new()
    }
}

impl fmt::Debug for CancelScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelScope")
            .field("id", &self.inner.id())
            .field("cancelled", &self.is_cancelled())
            .field("shield", &self.is_shielded())
            .field("deadline", &self.deadline())
            .finish()
    }
}

/// Why a scope caught a cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CancelReason {
    /// [`CancelScope::cancel`] was called on the catching scope.
    Explicit,
    /// The catching scope's own deadline passed.
    Deadline,
    /// An enclosing scope was cancelled and is not polling this one (for
    /// example a task group's scope, from a child task).
    Parent,
}

/// Error of [`CancelScope::run`]: the body was cancelled and dropped.
#[derive(Clone)]
pub struct Cancelled {
    reason: CancelReason,
    scope: CancelScope,
}

impl Cancelled {
    pub(crate) fn new(reason: CancelReason, scope: CancelScope) -> Cancelled {
        Cancelled { reason, scope }
    }

    /// Why.
    pub fn reason(&self) -> CancelReason {
        self.reason
    }

    /// The scope that caught the cancellation.
    pub fn scope(&self) -> &CancelScope {
        &self.scope
    }

    /// Whether the catching scope's own deadline caused it.
    pub fn is_deadline(&self) -> bool {
        self.reason == CancelReason::Deadline
    }
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled")
            .field("reason", &self.reason)
            .field("scope", &self.scope.inner.id())
            .finish()
    }
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.reason {
            CancelReason::Explicit => "cancel() was called",
            CancelReason::Deadline => "its deadline passed",
            CancelReason::Parent => "an enclosing scope was cancelled",
        };
        write!(
            f,
            "cancel scope {:#x} caught a cancellation: {why}",
            self.scope.inner.id()
        )
    }
}

impl std::error::Error for Cancelled {}
