//! Cancel scopes driven from other threads, on every runtime configuration:
//! `cancel()` from a plain `std::thread`, from a `spawn_blocking` closure and
//! from several threads at once while the body is pending on something that
//! never completes; `set_deadline` and `set_shield` from a plain thread, on
//! the real and on the paused clock. Every hand-over is a channel message or
//! a `Trigger`; where a lost wake-up would hang, a watchdog cancels the scope
//! after a generous wall-clock limit so the test fails on its reason check
//! instead of hanging.

use std::future::pending;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use keen::scope::{CancelReason, CancelScope};
use keen::time::Instant;
use keen_suite::{ALL, DropCounter, each, panic_message, run_in_task};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

/// Cancels a scope if not stopped within `LIMIT` of wall-clock time: turns a
/// lost wake-up into an `Explicit` cancellation the test then reports.
struct Watchdog {
    stop: mpsc::Sender<()>,
    thread: thread::JoinHandle<bool>,
}

impl Watchdog {
    const LIMIT: Duration = Duration::from_secs(5);

    fn new(scope: &CancelScope) -> Watchdog {
        let scope = scope.clone();
        let (stop, stopped) = mpsc::channel();
        let thread = thread::spawn(move || match stopped.recv_timeout(Self::LIMIT) {
            Err(RecvTimeoutError::Timeout) => {
                scope.cancel();
                true
            }
            _ => false,
        });
        Watchdog { stop, thread }
    }

    /// Stops the watchdog; whether it had to cancel the scope.
    fn fired(self) -> bool {
        let _ = self.stop.send(());
        self.thread.join().unwrap()
    }
}

/// `scope.set_deadline(deadline)` for a plain thread: if it panics, the
/// scope is cancelled first so the test fails on the panic at once instead
/// of waiting for the watchdog.
fn set_deadline_or_cancel(scope: &CancelScope, deadline: Option<Instant>) {
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| scope.set_deadline(deadline)));
    if let Err(payload) = outcome {
        scope.cancel();
        std::panic::resume_unwind(payload);
    }
}

/// Joins a helper thread, failing with its panic message if it panicked.
fn join_helper<T>(helper: thread::JoinHandle<T>, what: &str) -> T {
    helper.join().unwrap_or_else(|payload| {
        panic!(
            "{what} panicked on a plain thread: {}",
            panic_message(&*payload)
        )
    })
}

#[test]
fn cancel_from_a_plain_thread_drops_the_pending_body() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let scope = CancelScope::new();
        let drops = DropCounter::new();
        let (pending_tx, pending_rx) = mpsc::channel();
        let s = scope.clone();
        let canceller = thread::spawn(move || {
            pending_rx.recv().unwrap();
            s.cancel();
        });
        let (s, token, d) = (scope.clone(), drops.token(), drops.clone());
        let (result, drops_on_return) = run_in_task(&rt, async move {
            let r = s
                .run(async move {
                    let _token = token;
                    pending_tx.send(()).unwrap();
                    pending::<()>().await
                })
                .await;
            (r, d.get())
        });
        join_helper(canceller, "cancel");
        assert_eq!(result.unwrap_err().reason(), CancelReason::Explicit);
        assert_eq!(drops_on_return, 1, "the body is dropped before run returns");
        assert_eq!(drops.get(), 1);
        assert!(scope.cancelled_caught());
    });
}

#[test]
fn cancel_from_a_plain_thread_reaches_a_body_inside_an_inner_scope() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (outer, inner) = (CancelScope::new(), CancelScope::new());
        let (pending_tx, pending_rx) = mpsc::channel();
        let o = outer.clone();
        let canceller = thread::spawn(move || {
            pending_rx.recv().unwrap();
            o.cancel();
        });
        let (o, i) = (outer.clone(), inner.clone());
        let result = run_in_task(&rt, async move {
            o.run(async {
                let _ = i
                    .run(async {
                        pending_tx.send(()).unwrap();
                        pending::<()>().await
                    })
                    .await;
                unreachable!("the outer scope drops the inner run");
            })
            .await
        });
        join_helper(canceller, "cancel");
        assert_eq!(result.unwrap_err().reason(), CancelReason::Explicit);
        assert!(outer.cancelled_caught() && !inner.cancelled_caught());
    });
}

#[test]
fn cancel_from_a_blocking_closure() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let drops = DropCounter::new();
        let token = drops.token();
        let result = run_in_task(&rt, async move {
            let scope = CancelScope::new();
            let (pending_tx, pending_rx) = mpsc::channel();
            let s = scope.clone();
            let blocking = keen::spawn_blocking(move || {
                pending_rx.recv().unwrap();
                s.cancel();
            });
            let r = scope
                .run(async move {
                    let _token = token;
                    pending_tx.send(()).unwrap();
                    pending::<()>().await
                })
                .await;
            blocking.await.expect("the blocking closure does not panic");
            (r.map_err(|c| c.reason()), scope.cancelled_caught())
        });
        assert_eq!(result, (Err(CancelReason::Explicit), true));
        assert_eq!(drops.get(), 1);
    });
}

#[test]
fn many_threads_cancelling_many_scopes_at_once() {
    const TASKS: usize = 64;
    const THREADS: usize = 4;
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let scopes: Vec<CancelScope> = (0..TASKS).map(|_| CancelScope::new()).collect();
        let drops = DropCounter::new();
        let (pending_tx, pending_rx) = mpsc::channel();
        let handles: Vec<_> = scopes
            .iter()
            .map(|scope| {
                let (scope, tx, token) = (scope.clone(), pending_tx.clone(), drops.token());
                rt.spawn(async move {
                    scope
                        .run(async move {
                            let _token = token;
                            tx.send(()).unwrap();
                            pending::<()>().await
                        })
                        .await
                        .map_err(|c| c.reason())
                })
            })
            .collect();
        // Every body is pending (or about to be) before anyone cancels;
        // then every thread cancels every scope, racing one another. A
        // coordinator waits for that, as a current-thread runtime only runs
        // the tasks inside the `block_on` below.
        let all = scopes.clone();
        let coordinator = thread::spawn(move || {
            for _ in 0..TASKS {
                pending_rx.recv().unwrap();
            }
            let cancellers: Vec<_> = (0..THREADS)
                .map(|_| {
                    let scopes = all.clone();
                    thread::spawn(move || scopes.iter().for_each(CancelScope::cancel))
                })
                .collect();
            for canceller in cancellers {
                join_helper(canceller, "cancel");
            }
        });
        let results = rt.block_on(async {
            let mut results = Vec::new();
            for handle in handles {
                results.push(handle.await.expect("no task panics"));
            }
            results
        });
        join_helper(coordinator, "the coordinator");
        assert!(results.iter().all(|r| *r == Err(CancelReason::Explicit)));
        assert_eq!(drops.get(), TASKS);
        assert!(scopes.iter().all(CancelScope::cancelled_caught));
    });
}

/// Runs a pending body in `scope` on the real clock while a plain thread
/// moves its deadline to 20 ms from now; the scope must catch that deadline,
/// no earlier than 20 ms after it was set.
fn set_deadline_from_a_plain_thread(cfg: keen_suite::Config, scope: CancelScope) {
    let rt = cfg.build();
    let watchdog = Watchdog::new(&scope);
    let (pending_tx, pending_rx) = mpsc::channel::<()>();
    let s = scope.clone();
    let setter = thread::spawn(move || {
        pending_rx.recv().unwrap();
        let start = std::time::Instant::now();
        set_deadline_or_cancel(&s, Some(Instant::now() + 20 * MS));
        start
    });
    let s = scope.clone();
    let (result, end) = run_in_task(&rt, async move {
        let r = s
            .run(async move {
                pending_tx.send(()).unwrap();
                pending::<()>().await
            })
            .await;
        (r.map_err(|c| c.reason()), std::time::Instant::now())
    });
    let set_at = join_helper(setter, "set_deadline");
    let fired = watchdog.fired();
    assert!(
        !fired,
        "the moved deadline never fired (lost wake-up): {result:?}"
    );
    assert_eq!(result, Err(CancelReason::Deadline));
    assert!(end.duration_since(set_at) >= 20 * MS, "never early");
    assert!(scope.cancelled_caught());
    assert_eq!(rt.metrics().timers, 0);
}

#[test]
fn set_deadline_from_a_plain_thread_on_a_scope_with_a_deadline() {
    each(&ALL, |cfg| {
        set_deadline_from_a_plain_thread(cfg, CancelScope::with_timeout(HOUR));
    });
}

#[test]
fn set_deadline_from_a_plain_thread_on_a_scope_entered_without_one() {
    // "Cancelling or changing a deadline works from any thread" — including
    // giving a deadline to a scope that was entered without one.
    each(&ALL, |cfg| {
        set_deadline_from_a_plain_thread(cfg, CancelScope::new());
    });
}

#[test]
fn set_deadline_from_a_plain_thread_uses_the_runtimes_paused_clock() {
    // The new deadline is 1 ms ahead on the runtime's paused clock but
    // already behind the real clock of the thread that sets it. It belongs
    // to the runtime's clock: the scope must be cancelled when the paused
    // clock reaches it, not at once. A blocking closure in flight holds the
    // paused clock still until the deadline is set.
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let scope = CancelScope::with_timeout(HOUR);
        let watchdog = Watchdog::new(&scope);
        let (start_tx, start_rx) = mpsc::channel::<Instant>();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let s = scope.clone();
        let setter = thread::spawn(move || {
            let deadline = start_rx.recv().unwrap() + MS;
            while std::time::Instant::now() <= deadline.into_std() {
                thread::yield_now();
            }
            set_deadline_or_cancel(&s, Some(deadline));
            release_tx.send(()).unwrap();
        });
        let s = scope.clone();
        let (result, elapsed) = run_in_task(&rt, async move {
            let start = Instant::now();
            let holder = keen::spawn_blocking(move || release_rx.recv().unwrap());
            let r = s
                .run(async move {
                    start_tx.send(start).unwrap();
                    pending::<()>().await
                })
                .await;
            holder.await.expect("the blocking closure does not panic");
            (r.map_err(|c| c.reason()), start.elapsed())
        });
        join_helper(setter, "set_deadline");
        assert!(
            !watchdog.fired(),
            "the moved deadline never fired: {result:?}"
        );
        assert_eq!(result, Err(CancelReason::Deadline));
        assert_eq!(
            elapsed, MS,
            "cancelled when the paused clock reached the deadline"
        );
    });
}

#[test]
fn set_deadline_from_a_plain_thread_wakes_an_idle_paused_runtime() {
    // The scope's timer was removed inside the body, so the paused runtime
    // has nothing to auto-advance to and goes to sleep. A deadline set from
    // a plain thread must still fire once the paused clock gets there.
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let scope = CancelScope::with_timeout(HOUR);
        let watchdog = Watchdog::new(&scope);
        let (start_tx, start_rx) = mpsc::channel::<(Instant, u64)>();
        let handle = rt.handle().clone();
        let s = scope.clone();
        let setter = thread::spawn(move || {
            let (start, parks) = start_rx.recv().unwrap();
            // Let the runtime park first when it will (not needed for the
            // test to pass; it makes a missed wake-up show).
            while handle.metrics().parks == parks {
                thread::yield_now();
            }
            set_deadline_or_cancel(&s, Some(start + HOUR));
        });
        let (s, handle) = (scope.clone(), rt.handle().clone());
        let (result, elapsed) = run_in_task(&rt, async move {
            let start = Instant::now();
            let r = s
                .run(async {
                    s.set_deadline(None);
                    start_tx.send((start, handle.metrics().parks)).unwrap();
                    pending::<()>().await
                })
                .await;
            (r.map_err(|c| c.reason()), start.elapsed())
        });
        join_helper(setter, "set_deadline");
        assert!(
            !watchdog.fired(),
            "the deadline set from a plain thread never fired"
        );
        assert_eq!(result, Err(CancelReason::Deadline));
        assert_eq!(elapsed, HOUR);
    });
}

#[test]
fn unshielding_from_a_plain_thread_lets_the_outer_cancellation_in() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (outer, shield) = (CancelScope::new(), CancelScope::new());
        shield.set_shield(true);
        let watchdog = Watchdog::new(&shield);
        let (pending_tx, pending_rx) = mpsc::channel();
        let sh = shield.clone();
        let unshielder = thread::spawn(move || {
            pending_rx.recv().unwrap();
            sh.set_shield(false);
        });
        let (o, sh) = (outer.clone(), shield.clone());
        let result = run_in_task(&rt, async move {
            o.run(async {
                let r = sh
                    .run(async {
                        o.cancel();
                        pending_tx.send(()).unwrap();
                        pending::<()>().await
                    })
                    .await;
                r.map_err(|c| c.reason())
            })
            .await
        });
        join_helper(unshielder, "set_shield");
        assert!(!watchdog.fired(), "unshielding did not wake the body");
        assert_eq!(result.unwrap_err().reason(), CancelReason::Explicit);
        assert!(outer.cancelled_caught() && !shield.cancelled_caught());
    });
}
