//! `keen::time::timeout` and `timeout_at` on every runtime configuration:
//! exact firing on the paused clock, the body polled before the deadline is
//! looked at (`Duration::ZERO` around a ready future is `Ok`), `Duration::MAX`
//! and past deadlines, the timer registered only while pending and removed
//! afterwards, the future dropped once when the timeout fires, a real-clock
//! lower bound, when a relative deadline starts (real clock: after the
//! body's first poll; paused: at its start), and 100,000 timeouts in
//! flight at once (half firing, half cancelled) leaving the wheel empty.
//! The seed case of the issue (zero timeouts in eager children) is in
//! `scope_eager.rs`; a timeout's lazy scope meeting other scopes is in
//! `scope_lazy.rs`.

use std::future::pending;
use std::time::Duration;

use keen::task::yield_now;
use keen::time::{Elapsed, Instant, advance, sleep, timeout, timeout_at};
use keen_suite::{
    ALL, DropCounter, each, poll_once, run_in_task, slow_first_poll_then_timeout, timers,
};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn timeout_fires_exactly_at_its_deadline_and_not_before_the_body() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            assert!(timeout(10 * MS, sleep(HOUR)).await.is_err());
            assert_eq!(start.elapsed(), 10 * MS);

            let quick = async {
                sleep(4 * MS).await;
                "quick"
            };
            assert_eq!(timeout(10 * MS, quick).await, Ok("quick"));
            assert_eq!(start.elapsed(), 14 * MS);

            // Same tick: the body is polled first, so it wins.
            assert_eq!(timeout(10 * MS, sleep(10 * MS)).await, Ok(()));
            assert_eq!(start.elapsed(), 24 * MS);

            // Nested: the shorter one fires, whichever is outside.
            let r = timeout(HOUR, timeout(5 * MS, pending::<()>())).await;
            assert_eq!(r.map(|inner| inner.is_err()), Ok(true));
            assert_eq!(start.elapsed(), 29 * MS);
            let r = timeout(5 * MS, timeout(HOUR, pending::<()>())).await;
            assert!(r.is_err());
            assert_eq!(start.elapsed(), 34 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn timeout_at_and_past_deadlines() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            assert!(timeout_at(start + 7 * MS, pending::<()>()).await.is_err());
            assert_eq!(start.elapsed(), 7 * MS);
            // `start` is in the past now.
            assert!(timeout_at(start, pending::<()>()).await.is_err());
            assert!(timeout_at(start, yield_now()).await.is_err());
            assert_eq!(timeout_at(start, async { 3 }).await, Ok(3));
            assert_eq!(start.elapsed(), 7 * MS, "past deadlines cost no time");
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn zero_and_max_timeouts_around_ready_futures() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            assert_eq!(timeout(Duration::ZERO, async { 1 }).await, Ok(1));
            assert_eq!(timeout(Duration::MAX, async { 2 }).await, Ok(2));
            // A ready body never touches the wheel.
            let mut t = Box::pin(timeout(HOUR, async { 3 }));
            assert_eq!(poll_once(&mut t), std::task::Poll::Ready(Ok(3)));
            // A pending one registers only its deadline, and removes it.
            let mut t = Box::pin(timeout(Duration::MAX, yield_now()));
            assert!(poll_once(&mut t).is_pending());
            assert_eq!(timers(), 1);
            assert_eq!(t.await, Ok(()));
            assert_eq!(timers(), 0);
            // A ZERO timeout around a pending body elapses at the first poll.
            assert!(timeout(Duration::ZERO, yield_now()).await.is_err());
            assert!(timeout(Duration::ZERO, pending::<()>()).await.is_err());
            assert_eq!(timeout(Duration::MAX, sleep(10 * MS)).await, Ok(()));
            assert_eq!(start.elapsed(), 10 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn a_fired_timeout_drops_its_future_once_before_returning() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let drops = DropCounter::new();
        let (token, d) = (drops.token(), drops.clone());
        let drops_on_return = run_in_task(&rt, async move {
            let r = timeout(5 * MS, async move {
                let _token = token;
                sleep(HOUR).await;
            })
            .await;
            assert!(r.is_err());
            d.get()
        });
        assert_eq!(drops_on_return, 1);
        assert_eq!(drops.get(), 1);
        assert_eq!(
            rt.metrics().timers,
            0,
            "the inner sleep left with its future"
        );
    });
}

#[test]
fn elapsed_is_a_plain_error() {
    let rt = keen::runtime::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    // Not flavour-specific: only the error value is looked at.
    let a: Elapsed = rt.block_on(timeout(MS, pending::<()>())).unwrap_err();
    let b = rt
        .block_on(timeout(Duration::ZERO, yield_now()))
        .unwrap_err();
    assert_eq!(a, b);
    assert_eq!(a.to_string(), "deadline has elapsed");
    let as_error: &dyn std::error::Error = &a;
    assert!(as_error.source().is_none());
    fn send_sync_copy<T: Send + Sync + Copy + 'static>() {}
    send_sync_copy::<Elapsed>();
}

#[test]
fn real_clock_timeout_is_never_early() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let start = std::time::Instant::now();
            let keen_start = Instant::now();
            assert!(timeout(20 * MS, pending::<()>()).await.is_err());
            assert!(start.elapsed() >= 20 * MS);
            assert!(keen_start.elapsed() >= 20 * MS);
            let r = timeout(HOUR, async {
                sleep(5 * MS).await;
                5
            })
            .await;
            assert_eq!(r, Ok(5));
            assert!(start.elapsed() >= 25 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

/// The real clock's rule: a lazy timeout's duration counts from the end of
/// its body's first poll (when the clock is first read), never from before
/// it. A first poll that takes 30 ms (a blocking body, as a test device)
/// does not use up a 20 ms timeout: it fires 20 ms after that poll, where
/// the old rule (and a real scope) fired right after it.
#[test]
fn real_clock_timeout_counts_from_the_end_of_the_first_body_poll() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            slow_first_poll_then_timeout().await;
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

/// The paused clock keeps the first-poll rule: a body whose first poll
/// moves time (`advance`) has used up the timeout by then, exactly as a
/// real scope's deadline would be.
#[test]
fn paused_clock_timeout_counts_from_the_start_of_the_first_poll() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let r = timeout(10 * MS, async {
                advance(25 * MS).await;
                pending::<()>().await
            })
            .await;
            assert!(r.is_err());
            assert_eq!(start.elapsed(), 25 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

/// A scope entered inside a lazy timeout's body turns it into a real scope
/// with the same deadline, on the real clock too: entered during the first
/// body poll (before the clock was read) and after the body was pending
/// once (the deadline registered). Neither fires early; both fire.
#[test]
fn real_clock_timeout_materialised_before_and_after_its_deadline_is_fixed() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let start = std::time::Instant::now();
            let inside_at_once =
                async { keen::scope::CancelScope::new().run(pending::<()>()).await };
            assert!(timeout(20 * MS, inside_at_once).await.is_err());
            assert!(start.elapsed() >= 20 * MS);

            let start = std::time::Instant::now();
            let inside_later = async {
                yield_now().await;
                keen::scope::CancelScope::new().run(pending::<()>()).await
            };
            assert!(timeout(20 * MS, inside_later).await.is_err());
            assert!(start.elapsed() >= 20 * MS);
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn a_hundred_thousand_concurrent_timeouts() {
    const N: u32 = 100_000;
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let (fired, finished) = run_in_task(&rt, async move {
            let start = Instant::now();
            let handles: Vec<_> = (0..N)
                .map(|i| {
                    // Deadlines spread over 1..=100 ms, so many ticks fire.
                    let limit = Duration::from_millis(u64::from(i % 100 + 1));
                    keen::spawn(async move {
                        if i % 2 == 0 {
                            let r = timeout(limit, pending::<u32>()).await;
                            (r, Instant::now(), start + limit)
                        } else {
                            let r = timeout(limit, async {
                                yield_now().await;
                                i
                            })
                            .await;
                            (r, Instant::now(), start)
                        }
                    })
                })
                .collect();
            if cfg.eager {
                // Every task entered its timeout during spawn; the even ones
                // cannot finish before the clock moves.
                assert!(timers() >= N as usize / 2);
            }
            let (mut fired, mut finished) = (0, 0);
            for (i, handle) in (0..N).zip(handles) {
                let (r, at, expected_at) = handle.await.expect("no task panics");
                assert_eq!(at, expected_at, "task {i} finished at the wrong time");
                match r {
                    Err(_) if i % 2 == 0 => fired += 1,
                    Ok(v) if i % 2 == 1 && v == i => finished += 1,
                    other => panic!("task {i}: unexpected {other:?}"),
                }
            }
            // The last to fire: the even tasks' longest limit, 99 ms.
            assert_eq!(start.elapsed(), 99 * MS);
            (fired, finished)
        });
        assert_eq!((fired, finished), (N / 2, N / 2));
        assert_eq!(rt.metrics().timers, 0, "no timer left behind");
    });
}

#[test]
fn advancing_past_many_timeouts_at_once() {
    // `advance` fires everything due in one go; each timeout reports at the
    // advanced instant, not at its own deadline. Absolute deadlines, so a
    // task that first runs after the advance (lazy spawn) agrees.
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let handles: Vec<_> = (1..=200u64)
                .map(|ms| {
                    keen::spawn(async move {
                        let r =
                            timeout_at(start + Duration::from_millis(ms), pending::<()>()).await;
                        (r.is_err(), Instant::now())
                    })
                })
                .collect();
            advance(500 * MS).await;
            for handle in handles {
                let (elapsed, at) = handle.await.unwrap();
                assert!(elapsed);
                assert_eq!(at, start + 500 * MS);
            }
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn a_timeout_waiting_outside_the_runtime_elapses_at_shutdown() {
    // A `block_on` on another thread waits in a lazy timeout (and in an
    // explicit scope with a deadline); dropping the runtime fires every
    // timer: both report their deadline instead of hanging or panicking.
    for cfg in ALL.iter().filter(|c| c.is_multi_thread()) {
        for explicit in [false, true] {
            let rt = cfg.build();
            let handle = rt.handle().clone();
            let (waiting, waits) = std::sync::mpsc::channel();
            let thread = std::thread::spawn(move || {
                handle.block_on(async move {
                    let body = async move {
                        waiting.send(()).unwrap();
                        pending::<()>().await
                    };
                    if explicit {
                        keen::scope::CancelScope::with_timeout(HOUR)
                            .run(body)
                            .await
                            .is_err()
                    } else {
                        timeout(HOUR, body).await.is_err()
                    }
                })
            });
            waits.recv().unwrap();
            drop(rt);
            let elapsed = thread.join().expect("no panic at shutdown");
            assert!(elapsed, "{cfg}, explicit scope: {explicit}");
        }
    }
}

/// A paused clock anywhere in the process sends real-clock timeouts down
/// the path that asks their own runtime's clock: with a paused runtime
/// alive, a real one still defers its deadline to the end of the body's
/// first poll and fires on real time.
#[test]
fn a_real_clock_timeout_beside_a_paused_runtime() {
    each(&ALL, |cfg| {
        let paused = cfg.build_paused();
        let rt = cfg.build();
        run_in_task(&rt, async {
            assert_eq!(timeout(HOUR, async { 7 }).await, Ok(7));
            slow_first_poll_then_timeout().await;
        });
        assert_eq!(rt.metrics().timers, 0);
        // The paused runtime's own timeouts still count from the start of
        // the first poll, on its clock.
        run_in_task(&paused, async {
            let start = Instant::now();
            let body = async {
                advance(10 * MS).await;
                pending::<()>().await
            };
            assert!(timeout(5 * MS, body).await.is_err());
            assert_eq!(start.elapsed(), 10 * MS);
        });
    });
}
