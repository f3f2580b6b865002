//! `keen::time::sleep` and `sleep_until` on every runtime configuration:
//! exact durations on the paused clock across the wheel's levels (at the
//! runtime's 10 µs tick and at whole milliseconds) and beyond its 2^36-tick
//! window (about 8 days; years here), `Duration::MAX` inside a short scope,
//! sub-millisecond rounding (never early), past deadlines, `Sleep::reset`
//! and `Sleep::is_elapsed`, the timer registered only while pending and
//! removed on drop, a real-clock lower bound, a far timer set by a worker
//! that stays busy (its deferred driver wake must still be paid), and the panics for polling
//! outside a runtime and after the runtime shut down.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::Duration;

use keen::scope::move_on_after;
use keen::task::yield_now;
use keen::time::{Instant, advance, sleep, sleep_until, timeout};
use keen_suite::{ALL, each, panic_message, poll_once, run_in_task, timers};

const MS: Duration = Duration::from_millis(1);
const YEAR: Duration = Duration::from_secs(365 * 86_400);

#[test]
fn sleeps_last_exactly_their_duration_on_the_paused_clock() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            // Level boundaries of the wheel (64^n ticks of 10 µs) and
            // either side, then whole milliseconds (64^n ms as before).
            let tick = Duration::from_micros(10);
            let edges = (1..6u32).flat_map(|n| {
                let edge = tick * 64u32.pow(n);
                [edge - tick, edge, edge + tick]
            });
            let ms = [1, 2, 63, 64, 65, 100, 4095, 4096, 4097, 262_145, 3_600_000];
            for d in edges.chain(ms.map(Duration::from_millis)) {
                let t = Instant::now();
                sleep(d).await;
                assert_eq!(t.elapsed(), d, "sleep({d:?})");
            }
            // Zero does not wait.
            let t = Instant::now();
            sleep(Duration::ZERO).await;
            assert_eq!(t.elapsed(), Duration::ZERO);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn concurrent_sleepers_each_wake_at_their_own_deadline() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let handles: Vec<_> = (0..200u64)
                .rev()
                .map(|i| {
                    let d = Duration::from_millis(i * 7 % 300);
                    keen::spawn(async move {
                        sleep_until(start + d).await;
                        (d, Instant::now())
                    })
                })
                .collect();
            for handle in handles {
                let (d, at) = handle.await.unwrap();
                assert_eq!(at, start + d);
            }
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn sub_millisecond_sleeps_round_up_never_early() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            for micros in [1, 500, 999, 1001, 1500] {
                let d = Duration::from_micros(micros);
                let t = Instant::now();
                sleep(d).await;
                let took = t.elapsed();
                assert!(took >= d, "sleep({d:?}) woke early: {took:?}");
                assert!(took < d + MS, "sleep({d:?}) overslept: {took:?}");
            }
        });
    });
}

#[test]
fn deadlines_beyond_the_wheel_range() {
    // The wheel covers 2^36 ticks (about 8 days); later deadlines wait in
    // its overflow list. Auto-advance gets there on the paused clock.
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let t = Instant::now();
            sleep(3 * YEAR).await;
            assert_eq!(t.elapsed(), 3 * YEAR);

            let t = Instant::now();
            let handles: Vec<_> = [5 * YEAR, 3 * YEAR + MS, 2 * YEAR, 3 * YEAR]
                .into_iter()
                .map(|d| {
                    keen::spawn(async move {
                        sleep_until(t + d).await;
                        (d, Instant::now())
                    })
                })
                .collect();
            for handle in handles {
                let (d, at) = handle.await.unwrap();
                assert_eq!(at, t + d);
            }

            let t = Instant::now();
            assert!(timeout(3 * YEAR, sleep(4 * YEAR)).await.is_err());
            assert_eq!(t.elapsed(), 3 * YEAR);
            // `advance` across the window too.
            let t = Instant::now();
            let far = sleep(3 * YEAR);
            advance(3 * YEAR).await;
            assert!(far.is_elapsed());
            far.await;
            assert_eq!(t.elapsed(), 3 * YEAR);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn sleep_duration_max_inside_a_short_scope() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let t = Instant::now();
            assert_eq!(move_on_after(MS, sleep(Duration::MAX)).await, None);
            assert_eq!(t.elapsed(), MS);
            let far = sleep(Duration::MAX);
            assert!(far.deadline() > t + 20 * YEAR, "about forever");
            assert!(!far.is_elapsed());
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn sleep_until_a_past_instant_completes_at_once() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let past = Instant::now();
            advance(5 * MS).await;
            let mut s = sleep_until(past);
            assert!(s.is_elapsed());
            assert!(poll_once(&mut s).is_ready(), "ready at the first poll");
            assert_eq!(timers(), 0, "never registered");
            sleep_until(past).await;
            sleep_until(Instant::now()).await;
            assert_eq!(past.elapsed(), 5 * MS, "no time passed");
        });
    });
}

#[test]
fn a_sleep_registers_when_pending_and_leaves_when_dropped() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let mut s = sleep(10 * MS);
            assert_eq!(timers(), 0, "not registered before the first poll");
            assert!(poll_once(&mut s).is_pending());
            assert_eq!(timers(), 1);
            assert!(poll_once(&mut s).is_pending());
            assert_eq!(timers(), 1, "registered once");
            drop(s);
            assert_eq!(timers(), 0);
        });
    });
}

#[test]
fn is_elapsed_before_and_after_registration() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            // Never polled.
            let idle = sleep(10 * MS);
            // Registered (polled once with a no-op waker).
            let mut registered = sleep(10 * MS);
            assert!(poll_once(&mut registered).is_pending());
            assert!(!idle.is_elapsed() && !registered.is_elapsed());
            advance(9 * MS).await;
            assert!(!idle.is_elapsed() && !registered.is_elapsed());
            advance(MS).await;
            assert!(idle.is_elapsed() && registered.is_elapsed());
            assert!(poll_once(&mut registered).is_ready());
            assert_eq!(idle.deadline(), start + 10 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn reset_moves_a_sleep_in_every_state() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            // Before the first poll.
            let mut s = sleep(Duration::from_secs(60));
            s.reset(start + 5 * MS);
            assert_eq!(s.deadline(), start + 5 * MS);
            (&mut s).await;
            assert_eq!(start.elapsed(), 5 * MS);

            // Registered, moved later: not woken at the old deadline.
            let mut s = sleep(5 * MS);
            assert!(poll_once(&mut s).is_pending());
            s.reset(start + 30 * MS);
            (&mut s).await;
            assert_eq!(start.elapsed(), 30 * MS);

            // Registered, moved earlier.
            let mut s = sleep(Duration::from_secs(3600));
            assert!(poll_once(&mut s).is_pending());
            s.reset(start + 40 * MS);
            (&mut s).await;
            assert_eq!(start.elapsed(), 40 * MS);
            assert_eq!(timers(), 0);

            // Completed, then reset: it waits again.
            s.reset(start + 55 * MS);
            assert!(!s.is_elapsed());
            (&mut s).await;
            assert_eq!(start.elapsed(), 55 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn reset_into_the_past_completes_at_once_and_leaves_no_timer() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            advance(5 * MS).await;
            let mut s = sleep(10 * MS);
            assert!(poll_once(&mut s).is_pending());
            assert_eq!(timers(), 1);
            s.reset(start);
            assert!(s.is_elapsed());
            assert!(poll_once(&mut s).is_ready(), "ready at once");
            drop(s);
            assert_eq!(timers(), 0, "the completed sleep's entry left the wheel");
            assert_eq!(start.elapsed(), 5 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn real_clock_sleep_is_never_early() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let start = std::time::Instant::now();
            let keen_start = Instant::now();
            sleep(20 * MS).await;
            assert!(start.elapsed() >= 20 * MS);
            assert!(keen_start.elapsed() >= 20 * MS);
            let child = keen::spawn(async {
                let t = std::time::Instant::now();
                sleep(5 * MS).await;
                t.elapsed()
            });
            assert!(child.await.unwrap() >= 5 * MS);
        });
        // From `block_on` too (not a worker on the multi-thread flavour).
        rt.block_on(async {
            let start = std::time::Instant::now();
            sleep_until(Instant::now() + 20 * MS).await;
            assert!(start.elapsed() >= 20 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn polling_a_sleep_outside_a_runtime_panics_clearly() {
    // No runtime involved, so not flavour-specific.
    let mut s = sleep(MS);
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll_once(&mut s)))
        .expect_err("a sleep needs a runtime's timers");
    let msg = panic_message(&*err);
    assert!(msg.contains("outside a keen runtime"), "{msg}");
}

#[test]
fn polling_a_sleep_after_its_runtime_shut_down_panics_clearly() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        // Real clock: the deadline made out here is on the runtime's clock.
        let mut s = sleep(Duration::from_secs(3600));
        rt.block_on(async { assert!(poll_once(&mut s).is_pending()) });
        drop(rt);
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll_once(&mut s)))
            .expect_err("the timers are gone");
        let msg = panic_message(&*err);
        assert!(msg.contains("after its runtime shut down"), "{msg}");
        drop(s); // deregistering from a shut-down runtime is fine
    });
}

#[test]
fn a_far_timer_fires_while_the_worker_that_set_it_stays_busy() {
    // A timer 100 ms or more away, set by a busy runtime thread, does not
    // wake the thread parked on the driver at once; the busy worker pays
    // that wake at its maintenance ticks, so the timer fires on time even
    // though the worker never parks.
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            for _round in 0..4 {
                // Let every other thread settle in its park (which of them
                // holds the driver varies; rounds cover both outcomes).
                sleep(20 * MS).await;
                far_timer_while_busy().await;
            }
        });
    });
}

async fn far_timer_while_busy() {
    let start = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let sleeper = keen::spawn(async move {
        sleep(150 * MS).await;
        flag.store(true, SeqCst);
    });
    // Busy on this thread (yielding, never parking) until the
    // sleeper is done, or a bound far beyond its deadline.
    while !done.load(SeqCst) && start.elapsed() < Duration::from_secs(30) {
        yield_now().await;
    }
    assert!(
        done.load(SeqCst),
        "the far timer fired while we stayed busy"
    );
    assert!(start.elapsed() >= 150 * MS);
    sleeper.await.unwrap();
}

/// A `block_on` root that never suspends for real (it yields in a loop
/// until a task's sleep ends) still lets the driver fire timers: the
/// thread looks at the driver every `event_interval` polls, the root's own
/// polls included, on every configuration and with the real clock.
#[test]
fn a_root_that_only_yields_does_not_starve_the_timers() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        rt.block_on(async {
            let done = Arc::new(AtomicBool::new(false));
            let flag = done.clone();
            let sleeper = keen::spawn(async move {
                sleep(Duration::from_millis(2)).await;
                flag.store(true, SeqCst);
            });
            while !done.load(SeqCst) {
                yield_now().await;
            }
            sleeper.await.unwrap();
        });
    });
}
