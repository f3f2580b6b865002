//! The timer driver: one per runtime, a [`Wheel`] of wakers at one
//! 10 µs (`clock::NANOS_PER_TICK`) per tick behind a mutex, stacked
//! under the scheduler as its [`Driver`].
//!
//! A timer is a [`Waker`] and nothing else: firing it wakes it. The driver
//! has no other kind of client: whatever wants to hear of a deadline makes
//! itself a waker (a `Sleep` passes its task's; the layers above build
//! their own from their state).
//!
//! Whoever parks on the driver first fires every due timer, then sleeps until
//! the next one's instant (`Driver::park_until`: the reactor below wakes
//! then precisely, see `io/timerfd.rs`) (or, on a paused clock with every thread idle, moves the
//! clock to it: auto-advance). Due timers are taken from the wheel in batches
//! under the lock and woken after it is released, so a waker that re-enters
//! the timer code (or is slow) never runs under the lock. Workers busy with
//! tasks also fire timers every `event_interval` ticks (zero-timeout parks).
//!
//! `elapsed` mirrors the wheel's tick for lock-free readers: a `Sleep` is
//! done once `elapsed` reaches its tick. It is published before each batch is
//! woken, so a woken sleeper always sees its own tick as elapsed.

use std::fmt;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Weak};
use std::task::Waker;
use std::time::Duration;

use keen_scheduler::activity::{Activity, WakeCheck};
use keen_scheduler::park::{Driver, Unparker};
use keen_timer_wheel::{TimerKey, Wheel};

use super::clock::{Clock, ticks_in};
use crate::loom::{AtomicBool, AtomicU64, Mutex};

/// Message of the panic of a timer used after its runtime shut down.
pub(crate) const SHUT_DOWN: &str =
    "a keen timer was used after its runtime shut down: sleeps and deadlines need a live runtime";

/// Timers woken per lock acquisition while firing.
const BATCH: usize = 32;

/// A timer at least this far away, inserted by a runtime
/// worker, does not wake the thread parked on the driver at once: the wake
/// is deferred until that worker's next maintenance tick or park, or any
/// runtime thread stops being busy (see `Activity::defer_wake`). Most such timers are
/// timeouts cancelled long before they fire, and the wake (a futex call, and
/// a second core contending for the wheel) was most of their cost on a
/// multi-thread runtime. Nearer timers wake the driver at once.
const DEFER: Duration = Duration::from_millis(100);
/// [`DEFER`] in ticks.
const DEFER_TICKS: u64 = ticks_in(DEFER);

/// The timer state shared by the driver, the runtime handle and every timer.
pub(crate) struct TimeShared {
    clock: Clock,
    wheel: Mutex<Wheel<Waker>>,
    /// The wheel's tick, readable without the lock.
    elapsed: AtomicU64,
    /// The tick the thread parked on the driver will wake at by itself;
    /// 0 when no thread is parked on it with a timer timeout.
    parked_until: AtomicU64,
    unparker: Unparker,
    activity: Arc<Activity>,
    shutdown: AtomicBool,
}

impl TimeShared {
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The last tick the driver has processed.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed.load(SeqCst)
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(SeqCst)
    }

    /// Registers a timer; wakes the parked driver if it must wake earlier.
    ///
    /// # Panics
    /// After the runtime shut down (no driver would ever fire it).
    /// `now`: the clock's reading, if the caller has a fresh one. Inlined:
    /// a timer's payload passed by reference into an outlined call was read
    /// back wide right after the caller's narrow stores built it (a
    /// store-forwarding stall on every timer).
    #[track_caller]
    #[inline]
    pub(crate) fn insert(
        &self,
        tick: u64,
        waker: Waker,
        now: Option<std::time::Instant>,
    ) -> TimerKey {
        assert!(!self.is_shutdown(), "{SHUT_DOWN}");
        let (key, wake) = {
            let mut wheel = self.wheel.lock();
            let key = wheel.insert(tick, waker);
            (key, tick < self.parked_until.load(SeqCst))
        };
        if wake {
            self.wake_driver(tick, now);
        }
        key
    }

    /// Moves a live timer; `false` if it already fired or was removed.
    pub(crate) fn reset(&self, key: TimerKey, tick: u64) -> bool {
        let (live, wake) = {
            let mut wheel = self.wheel.lock();
            let live = wheel.reset(key, tick);
            (live, live && tick < self.parked_until.load(SeqCst))
        };
        if wake {
            self.wake_driver(tick, None);
        }
        live
    }

    /// The thread parked on the driver sleeps past `tick`, a new timer: wake
    /// it, now or (far timers, from a worker, real clock) at the latest at
    /// that worker's next maintenance tick or park.
    fn wake_driver(&self, tick: u64, now: Option<std::time::Instant>) {
        let now_tick = match now {
            Some(now) => self.clock.tick_at(now),
            None => self.clock.now_tick(),
        };
        let far = !self.clock.is_paused() && tick >= now_tick.saturating_add(DEFER_TICKS);
        if far && self.activity.is_worker_thread() {
            self.activity.defer_wake();
        } else {
            self.unparker.unpark();
        }
    }

    /// Whether the wheel holds a timer due before the parked driver thread
    /// would wake by itself (the check behind a deferred wake).
    fn driver_sleeps_past_a_timer(&self) -> bool {
        let wheel = self.wheel.lock();
        wheel
            .next_expiration()
            .is_some_and(|next| next < self.parked_until.load(SeqCst))
    }

    /// Removes a timer, returning its waker for the caller to drop after
    /// the lock is released.
    #[must_use]
    pub(crate) fn remove(&self, key: TimerKey) -> Option<Waker> {
        self.wheel.lock().remove(key)
    }

    /// Points a sleeping timer at a new waker, if it changed. Returns
    /// `false` if the timer is no longer in the wheel: it was taken out to
    /// fire (and `elapsed` covers it), so its sleeper is done.
    #[must_use]
    pub(crate) fn update_waker(&self, key: TimerKey, waker: &Waker) -> bool {
        let (live, old) = {
            let mut wheel = self.wheel.lock();
            match wheel.get_mut(key) {
                Some(w) if !w.will_wake(waker) => (true, Some(std::mem::replace(w, waker.clone()))),
                Some(_) => (true, None),
                None => (false, None),
            }
        };
        drop(old);
        live
    }

    /// Live timers.
    pub(crate) fn len(&self) -> usize {
        self.wheel.lock().len()
    }

    /// Fires every timer due at or before `now`, in batches, waking outside
    /// the lock.
    pub(crate) fn process(&self, now: u64) -> bool {
        let mut batch: Vec<Waker> = Vec::new();
        let mut fired = false;
        loop {
            let done = {
                let mut wheel = self.wheel.lock();
                let done = loop {
                    if batch.len() == BATCH {
                        break false;
                    }
                    match wheel.poll_expired(now) {
                        Some((_key, waker)) => batch.push(waker),
                        None => break true,
                    }
                };
                self.elapsed.fetch_max(wheel.elapsed(), SeqCst);
                done
            };
            fired |= !batch.is_empty();
            for waker in batch.drain(..) {
                waker.wake();
            }
            if done {
                return fired;
            }
        }
    }

    /// Freezes the clock; from now on the driver watches for idleness.
    pub(crate) fn pause(&self) {
        self.clock.pause();
        self.activity.set_watching(true);
        // A driver parked until a real deadline must re-evaluate now.
        self.unparker.unpark();
    }

    /// Moves a paused clock forward and fires what became due.
    #[track_caller]
    pub(crate) fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.process(self.clock.now_tick());
    }

    /// The busy count the scheduler keeps for this runtime.
    pub(crate) fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    fn next_expiration(&self) -> Option<u64> {
        self.wheel.lock().next_expiration()
    }
}

impl fmt::Debug for TimeShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeShared")
            .field("clock", &self.clock)
            .field("elapsed", &self.elapsed())
            .finish_non_exhaustive()
    }
}

/// The runtime's [`Driver`]: timers over the driver below it — in a
/// runtime the I/O reactor, which blocks in `epoll_wait` (time → I/O →
/// thread park). The timer driver knows it only as a [`Driver`].
pub(crate) struct TimeDriver {
    shared: Arc<TimeShared>,
    park: Box<dyn Driver>,
}

impl TimeDriver {
    pub(crate) fn new(start_paused: bool, park: Box<dyn Driver>) -> TimeDriver {
        let unparker = park.unparker();
        let shared = Arc::new_cyclic(|me: &Weak<TimeShared>| {
            let me = me.clone();
            let check: WakeCheck = Box::new(move || {
                me.upgrade()
                    .is_some_and(|time| time.driver_sleeps_past_a_timer())
            });
            let activity = Activity::with_wake_check(unparker.clone(), Some(check));
            activity.set_watching(start_paused);
            TimeShared {
                clock: Clock::new(start_paused),
                wheel: Mutex::new(Wheel::new()),
                elapsed: AtomicU64::new(0),
                parked_until: AtomicU64::new(0),
                unparker,
                activity,
                shutdown: AtomicBool::new(false),
            }
        });
        TimeDriver { shared, park }
    }

    pub(crate) fn shared(&self) -> &Arc<TimeShared> {
        &self.shared
    }
}

impl Driver for TimeDriver {
    fn park(&mut self, timeout: Option<Duration>) {
        let shared = &*self.shared;
        let clock = &shared.clock;
        // A timer fired here may have woken a task of this very thread,
        // which does not wake the driver (see `Parker::unpark_own_turn`):
        // then this turn must not block.
        let fired = shared.process(clock.now_tick());
        if fired || timeout == Some(Duration::ZERO) {
            // Also a busy thread's maintenance turn: poll I/O, never block.
            self.park.park(Some(Duration::ZERO));
            return;
        }
        if clock.is_paused() {
            // Paused time never passes: wait for work, the idle signal, or
            // a timer inserted from outside the runtime (which, with every
            // runtime thread idle, is the next thing to advance to).
            // Published before the wheel is looked at: an insert from now on
            // sees it and unparks (a wake before the park is kept), one
            // before is found below. Published after the look (as it once
            // was), an insert in between saw 0 and this thread slept past
            // its timer (loom model `loom_insert_wakes_the_parked_driver`).
            shared.parked_until.store(u64::MAX, SeqCst);
            if shared.activity.is_idle() {
                // Readiness already in the kernel is work, not idleness:
                // only a turn that found no I/O event may jump the clock.
                if self.park.poll_now() {
                    shared.parked_until.store(0, SeqCst);
                    return;
                }
                // Every thread is parked and no wake is in flight: nothing
                // but a timer can happen next, so jump to it.
                if let Some(next) = shared.next_expiration() {
                    shared.parked_until.store(0, SeqCst);
                    clock.advance_to_tick(next);
                    shared.process(next);
                    return;
                }
            }
            self.park.park(timeout);
            shared.parked_until.store(0, SeqCst);
        } else {
            let next = {
                let wheel = shared.wheel.lock();
                let next = wheel.next_expiration();
                shared
                    .parked_until
                    .store(next.map_or(u64::MAX, |t| t.max(1)), SeqCst);
                next
            };
            // The timer's instant goes down whole, so a driver that can
            // wake at an exact instant does (the reactor's timerfd), and
            // sees the same instant again while the same timer is next.
            let timer_at = next.and_then(|tick| clock.tick_instant(tick));
            match (timeout, timer_at) {
                (None, Some(at)) => self.park.park_until(at),
                (Some(a), Some(at)) if at.saturating_duration_since(clock.now()) <= a => {
                    self.park.park_until(at);
                }
                (a, _) => self.park.park(a),
            }
            shared.parked_until.store(0, SeqCst);
        }
        shared.process(clock.now_tick());
    }

    fn unparker(&self) -> Unparker {
        self.park.unparker()
    }

    /// Fires every remaining timer: a sleeper still waiting outside the
    /// runtime (a `block_on` on another thread) wakes and its `Sleep` panics
    /// with [`SHUT_DOWN`]; any other waker sees `is_shutdown` and acts on
    /// it. Nothing that waits on a timer of this runtime can
    /// hang past its shutdown.
    fn shutdown(&mut self) {
        self.park.shutdown();
        self.shared.shutdown.store(true, SeqCst);
        let wakers: Vec<_> = {
            let mut wheel = self.shared.wheel.lock();
            std::iter::from_fn(|| wheel.poll_expired(u64::MAX)).collect()
        };
        for (_key, waker) in wakers {
            waker.wake();
        }
    }

    fn activity(&self) -> Option<Arc<Activity>> {
        Some(self.shared.activity.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{self, Receiver};
    use std::thread::{self, JoinHandle};

    use super::*;
    use keen_scheduler::park::ParkThread;

    /// Parks a fresh real-clock driver on its own thread, as an idle worker
    /// would. The receiver gets a message when that park returns.
    fn parked_driver() -> (Arc<TimeShared>, Receiver<()>, JoinHandle<TimeDriver>) {
        let mut driver = TimeDriver::new(false, Box::new(ParkThread::new()));
        let shared = driver.shared().clone();
        let (returned, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            driver.park(None);
            returned.send(()).unwrap();
            driver
        });
        // No timers: the parked thread waits for a wake, with no timeout.
        while shared.parked_until.load(SeqCst) != u64::MAX {
            thread::yield_now();
        }
        (shared, rx, thread)
    }

    fn insert_in(shared: &TimeShared, ticks: u64) -> TimerKey {
        let tick = shared.clock().now_tick() + ticks;
        shared.insert(tick, Waker::noop().clone(), None)
    }

    /// Long enough for a wake in flight to have landed.
    const SETTLE: Duration = Duration::from_millis(50);
    /// A generous bound on a wake that must come (a failure, not a hang).
    const WOKEN: Duration = Duration::from_secs(10);

    #[test]
    fn a_far_timer_from_a_busy_runtime_thread_defers_the_wake_until_paid() {
        let (shared, returned, thread) = parked_driver();
        let activity = shared.activity().clone();
        let counted = activity.thread_guard().expect("not counted yet");
        let _worker = activity.mark_worker();
        let key = insert_in(&shared, 10 * DEFER_TICKS);
        assert!(
            returned.recv_timeout(SETTLE).is_err(),
            "deferred, not woken"
        );
        activity.pay_owed_wake();
        returned
            .recv_timeout(WOKEN)
            .expect("paying the debt wakes the driver");
        drop(counted);
        drop(shared.remove(key));
        thread.join().unwrap();
    }

    #[test]
    fn leaving_busy_pays_the_debt() {
        let (shared, returned, thread) = parked_driver();
        let activity = shared.activity().clone();
        let counted = activity.thread_guard().expect("not counted yet");
        let _worker = activity.mark_worker();
        let key = insert_in(&shared, 10 * DEFER_TICKS);
        drop(counted);
        returned
            .recv_timeout(WOKEN)
            .expect("the thread stopped being busy and paid");
        drop(shared.remove(key));
        thread.join().unwrap();
    }

    #[test]
    fn a_debt_whose_timer_is_gone_is_not_paid() {
        let (shared, returned, thread) = parked_driver();
        let activity = shared.activity().clone();
        let counted = activity.thread_guard().expect("not counted yet");
        let _worker = activity.mark_worker();
        let key = insert_in(&shared, 10 * DEFER_TICKS);
        drop(shared.remove(key));
        activity.pay_owed_wake();
        assert!(
            returned.recv_timeout(SETTLE).is_err(),
            "nothing to wake for"
        );
        drop(counted);
        shared.unparker.unpark();
        returned.recv_timeout(WOKEN).unwrap();
        thread.join().unwrap();
    }

    #[test]
    fn near_timers_and_outside_threads_wake_the_driver_at_once() {
        let (shared, returned, thread) = parked_driver();
        let counted = shared.activity().thread_guard().expect("not counted yet");
        let _worker = shared.activity().mark_worker();
        let key = insert_in(&shared, DEFER_TICKS / 2);
        returned
            .recv_timeout(WOKEN)
            .expect("a near timer wakes the driver");
        drop(counted);
        drop(shared.remove(key));
        thread.join().unwrap();

        let (shared, returned, thread) = parked_driver();
        let key = insert_in(&shared, 10 * DEFER_TICKS);
        returned
            .recv_timeout(WOKEN)
            .expect("a thread outside the runtime cannot defer");
        drop(shared.remove(key));
        thread.join().unwrap();

        // Busy in the runtime but not a worker (a `block_on` thread, a
        // blocking task): no maintenance tick would pay, so no deferral.
        let (shared, returned, thread) = parked_driver();
        let counted = shared.activity().thread_guard().expect("not counted yet");
        let key = insert_in(&shared, 10 * DEFER_TICKS);
        returned.recv_timeout(WOKEN).expect("only workers defer");
        drop(counted);
        drop(shared.remove(key));
        thread.join().unwrap();
    }
}
