//! `keen::sync::RwLock` on every runtime configuration: readers share and
//! writers exclude under contention (exact counts), FIFO order with write
//! preference (a queued writer blocks later readers, and `try_read` cannot
//! barge past it), cancel-safety of a waiting `read()`/`write()` (dropped
//! while queued, and dropped after the lock was handed to it, by hand, by
//! `abort` and by a cancelled scope), `downgrade`, `with_max_readers`,
//! owned guards moving across tasks and threads, and the blocking forms on
//! plain threads (and their panic inside a runtime thread).
//!
//! Queue positions are made deterministic by polling futures by hand
//! (`poll_once`) or by [`announce_pending`], which fires once a waiter is
//! queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use keen::sync::RwLock;
use keen::task::yield_now;
use keen_suite::{ALL, announce_pending, each, panic_message, poll_once, run_in_task, signal};

const MS: Duration = Duration::from_millis(1);

/// Unwraps a ready poll, naming what should have been ready.
fn ready<T>(poll: Poll<T>, what: &str) -> T {
    match poll {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("{what} should have been ready"),
    }
}

#[test]
fn readers_share_and_writers_exclude_under_contention() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (value, bad, reads) = run_in_task(&rt, async {
            let lock = Arc::new(RwLock::new(0usize));
            let readers = Arc::new(AtomicUsize::new(0));
            let writers = Arc::new(AtomicUsize::new(0));
            let bad = Arc::new(AtomicUsize::new(0));
            let reads = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..2_000)
                .map(|i| {
                    let (lock, readers, writers, bad, reads) = (
                        lock.clone(),
                        readers.clone(),
                        writers.clone(),
                        bad.clone(),
                        reads.clone(),
                    );
                    keen::spawn(async move {
                        if i % 10 == 0 {
                            let mut guard = lock.write().await;
                            if writers.fetch_add(1, Ordering::SeqCst) != 0
                                || readers.load(Ordering::SeqCst) != 0
                            {
                                bad.fetch_add(1, Ordering::SeqCst);
                            }
                            let seen = *guard;
                            yield_now().await; // hold it across a suspension
                            *guard = seen + 1;
                            writers.fetch_sub(1, Ordering::SeqCst);
                        } else {
                            let guard = lock.read().await;
                            readers.fetch_add(1, Ordering::SeqCst);
                            if writers.load(Ordering::SeqCst) != 0 {
                                bad.fetch_add(1, Ordering::SeqCst);
                            }
                            let seen = *guard;
                            if i % 3 == 0 {
                                yield_now().await;
                            }
                            assert_eq!(*guard, seen, "a writer changed the data under a reader");
                            readers.fetch_sub(1, Ordering::SeqCst);
                            reads.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let value = *lock.read().await;
            (
                value,
                bad.load(Ordering::SeqCst),
                reads.load(Ordering::SeqCst),
            )
        });
        assert_eq!(value, 200, "every write counted once");
        assert_eq!(reads, 1_800);
        assert_eq!(bad, 0, "a writer overlapped another holder");
    });
}

#[test]
fn fifo_with_write_preference_by_hand() {
    let lock = RwLock::new(());
    let r0 = lock.try_read().unwrap();
    let mut w1 = Box::pin(lock.write());
    let mut r1 = Box::pin(lock.read());
    let mut r2 = Box::pin(lock.read());
    let mut w2 = Box::pin(lock.write());
    let mut r3 = Box::pin(lock.read());
    assert!(poll_once(&mut w1).is_pending());
    assert!(poll_once(&mut r1).is_pending());
    assert!(poll_once(&mut r2).is_pending());
    assert!(poll_once(&mut w2).is_pending());
    assert!(poll_once(&mut r3).is_pending());
    assert!(
        lock.try_read().is_err(),
        "a queued writer blocks new readers, though only readers hold the lock"
    );
    assert!(poll_once(&mut r1).is_pending(), "r1 waits behind w1");
    drop(r0);
    assert!(
        lock.try_read().is_err(),
        "the lock went to w1, not to a barger"
    );
    let g1 = ready(poll_once(&mut w1), "w1");
    assert!(poll_once(&mut r1).is_pending());
    drop(g1);
    // Both readers before w2 go in together; w2 and the reader after it wait.
    let (g_r1, g_r2) = (
        ready(poll_once(&mut r1), "r1"),
        ready(poll_once(&mut r2), "r2"),
    );
    assert!(poll_once(&mut w2).is_pending());
    assert!(poll_once(&mut r3).is_pending(), "r3 queued after w2");
    drop(g_r1);
    assert!(poll_once(&mut w2).is_pending(), "r2 still reads");
    drop(g_r2);
    let g2 = ready(poll_once(&mut w2), "w2");
    assert!(poll_once(&mut r3).is_pending());
    drop(g2);
    drop(ready(poll_once(&mut r3), "r3"));
    assert!(lock.try_write().is_ok());
}

#[test]
fn queued_tasks_are_served_in_arrival_order() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let log = run_in_task(&rt, async {
            let lock = Arc::new(RwLock::new(()));
            // Written while holding the RwLock, so its order is the lock's.
            let log = Arc::new(std::sync::Mutex::new(Vec::new()));
            let held = lock.clone().read_owned().await;
            let mut tasks = Vec::new();
            // w0 r1 r2 w3 r4: a writer between readers splits them.
            for (i, write) in [(0, true), (1, false), (2, false), (3, true), (4, false)] {
                let (queued, is_queued) = signal();
                let (lock, log) = (lock.clone(), log.clone());
                tasks.push(keen::spawn(async move {
                    let name = format!("{}{i}", if write { 'w' } else { 'r' });
                    if write {
                        let _g = announce_pending(lock.write(), queued).await;
                        log.lock().unwrap().push(name);
                        yield_now().await;
                    } else {
                        let _g = announce_pending(lock.read(), queued).await;
                        log.lock().unwrap().push(name);
                        yield_now().await;
                    }
                }));
                is_queued.await;
            }
            assert!(
                lock.try_read().is_err(),
                "w0 is queued: no reader may barge"
            );
            drop(held);
            for task in tasks {
                task.await.unwrap();
            }
            log.lock().unwrap().clone()
        });
        assert_eq!(log[0], "w0");
        let mut middle = [log[1].clone(), log[2].clone()];
        middle.sort();
        assert_eq!(middle, ["r1", "r2"], "{log:?}");
        assert_eq!(log[3..], ["w3", "r4"], "r4 queued after w3: {log:?}");
    });
}

#[test]
fn a_cancelled_waiter_loses_nothing_by_hand() {
    // A writer dropped while queued: the readers it held back go on.
    let lock = RwLock::new(0);
    let r0 = lock.try_read().unwrap();
    let mut w = Box::pin(lock.write());
    let mut r1 = Box::pin(lock.read());
    assert!(poll_once(&mut w).is_pending());
    assert!(poll_once(&mut r1).is_pending());
    drop(w);
    let g1 = ready(poll_once(&mut r1), "a reader behind a cancelled writer");
    drop((r0, g1));
    assert!(lock.try_write().is_ok());

    // A writer dropped after the lock was handed to it: the next waiters get it.
    let r0 = lock.try_read().unwrap();
    let mut w = Box::pin(lock.write());
    let mut r1 = Box::pin(lock.read());
    let mut r2 = Box::pin(lock.read());
    assert!(poll_once(&mut w).is_pending());
    assert!(poll_once(&mut r1).is_pending());
    assert!(poll_once(&mut r2).is_pending());
    drop(r0); // handed to `w`
    drop(w);
    let (g1, g2) = (
        ready(poll_once(&mut r1), "r1"),
        ready(poll_once(&mut r2), "r2"),
    );
    drop((g1, g2));
    assert!(lock.try_write().is_ok(), "no permit was lost");

    // A reader dropped after it was handed its permit: the writer behind it goes.
    let w0 = lock.try_write().unwrap();
    let mut r1 = Box::pin(lock.read());
    let mut w2 = Box::pin(lock.write());
    assert!(poll_once(&mut r1).is_pending());
    assert!(poll_once(&mut w2).is_pending());
    drop(w0); // r1 is handed a permit
    assert!(poll_once(&mut w2).is_pending(), "r1 holds its permit");
    drop(r1);
    let mut g = ready(poll_once(&mut w2), "the writer behind a cancelled reader");
    *g += 1;
    drop(g);
    assert_eq!(*lock.try_read().unwrap(), 1);
}

#[test]
fn an_aborted_task_handed_the_write_lock_passes_it_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let lock = Arc::new(RwLock::new(Vec::new()));
            let reader = lock.clone().read_owned().await;
            let (queued, is_queued) = signal();
            let first = keen::spawn({
                let lock = lock.clone();
                async move { announce_pending(lock.write(), queued).await.push("first") }
            });
            is_queued.await;
            let (queued, is_queued) = signal();
            let second = keen::spawn({
                let lock = lock.clone();
                async move { announce_pending(lock.write(), queued).await.push("second") }
            });
            is_queued.await;
            drop(reader); // hands the lock to `first`
            first.abort();
            let first_ran = first.await.is_ok();
            second.await.unwrap();
            let log = lock.read().await.clone();
            if first_ran {
                assert!(
                    cfg.is_multi_thread(),
                    "abort before the task ran must win here"
                );
                assert_eq!(log, ["first", "second"]);
            } else {
                assert_eq!(log, ["second"]);
            }
            assert!(lock.try_write().is_ok());
        });
    });
}

#[test]
fn a_write_cancelled_by_a_scope_lets_later_readers_in() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let lock = Arc::new(RwLock::new(0));
            let reader = lock.clone().read_owned().await;
            let (queued, is_queued) = signal();
            let behind = keen::spawn({
                let lock = lock.clone();
                async move {
                    keen::time::sleep(MS).await; // queue after the writer
                    *announce_pending(lock.read(), queued).await
                }
            });
            let cancelled = keen::scope::move_on_after(5 * MS, lock.write()).await;
            assert!(
                cancelled.is_none(),
                "a reader held the lock: the scope must time out"
            );
            is_queued.await;
            // The writer left the queue, so the reader behind it runs while
            // `reader` still holds the lock.
            assert_eq!(behind.await.unwrap(), 0);
            drop(reader);
            *lock.write().await += 1;
            assert_eq!(*lock.read().await, 1);
        });
    });
}

#[test]
fn downgrade_admits_the_front_readers_but_no_writer() {
    let lock = RwLock::new(1);
    let w0 = lock.try_write().unwrap();
    let mut r1 = Box::pin(lock.read());
    let mut w2 = Box::pin(lock.write());
    let mut r2 = Box::pin(lock.read());
    assert!(poll_once(&mut r1).is_pending());
    assert!(poll_once(&mut w2).is_pending());
    assert!(poll_once(&mut r2).is_pending());
    let down = w0.downgrade();
    let g1 = ready(poll_once(&mut r1), "the reader at the front");
    assert!(poll_once(&mut w2).is_pending());
    assert!(poll_once(&mut r2).is_pending(), "behind the queued writer");
    drop((down, g1));
    drop(ready(poll_once(&mut w2), "w2"));
    drop(ready(poll_once(&mut r2), "r2"));
}

#[test]
fn with_max_readers_caps_concurrent_readers() {
    let lock = RwLock::with_max_readers((), 2);
    let (a, b) = (lock.try_read().unwrap(), lock.try_read().unwrap());
    let mut c = Box::pin(lock.read());
    assert!(poll_once(&mut c).is_pending());
    drop(a);
    let c = ready(poll_once(&mut c), "the third reader once one left");
    assert!(lock.try_write().is_err());
    drop((b, c));
    assert!(lock.try_write().is_ok());
    let caught = std::panic::catch_unwind(|| RwLock::with_max_readers((), 0));
    assert!(
        caught.is_err(),
        "zero readers would make a writer wait forever"
    );
}

#[test]
fn owned_guards_move_into_tasks_and_threads() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let lock = Arc::new(RwLock::new(0));
            let mut guard = lock.clone().write_owned().await;
            *guard += 1;
            keen::spawn(async move {
                yield_now().await;
                *guard += 1;
            })
            .await
            .unwrap();
            // Several owned read guards, each in its own task, at once.
            let guards: Vec<_> = (0..3)
                .map(|_| lock.clone().try_read_owned().unwrap())
                .collect();
            assert!(lock.try_write().is_err());
            let seen: Vec<_> = guards
                .into_iter()
                .map(|g| keen::spawn(async move { *g }))
                .collect();
            for s in seen {
                assert_eq!(s.await.unwrap(), 2);
            }
            let guard = lock.clone().try_write_owned().unwrap();
            keen::spawn_blocking(move || {
                let mut guard = guard;
                *guard += 1;
                let read = guard.downgrade();
                assert_eq!(*read, 3);
            })
            .await
            .unwrap();
            assert_eq!(*lock.read().await, 3);
            assert!(lock.try_write().is_ok());
        });
    });
}

#[test]
fn plain_threads_and_tasks_share_one_lock() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let lock = Arc::new(RwLock::new(0u64));
        let threads: Vec<_> = (0..3)
            .map(|t| {
                let lock = lock.clone();
                thread::spawn(move || {
                    for i in 0..300 {
                        match (t + i) % 3 {
                            0 => *lock.blocking_write() += 1,
                            1 => drop(lock.blocking_read()),
                            // Race the fast path against everyone.
                            _ => loop {
                                if let Ok(mut g) = lock.try_write() {
                                    *g += 1;
                                    break;
                                }
                                drop(lock.try_read());
                                thread::yield_now();
                            },
                        }
                    }
                })
            })
            .collect();
        run_in_task(&rt, {
            let lock = lock.clone();
            async move {
                let tasks: Vec<_> = (0..4)
                    .map(|_| {
                        let lock = lock.clone();
                        keen::spawn(async move {
                            for _ in 0..300 {
                                let mut guard = lock.write().await;
                                yield_now().await;
                                *guard += 1;
                                drop(guard);
                                let _read = lock.read().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        // Each thread writes on two of every three rounds: 3 × 200.
        assert_eq!(*lock.blocking_read(), 3 * 200 + 4 * 300);
    });
}

#[test]
fn one_lock_used_from_two_runtimes_at_once() {
    let lock = Arc::new(RwLock::new(0u64));
    let handles: Vec<_> = [ALL[0], ALL[2]]
        .into_iter()
        .map(|cfg| {
            let lock = lock.clone();
            thread::spawn(move || {
                let rt = cfg.build();
                run_in_task(&rt, async move {
                    let tasks: Vec<_> = (0..50)
                        .map(|i| {
                            let lock = lock.clone();
                            keen::spawn(async move {
                                for _ in 0..20 {
                                    if i % 2 == 0 {
                                        let mut g = lock.write().await;
                                        yield_now().await;
                                        *g += 1;
                                    } else {
                                        let _g = lock.read().await;
                                        yield_now().await;
                                    }
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                });
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*lock.blocking_read(), 2 * 25 * 20);
}

#[test]
fn blocking_write_inside_spawn_blocking_waits_for_a_task() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let lock = Arc::new(RwLock::new(0));
            let reader = lock.clone().read_owned().await;
            let (about_tx, about_rx) = std::sync::mpsc::channel();
            let blocked = keen::spawn_blocking({
                let lock = lock.clone();
                move || {
                    about_tx.send(()).unwrap();
                    *lock.blocking_write() += 1;
                }
            });
            while about_rx.try_recv().is_err() {
                yield_now().await;
            }
            drop(reader);
            blocked.await.unwrap();
            assert_eq!(*lock.read().await, 1);
        });
    });
}

#[test]
fn blocking_forms_panic_inside_a_task_or_block_on() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let messages = run_in_task(&rt, async {
            let lock = RwLock::new(());
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(lock.blocking_read());
            }));
            let write = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(lock.blocking_write());
            }));
            [
                panic_message(&*read.unwrap_err()),
                panic_message(&*write.unwrap_err()),
            ]
        });
        assert!(
            messages[0].contains("RwLock::blocking_read"),
            "{}",
            messages[0]
        );
        assert!(
            messages[1].contains("RwLock::blocking_write"),
            "{}",
            messages[1]
        );
        assert!(messages[1].contains("async context"), "{}", messages[1]);
        let caught = rt.block_on(async {
            let lock = RwLock::new(());
            let lock = std::panic::AssertUnwindSafe(&lock);
            let r = std::panic::catch_unwind(|| drop(lock.blocking_read())).is_err();
            let w = std::panic::catch_unwind(|| drop(lock.blocking_write())).is_err();
            r && w
        });
        assert!(caught, "the blocking forms must panic in block_on");
    });
}

/// Mapped guards hold exactly what the guard they came from held: a mapped
/// read guard keeps its permit (a queued writer waits for it, not for the
/// original), a mapped write guard keeps every permit (readers wait), a
/// `downgrade_map` lets the front readers in at once but not the queued
/// writer, and a declined `try_map` hands back a guard still holding.
#[test]
fn mapped_guards_hold_what_their_guard_held() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            use keen::sync::{RwLockReadGuard, RwLockWriteGuard};
            let lock = Arc::new(RwLock::new((1u32, vec![10u32])));

            let part = RwLockReadGuard::map(lock.read().await, |p| &p.1);
            let mut writer = Box::pin(lock.write());
            assert!(poll_once(&mut writer).is_pending());
            assert_eq!(*part, [10]);
            drop(part);
            let w = ready(poll_once(&mut writer), "write after the mapped read");
            drop(writer);

            let mut list = RwLockWriteGuard::map(w, |p| &mut p.1);
            list.push(11);
            let mut reader = Box::pin(lock.read());
            assert!(poll_once(&mut reader).is_pending());
            drop(list);
            assert_eq!(ready(poll_once(&mut reader), "read").1, [10, 11]);
            drop(reader);

            // downgrade_map: a queued reader gets in at once, a queued
            // writer behind it does not.
            let w = lock.write().await;
            let mut r1 = Box::pin(lock.read());
            assert!(poll_once(&mut r1).is_pending());
            let first = RwLockWriteGuard::downgrade_map(w, |p| &p.0);
            assert_eq!(*ready(poll_once(&mut r1), "front reader").1, [10, 11]);
            assert!(lock.try_write().is_err());
            drop((first, r1));

            let declined = RwLockWriteGuard::try_map(lock.write().await, |p| p.1.get_mut(7));
            let whole = declined.expect_err("no element 7");
            assert!(
                lock.try_read().is_err(),
                "the handed-back guard still holds"
            );
            drop(whole);
            assert!(lock.try_write().is_ok());
        });
    });
}

/// A `map` closure that panics drops the guard it was given during the
/// unwind, so the lock is free afterwards, for read and write guards,
/// borrowed and owned.
#[test]
fn a_panicking_map_closure_releases_the_lock() {
    use keen::sync::{OwnedRwLockWriteGuard, RwLockReadGuard, RwLockWriteGuard};
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let lock = Arc::new(RwLock::new(vec![1u8]));
    let r = catch_unwind(AssertUnwindSafe(|| {
        RwLockReadGuard::map(lock.try_read().unwrap(), |_| -> &u8 { panic!("in map") })
    }));
    assert_eq!(panic_message(&*r.err().unwrap()), "in map");
    let r = catch_unwind(AssertUnwindSafe(|| {
        RwLockWriteGuard::map(lock.try_write().unwrap(), |_| -> &mut u8 {
            panic!("in map")
        })
    }));
    assert!(r.is_err());
    let r = catch_unwind(AssertUnwindSafe(|| {
        OwnedRwLockWriteGuard::downgrade_map(lock.clone().try_write_owned().unwrap(), |_| -> &u8 {
            panic!("in map")
        })
    }));
    assert!(r.is_err());
    assert!(
        lock.try_write().is_ok(),
        "every panicking map released its permits"
    );
}

/// Owned mapped guards are `'static`: they move into a task (on another
/// thread on multi-thread) and release there; the narrowed type shows only
/// its part, and `rwlock()` still names the whole lock.
#[test]
fn owned_mapped_guards_move_into_tasks_and_release_there() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            use keen::sync::{
                OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard,
            };
            let lock = Arc::new(RwLock::new((0u32, String::from("a"))));
            let name: OwnedRwLockMappedWriteGuard<(u32, String), String> =
                OwnedRwLockWriteGuard::map(lock.clone().write_owned().await, |p| &mut p.1);
            assert!(Arc::ptr_eq(name.rwlock(), &lock));
            let task = keen::spawn_lazy(async move {
                let mut name = name;
                yield_now().await;
                name.push('b');
            });
            // The lock stays write-held until the task drops the guard.
            assert_eq!(lock.read().await.1, "ab");
            task.await.unwrap();

            let count: OwnedRwLockReadGuard<(u32, String), u32> =
                OwnedRwLockReadGuard::map(lock.clone().read_owned().await, |p| &p.0);
            let reader = keen::spawn_lazy(async move { *count });
            assert_eq!(reader.await.unwrap(), 0);
            assert!(lock.try_write().is_ok(), "released in the task");
        });
    });
}

/// A waker that panics when woken (another executor's, say).
struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("waker panicked");
    }
}

/// The review's finding: `downgrade` gives the extra permits back, which
/// wakes the queued readers; if one's waker panics, the unwind must drop a
/// guard of one permit, not give every permit back a second time (which
/// let a writer in beside a reader). For every downgrading form, borrowed
/// and owned: after the panic the woken reader holds the lock, a writer is
/// refused, and once the reader is gone every permit is back.
#[test]
fn a_waker_panicking_inside_downgrade_gives_no_permit_back_twice() {
    use keen::sync::{OwnedRwLockWriteGuard, RwLockWriteGuard};
    use std::future::Future;
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::pin::pin;
    use std::task::{Context, Waker};
    let boom = Waker::from(Arc::new(PanickingWaker));
    for form in [
        "downgrade",
        "downgrade_map",
        "owned downgrade",
        "owned downgrade_map",
    ] {
        for max in [2, 3, 64] {
            let lock = Arc::new(RwLock::with_max_readers(0u64, max));
            let borrowed = lock.try_write().ok().filter(|_| !form.starts_with("owned"));
            let owned = if borrowed.is_none() {
                Some(lock.clone().try_write_owned().unwrap())
            } else {
                None
            };
            let mut queued = pin!(lock.read());
            assert!(
                queued
                    .as_mut()
                    .poll(&mut Context::from_waker(&boom))
                    .is_pending()
            );
            let unwound = catch_unwind(AssertUnwindSafe(|| match form {
                "downgrade" => drop(borrowed.unwrap().downgrade()),
                "downgrade_map" => drop(RwLockWriteGuard::downgrade_map(borrowed.unwrap(), |v| v)),
                "owned downgrade" => drop(owned.unwrap().downgrade()),
                _ => drop(OwnedRwLockWriteGuard::downgrade_map(owned.unwrap(), |v| v)),
            }));
            assert!(
                unwound.is_err(),
                "{form}: the reader's waker ran inside the downgrade"
            );
            let reader = match queued
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
            {
                Poll::Ready(guard) => guard,
                Poll::Pending => panic!("{form}: the queued reader was granted"),
            };
            assert!(
                lock.try_write().is_err(),
                "{form}, max {max}: a writer beside a reader"
            );
            drop(reader);
            assert!(
                lock.try_write().is_ok(),
                "{form}, max {max}: every permit is back"
            );
        }
    }
}
