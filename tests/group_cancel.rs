//! Task groups and cancellation, on every configuration: a scope around
//! the group cancels every child and catches only after they finished; a
//! child's shielded part finishes first; the edge cases that broke other
//! eager runtimes (a child cancelling its group before its first
//! suspension, an eager child spawning a failing grandchild, spawning into
//! a cancelled group); cancelling from another thread; nested groups; a
//! deadline on the group's scope; a failure under a cancelled scope is
//! still reported.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keen::group::TaskGroup;
use keen::scope::{CancelScope, move_on_after};
use keen::task::yield_now;
use keen::time::{Instant, sleep};
use keen_suite::{ALL, DropCounter, each, run_in_task, signal};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_scope_around_the_group_cancels_every_child_then_catches() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let dropped = DropCounter::new();
            let out = move_on_after(50 * MS, async {
                let tg = TaskGroup::new();
                for _ in 0..3 {
                    let token = dropped.token();
                    tg.spawn(async move {
                        let _token = token;
                        std::future::pending::<()>().await;
                    });
                }
                let _ = tg.join().await;
                "the body went on after join"
            })
            .await;
            assert_eq!(out, None, "the outer scope caught");
            assert_eq!(dropped.get(), 3, "every child was dropped before it caught");
            assert_eq!(start.elapsed(), 50 * MS);
        });
    });
}

#[test]
fn a_shielded_part_of_a_child_finishes_before_the_outer_scope_catches() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let log = Arc::new(Mutex::new(Vec::new()));
            let out = move_on_after(2 * MS, async {
                let tg = TaskGroup::new();
                let child_log = log.clone();
                tg.spawn(async move {
                    let shield = CancelScope::new();
                    shield.set_shield(true);
                    let _ = shield.run(sleep(10 * MS)).await;
                    child_log.lock().unwrap().push("shielded part done");
                    sleep(HOUR).await; // cancelled here
                    child_log.lock().unwrap().push("never");
                });
                let _ = tg.join().await;
            })
            .await;
            assert_eq!(out, None);
            assert_eq!(start.elapsed(), 10 * MS, "caught after the shield finished");
            assert_eq!(*log.lock().unwrap(), ["shielded part done"]);
        });
    });
}

#[test]
fn a_child_that_cancels_its_group_before_suspending() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let ran = Arc::new(AtomicBool::new(false));
            let tg = TaskGroup::new();
            let sibling = tg.spawn(sleep(HOUR));
            let handle = tg.handle();
            let resumed = Arc::new(AtomicBool::new(false));
            let (flag, after) = (ran.clone(), resumed.clone());
            tg.spawn(async move {
                handle.cancel();
                flag.store(true, SeqCst); // the rest of the eager step runs
                yield_now().await; // cancelled here
                after.store(true, SeqCst);
            });
            tg.join().await.expect("cancellation is not a failure");
            assert!(ran.load(SeqCst));
            assert!(!resumed.load(SeqCst), "cancelled at the first suspension");
            assert!(sibling.is_finished());
        });
    });
}

#[test]
fn an_eager_child_spawning_a_failing_grandchild_into_the_group() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let tg = TaskGroup::new();
            let handle = tg.handle();
            tg.spawn(async move {
                handle.spawn(async { Err::<(), _>("grandchild failed") });
                sleep(HOUR).await; // the group is cancelled by now
            });
            let err = tg.join().await.unwrap_err();
            assert_eq!(err.errors().len(), 1);
            assert!(err.to_string().contains("grandchild failed"), "{err}");
            assert_eq!(start.elapsed(), Duration::ZERO);
        });
    });
}

#[test]
fn spawning_into_a_cancelled_group_runs_the_eager_part_only() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let tg = TaskGroup::new();
            tg.cancel();
            let steps = Arc::new(Mutex::new(Vec::new()));
            let log = steps.clone();
            let child = tg.spawn(async move {
                log.lock().unwrap().push("before the first suspension");
                yield_now().await;
                log.lock().unwrap().push("after");
            });
            tg.join().await.unwrap();
            assert!(child.is_finished());
            // Eager or queued, the child runs its first step (the body is
            // polled before cancellation is looked at), then is cancelled.
            assert_eq!(*steps.lock().unwrap(), ["before the first suspension"]);
        });
    });
}

#[test]
fn cancelling_a_group_from_another_thread() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let dropped = DropCounter::new();
            let tg = TaskGroup::new();
            let (all_waiting, waiting) = signal();
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            for _ in 0..3 {
                let token = dropped.token();
                let tx = tx.clone();
                tg.spawn(async move {
                    let _token = token;
                    let _ = tx.send(());
                    std::future::pending::<()>().await;
                });
            }
            drop(tx);
            let handle = tg.handle();
            let canceller = std::thread::spawn(move || {
                for _ in 0..3 {
                    rx.recv().unwrap();
                }
                all_waiting.fire();
                handle.cancel();
            });
            waiting.await;
            tg.join().await.unwrap();
            canceller.join().unwrap();
            assert_eq!(dropped.get(), 3);
        });
    });
}

#[test]
fn nested_groups_are_cancelled_through_their_parent_group() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let dropped = DropCounter::new();
            let outer = TaskGroup::new();
            let counter = dropped.clone();
            outer.spawn(async move {
                let token = counter.token();
                let inner = TaskGroup::new();
                for _ in 0..2 {
                    let token = counter.token();
                    inner.spawn(async move {
                        let _token = token;
                        sleep(HOUR).await;
                    });
                }
                let _token = token;
                let _ = inner.join().await;
            });
            outer.cancel_scope().set_deadline(start + 4 * MS);
            outer.join().await.unwrap();
            assert_eq!(start.elapsed(), 4 * MS);
            assert_eq!(dropped.get(), 3, "the outer child and both inner ones");
        });
    });
}

#[test]
fn a_failure_under_a_cancelled_scope_is_still_reported() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let seen = Arc::new(Mutex::new(None));
            let record = seen.clone();
            let out = move_on_after(2 * MS, async move {
                let tg = TaskGroup::new();
                tg.spawn(async {
                    let shield = CancelScope::new();
                    shield.set_shield(true);
                    shield
                        .run(async {
                            sleep(5 * MS).await;
                            Err::<(), _>("failed inside the shield")
                        })
                        .await
                        .expect("shielded: not cancelled")
                });
                let result = tg.join().await;
                *record.lock().unwrap() = Some(result.map_err(|e| e.to_string()));
            })
            .await;
            let seen = seen.lock().unwrap().take();
            let err = seen.expect("join returned").unwrap_err();
            assert!(err.contains("failed inside the shield"), "{err}");
            // The body did not suspend again after join, so it completed.
            assert_eq!(out, Some(()));
        });
    });
}

#[test]
fn a_group_dropped_during_a_childs_eager_step_still_aborts_it() {
    // The child drops its own group in its eager step, before `spawn` has
    // returned its abort handle: the child must still be aborted, or it
    // would hold the enclosing scope open for ever.
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let out = move_on_after(50 * MS, async {
                let tg = TaskGroup::new();
                let handle = tg.handle();
                handle.spawn(async move {
                    drop(tg);
                    std::future::pending::<()>().await;
                });
                std::future::pending::<()>().await;
            })
            .await;
            assert_eq!(out, None);
            assert_eq!(start.elapsed(), 50 * MS);
        });
    });
}

#[test]
fn join_delivers_an_enclosing_cancellation_even_if_the_group_was_cancelled_too() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let outer = CancelScope::new();
            let out = outer
                .run(async {
                    let tg = TaskGroup::new();
                    let (handle, scope) = (tg.handle(), outer.clone());
                    tg.spawn(async move {
                        handle.cancel(); // the group's own scope…
                        scope.cancel(); // …and the one around it
                        sleep(HOUR).await;
                    });
                    let _ = tg.join().await;
                    "went on past join"
                })
                .await;
            assert!(out.is_err(), "the outer scope catches at join: {out:?}");
            assert!(outer.cancelled_caught());
        });
    });
}

#[test]
fn a_child_panicking_while_being_cancelled_is_a_failure() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("clean-up failed");
        }
    }
    each(&ALL, |cfg| {
        let rt = cfg
            .builder()
            .start_paused(true)
            .unhandled_panic(keen::runtime::UnhandledPanic::Ignore)
            .build()
            .unwrap();
        run_in_task(&rt, async {
            let tg = TaskGroup::new();
            tg.spawn(async {
                let _guard = PanicOnDrop;
                sleep(HOUR).await;
            });
            tg.spawn(async {
                sleep(MS).await;
                Err::<(), _>("fails first")
            });
            let err = tg.join().await.expect_err("two failures");
            assert_eq!(err.errors().len(), 2, "{err}");
            assert!(err.errors().iter().any(|e| e.is_panic()), "{err}");
        });
    });
}
