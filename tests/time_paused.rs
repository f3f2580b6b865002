//! The paused clock on every runtime configuration: `advance` moves time
//! and wakes exactly the sleepers that became due (also by fractions of a
//! tick); the clock stands still while any task is runnable; auto-advance
//! jumps to the next timer once everything is idle, in deadline order;
//! `pause()` inside a runtime built with the real clock; a `spawn_blocking`
//! closure in flight holds auto-advance off; and the panics of `advance`
//! and `pause` when misused.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use keen::task::yield_now;
use keen::time::{Instant, advance, pause, sleep, sleep_until};
use keen_suite::{ALL, each, panic_message, poll_once, run_in_task};

const MS: Duration = Duration::from_millis(1);

/// Yields (keeping this task runnable, so the paused clock cannot jump)
/// until `done` holds; fails if that takes absurdly many yields.
async fn yield_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1_000_000 {
        if done() {
            return;
        }
        yield_now().await;
    }
    panic!("{what}: not done after a million yields");
}

#[test]
fn advance_moves_time_and_wakes_the_due_sleepers_only() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let due = keen::spawn(async move {
                sleep_until(start + 10 * MS).await;
                Instant::now()
            });
            let later = keen::spawn(async move {
                sleep_until(start + 20 * MS).await;
                Instant::now()
            });
            advance(10 * MS).await;
            assert_eq!(Instant::now(), start + 10 * MS);
            yield_until("the due sleeper", || due.is_finished()).await;
            assert!(!later.is_finished(), "not due yet");
            assert_eq!(Instant::now(), start + 10 * MS, "busy: no auto-advance");
            assert_eq!(due.await.unwrap(), start + 10 * MS);

            advance(15 * MS).await;
            assert_eq!(later.await.unwrap(), start + 25 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn advance_by_fractions_of_a_tick() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let mut one = sleep(MS);
            let mut two = sleep(2 * MS);
            assert!(poll_once(&mut one).is_pending() && poll_once(&mut two).is_pending());
            advance(Duration::from_micros(1500)).await;
            assert_eq!(start.elapsed(), Duration::from_micros(1500));
            assert!(one.is_elapsed() && poll_once(&mut one).is_ready());
            assert!(!two.is_elapsed() && poll_once(&mut two).is_pending());
            advance(Duration::from_micros(500)).await;
            assert!(two.is_elapsed() && poll_once(&mut two).is_ready());
            assert_eq!(start.elapsed(), 2 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn the_paused_clock_stands_still_while_a_task_is_runnable() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let sleeper = keen::spawn(async {
                sleep(MS).await;
            });
            for _ in 0..10_000 {
                yield_now().await;
            }
            assert_eq!(Instant::now(), start);
            assert!(
                !sleeper.is_finished(),
                "the clock did not move, so neither did the sleep"
            );
            sleeper.await.unwrap(); // now idle: auto-advance
            assert_eq!(start.elapsed(), MS);
        });
    });
}

#[test]
fn auto_advance_wakes_sleepers_in_deadline_order() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        run_in_task(&rt, async move {
            let start = Instant::now();
            let handles: Vec<_> = [30u64, 10, 50, 20, 40]
                .into_iter()
                .map(|ms| {
                    let l = l.clone();
                    keen::spawn(async move {
                        sleep_until(start + Duration::from_millis(ms)).await;
                        l.lock().unwrap().push((ms, start.elapsed()));
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        });
        let log = log.lock().unwrap().clone();
        let expected: Vec<_> = [10u64, 20, 30, 40, 50]
            .into_iter()
            .map(|ms| (ms, Duration::from_millis(ms)))
            .collect();
        assert_eq!(log, expected);
    });
}

#[test]
fn pause_inside_a_real_clock_runtime_then_auto_advance() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            pause();
            pause(); // a no-op on a paused clock
            let t = Instant::now();
            yield_now().await;
            assert_eq!(Instant::now(), t, "frozen");
            sleep(Duration::from_secs(30)).await;
            assert_eq!(t.elapsed(), Duration::from_secs(30));
            let child = keen::spawn(async {
                let t = Instant::now();
                sleep(Duration::from_secs(3600)).await;
                t.elapsed()
            });
            assert_eq!(child.await.unwrap(), Duration::from_secs(3600));
            advance(5 * MS).await;
            assert_eq!(t.elapsed(), Duration::from_secs(3630) + 5 * MS);
        });
        // From `block_on` as well (not a worker on the multi-thread flavour).
        let rt = cfg.build();
        rt.block_on(async {
            pause();
            let t = Instant::now();
            sleep(Duration::from_secs(30)).await;
            assert_eq!(t.elapsed(), Duration::from_secs(30));
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn a_blocking_closure_in_flight_holds_auto_advance_off() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let handle = rt.handle().clone();
        let (pending_tx, pending_rx) = mpsc::channel::<(Instant, u64)>();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        // A plain thread looks at the runtime's clock while the blocking
        // closure runs and the only task sleeps, then lets the closure end.
        let checker = thread::spawn(move || {
            let (start, parks) = pending_rx.recv().unwrap();
            // Wait until a worker has parked for lack of work (not needed
            // for the test to pass; it makes a wrongful jump show).
            while handle.metrics().parks == parks {
                thread::yield_now();
            }
            let now = {
                let _enter = handle.enter();
                Instant::now()
            };
            release_tx.send(()).unwrap();
            (start, now)
        });
        let blocking_done = Arc::new(AtomicBool::new(false));
        let done = blocking_done.clone();
        let metrics = rt.handle().clone();
        let (elapsed, done_before_wake) = run_in_task(&rt, async move {
            let start = Instant::now();
            let blocking = keen::spawn_blocking(move || {
                release_rx.recv().unwrap();
                done.store(true, SeqCst);
            });
            let mut s = sleep(10 * MS);
            assert!(poll_once(&mut s).is_pending());
            pending_tx.send((start, metrics.metrics().parks)).unwrap();
            s.await;
            let done_before_wake = blocking_done.load(SeqCst);
            blocking.await.unwrap();
            (start.elapsed(), done_before_wake)
        });
        let (start, seen) = checker.join().unwrap();
        assert_eq!(
            seen, start,
            "the paused clock moved while a blocking closure ran"
        );
        assert!(
            done_before_wake,
            "the sleep ended before the blocking closure did"
        );
        assert_eq!(elapsed, 10 * MS);
    });
}

#[test]
fn advance_needs_a_paused_clock() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let err = rt
            .block_on(rt.spawn(async { advance(MS).await }))
            .expect_err("advance on a real clock panics");
        assert!(err.is_panic());
        let msg = panic_message(&*err.into_panic());
        assert!(msg.contains("needs a paused clock"), "{msg}");
    });
}

#[test]
fn pause_and_advance_outside_a_runtime_panic() {
    // No runtime involved, so not flavour-specific.
    let err = std::panic::catch_unwind(pause).expect_err("pause needs a runtime");
    let msg = panic_message(&*err);
    assert!(
        msg.contains("keen::time::pause called outside a keen runtime"),
        "{msg}"
    );
    let err = std::panic::catch_unwind(|| poll_once(&mut Box::pin(advance(MS))))
        .expect_err("advance needs a runtime");
    let msg = panic_message(&*err);
    assert!(
        msg.contains("keen::time::advance called outside a keen runtime"),
        "{msg}"
    );
}
