//! Task groups, the plain cases, on every configuration: join waits for
//! every child; failures (errors and panics) cancel the siblings and all
//! reach `join` (none lost); children cancelled by the group are not
//! failures; dropping an unjoined group aborts its children; the closure
//! form joins before returning; `start` hands over a value or the child's
//! early failure, and fails at once when the child drops `Started` unsent;
//! spawning into a joined group panics.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keen::group::{StartError, TaskGroup, task_group};
use keen::task::yield_now;
use keen::time::{Instant, sleep};
use keen_suite::{ALL, DropCounter, FirstSteps, each, panic_message, run_in_task};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn join_waits_for_every_child() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let done = Arc::new(AtomicUsize::new(0));
            let tg = TaskGroup::new();
            for ms in [5u32, 1, 3] {
                let done = done.clone();
                tg.spawn(async move {
                    sleep(ms * MS).await;
                    done.fetch_add(1, SeqCst);
                });
            }
            tg.join().await.expect("no child failed");
            assert_eq!(done.load(SeqCst), 3);
            assert_eq!(start.elapsed(), 5 * MS);
        });
    });
}

#[test]
fn failures_cancel_siblings_and_all_reach_join() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let dropped = DropCounter::new();
            let tg = TaskGroup::new();
            for _ in 0..3 {
                let token = dropped.token();
                tg.spawn(async move {
                    let _token = token;
                    sleep(HOUR).await;
                });
            }
            // Two failures at the same instant: both are reported.
            tg.spawn(async {
                sleep(2 * MS).await;
                Err::<(), _>("first")
            });
            tg.spawn(async {
                sleep(2 * MS).await;
                if true {
                    panic!("second");
                }
            });
            let err = tg.join().await.expect_err("two children failed");
            assert_eq!(start.elapsed(), 2 * MS, "siblings cancelled at once");
            assert_eq!(dropped.get(), 3, "every sleeper was dropped");
            assert_eq!(err.errors().len(), 2, "{err}");
            let mut texts: Vec<String> = err.errors().iter().map(|e| e.to_string()).collect();
            texts.sort();
            assert!(texts[0].ends_with("failed: first"), "{texts:?}");
            assert!(texts[1].ends_with("panicked: second"), "{texts:?}");
            let panic = err
                .into_errors()
                .into_iter()
                .find(|e| e.is_panic())
                .unwrap();
            assert_eq!(panic_message(&*panic.into_panic()), "second");
        });
    });
}

#[test]
fn a_failing_child_is_reported_even_when_it_fails_eagerly() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let tg = TaskGroup::new();
            let sibling = tg.spawn(sleep(HOUR));
            tg.spawn(async { Err::<(), _>(std::io::Error::other("at once")) });
            let err = tg.join().await.unwrap_err();
            assert_eq!(err.errors().len(), 1);
            let io = err.errors()[0].error().unwrap();
            assert_eq!(io.to_string(), "at once");
            assert!(sibling.is_finished());
        });
    });
}

#[test]
fn dropping_an_unjoined_group_aborts_its_children() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let dropped = DropCounter::new();
            let tg = TaskGroup::new();
            let mut handles = Vec::new();
            for _ in 0..4 {
                let token = dropped.token();
                handles.push(tg.spawn(async move {
                    let _token = token;
                    sleep(HOUR).await;
                }));
            }
            drop(tg);
            // Aborted children are dropped when their task next runs.
            while !handles.iter().all(|h| h.is_finished()) {
                yield_now().await;
            }
            assert_eq!(dropped.get(), 4);
        });
    });
}

#[test]
fn the_closure_form_joins_before_returning() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let log = Arc::new(Mutex::new(Vec::new()));
            let out = task_group(async |tg| {
                for i in 0..3u32 {
                    let log = log.clone();
                    tg.spawn(async move {
                        sleep(i * MS).await;
                        log.lock().unwrap().push(i);
                    });
                }
                "body"
            })
            .await;
            assert_eq!(out.unwrap(), "body");
            assert_eq!(*log.lock().unwrap(), [0, 1, 2]);

            let out = task_group(async |tg| {
                tg.spawn(async { Err::<(), _>("child failed") });
                7
            })
            .await;
            assert_eq!(out.unwrap_err().errors().len(), 1);
        });
    });
}

#[test]
fn start_returns_the_started_value_or_the_early_failure() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let tg = TaskGroup::new();
            let value = tg
                .start(|started| async move {
                    sleep(2 * MS).await;
                    started.send("ready");
                    sleep(3 * MS).await;
                    // After `started`, failures belong to the group.
                    Err::<(), _>("late")
                })
                .await
                .expect("started");
            assert_eq!(value, "ready");

            // An error before `started` comes out of `start`, and does not
            // cancel the group. (The child keeps its `Started`: one dropped
            // unsent while the child runs on fails `start` at once, see
            // `dropping_started_unsent_fails_start_at_once_and_the_child_runs_on`.)
            let early = tg
                .start(|started: keen::group::Started<()>| async move {
                    let _started = started;
                    yield_now().await;
                    Err::<(), _>("early")
                })
                .await;
            match early {
                Err(StartError::Failed(e)) => assert!(e.to_string().ends_with("failed: early")),
                other => panic!("expected the early failure, got {other:?}"),
            }
            assert!(!tg.is_cancelled());
            let returned = tg
                .start(|_started: keen::group::Started<u8>| async {})
                .await;
            assert!(matches!(returned, Err(StartError::ExitedEarly)));

            let err = tg.join().await.unwrap_err();
            assert_eq!(err.errors().len(), 1, "only the late failure: {err}");
        });
    });
}

/// A child that drops its `Started` unsent and keeps running: `start`
/// fails at once with `NeverSignalled` (it used to wait forever) and the
/// child runs on in the group, its later failure going to `join`. Dropped
/// in the child's first (eager) poll, in a later poll, and on another task
/// while the child waits.
#[test]
fn dropping_started_unsent_fails_start_at_once_and_the_child_runs_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let tg = TaskGroup::new();
            let t0 = Instant::now();
            let ran_on = Arc::new(AtomicUsize::new(0));
            for drop_after in [0, 1] {
                let ran_on = ran_on.clone();
                let out = tg
                    .start(move |started: keen::group::Started<u8>| async move {
                        if drop_after > 0 {
                            sleep(drop_after * MS).await;
                        }
                        drop(started);
                        sleep(5 * MS).await; // still running after the drop
                        ran_on.fetch_add(1, SeqCst);
                        Err::<(), _>("after the drop")
                    })
                    .await;
                assert!(matches!(out, Err(StartError::NeverSignalled)), "{out:?}");
                assert!(
                    t0.elapsed() < 5 * MS,
                    "failed at once, not at the child's end"
                );
            }
            // Moved out and dropped by another task while the child waits.
            let (tx, rx) = keen::sync::oneshot::channel();
            keen::spawn(async move {
                let started: keen::group::Started<u8> = rx.await.unwrap();
                sleep(MS).await;
                drop(started);
            });
            let out = tg
                .start(move |started| async move {
                    tx.send(started).unwrap();
                    sleep(HOUR).await;
                })
                .await;
            assert!(matches!(out, Err(StartError::NeverSignalled)), "{out:?}");
            assert!(
                out.unwrap_err()
                    .to_string()
                    .contains("without calling `send`")
            );
            // The first child fails at 5 ms: that failure is the group's
            // (and cancels the second child, due at 6 ms, and the sleeper).
            let err = tg.join().await.unwrap_err();
            assert_eq!(err.errors().len(), 1, "{err}");
            assert!(err.to_string().contains("after the drop"), "{err}");
            assert_eq!(ran_on.load(SeqCst), 1);
            assert_eq!(t0.elapsed(), 5 * MS);
        });
    });
}

/// Dropping `Started` on the way out still reports what the child did:
/// returned early, failed, or was cancelled.
#[test]
fn started_dropped_while_the_child_exits_reports_the_exit() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let tg = TaskGroup::new();
            let returned = tg
                .start(|started: keen::group::Started<u8>| async move {
                    sleep(MS).await;
                    drop(started);
                })
                .await;
            assert!(
                matches!(returned, Err(StartError::ExitedEarly)),
                "{returned:?}"
            );
            let failed = tg
                .start(|started: keen::group::Started<u8>| async move {
                    let _started = started; // dropped as the child returns
                    sleep(MS).await;
                    Err::<(), _>("boom")
                })
                .await;
            assert!(matches!(failed, Err(StartError::Failed(_))), "{failed:?}");
            let cancelled = keen::scope::move_on_after(
                MS,
                tg.start(|started: keen::group::Started<u8>| async move {
                    let _started = started; // dropped with the cancelled child
                    sleep(HOUR).await;
                }),
            )
            .await;
            assert!(cancelled.is_none());
            tg.join().await.expect("nothing reached the group");
        });
    });
}

#[test]
fn spawning_into_a_joined_group_panics() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let tg = TaskGroup::new();
            let handle = tg.handle();
            tg.join().await.unwrap();
            let spawned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handle.spawn(async {});
            }));
            let msg = panic_message(&*spawned.unwrap_err());
            assert!(msg.contains("already joined or dropped"), "{msg}");
        });
    });
}

#[test]
fn cancelling_the_caller_of_start_cancels_the_child() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let dropped = DropCounter::new();
            let tg = TaskGroup::new();
            let token = dropped.token();
            let out = keen::scope::move_on_after(
                2 * MS,
                tg.start(|started| async move {
                    let _token = token;
                    sleep(HOUR).await; // never gets to start
                    started.send(());
                }),
            )
            .await;
            assert!(out.is_none(), "the caller's scope caught");
            tg.join()
                .await
                .expect("the child was cancelled, not failed");
            assert_eq!(dropped.get(), 1);
            assert_eq!(start.elapsed(), 2 * MS);
        });
    });
}

#[test]
fn spawn_lazy_keeps_trio_order_under_an_eager_runtime() {
    // On multi-thread a sibling worker may start a queued child at any time
    // after `spawn_lazy` returned; what holds there is that it never runs
    // inside the call.
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async move {
            // (log, whether each child's first step ran inside its spawn)
            let run = async |lazy: bool| {
                let log = Arc::new(Mutex::new(Vec::new()));
                let first = FirstSteps::new();
                let mut inside = Vec::new();
                let tg = TaskGroup::new();
                log.lock().unwrap().push("p0".to_owned());
                for i in 0..2 {
                    let (steps, first_step) = (log.clone(), first.clone());
                    let child = async move {
                        first_step.record(i);
                        steps.lock().unwrap().push(format!("c{i} start"));
                        yield_now().await;
                        steps.lock().unwrap().push(format!("c{i} end"));
                    };
                    if lazy {
                        tg.spawn_lazy(child);
                    } else {
                        tg.spawn(child);
                    }
                    inside.push(first.ran_here(i));
                }
                log.lock().unwrap().push("p1".to_owned());
                tg.join().await.unwrap();
                let log = log.lock().unwrap().clone();
                (log, inside)
            };
            let (lazy, inside) = run(true).await;
            assert_eq!(inside, [false, false], "spawn_lazy never runs the child");
            if !cfg.is_multi_thread() {
                // One thread: exactly trio's order.
                assert_eq!(lazy[..4], ["p0", "p1", "c0 start", "c1 start"]);
            }
            let (spawned, inside) = run(false).await;
            if cfg.eager {
                // First steps only: a promoted child may resume on another
                // worker before the parent logs `p1`.
                let firsts: Vec<&String> =
                    spawned.iter().filter(|s| !s.ends_with(" end")).collect();
                assert_eq!(firsts, ["p0", "c0 start", "c1 start", "p1"]);
                assert_eq!(inside, [true, true]);
            } else {
                assert_eq!(inside, [false, false]);
            }
        });
    });
}
