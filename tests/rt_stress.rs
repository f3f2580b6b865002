//! Runtime-wide stress, deterministic and bounded: a million tasks on two
//! stealing workers, each run and dropped exactly once; spawns racing the
//! runtime's shutdown (each future runs or is dropped, once, and nothing
//! leaks); wakers kept past the runtime's drop and woken afterwards from
//! other threads; join handles dropped on other threads while their tasks
//! complete. No sleep orders anything: threads meet at barriers and
//! channels, and counts are checked once everything has been joined. Also
//! nested eager chains racing remote spawns (the injector look of a nested
//! spawn).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::task::{Poll, Waker};
use std::thread;

use keen::runtime::Builder;
use keen::sync::oneshot;
use keen::task::yield_now;
use keen_suite::{ALL, each};

/// Bumps `slots[i]` when dropped.
struct Mark {
    slots: Arc<Vec<AtomicU8>>,
    i: usize,
}

impl Drop for Mark {
    fn drop(&mut self) {
        self.slots[self.i].fetch_add(1, SeqCst);
    }
}

fn slots(n: usize) -> Arc<Vec<AtomicU8>> {
    Arc::new((0..n).map(|_| AtomicU8::new(0)).collect())
}

fn all_once(slots: &[AtomicU8]) -> bool {
    slots.iter().all(|s| s.load(SeqCst) == 1)
}

#[test]
fn a_million_tasks_on_two_stealing_workers_each_run_and_drop_once() {
    const N: usize = 1_000_000;
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (runs, drops) = (slots(N), slots(N));
    let (r, d) = (runs.clone(), drops.clone());
    // Queued, so the body runs on a worker and its children land in that
    // worker's queue: the other worker gets them only by stealing.
    let body = rt.handle().spawn_lazy(async move {
        let mut handles = Vec::with_capacity(N);
        for i in 0..N {
            let (runs, mark) = (
                r.clone(),
                Mark {
                    slots: d.clone(),
                    i,
                },
            );
            handles.push(keen::spawn(async move {
                let _mark = mark;
                yield_now().await; // promoted: queued, stealable
                runs[i].fetch_add(1, SeqCst);
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
    });
    rt.block_on(body).unwrap();
    assert!(all_once(&runs), "every task ran exactly once");
    assert!(all_once(&drops), "every future was dropped exactly once");
    let metrics = rt.metrics();
    assert!(metrics.steals > 0, "the idle worker stole: {metrics:?}");
    assert_eq!(metrics.live_tasks, 0);
}

/// A chain of `depth` nested spawns whose links bump `runs[base + k]` and
/// carry a `Mark`; every third link yields first (so some links are
/// promoted and queued whatever the injector holds).
fn marked_chain(
    base: usize,
    k: usize,
    depth: usize,
    runs: Arc<Vec<AtomicU8>>,
    drops: Arc<Vec<AtomicU8>>,
) -> keen::task::JoinHandle<()> {
    keen::spawn(async move {
        let _mark = Mark {
            slots: drops.clone(),
            i: base + k,
        };
        if k % 3 == 0 {
            yield_now().await;
        }
        runs[base + k].fetch_add(1, SeqCst);
        if k + 1 < depth {
            marked_chain(base, k + 1, depth, runs, drops).await.unwrap();
        }
    })
}

#[test]
fn nested_chains_racing_remote_spawns_run_every_task_once() {
    // The nested eager spawn looks at the injector (a hint that flips while
    // a plain thread keeps spawning) and is queued instead when it sees
    // work there, on the workers and on the `block_on` thread alike. Race
    // that look: chains of nested spawns on both workers and in `block_on`
    // while remote spawns come and go; nothing may run twice or be lost.
    const CHAINS: usize = 200;
    const DEPTH: usize = 20;
    const REMOTE: usize = 20_000;
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (runs, drops) = (slots(CHAINS * DEPTH), slots(CHAINS * DEPTH));
    let remote_runs = slots(REMOTE);
    let start = Arc::new(Barrier::new(2));
    let remote = {
        let (handle, remote_runs, start) =
            (rt.handle().clone(), remote_runs.clone(), start.clone());
        thread::spawn(move || {
            start.wait();
            let handles: Vec<_> = (0..REMOTE)
                .map(|i| {
                    let remote_runs = remote_runs.clone();
                    handle.spawn(async move {
                        remote_runs[i].fetch_add(1, SeqCst);
                    })
                })
                .collect();
            handles
        })
    };
    let (r, d) = (runs.clone(), drops.clone());
    rt.block_on(async move {
        start.wait();
        let mut chains = Vec::new();
        for c in 0..CHAINS {
            let (r, d) = (r.clone(), d.clone());
            if c % 2 == 0 {
                // From the workers: the chain's root is queued.
                chains.push(keen::spawn_lazy(async move {
                    marked_chain(c * DEPTH, 0, DEPTH, r, d).await.unwrap();
                }));
            } else {
                // From this `block_on` thread, eagerly.
                chains.push(marked_chain(c * DEPTH, 0, DEPTH, r, d));
            }
        }
        for chain in chains {
            chain.await.unwrap();
        }
    });
    let handles = remote.join().unwrap();
    rt.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert!(all_once(&runs), "every chain link ran exactly once");
    assert!(
        all_once(&drops),
        "every chain link was dropped exactly once"
    );
    assert!(all_once(&remote_runs), "every remote task ran exactly once");
    assert_eq!(rt.metrics().live_tasks, 0);
}

#[test]
fn spawns_racing_shutdown_run_or_are_dropped_once_and_never_leak() {
    each(&ALL, |cfg| {
        for round in 0..20 {
            const PER_THREAD: usize = 2_000;
            let rt = cfg.build();
            let handle = rt.handle().clone();
            let drops = slots(2 * PER_THREAD);
            let runs = Arc::new(AtomicUsize::new(0));
            let start = Arc::new(Barrier::new(3));
            let spawners: Vec<_> = (0..2)
                .map(|t| {
                    let (handle, drops, runs, start) =
                        (handle.clone(), drops.clone(), runs.clone(), start.clone());
                    thread::spawn(move || {
                        start.wait();
                        for j in 0..PER_THREAD {
                            let i = t * PER_THREAD + j;
                            let mark = Mark {
                                slots: drops.clone(),
                                i,
                            };
                            let runs = runs.clone();
                            drop(handle.spawn(async move {
                                let _mark = mark;
                                runs.fetch_add(1, SeqCst);
                                yield_now().await;
                                // Some are dropped at shutdown right here.
                                std::future::pending::<()>().await;
                            }));
                        }
                    })
                })
                .collect();
            start.wait();
            // Let some spawns land before the runtime goes; the rest race it.
            if round % 2 == 0 {
                rt.block_on(async {
                    while runs.load(SeqCst) == 0 {
                        yield_now().await;
                    }
                });
            }
            drop(rt);
            for spawner in spawners {
                spawner
                    .join()
                    .expect("spawning on a shut-down runtime never panics");
            }
            assert!(
                all_once(&drops),
                "round {round}: every future dropped exactly once"
            );
        }
    });
}

#[test]
fn a_task_dropped_at_shutdown_that_spawns_does_not_leak_its_child() {
    // Parent and child each either wait forever or yield forever: a parent
    // that yields is queued at shutdown without ever joining the owned-task
    // list (so it is dropped by the queue drain, not the list walk), and a
    // child that yields in its eager step is queued, unbound, while that
    // drain runs. Every combination: each future dropped exactly once.
    for (parent_yields, child_yields) in
        [(false, false), (false, true), (true, false), (true, true)]
    {
        each(&ALL, |cfg| {
            let rt = cfg.build();
            let drops = slots(2);
            let d = drops.clone();
            struct SpawnOnDrop(Option<Mark>, bool);
            impl Drop for SpawnOnDrop {
                fn drop(&mut self) {
                    let child = self.0.take().unwrap();
                    let yields = self.1;
                    // During shutdown: the child is refused and dropped, or
                    // queued and dropped with the rest; never leaked.
                    // `keen::spawn` (eager where the thread allows it), not
                    // the handle's: the child's first step runs in the drain.
                    if keen::Handle::try_current().is_ok() {
                        drop(keen::spawn(async move {
                            let _child = child;
                            forever(yields).await;
                        }));
                    }
                }
            }
            rt.block_on(async move {
                let parent = SpawnOnDrop(
                    Some(Mark {
                        slots: d.clone(),
                        i: 1,
                    }),
                    child_yields,
                );
                let mark = Mark { slots: d, i: 0 };
                drop(keen::spawn(async move {
                    let _parent = parent;
                    let _mark = mark;
                    forever(parent_yields).await;
                }));
            });
            drop(rt);
            assert!(
                all_once(&drops),
                "parent and child each dropped once ({cfg:?}, parent yields: {parent_yields}, child yields: {child_yields})"
            );
        });
    }
}

/// Never completes: yields forever, or waits forever.
async fn forever(yields: bool) {
    if yields {
        loop {
            yield_now().await;
        }
    }
    std::future::pending::<()>().await;
}

#[test]
fn wakers_kept_past_the_runtime_are_woken_from_other_threads_harmlessly() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let wakers: Arc<Mutex<Vec<Waker>>> = Arc::default();
        let drops = slots(64);
        rt.block_on(async {
            for i in 0..64 {
                let (wakers, mark) = (
                    wakers.clone(),
                    Mark {
                        slots: drops.clone(),
                        i,
                    },
                );
                let mut first = true;
                drop(keen::spawn(std::future::poll_fn(move |cx| {
                    let _keep = &mark;
                    if first {
                        first = false;
                        wakers.lock().unwrap().push(cx.waker().clone());
                    }
                    Poll::<()>::Pending
                })));
            }
            // Lazy configurations poll them later: wait for every waker.
            while wakers.lock().unwrap().len() < 64 {
                yield_now().await;
            }
        });
        drop(rt);
        assert!(all_once(&drops), "shutdown dropped every future once");
        let wakers = std::mem::take(&mut *wakers.lock().unwrap());
        assert_eq!(wakers.len(), 64);
        // Woken by reference, by value, cloned, from several threads at once.
        let start = Arc::new(Barrier::new(4));
        let shared = Arc::new(wakers);
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (start, shared) = (start.clone(), shared.clone());
                thread::spawn(move || {
                    start.wait();
                    for (i, waker) in shared.iter().enumerate() {
                        match (i + t) % 3 {
                            0 => waker.wake_by_ref(),
                            1 => {
                                let owned = waker.clone(); // a clone, woken by value
                                owned.wake();
                            }
                            _ => drop(waker.clone()),
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("a late wake never panics");
        }
        let last: Vec<Waker> = Arc::try_unwrap(shared).unwrap();
        for waker in last {
            waker.wake(); // the last reference goes here
        }
    });
}

#[test]
fn join_handles_dropped_on_other_threads_while_their_tasks_complete() {
    each(&ALL, |cfg| {
        const N: usize = 5_000;
        let rt = cfg.build();
        let outputs = slots(N);
        let futures = slots(N);
        let (to_dropper, handles) = mpsc::channel();
        let go = Arc::new(AtomicBool::new(false));
        let dropper = {
            let go = go.clone();
            thread::spawn(move || {
                let mut got = 0;
                for handle in handles {
                    if got % 2 == 0 {
                        while !go.load(SeqCst) {
                            std::hint::spin_loop();
                        }
                    }
                    drop(handle);
                    got += 1;
                }
                got
            })
        };
        let (o, f) = (outputs.clone(), futures.clone());
        rt.block_on(async move {
            let mut gates = Vec::with_capacity(N);
            let mut watch = Vec::with_capacity(N);
            for i in 0..N {
                let (open, gate) = oneshot::channel::<()>();
                let (output, mark) = (
                    Mark {
                        slots: o.clone(),
                        i,
                    },
                    Mark {
                        slots: f.clone(),
                        i,
                    },
                );
                let handle = keen::spawn(async move {
                    let _mark = mark;
                    let _ = gate.await;
                    output
                });
                watch.push(handle.abort_handle());
                to_dropper.send(handle).unwrap();
                gates.push(open);
            }
            drop(to_dropper);
            go.store(true, SeqCst);
            for gate in gates {
                let _ = gate.send(());
            }
            for task in watch {
                while !task.is_finished() {
                    yield_now().await;
                }
            }
        });
        assert_eq!(dropper.join().unwrap(), N);
        drop(rt);
        assert!(all_once(&futures), "every future dropped once");
        assert!(all_once(&outputs), "every unread output dropped once");
    });
}
