//! `keen::sync` beside `tokio::sync` and smol's async-lock and
//! async-channel, each on its own runtime, in one run (issue 5's targets:
//! keen no worse than tokio on each; and ahead of smol, the second peer):
//!
//! - `mutex_uncontended`: `lock().await` + unlock in one task, per call.
//! - `mutex_contended`: 8 tasks × 100 rounds of lock, `yield_now()` while
//!   holding it (so the others really queue), increment, unlock; per batch.
//! - `semaphore_uncontended`: `acquire().await` + release, per call.
//! - `semaphore_contended`: 2 permits, 8 tasks × 100 rounds of acquire,
//!   `yield_now()` while holding, release; per batch.
//! - mpsc in the shape of tokio's `sync_mpsc` bench, per batch:
//!   `contention_bounded` (5 producers × 1000 into `channel(1_000_000)`),
//!   `contention_bounded_full` (the same into `channel(100)`),
//!   `contention_unbounded`, `uncontended_bounded` and
//!   `uncontended_unbounded` (one task sends 5000, then receives 5000).
//! - `request_reply`: tokio's `sync_mpsc_oneshot` shape: a server task
//!   receives requests on `mpsc::channel(10)`, each carrying a oneshot reply
//!   sender; a client makes 1000 round trips per batch.
//!
//! - `rwlock_read_heavy`: 8 tasks × 100 rounds on one `RwLock`; every
//!   tenth round writes (increment), the others read; the guard is held
//!   across a `yield_now()` so readers overlap and writers really queue;
//!   per batch. smol: async-lock's `RwLock`.
//! - `notify`: ping-pong between two tasks over two `Notify`s, 1000 round
//!   trips per batch (`notify_one` to a task waiting in `notified()`, or
//!   into the stored permit when it is not waiting yet). keen and tokio
//!   only: async-lock has no `Notify` (event-listener's `Event` has other
//!   semantics: no stored permit). Timed inside one task, so a batch is
//!   the round trips alone; `notify_with_handoff` is the same batch in a
//!   fresh task per iteration (the other rows' form), hand-off included.
//!
//! Each runs on current-thread and on multi-thread with 2 workers, as
//! `keen/…`, `tokio/…` and `smol/…`; batch bodies run inside a spawned task
//! on every runtime. smol's side (`common/smol.rs`): async-lock's `Mutex`
//! and `Semaphore`; async-channel's `bounded` and `unbounded` for the mpsc
//! groups (a sync send on the unbounded one is `try_send`, which cannot
//! fail there); for `request_reply`, requests on `bounded(10)`, each
//! carrying a `bounded(1)` sender as its oneshot (smol has no oneshot of
//! its own).
//! - `broadcast_fan_out`: one sender, 8 receiver tasks, 1000 messages into
//!   `broadcast::channel(1024)` (room for all, so nobody lags and every
//!   receiver counts all 1000); per batch. keen and tokio only: smol has
//!   no broadcast channel of its own (async-broadcast's semantics differ).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};

mod common;
use common::{flavor, keen_rt, smol, smol_rt, time_in_task, tokio_rt};

const TASKS: usize = 8;
const ROUNDS: usize = 100;

/// Benches `$body` (written with the runtime crate named `$rtc`) on the
/// runtime crate `$krate`, built by `$make`, as `"$krate/<flavour>"`:
/// each iteration runs it in one task of that runtime.
macro_rules! in_task_on {
    ($group:expr, $multi:expr, $krate:ident, $make:ident, |$rtc:ident| $body:block) => {{
        use $krate as $rtc;
        let rt = $make($multi);
        $group.bench_function(
            format!("{}/{}", stringify!($krate), flavor($multi)),
            |b| b.iter(|| rt.block_on(rt.spawn(async $body)).unwrap()),
        );
    }};
}

/// Benches `$body`, written once with the runtime crate named `$rtc`
/// (`$rtc::spawn`, `$rtc::sync::Mutex`, …), on keen, on tokio and on smol
/// (`common::smol`) of the same flavour: each iteration runs it in one
/// task of that runtime.
macro_rules! each_in_task {
    ($group:expr, $multi:expr, |$rtc:ident| $body:block) => {{
        keen_and_tokio_in_task!($group, $multi, |$rtc| $body);
        in_task_on!($group, $multi, smol, smol_rt, |$rtc| $body);
    }};
}

/// [`each_in_task!`] for workloads smol has no counterpart of: keen and
/// tokio only.
macro_rules! keen_and_tokio_in_task {
    ($group:expr, $multi:expr, |$rtc:ident| $body:block) => {{
        in_task_on!($group, $multi, keen, keen_rt, |$rtc| $body);
        in_task_on!($group, $multi, tokio, tokio_rt, |$rtc| $body);
    }};
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
}

fn mutex_uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("mutex_uncontended");
    configure(&mut group);
    for multi in [false, true] {
        let rt = keen_rt(multi);
        group.bench_function(format!("keen/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| {
                let m = Arc::new(keen::sync::Mutex::new(0u64));
                time_in_task!(rt, iters, {
                    let mut g = m.lock().await;
                    *g += 1;
                    black_box(&*g);
                })
            })
        });
        let rt = tokio_rt(multi);
        group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| {
                let m = Arc::new(tokio::sync::Mutex::new(0u64));
                time_in_task!(rt, iters, {
                    let mut g = m.lock().await;
                    *g += 1;
                    black_box(&*g);
                })
            })
        });
        let rt = smol_rt(multi);
        group.bench_function(format!("smol/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| {
                let m = Arc::new(smol::sync::Mutex::new(0u64));
                time_in_task!(rt, iters, {
                    let mut g = m.lock().await;
                    *g += 1;
                    black_box(&*g);
                })
            })
        });
    }
    group.finish();
}

fn mutex_contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("mutex_contended");
    configure(&mut group);
    for multi in [false, true] {
        each_in_task!(group, multi, |rtc| {
            let m = Arc::new(rtc::sync::Mutex::new(0usize));
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let m = m.clone();
                    rtc::spawn(async move {
                        for _ in 0..ROUNDS {
                            let mut g = m.lock().await;
                            rtc::task::yield_now().await;
                            *g += 1;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*m.lock().await, TASKS * ROUNDS);
        });
    }
    group.finish();
}

fn semaphore_uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("semaphore_uncontended");
    configure(&mut group);
    for multi in [false, true] {
        let rt = keen_rt(multi);
        group.bench_function(format!("keen/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| {
                let s = Arc::new(keen::sync::Semaphore::new(4));
                time_in_task!(rt, iters, drop(black_box(s.acquire().await.unwrap())))
            })
        });
        let rt = tokio_rt(multi);
        group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| {
                let s = Arc::new(tokio::sync::Semaphore::new(4));
                time_in_task!(rt, iters, drop(black_box(s.acquire().await.unwrap())))
            })
        });
        // async-lock's `acquire` cannot fail: it yields the guard itself.
        let rt = smol_rt(multi);
        group.bench_function(format!("smol/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| {
                let s = Arc::new(smol::sync::Semaphore::new(4));
                time_in_task!(rt, iters, drop(black_box(s.acquire().await)))
            })
        });
    }
    group.finish();
}

fn semaphore_contended(c: &mut Criterion) {
    let mut group = c.benchmark_group("semaphore_contended");
    configure(&mut group);
    for multi in [false, true] {
        each_in_task!(group, multi, |rtc| {
            let s = Arc::new(rtc::sync::Semaphore::new(2));
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let s = s.clone();
                    rtc::spawn(async move {
                        for _ in 0..ROUNDS {
                            // Held to the end of the round: keen's and
                            // tokio's permit inside its `Ok`, smol's guard.
                            let _p = s.acquire().await;
                            rtc::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
    }
    group.finish();
}

/// One mpsc workload written once per runtime: `$spawn` spawns, `$mpsc`'s
/// `channel` and `unbounded_channel` build the channels, and `$send_now`
/// is the unbounded sender's synchronous send (`send` on keen and tokio,
/// `try_send` on async-channel, whose `send` is async).
macro_rules! mpsc_workloads {
    ($rt:expr, $spawn:path, $mpsc:path, $send_now:ident) => {{
        use $mpsc as mpsc;
        let rt = &$rt;
        #[allow(unused_mut, reason = "async-channel's receiver needs no `mut`")]
        let contention = move |capacity: Option<usize>| {
            rt.block_on(rt.spawn(async move {
                match capacity {
                    Some(capacity) => {
                        let (tx, mut rx) = mpsc::channel::<usize>(capacity);
                        for _ in 0..5 {
                            let tx = tx.clone();
                            $spawn(async move {
                                for i in 0..1000 {
                                    tx.send(i).await.unwrap();
                                }
                            });
                        }
                        for _ in 0..5 * 1000 {
                            let _ = black_box(rx.recv().await);
                        }
                    }
                    None => {
                        let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
                        for _ in 0..5 {
                            let tx = tx.clone();
                            $spawn(async move {
                                for i in 0..1000 {
                                    tx.$send_now(i).unwrap();
                                }
                            });
                        }
                        for _ in 0..5 * 1000 {
                            let _ = black_box(rx.recv().await);
                        }
                    }
                }
            }))
            .unwrap()
        };
        #[allow(unused_mut, reason = "async-channel's receiver needs no `mut`")]
        let uncontended = move |bounded: bool| {
            rt.block_on(rt.spawn(async move {
                if bounded {
                    let (tx, mut rx) = mpsc::channel::<usize>(1_000_000);
                    for i in 0..5000 {
                        tx.send(i).await.unwrap();
                    }
                    for _ in 0..5000 {
                        let _ = black_box(rx.recv().await);
                    }
                } else {
                    let (tx, mut rx) = mpsc::unbounded_channel::<usize>();
                    for i in 0..5000 {
                        tx.$send_now(i).unwrap();
                    }
                    for _ in 0..5000 {
                        let _ = black_box(rx.recv().await);
                    }
                }
            }))
            .unwrap()
        };
        (contention, uncontended)
    }};
}

fn mpsc(c: &mut Criterion) {
    type Case = (&'static str, fn(&dyn Fn(Option<usize>), &dyn Fn(bool)));
    let cases: [Case; 5] = [
        ("contention_bounded", |c, _| c(Some(1_000_000))),
        ("contention_bounded_full", |c, _| c(Some(100))),
        ("contention_unbounded", |c, _| c(None)),
        ("uncontended_bounded", |_, u| u(true)),
        ("uncontended_unbounded", |_, u| u(false)),
    ];
    for (name, run) in cases {
        let mut group = c.benchmark_group(format!("mpsc_{name}"));
        configure(&mut group);
        for multi in [false, true] {
            let rt = keen_rt(multi);
            let (contention, uncontended) =
                mpsc_workloads!(rt, keen::spawn, keen::sync::mpsc, send);
            group.bench_function(format!("keen/{}", flavor(multi)), |b| {
                b.iter(|| run(&contention, &uncontended))
            });
            let rt = tokio_rt(multi);
            let (contention, uncontended) =
                mpsc_workloads!(rt, tokio::spawn, tokio::sync::mpsc, send);
            group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
                b.iter(|| run(&contention, &uncontended))
            });
            let rt = smol_rt(multi);
            let (contention, uncontended) =
                mpsc_workloads!(rt, smol::spawn, smol::sync::mpsc, try_send);
            group.bench_function(format!("smol/{}", flavor(multi)), |b| {
                b.iter(|| run(&contention, &uncontended))
            });
        }
        group.finish();
    }
}

fn request_reply(c: &mut Criterion) {
    let mut group = c.benchmark_group("request_reply");
    configure(&mut group);
    for multi in [false, true] {
        let rt = keen_rt(multi);
        let tx = rt.block_on(async {
            let (tx, mut rx) = keen::sync::mpsc::channel::<keen::sync::oneshot::Sender<()>>(10);
            keen::spawn(async move {
                while let Some(reply) = rx.recv().await {
                    reply.send(()).unwrap();
                }
            });
            tx
        });
        group.bench_function(format!("keen/{}", flavor(multi)), |b| {
            b.iter(|| {
                let tx = tx.clone();
                rt.block_on(rt.spawn(async move {
                    for _ in 0..1000 {
                        let (reply, answer) = keen::sync::oneshot::channel();
                        tx.send(reply).await.unwrap();
                        answer.await.unwrap();
                    }
                }))
                .unwrap()
            })
        });
        drop(tx);
        let rt = tokio_rt(multi);
        let tx = rt.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<tokio::sync::oneshot::Sender<()>>(10);
            tokio::spawn(async move {
                while let Some(reply) = rx.recv().await {
                    reply.send(()).unwrap();
                }
            });
            tx
        });
        group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
            b.iter(|| {
                let tx = tx.clone();
                rt.block_on(rt.spawn(async move {
                    for _ in 0..1000 {
                        let (reply, answer) = tokio::sync::oneshot::channel();
                        tx.send(reply).await.unwrap();
                        answer.await.unwrap();
                    }
                }))
                .unwrap()
            })
        });
        drop(tx);
        let rt = smol_rt(multi);
        let tx = rt.block_on(async {
            let (tx, rx) = async_channel::bounded::<async_channel::Sender<()>>(10);
            drop(smol::spawn(async move {
                while let Ok(reply) = rx.recv().await {
                    reply.try_send(()).unwrap();
                }
            }));
            tx
        });
        group.bench_function(format!("smol/{}", flavor(multi)), |b| {
            b.iter(|| {
                let tx = tx.clone();
                rt.block_on(rt.spawn(async move {
                    for _ in 0..1000 {
                        let (reply, answer) = async_channel::bounded(1);
                        tx.send(reply).await.unwrap();
                        answer.recv().await.unwrap();
                    }
                }))
                .unwrap()
            })
        });
    }
    group.finish();
}

fn broadcast_fan_out(c: &mut Criterion) {
    const MESSAGES: usize = 1000;
    let mut group = c.benchmark_group("broadcast_fan_out");
    configure(&mut group);
    for multi in [false, true] {
        keen_and_tokio_in_task!(group, multi, |rtc| {
            let (tx, rx) = rtc::sync::broadcast::channel::<usize>(1024);
            let receivers: Vec<_> = (0..TASKS)
                .map(|_| {
                    let mut rx = tx.subscribe();
                    rtc::spawn(async move {
                        let mut n = 0;
                        while let Ok(v) = rx.recv().await {
                            black_box(v);
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            drop(rx);
            for i in 0..MESSAGES {
                tx.send(i).unwrap();
            }
            drop(tx);
            for r in receivers {
                assert_eq!(r.await.unwrap(), MESSAGES);
            }
        });
    }
    group.finish();
}

fn rwlock_read_heavy(c: &mut Criterion) {
    let mut group = c.benchmark_group("rwlock_read_heavy");
    configure(&mut group);
    for multi in [false, true] {
        each_in_task!(group, multi, |rtc| {
            let lock = Arc::new(rtc::sync::RwLock::new(0usize));
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let lock = lock.clone();
                    rtc::spawn(async move {
                        for round in 0..ROUNDS {
                            if round % 10 == 0 {
                                let mut g = lock.write().await;
                                rtc::task::yield_now().await;
                                *g += 1;
                            } else {
                                let g = lock.read().await;
                                rtc::task::yield_now().await;
                                black_box(*g);
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*lock.read().await, TASKS * ROUNDS / 10);
        });
    }
    group.finish();
}

/// One `notify` batch: 1000 ping-pong round trips between the calling
/// task and a partner it spawns, over two `Notify`s of runtime crate `$rtc`.
macro_rules! notify_batch {
    ($rtc:ident) => {{
        let ping = Arc::new($rtc::sync::Notify::new());
        let pong = Arc::new($rtc::sync::Notify::new());
        let other = $rtc::spawn({
            let (ping, pong) = (ping.clone(), pong.clone());
            async move {
                for _ in 0..1000 {
                    ping.notified().await;
                    pong.notify_one();
                }
            }
        });
        for _ in 0..1000 {
            ping.notify_one();
            pong.notified().await;
        }
        other.await.unwrap();
    }};
}

fn notify(c: &mut Criterion) {
    // Timed inside one task (like the per-call rows above): a fresh task
    // per batch, as `in_task_on!` does, adds a plain-thread hand-off whose
    // latency on a VM depends on whether the runtime's other core was kept
    // awake, not on `Notify` (docs/sync.md, "The issue-18 rows"). That form
    // stays as `notify_with_handoff`.
    let mut group = c.benchmark_group("notify");
    configure(&mut group);
    for multi in [false, true] {
        let rt = keen_rt(multi);
        group.bench_function(format!("keen/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| time_in_task!(rt, iters, notify_batch!(keen)))
        });
        let rt = tokio_rt(multi);
        group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| time_in_task!(rt, iters, notify_batch!(tokio)))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("notify_with_handoff");
    configure(&mut group);
    for multi in [false, true] {
        keen_and_tokio_in_task!(group, multi, |rtc| { notify_batch!(rtc) });
    }
    group.finish();
}

criterion_group!(
    benches,
    mutex_uncontended,
    mutex_contended,
    semaphore_uncontended,
    semaphore_contended,
    mpsc,
    request_reply,
    broadcast_fan_out,
    rwlock_read_heavy,
    notify
);
criterion_main!(benches);
