//! `map_concurrent` and `retry_with_timeout` on every configuration: input
//! order kept, the limit never exceeded, a panic resumed in the caller after
//! the other calls were cancelled, cancellation from an enclosing scope; and
//! retries counted, non-retryable errors and time-outs, backoff waits exact
//! on the paused clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use keen::patterns::{Backoff, RetryError, map_concurrent, retry_with_timeout};
use keen::scope::move_on_after;
use keen::time::{Instant, sleep};
use keen_suite::{
    ALL, DropCounter, beside_a_shield_in_a_cancelled_scope, each, panic_message, run_in_task,
};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn map_keeps_input_order_and_the_limit() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let in_flight = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let (flight, top) = (in_flight.clone(), peak.clone());
            // Later items finish first: the output is still in input order.
            let out = map_concurrent(0..10u32, 3, move |i| {
                let (flight, top) = (flight.clone(), top.clone());
                async move {
                    let now = flight.fetch_add(1, SeqCst) + 1;
                    top.fetch_max(now, SeqCst);
                    sleep((10 - i) * MS).await;
                    flight.fetch_sub(1, SeqCst);
                    i * 2
                }
            })
            .await;
            assert_eq!(out, (0..10).map(|i| i * 2).collect::<Vec<_>>());
            assert_eq!(peak.load(SeqCst), 3, "the limit is reached, never passed");
            assert!(
                start.elapsed() < 55 * MS,
                "ran concurrently: {:?}",
                start.elapsed()
            );
            let empty = map_concurrent(Vec::<u8>::new(), 4, |b| async move { b }).await;
            assert!(empty.is_empty());
        });
    });
}

#[test]
fn a_panicking_call_cancels_the_others_and_is_resumed() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let dropped = DropCounter::new();
            let counter = dropped.clone();
            let run = keen::spawn(map_concurrent(0..4u32, 4, move |i| {
                let token = counter.token();
                async move {
                    let _token = token;
                    if i == 2 {
                        sleep(MS).await;
                        panic!("item 2 failed");
                    }
                    sleep(HOUR).await;
                    i
                }
            }));
            let err = run.await.expect_err("the panic is resumed in the caller");
            assert_eq!(panic_message(&*err.into_panic()), "item 2 failed");
            assert_eq!(dropped.get(), 4, "every call was dropped");
        });
    });
}

#[test]
fn map_is_cancelled_with_its_caller() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let dropped = DropCounter::new();
            let counter = dropped.clone();
            let out = move_on_after(
                5 * MS,
                map_concurrent(0..100u32, 8, move |_| {
                    let token = counter.token();
                    async move {
                        let _token = token;
                        sleep(HOUR).await;
                    }
                }),
            )
            .await;
            assert!(out.is_none());
            assert_eq!(start.elapsed(), 5 * MS);
            assert_eq!(dropped.get(), 8, "the calls in flight, and no others");
        });
    });
}

#[test]
fn retries_until_success_with_exact_backoff() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let calls = AtomicU32::new(0);
            let backoff = Backoff::Exponential {
                initial: 10 * MS,
                factor: 2.0,
                max: 25 * MS,
            };
            let out = retry_with_timeout(
                5,
                HOUR,
                |_: &&str| true,
                backoff,
                || {
                    let n = calls.fetch_add(1, SeqCst) + 1;
                    async move { if n < 4 { Err("flaky") } else { Ok(n) } }
                },
            )
            .await;
            assert_eq!(out, Ok(4));
            // Waits after attempts 1, 2, 3: 10 ms, 20 ms, capped 25 ms.
            assert_eq!(start.elapsed(), 55 * MS);
        });
    });
}

#[test]
fn non_retryable_errors_timeouts_and_running_out() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let calls = AtomicU32::new(0);
            let out = retry_with_timeout(
                5,
                HOUR,
                |e: &&str| *e == "transient",
                Backoff::None,
                || {
                    let n = calls.fetch_add(1, SeqCst);
                    async move {
                        if n == 0 {
                            Err::<(), _>("transient")
                        } else {
                            Err("fatal")
                        }
                    }
                },
            )
            .await;
            assert_eq!(
                out,
                Err(RetryError::Failed {
                    error: "fatal",
                    attempts: 2
                })
            );

            // Every attempt times out: 3 attempts of 4 ms, 1 ms apart.
            let out = retry_with_timeout(
                2,
                4 * MS,
                |_: &()| true,
                Backoff::Fixed(MS),
                || sleep(HOUR).map_ok(),
            )
            .await;
            assert_eq!(out, Err(RetryError::TimedOut { attempts: 3 }));
            assert_eq!(start.elapsed(), 14 * MS);

            // Retries run out on errors: the last error is reported.
            let out = retry_with_timeout(
                1,
                HOUR,
                |_: &u8| true,
                Backoff::None,
                || async { Err::<(), _>(7u8) },
            )
            .await;
            assert_eq!(
                out,
                Err(RetryError::Failed {
                    error: 7,
                    attempts: 2
                })
            );
        });
    });
}

/// `sleep(..)` as a fallible operation that never fails.
trait MapOk {
    fn map_ok(self) -> impl std::future::Future<Output = Result<(), ()>>;
}

impl<F: std::future::Future<Output = ()>> MapOk for F {
    async fn map_ok(self) -> Result<(), ()> {
        self.await;
        Ok(())
    }
}

/// The review's case: the scope around `map_concurrent` is cancelled at
/// 20 ms but keeps polling (a shielded sleep beside it runs to 100 ms).
/// It used to hand back 12-16 of 100 outputs as a normal value; it must
/// never complete there (the scope catches at 100 ms).
#[test]
fn map_never_returns_fewer_outputs_when_its_scope_keeps_polling() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let short = Arc::new(AtomicUsize::new(usize::MAX));
            let seen = short.clone();
            let (completed, caught_at) = beside_a_shield_in_a_cancelled_scope(async move {
                let out = map_concurrent(0..100u32, 4, |i| async move {
                    sleep(5 * MS).await;
                    i
                })
                .await;
                seen.store(out.len(), SeqCst);
            })
            .await;
            assert!(
                !completed,
                "map_concurrent returned {} of 100 outputs",
                short.load(SeqCst)
            );
            assert_eq!(caught_at, Some(100 * MS), "caught when the shield was done");
        });
    });
}

/// A cancel from another thread at an arbitrary moment on a real clock:
/// the caller sees either the cancellation or all 100 outputs, never
/// fewer (this also covers the window where a finished child has left the
/// group's live set but still holds the enclosing scope open).
#[test]
fn map_cancelled_from_another_thread_is_all_or_nothing() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        for round in 0..60u32 {
            let scope = keen::scope::CancelScope::new();
            let canceller = {
                let scope = scope.clone();
                std::thread::spawn(move || {
                    for _ in 0..(round * 37) % 500 {
                        std::hint::spin_loop();
                    }
                    scope.cancel();
                })
            };
            let out = run_in_task(&rt, async move {
                scope
                    .run(map_concurrent(0..100u32, 4, |i| async move {
                        keen::task::yield_now().await;
                        i
                    }))
                    .await
            });
            canceller.join().unwrap();
            if let Ok(out) = out {
                assert_eq!(out, (0..100).collect::<Vec<_>>(), "{cfg}, round {round}");
            }
        }
    });
}

/// `retry_with_timeout` under a cancelled scope that keeps polling: the
/// parent's cancellation is not an attempt's time-out, so it neither
/// retries nor reports `TimedOut`; the scope catches at 100 ms.
#[test]
fn retry_does_not_take_its_callers_cancellation_for_a_timeout() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let attempts = Arc::new(AtomicU32::new(0));
            let counted = attempts.clone();
            let (completed, caught_at) = beside_a_shield_in_a_cancelled_scope(async move {
                let _ = retry_with_timeout(
                    0,
                    30 * MS,
                    |_: &()| true,
                    Backoff::None,
                    || {
                        counted.fetch_add(1, SeqCst);
                        async {
                            sleep(HOUR).await;
                            Ok::<(), ()>(())
                        }
                    },
                )
                .await;
            })
            .await;
            assert!(!completed, "retry returned inside a cancelled scope");
            assert_eq!(attempts.load(SeqCst), 1);
            assert_eq!(caught_at, Some(100 * MS));
        });
    });
}
