//! [`LazyRun`]: the scope behind [`timeout`] (offered as
//! `keen::time::timeout`, with tokio's signatures; defined at the bottom of
//! this file), [`move_on_after`](super::move_on_after) and the other
//! deadline forms, which becomes a real [`ScopeInner`] only when something
//! needs one. A timeout is thus a cancel scope with a deadline and obeys the
//! scope rules (attribution, shields, eager children) like every other
//! deadline; to move or cancel one from elsewhere, use
//! [`CancelScope::with_timeout`](crate::scope::CancelScope::with_timeout)
//! and its `run`.
//!
//! Most timeouts are outermost in their task and have no scope inside them.
//! For those, a scope's machinery (a shared allocation, its mutex, parent and
//! child links) buys nothing: the deadline can be a plain timer entry that
//! wakes the task, like a [`Sleep`], checked once the body is pending. So a
//! `LazyRun` first polled with no enclosing scope stays *lazy*: it polls its
//! body with a *tagged* pointer to its own cell in the thread's scope slot,
//! and fixes its deadline when the body is first pending (see below). Whatever asks that slot for the enclosing scope
//! — a scope, timeout or shield entered inside the body — *materialises* it
//! ([`materialize`]): a real scope is created and entered with the same
//! deadline and no parent (there was none), the lazy timer is removed (the
//! scope registers its own when the body is next pending), and from then on
//! the run behaves exactly as [`CancelScope::run`](super::CancelScope::run).
//! A `LazyRun` first polled inside another scope is a real scope at once.
//!
//! Nothing observable differs but one timing detail: with no scope around it
//! and none inside, the only cancellation a scope can ever see is its own
//! deadline, and the lazy form delivers that at the same point (the first
//! suspension of the body after the deadline has passed and its timer
//! fired, or at once for a deadline already past at the first poll). The
//! detail: on the real clock a lazy run with a relative deadline reads the
//! clock when its body is first pending, not before the body's first poll,
//! so a body ready at once never reads it (`timeout_ready` in
//! `benches/time.rs`: 32 → 15 ns); its deadline starts later than a real
//! scope's would by the length of that first body poll, never earlier. On
//! a paused clock, where a body's first poll can move time (`advance`),
//! the clock is read at the first poll as before, so paused tests see the
//! same instants as a real scope.
//!
//! The first poll of the common case (a relative, non-zero deadline, no
//! scope around it) does not even find the runtime's clock to learn that it
//! is not paused: while no clock in the process is paused (a count kept by
//! `time/clock.rs`) it only checks that a runtime is current (one
//! thread-local word), so it panics outside one exactly as the full check
//! would. With any clock paused somewhere it asks its own runtime's clock.
//! A timeout around a ready body costs 60 instructions (`.ci/callgrind
//! timeout_ready`; 144 before this path).

use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use keen_scheduler::context::{PollSlotGuard, poll_slot};
use pin_project_lite::pin_project;

use super::CancelReason;
use super::inner::{DEADLINE_OUTSIDE, Deadline, ScopeInner};
use super::run::{
    POLLED_AFTER_COMPLETION, clear, current_inner, deliver, drop_body, finish, poll_body,
    poll_scoped,
};
use crate::context;
use crate::time::driver::TimeShared;
use crate::time::{Instant, Sleep};
use crate::time::{clock, current};

/// Low bit of a scope-slot pointer that marks a [`LazyCell`] (both it and
/// `ScopeInner` are at least 8-byte aligned, so real pointers have it clear).
const LAZY_TAG: usize = 1;

pin_project! {
    /// A body under a deadline, scoped lazily; resolves to `Err(Deadline)`
    /// when its scope caught a cancellation (`Parent` in the rare case of a
    /// materialised run moved away from its parent).
    pub(crate) struct LazyRun<F> {
        cell: LazyCell,
        #[pin]
        body: Option<F>,
    }

    impl<F> PinnedDrop for LazyRun<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Scope::Real { inner, entered: true } = &*this.cell.scope {
                drop_body(inner, this.body);
            }
        }
    }
}

/// The part of a [`LazyRun`] a tagged pointer in the scope slot points at.
struct LazyCell {
    /// Dropped by hand (`Drop` below), so that a cell whose state holds
    /// nothing — fresh, or deferred and never pending, as around every
    /// body ready at once — drops with one inlined check instead of a call
    /// into the state's drop glue.
    scope: ManuallyDrop<Scope>,
}

impl Drop for LazyCell {
    #[inline]
    fn drop(&mut self) {
        if self.holds_state() {
            self.drop_scope();
        }
    }
}

impl LazyCell {
    /// Whether the state holds something to drop (a timer or a scope).
    #[inline]
    fn holds_state(&self) -> bool {
        !matches!(*self.scope, Scope::Fresh { .. } | Scope::Deferred { .. })
    }

    /// Drops the state: its timer or its scope.
    #[inline(never)]
    fn drop_scope(&mut self) {
        // SAFETY: called only from `drop`, once; the cell (so `scope`) is
        // never used again after it.
        unsafe { ManuallyDrop::drop(&mut self.scope) }
    }
}

/// The states in this order, with an explicit tag (`repr(u8)`, not a niche
/// in a field): the two that hold nothing to drop first, so that
/// `LazyCell`'s drop tells them apart with one comparison of one byte.
#[repr(u8)]
enum Scope {
    /// Not polled yet, with an absolute or a zero deadline (as given).
    Fresh { deadline: Deadline },
    /// A relative deadline that is not zero, not fixed yet: not polled yet
    /// (the state such a run is made in: the kind is told apart there,
    /// where the duration is often a constant, so the first poll need not
    /// look), or its body's first poll, with no scope around it and on the
    /// real clock, is running or returned ready. The deadline is fixed when
    /// the body is first pending (the clock is read then, so a body ready
    /// at once never reads it): the run is then `Lazy` with its timer
    /// registered.
    Deferred { after: Duration },
    /// Polled with no scope around it; no scope exists.
    Lazy {
        /// The deadline's timer; registered once the body is pending.
        sleep: Sleep,
        /// The clock's reading at the first poll, until the timer is
        /// registered (a body ready at once never needs more).
        start: Option<std::time::Instant>,
        /// The deadline had passed at the first poll.
        expired: bool,
    },
    /// A real scope: made at the first poll inside another scope (not yet
    /// entered), or materialised (entered).
    Real {
        inner: Arc<ScopeInner>,
        entered: bool,
    },
}

impl<F> LazyRun<F> {
    /// A run of `body` whose deadline is `after` its first poll.
    #[inline]
    pub(crate) fn after(after: std::time::Duration, body: F) -> LazyRun<F> {
        if after.is_zero() {
            LazyRun::new(
                Scope::Fresh {
                    deadline: Deadline::After(after),
                },
                body,
            )
        } else {
            LazyRun::new(Scope::Deferred { after }, body)
        }
    }

    /// A run of `body` with deadline `at`.
    pub(crate) fn at(at: Instant, body: F) -> LazyRun<F> {
        LazyRun::new(
            Scope::Fresh {
                deadline: Deadline::At(at),
            },
            body,
        )
    }

    #[inline]
    fn new(fresh: Scope, body: F) -> LazyRun<F> {
        LazyRun {
            cell: LazyCell {
                scope: ManuallyDrop::new(fresh),
            },
            body: Some(body),
        }
    }
}

impl<F: Future> Future for LazyRun<F> {
    type Output = Result<F::Output, CancelReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let cell = this.cell;
        // Checked first, so that a poll after completion fails the same way
        // in every state (a finished `Deferred` run would otherwise redo its
        // first-poll checks before finding out).
        assert!(this.body.is_some(), "{POLLED_AFTER_COMPLETION}");
        match &*cell.scope {
            Scope::Real { .. } => {}
            Scope::Lazy { .. } => return poll_lazy(cell, this.body, cx),
            // The common first poll, decided without finding the runtime's
            // clock: no scope around it, and no clock in the process paused
            // (so neither is this runtime's), stays deferred; all that is
            // left to check is that a runtime is current, as `start` would.
            Scope::Deferred { .. } if poll_slot().is_null() && !clock::any_paused() => {
                if context::current_scheduler_id().is_none() {
                    current::no_runtime(DEADLINE_OUTSIDE)
                }
                return poll_lazy(cell, this.body, cx);
            }
            Scope::Fresh { .. } | Scope::Deferred { .. } => {
                cell.start();
                if !matches!(*cell.scope, Scope::Real { .. }) {
                    return poll_lazy(cell, this.body, cx);
                }
            }
        }
        match &mut *cell.scope {
            Scope::Real { inner, entered } => poll_scoped(inner, entered, this.body, cx),
            _ => unreachable!("a scope that is not real was polled above"),
        }
    }
}

impl LazyCell {
    /// The deadline as given, while the run is fresh (`Fresh` or
    /// `Deferred`).
    fn given_deadline(&self) -> Option<Deadline> {
        match &*self.scope {
            Scope::Fresh { deadline } => Some(*deadline),
            Scope::Deferred { after } => Some(Deadline::After(*after)),
            Scope::Lazy { .. } | Scope::Real { .. } => None,
        }
    }

    /// Replaces a fresh state (which has nothing to drop, so no drop glue
    /// is run for it) with `scope`.
    #[inline]
    fn set_started(&mut self, scope: Scope) {
        let fresh = std::mem::replace(&mut *self.scope, scope);
        debug_assert!(
            matches!(fresh, Scope::Fresh { .. } | Scope::Deferred { .. }),
            "started twice"
        );
        std::mem::forget(fresh);
    }

    /// First poll (but for the common case, which `poll` decides itself):
    /// real at once inside another scope, lazy otherwise.
    #[track_caller]
    #[inline(never)]
    fn start(&mut self) {
        let deadline = self.given_deadline().expect("started when fresh");
        if !current_inner().is_null() {
            self.set_started(Scope::Real {
                inner: Arc::new(ScopeInner::new(deadline)),
                entered: false,
            });
            return;
        }
        let paused = current::with(|t| t.map(|time| time.clock().is_paused()))
            .unwrap_or_else(|| current::no_runtime(DEADLINE_OUTSIDE));
        if let Deadline::After(after) = deadline
            && !after.is_zero()
            && !paused
        {
            // Deferred already (the state a non-zero relative deadline
            // starts in).
            return;
        }
        let now = current::with(|t| t.map(|time| time.clock().now()))
            .unwrap_or_else(|| current::no_runtime(DEADLINE_OUTSIDE));
        let at = match deadline {
            Deadline::After(after) => Instant::from_std(now).saturating_add(after),
            Deadline::At(at) => at,
            Deadline::None => unreachable!("a lazy scope always has a deadline"),
        };
        self.set_started(Scope::Lazy {
            sleep: crate::time::sleep_until(at),
            expired: at.into_std() <= now,
            start: Some(now),
        });
    }
}

/// A poll of a lazy run: the body with the cell's tagged pointer in the
/// scope slot, then the deadline's timer. Inlined up to the body's poll,
/// with the common outcome (ready, not materialised) handled here and the
/// rest in [`after_body`].
#[inline]
fn poll_lazy<F: Future>(
    cell: &mut LazyCell,
    mut body: Pin<&mut Option<F>>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, CancelReason>> {
    let tagged = ptr::from_mut(cell).map_addr(|addr| addr | LAZY_TAG);
    let polled = {
        // The scope slot's invariant (`run.rs`, `enter_scope`): the tagged
        // pointer is to this pinned future's cell, which outlives the guard
        // (a local of this poll), and no reference into the cell is held
        // while the body runs; `current_inner` (the one reader) turns it
        // back into the cell pointer.
        let _scope = PollSlotGuard::set(tagged.cast_const().cast());
        poll_body(body.as_mut(), cx)
    };
    // The body may have materialised the cell through the slot.
    if matches!(*cell.scope, Scope::Real { .. }) {
        return after_body(cell, body, polled, cx);
    }
    match polled {
        Poll::Ready(out) => {
            clear(body);
            Poll::Ready(Ok(out))
        }
        Poll::Pending => after_body(cell, body, Poll::Pending, cx),
    }
}

/// The rest of [`poll_lazy`]: the body is pending, or it materialised the
/// cell.
#[inline(never)]
fn after_body<F: Future>(
    cell: &mut LazyCell,
    body: Pin<&mut Option<F>>,
    polled: Poll<F::Output>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, CancelReason>> {
    match (&mut *cell.scope, polled) {
        (Scope::Real { inner, .. }, Poll::Ready(out)) => {
            finish(inner, body);
            Poll::Ready(Ok(out))
        }
        (Scope::Real { inner, .. }, Poll::Pending) => deliver(inner, ptr::null(), body, cx),
        (_, Poll::Ready(out)) => {
            clear(body);
            Poll::Ready(Ok(out))
        }
        (
            Scope::Lazy {
                sleep,
                start,
                expired,
            },
            Poll::Pending,
        ) => {
            // After the runtime shut down no timer will ever fire: the
            // deadline counts as passed (a real scope is cancelled then too).
            let due = match start.take() {
                Some(_) if *expired => true,
                Some(now) => {
                    let time = runtime_time();
                    time.is_shutdown() || sleep.register_with(time, now, cx).is_ready()
                }
                None => sleep.is_shut_down() || sleep.poll_deadline(cx).is_ready(),
            };
            if !due {
                return Poll::Pending;
            }
            clear(body);
            Poll::Ready(Err(CancelReason::Deadline))
        }
        (&mut Scope::Deferred { after }, Poll::Pending) => {
            // First pending: the deadline is fixed now, and from here on the
            // run is lazy with its timer registered.
            let time = runtime_time();
            let now = time.clock().now();
            let sleep = crate::time::sleep_until(Instant::from_std(now).saturating_add(after));
            cell.set_started(Scope::Lazy {
                sleep,
                start: None,
                expired: false,
            });
            let Scope::Lazy { sleep, .. } = &mut *cell.scope else {
                unreachable!("just set")
            };
            let due = time.is_shutdown() || sleep.register_with(time, now, cx).is_ready();
            if !due {
                return Poll::Pending;
            }
            clear(body);
            Poll::Ready(Err(CancelReason::Deadline))
        }
        (Scope::Fresh { .. }, Poll::Pending) => {
            unreachable!("started before the body is polled")
        }
    }
}

/// The runtime's timers: the body is pending, so a timer is needed now. We
/// are still inside the poll whose start found them.
#[track_caller]
fn runtime_time() -> Arc<TimeShared> {
    current::expect(DEADLINE_OUTSIDE)
}

/// Whether a scope-slot pointer is a lazy cell's.
pub(super) fn is_lazy(slot: *const ()) -> bool {
    slot.addr() & LAZY_TAG != 0
}

/// Turns the lazy cell behind a tagged slot pointer into a real, entered
/// scope (once) and returns that scope.
///
/// # Safety
/// `slot` is a tagged pointer [`poll_lazy`] installed in this thread's scope
/// slot, read while that body poll is running further up the stack.
pub(super) unsafe fn materialize(slot: *const ()) -> *const ScopeInner {
    let cell = slot.map_addr(|addr| addr & !LAZY_TAG).cast::<LazyCell>();
    // SAFETY: by the contract, `cell` points to the cell of a `LazyRun`
    // whose `poll_lazy` is running on this thread and holds no reference
    // into the cell while its body runs (it derived `slot` from its `&mut`),
    // so this is the only live access; nothing below re-enters the cell.
    let cell = unsafe { &mut *cell.cast_mut() };
    let at = match &*cell.scope {
        Scope::Lazy { sleep, .. } => Some(sleep.deadline()),
        // Materialised during the body's first poll: the deadline is fixed
        // now, a little after the poll began, as it would be once pending.
        Scope::Deferred { after } => {
            Some(Instant::from_std(runtime_time().clock().now()).saturating_add(*after))
        }
        Scope::Fresh { .. } | Scope::Real { .. } => None,
    };
    if let Some(at) = at {
        let inner = Arc::new(ScopeInner::new(Deadline::At(at)));
        // No parent: the run was lazy because none enclosed it. A deadline
        // already past cancels at once, as at any entry.
        inner.enter(None);
        let lazy = std::mem::replace(
            &mut *cell.scope,
            Scope::Real {
                inner,
                entered: true,
            },
        );
        // Dropping the lazy state removes its timer; done once the cell is
        // consistent again.
        drop(lazy);
    }
    match &*cell.scope {
        Scope::Real { inner, .. } => Arc::as_ptr(inner),
        Scope::Fresh { .. } | Scope::Lazy { .. } | Scope::Deferred { .. } => {
            unreachable!("lazy cells are tagged once started")
        }
    }
}

impl<F> fmt::Debug for LazyRun<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mode, deadline) = match &*self.cell.scope {
            Scope::Fresh { deadline } => ("fresh", *deadline),
            Scope::Deferred { after } => ("deferred", Deadline::After(*after)),
            Scope::Lazy { sleep, .. } => ("lazy", Deadline::At(sleep.deadline())),
            Scope::Real { inner, .. } => (
                "real",
                inner.deadline().map_or(Deadline::None, Deadline::At),
            ),
        };
        f.debug_struct("LazyRun")
            .field("deadline", &deadline)
            .field("scope", &mode)
            .finish_non_exhaustive()
    }
}

// ---- `timeout` and `timeout_at`: tokio's names over a lazy scope --------

/// Runs `future` with a time limit: `Err(Elapsed)` if it is still pending
/// when `duration` has passed since the first poll. The future is polled
/// before the deadline is checked, so a future that is ready at once returns
/// `Ok` even with `Duration::ZERO`; no timer is registered unless the future
/// is pending. (Precisely: on the real clock the duration counts from the
/// end of the future's first poll, when it was first pending — a future
/// ready at once never reads the clock; on a paused clock, from the start
/// of the first poll. Never earlier than tokio's, which counts from the
/// call to `timeout`.)
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
