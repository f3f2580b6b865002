//! A cancel scope's shared state ([`ScopeInner`]) and the rules that act on
//! it: effective cancellation up the parent chain, waking everything pending
//! under a cancelled scope, the deadline's timer entry, shield accounting.
//!
//! The deadline's timer is a [`Waker`] made from the scope itself (the timer
//! driver knows only wakers). When woken it checks that its deadline's tick
//! has really been reached (or the runtime shut down), so a timer that fired
//! after the deadline moved later is a no-op, whatever timer it was.
//!
//! Lock order: a scope's `state` before the timer wheel; a parent's `state`
//! is only taken with no other lock held. Wakers run with no lock held.

use std::ptr;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Weak};
use std::task::{Wake, Waker};
use std::time::Duration;

use keen_timer_wheel::TimerKey;
use slab::Slab;

use super::CancelReason;
use crate::loom::{AtomicBool, AtomicPtr, AtomicU8, AtomicUsize, Mutex};
use crate::time::Instant;
use crate::time::current;
use crate::time::driver::TimeShared;

const NOT_CANCELLED: u8 = 0;
const EXPLICIT: u8 = 1;
const DEADLINE: u8 = 2;

/// The state every clone of one `CancelScope` shares.
pub(crate) struct ScopeInner {
    /// Why this scope itself was cancelled (`NOT_CANCELLED`, `EXPLICIT`,
    /// `DEADLINE`); sticky once set.
    cancel: AtomicU8,
    shield: AtomicBool,
    caught: AtomicBool,
    /// Holds on this scope's catching: shielded scopes with a pending body
    /// somewhere inside it, and task groups inside it with live children.
    /// While any, a cancelled scope keeps polling instead of catching.
    shields_inside: AtomicUsize,
    /// The scope that was innermost when this one was entered: null, or a
    /// strong count (from `Arc::into_raw`) this scope owns, set once at
    /// entry and released when this scope drops.
    parent: AtomicPtr<ScopeInner>,
    state: Mutex<State>,
}

/// What a deadline is, before and after entry.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Deadline {
    None,
    /// Relative: fixed when the scope is entered.
    After(Duration),
    At(Instant),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Idle,
    Entered,
    Exited,
}

struct State {
    phase: Phase,
    deadline: Deadline,
    /// The runtime's timers, once a deadline needed them.
    time: Option<Arc<TimeShared>>,
    timer: Option<TimerKey>,
    /// Waker of the latest `Pending` poll of the body; set once armed.
    waker: Option<Waker>,
    /// Entered scopes under this one that are pending, to wake on cancel.
    children: Slab<Weak<ScopeInner>>,
    /// Our key in the parent's `children`, once registered.
    child_key: Option<usize>,
    /// Whether this scope counts in its ancestors' `shields_inside`.
    shield_counted: bool,
}

impl ScopeInner {
    pub(crate) fn new(deadline: Deadline) -> ScopeInner {
        ScopeInner {
            cancel: AtomicU8::new(NOT_CANCELLED),
            shield: AtomicBool::new(false),
            caught: AtomicBool::new(false),
            shields_inside: AtomicUsize::new(0),
            parent: AtomicPtr::new(ptr::null_mut()),
            state: Mutex::new(State {
                phase: Phase::Idle,
                deadline,
                time: None,
                timer: None,
                waker: None,
                children: Slab::new(),
                child_key: None,
                shield_counted: false,
            }),
        }
    }

    /// Why this scope itself was cancelled, if it was.
    pub(crate) fn own_reason(&self) -> Option<CancelReason> {
        match self.cancel.load(SeqCst) {
            EXPLICIT => Some(CancelReason::Explicit),
            DEADLINE => Some(CancelReason::Deadline),
            _ => None,
        }
    }

    /// Cancelled itself, or (unless shielded) through its parent.
    pub(crate) fn effective_reason(&self) -> Option<CancelReason> {
        if let Some(reason) = self.own_reason() {
            return Some(reason);
        }
        let mut scope = self;
        loop {
            if scope.shield.load(SeqCst) {
                return None;
            }
            scope = scope.parent()?;
            if scope.own_reason().is_some() {
                return Some(CancelReason::Parent);
            }
        }
    }

    /// Whether this scope or an ancestor its cancellation reaches is
    /// cancelled, or is about to be: its deadline's tick has been reached
    /// but the timer has not been fired yet (another thread is firing the
    /// batch). Used to attribute a cancellation to the outermost scope
    /// however the firing of same-tick deadlines interleaves.
    pub(crate) fn cancelled_or_due(&self) -> bool {
        let mut scope = self;
        loop {
            if scope.own_reason().is_some() || scope.is_due() {
                return true;
            }
            if scope.is_shielded() {
                return false;
            }
            match scope.parent() {
                Some(parent) => scope = parent,
                None => return false,
            }
        }
    }

    fn is_due(&self) -> bool {
        let state = self.state.lock();
        match (&state.deadline, &state.time) {
            (Deadline::At(at), Some(time)) => {
                time.clock().deadline_tick(at.into_std()) <= time.elapsed()
            }
            _ => false,
        }
    }

    pub(crate) fn parent(&self) -> Option<&ScopeInner> {
        let parent = self.parent.load(SeqCst);
        // SAFETY: a non-null `parent` is a strong count this scope holds
        // until it drops (see the field), so the parent outlives `&self`.
        unsafe { parent.as_ref() }
    }

    /// A short identifier for messages: the scope's address.
    pub(crate) fn id(&self) -> usize {
        ptr::from_ref(self).addr()
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.own_reason().is_some()
    }

    pub(crate) fn cancelled_caught(&self) -> bool {
        self.caught.load(SeqCst)
    }

    pub(crate) fn set_caught(&self) {
        self.caught.store(true, SeqCst);
    }

    pub(crate) fn shields_inside(&self) -> usize {
        self.shields_inside.load(SeqCst)
    }

    pub(crate) fn is_shielded(&self) -> bool {
        self.shield.load(SeqCst)
    }

    /// Cancels this scope for `reason` and wakes everything pending under
    /// it. Later calls keep the first reason.
    pub(crate) fn cancel(&self, reason: u8) {
        if self
            .cancel
            .compare_exchange(NOT_CANCELLED, reason, SeqCst, SeqCst)
            .is_ok()
        {
            self.wake_tree();
        }
    }

    pub(crate) fn cancel_explicit(&self) {
        self.cancel(EXPLICIT);
    }

    /// Wakes this scope's pending body and, through unshielded children,
    /// every pending body under it.
    fn wake_tree(&self) {
        let (waker, children) = {
            let state = self.state.lock();
            let children: Vec<Arc<ScopeInner>> = state
                .children
                .iter()
                .filter_map(|(_, c)| c.upgrade())
                .collect();
            (state.waker.clone(), children)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        for child in children {
            if !child.is_shielded() {
                child.wake_tree();
            }
        }
    }

    /// First poll: link to the enclosing scope and fix a relative deadline.
    ///
    /// # Panics
    /// If the scope was entered before, or has a deadline and no runtime is
    /// current.
    #[track_caller]
    pub(crate) fn enter(self: &Arc<Self>, parent: Option<Arc<ScopeInner>>) {
        let mut state = self.state.lock();
        assert!(
            state.phase == Phase::Idle,
            "a CancelScope runs one body: this scope was already entered"
        );
        state.phase = Phase::Entered;
        if let Some(parent) = parent {
            self.parent.store(Arc::into_raw(parent).cast_mut(), SeqCst);
        }
        // Kept even without a deadline, so `set_deadline` from any thread
        // later finds the runtime's wheel and clock.
        let time = current::with(|t| t.cloned());
        if let Deadline::None = state.deadline {
            state.time = time;
            return;
        }
        let time = time.unwrap_or_else(|| current::no_runtime(DEADLINE_OUTSIDE));
        let now = Instant::from_std(time.clock().now());
        let deadline = match state.deadline {
            Deadline::After(d) => now.saturating_add(d),
            Deadline::At(at) => at,
            Deadline::None => unreachable!(),
        };
        state.deadline = Deadline::At(deadline);
        state.time = Some(time);
        drop(state);
        if deadline <= now {
            self.cancel(DEADLINE);
        }
    }

    /// The body is pending and not cancelled: remember the waker, register
    /// with the parent (so its cancellation wakes us), count a shield, and
    /// put the deadline in the wheel. The expensive parts run once.
    pub(crate) fn arm(self: &Arc<Self>, waker: &Waker) {
        let mut state = self.state.lock();
        let first = state.waker.is_none();
        match &mut state.waker {
            Some(w) if w.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        if !first {
            return;
        }
        let passed = self.arm_timer(&mut state);
        let shield = self.is_shielded();
        state.shield_counted = shield;
        if shield {
            // Under the lock (an increment takes no other lock), so a
            // `set_shield(false)` that reads `shield_counted` next always
            // decrements after this increment.
            self.count_shield(true);
        }
        drop(state);
        // The caller reads the cancellation state after this returns, so a
        // parent cancelled from now on finds us in its child list.
        if let Some(parent) = self.parent() {
            let key = parent.state.lock().children.insert(Arc::downgrade(self));
            self.state.lock().child_key = Some(key);
        }
        if passed {
            self.cancel(DEADLINE);
        }
    }

    /// Puts the deadline in the wheel if it has one and is not there yet.
    /// Returns `true` if the runtime has shut down: no driver will ever
    /// fire a timer, so the deadline counts as passed and the caller
    /// cancels the scope once the lock is released.
    #[must_use]
    fn arm_timer(self: &Arc<Self>, state: &mut State) -> bool {
        if state.timer.is_some() || self.is_cancelled() {
            return false;
        }
        let (Deadline::At(at), Some(time)) = (state.deadline, &state.time) else {
            return false;
        };
        if time.is_shutdown() {
            return true;
        }
        let tick = time.clock().deadline_tick(at.into_std());
        state.timer = Some(time.insert(tick, Waker::from(self.clone()), None));
        false
    }

    /// A deadline timer of this scope fired (or the runtime shut down):
    /// cancel if the deadline's tick has been reached. A timer can fire
    /// after `set_deadline` moved the deadline later (taken out of the
    /// wheel to fire just before it was removed): then it is not due.
    fn deadline_timer_fired(&self) {
        let removed = {
            let mut state = self.state.lock();
            let (Deadline::At(at), Some(time)) = (state.deadline, state.time.clone()) else {
                return;
            };
            let due =
                time.is_shutdown() || time.elapsed() >= time.clock().deadline_tick(at.into_std());
            if !due {
                return;
            }
            // The current timer, if it is not the one that fired, is done too.
            state.timer.take().and_then(|key| time.remove(key))
        };
        drop(removed);
        self.cancel(DEADLINE);
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        match self.state.lock().deadline {
            Deadline::At(at) => Some(at),
            Deadline::None | Deadline::After(_) => None,
        }
    }

    /// Replaces the deadline; once entered, re-registers it at once.
    pub(crate) fn set_deadline(self: &Arc<Self>, deadline: Option<Instant>) {
        let mut state = self.state.lock();
        state.deadline = deadline.map_or(Deadline::None, Deadline::At);
        if state.phase != Phase::Entered {
            return;
        }
        let old = state.timer.take();
        let removed = old.and_then(|key| state.time.as_ref()?.remove(key));
        let Some(at) = deadline else {
            drop(state);
            drop(removed);
            return;
        };
        let Some(time) = state.time.clone() else {
            drop(state);
            current::no_runtime(DEADLINE_OUTSIDE)
        };
        let mut expired = at.into_std() <= time.clock().now();
        if !expired && state.waker.is_some() {
            expired = self.arm_timer(&mut state);
        }
        drop(state);
        drop(removed);
        if expired {
            self.cancel(DEADLINE);
        }
    }

    pub(crate) fn set_shield(self: &Arc<Self>, shield: bool) {
        if self.shield.swap(shield, SeqCst) == shield {
            return;
        }
        let release = {
            let mut state = self.state.lock();
            let armed = state.phase == Phase::Entered && state.waker.is_some();
            let recount = armed && state.shield_counted != shield;
            if recount {
                state.shield_counted = shield;
                if shield {
                    // Increments under the lock, releases after it: a
                    // release never overtakes the increment it undoes.
                    self.count_shield(true);
                }
            }
            recount && !shield
        };
        if release {
            self.count_shield(false);
        }
        if !shield && self.effective_reason().is_some() {
            // Outer cancellation now reaches the body.
            self.wake_tree();
        }
    }

    /// Adds (or releases) one hold on every ancestor's catching; releasing
    /// the last hold on a cancelled ancestor wakes it so it can catch.
    pub(crate) fn count_shield(&self, add: bool) {
        let mut scope = self.parent();
        while let Some(s) = scope {
            if add {
                s.shields_inside.fetch_add(1, SeqCst);
            } else if s.shields_inside.fetch_sub(1, SeqCst) == 1 && s.effective_reason().is_some() {
                // The last shield inside a cancelled scope is done: that
                // scope may catch now (it may be polled by another task).
                let waker = s.state.lock().waker.clone();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            scope = s.parent();
        }
    }

    /// The body finished or was dropped: deregister everything.
    pub(crate) fn exit(self: &Arc<Self>) {
        let (removed, waker, child_key, shield_counted) = {
            let mut state = self.state.lock();
            if state.phase != Phase::Entered {
                return;
            }
            state.phase = Phase::Exited;
            let removed = match (state.timer.take(), &state.time) {
                (Some(key), Some(time)) => time.remove(key),
                _ => None,
            };
            let shield_counted = std::mem::take(&mut state.shield_counted);
            (
                removed,
                state.waker.take(),
                state.child_key.take(),
                shield_counted,
            )
        };
        if shield_counted {
            self.count_shield(false);
        }
        if let (Some(key), Some(parent)) = (child_key, self.parent()) {
            parent.state.lock().children.try_remove(key);
        }
        drop(removed);
        drop(waker);
    }
}

impl Drop for ScopeInner {
    fn drop(&mut self) {
        // A load, not `get_mut`: loom's atomics have no `get_mut`.
        let parent = self.parent.load(SeqCst);
        if !parent.is_null() {
            // SAFETY: the pointer came from `Arc::into_raw` in `enter` and
            // this scope owns that count; it is released exactly once, here.
            drop(unsafe { Arc::from_raw(parent) });
        }
    }
}

/// A deadline timer is a waker of its scope: waking it checks the deadline.
impl Wake for ScopeInner {
    fn wake(self: Arc<Self>) {
        self.deadline_timer_fired();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.deadline_timer_fired();
    }
}

/// What the panic of a deadline outside a runtime names.
pub(crate) const DEADLINE_OUTSIDE: &str = "a CancelScope with a deadline entered";
