//! `keen::task::JoinSet` on every runtime configuration: eager children
//! that finished inside `spawn` come out first in spawn order, the others
//! in the order they finish; `abort_all`, `detach_all`, `shutdown`,
//! dropping the set, `try_join_next`, ids, `spawn_lazy`/`spawn_local`/
//! `spawn_blocking`, a panicking child, a cancelled `join_next` losing
//! nothing, and 10,000 children each returned exactly once.
//!
//! Finishing order is forced with `oneshot` triggers, never with sleeps: a
//! child can only finish after the test releases it.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use keen::sync::oneshot;
use keen::task::{JoinSet, yield_now};
use keen_suite::{ALL, EAGER, Flavor, each, panic_message, poll_once, run_in_task};

/// A child that finishes only when the returned sender fires (or is dropped).
fn gated(set: &mut JoinSet<usize>, value: usize) -> oneshot::Sender<()> {
    let (tx, rx) = oneshot::channel::<()>();
    set.spawn(async move {
        let _ = rx.await;
        value
    });
    tx
}

#[test]
fn eager_children_finished_in_spawn_come_out_first_in_spawn_order() {
    each(&EAGER, |cfg| {
        let rt = cfg.build();
        let order = run_in_task(&rt, async {
            let mut set = JoinSet::new();
            let mut gates = Vec::new();
            let mut gated_tasks = Vec::new();
            for i in 0..6 {
                if i % 2 == 0 {
                    let (tx, rx) = oneshot::channel::<()>();
                    gated_tasks.push(set.spawn(async move {
                        let _ = rx.await;
                        i
                    }));
                    gates.push(tx);
                } else {
                    set.spawn(async move { i });
                }
            }
            // The gated ones are released and have finished before the
            // first `join_next`, yet the ready ones (which finished inside
            // `spawn`) still come out first.
            for gate in gates {
                gate.send(()).unwrap();
            }
            while !gated_tasks.iter().all(|task| task.is_finished()) {
                yield_now().await;
            }
            let mut order = Vec::new();
            for _ in 0..3 {
                order.push(set.join_next().await.unwrap().unwrap());
            }
            let mut rest = Vec::new();
            while let Some(out) = set.join_next().await {
                rest.push(out.unwrap());
            }
            rest.sort();
            order.extend(rest);
            order
        });
        assert_eq!(order, [1, 3, 5, 0, 2, 4]);
    });
}

#[test]
fn running_children_come_out_in_the_order_they_finish() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let order = run_in_task(&rt, async {
            let mut set = JoinSet::new();
            let mut gates: Vec<_> = (0..4).map(|i| Some(gated(&mut set, i))).collect();
            let mut order = Vec::new();
            for i in [2, 0, 3, 1] {
                gates[i].take().unwrap().send(()).unwrap();
                order.push(set.join_next().await.unwrap().unwrap());
            }
            assert!(set.join_next().await.is_none());
            order
        });
        assert_eq!(order, [2, 0, 3, 1]);
    });
}

#[test]
fn len_counts_tasks_until_they_are_taken_out() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut set = JoinSet::new();
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
            let gate = gated(&mut set, 7);
            set.spawn(async { 8 });
            assert_eq!(set.len(), 2);
            let first = set.join_next().await.unwrap().unwrap();
            assert_eq!(set.len(), 1);
            gate.send(()).unwrap();
            let second = set.join_next().await.unwrap().unwrap();
            assert_eq!(set.len(), 0);
            assert!(set.is_empty());
            let mut got = [first, second];
            got.sort();
            assert_eq!(got, [7, 8]);
        });
    });
}

#[test]
fn ids_match_the_abort_handles_spawn_returned() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut set = JoinSet::new();
            let mut expected = HashSet::new();
            for i in 0..10u32 {
                let abort = set.spawn(async move {
                    if i % 3 == 0 {
                        yield_now().await;
                    }
                    i
                });
                expected.insert(abort.id());
            }
            let mut seen = HashSet::new();
            while let Some(result) = set.join_next_with_id().await {
                let (id, _) = result.unwrap();
                assert!(seen.insert(id), "an id came out twice");
            }
            assert_eq!(seen, expected);
        });
    });
}

#[test]
fn abort_all_cancels_the_running_and_keeps_the_finished_values() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (ok, cancelled) = run_in_task(&rt, async move {
            let mut set = JoinSet::new();
            let mut gates = Vec::new();
            for i in 0..5 {
                gates.push(gated(&mut set, i));
            }
            set.spawn(async { 100 });
            // Let the eager child finish on lazy configurations too.
            while set.try_join_next().is_none() {
                yield_now().await;
            }
            set.abort_all();
            assert_eq!(set.len(), 5, "abort_all leaves the tasks in the set");
            let (mut ok, mut cancelled) = (0, 0);
            while let Some(result) = set.join_next().await {
                match result {
                    Ok(_) => ok += 1,
                    Err(err) if err.is_cancelled() => cancelled += 1,
                    Err(err) => panic!("unexpected {err}"),
                }
            }
            drop(gates);
            (ok, cancelled)
        });
        assert_eq!((ok, cancelled), (0, 5));
    });
}

#[test]
fn dropping_the_set_aborts_every_task() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut set = JoinSet::new();
            let mut dropped = Vec::new();
            for _ in 0..8 {
                // Each child owns a sender; its receiver sees `Err` when the
                // child's future is dropped.
                let (tx, rx) = oneshot::channel::<()>();
                set.spawn(async move {
                    let _keep = tx;
                    std::future::pending::<()>().await;
                });
                dropped.push(rx);
            }
            drop(set);
            for rx in dropped {
                assert!(rx.await.is_err(), "the child was dropped, not completed");
            }
        });
    });
}

#[test]
fn detach_all_lets_the_tasks_run_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut set = JoinSet::new();
            let mut gates = Vec::new();
            let mut results = Vec::new();
            for i in 0..4usize {
                let (go, wait) = oneshot::channel::<()>();
                let (done, result) = oneshot::channel();
                set.spawn(async move {
                    wait.await.unwrap();
                    done.send(i).unwrap();
                });
                gates.push(go);
                results.push(result);
            }
            set.detach_all();
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
            drop(set);
            for gate in gates {
                gate.send(()).unwrap();
            }
            for (i, result) in results.into_iter().enumerate() {
                assert_eq!(result.await.unwrap(), i);
            }
        });
    });
}

#[test]
fn shutdown_waits_until_every_task_is_gone() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let live = Arc::new(AtomicUsize::new(0));
            struct Live(Arc<AtomicUsize>);
            impl Drop for Live {
                fn drop(&mut self) {
                    self.0.fetch_sub(1, Ordering::SeqCst);
                }
            }
            let mut set = JoinSet::new();
            for _ in 0..16 {
                live.fetch_add(1, Ordering::SeqCst);
                let guard = Live(live.clone());
                set.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                });
            }
            set.shutdown().await;
            assert!(set.is_empty());
            assert_eq!(live.load(Ordering::SeqCst), 0, "every future was dropped");
        });
    });
}

#[test]
fn try_join_next_never_waits() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut set = JoinSet::new();
            assert!(set.try_join_next().is_none());
            let gate = gated(&mut set, 3);
            assert!(set.try_join_next().is_none());
            gate.send(()).unwrap();
            loop {
                if let Some(result) = set.try_join_next() {
                    assert_eq!(result.unwrap(), 3);
                    break;
                }
                yield_now().await;
            }
            assert!(set.try_join_next().is_none());
        });
    });
}

#[test]
fn a_cancelled_join_next_loses_nothing() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut set = JoinSet::new();
            let gate = gated(&mut set, 9);
            {
                let mut next = Box::pin(set.join_next());
                assert!(poll_once(&mut next).is_pending());
                gate.send(()).unwrap();
                // Dropped without being polled again, after the finish.
            }
            assert_eq!(set.len(), 1);
            assert_eq!(set.join_next().await.unwrap().unwrap(), 9);
            assert!(set.join_next().await.is_none());
        });
    });
}

#[test]
fn a_panicking_child_is_an_error_and_the_others_carry_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut set = JoinSet::new();
            set.spawn(async {
                yield_now().await;
                panic!("child failed")
            });
            set.spawn(async { 1 });
            let (mut values, mut panics) = (0, 0);
            while let Some(result) = set.join_next().await {
                match result {
                    Ok(v) => values += v,
                    Err(err) => {
                        assert_eq!(panic_message(&*err.into_panic()), "child failed");
                        panics += 1;
                    }
                }
            }
            assert_eq!((values, panics), (1, 1));
        });
    });
}

#[test]
fn lazy_blocking_and_local_children_join_like_the_others() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let total = rt.block_on(async {
            let mut set = JoinSet::new();
            set.spawn_lazy(async { 1 });
            set.spawn_blocking(|| 10);
            set.spawn_on(async { 100 }, &keen::Handle::current());
            set.spawn_blocking_on(|| 1000, &keen::Handle::current());
            if cfg.flavor == Flavor::CurrentThread {
                let local = std::rc::Rc::new(10_000);
                set.spawn_local(async move { *local });
            }
            let mut total = 0;
            while let Some(result) = set.join_next().await {
                total += result.unwrap();
            }
            total
        });
        let local = if cfg.flavor == Flavor::CurrentThread {
            10_000
        } else {
            0
        };
        assert_eq!(total, 1111 + local);
    });
}

#[test]
fn a_lazy_child_is_never_finished_inside_spawn() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut set = JoinSet::new();
            set.spawn_lazy(async { 1 });
            set.spawn(async { 2 });
            let mut order = Vec::new();
            while let Some(result) = set.join_next().await {
                order.push(result.unwrap());
            }
            order.sort();
            assert_eq!(order, [1, 2]);
        });
    });
}

#[test]
fn ten_thousand_children_each_come_out_exactly_once() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let seen = run_in_task(&rt, async {
            let mut set: JoinSet<usize> = (0..10_000usize)
                .map(|i| async move {
                    for _ in 0..i % 3 {
                        yield_now().await;
                    }
                    i
                })
                .collect();
            let mut seen = vec![0u8; 10_000];
            while let Some(result) = set.join_next().await {
                seen[result.unwrap()] += 1;
            }
            seen
        });
        assert!(seen.iter().all(|&n| n == 1), "every child exactly once");
    });
}

#[test]
fn join_all_returns_every_output_and_resumes_a_panic() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let set: JoinSet<u32> = (1..=4u32).map(|i| async move { i }).collect();
            let mut all = set.join_all().await;
            all.sort();
            assert_eq!(all, [1, 2, 3, 4]);
        });
        let failed = rt.block_on(rt.spawn(async {
            let mut set = JoinSet::new();
            set.spawn(async {
                yield_now().await;
                panic!("inside join_all")
            });
            set.join_all().await
        }));
        let payload = failed.unwrap_err().into_panic();
        assert_eq!(panic_message(&*payload), "inside join_all");
    });
}

#[test]
fn the_set_moves_between_tasks_and_threads() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let total = rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..50u64 {
                set.spawn(async move {
                    yield_now().await;
                    i
                });
            }
            keen::spawn(async move {
                let mut total = 0;
                while let Some(result) = set.join_next().await {
                    total += result.unwrap();
                }
                total
            })
            .await
            .unwrap()
        });
        assert_eq!(total, (0..50).sum::<u64>());
    });
}

#[test]
fn a_join_next_woken_from_another_thread_completes() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut set = JoinSet::new();
            let gate = gated(&mut set, 5);
            let mut next = Box::pin(set.join_next());
            assert!(poll_once(&mut next).is_pending());
            std::thread::spawn(move || gate.send(()).unwrap());
            match next.await {
                Some(Ok(5)) => {}
                other => panic!("unexpected {other:?}"),
            }
            assert!(matches!(
                std::future::poll_fn(|cx| Poll::Ready(set.poll_join_next(cx))).await,
                Poll::Ready(None)
            ));
        });
    });
}
