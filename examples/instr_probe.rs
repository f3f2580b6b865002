//! A workload loop to count instructions with callgrind: `.ci/callgrind`
//! runs it at N and 2N iterations and divides the difference by N, so the
//! runtime's set-up and tear-down cancel out and what is left is the cost of
//! one iteration. Unlike wall time on a shared VM, the count repeats from
//! run to run, so it is the check that a change kept a hot path as fast.
//!
//! `cargo run --release --example instr_probe -- WORKLOAD FLAVOUR N`, with
//! WORKLOAD one of `floor`, `spawn_ready`, `spawn_yield`, `timeout_cancel`,
//! `timeout_ready`, `spawn_many` (one 10,000-child batch per iteration), `mutex`, `semaphore`, `timeouts_batch`, `notify`,
//! `broadcast` (one 8-receiver, 1,000-value fan-out per iteration);
//! FLAVOUR `ct`, `mt` or `mt1` (multi-thread with one worker). Each runs inside one task (where applications
//! spawn), as the criterion benches do, or with a fourth argument
//! `block_on` in the body of `Runtime::block_on` itself (the call-site
//! benches' `@block_on`), or `thread` (`spawn_ready` or `timeout_cancel`
//! from a plain thread through a `Handle`, as `…@thread`; `spawn_ready`
//! there needs `mt`, nothing drives a current-thread runtime meanwhile).

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::Duration;

#[path = "../benches/common/mod.rs"]
#[allow(dead_code, reason = "only the keen constructor is used here")]
mod common;

async fn workload(name: &str, n: u64) {
    match name {
        // The floor of a ready spawn + await: box, poll, drop.
        "floor" => {
            for i in 0..n {
                let mut fut: Pin<Box<dyn Future<Output = u64> + Send>> =
                    Box::pin(async move { black_box(i) });
                let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                drop(black_box(fut));
            }
        }
        "spawn_ready" => {
            for i in 0..n {
                black_box(keen::spawn(async move { black_box(i) }).await.unwrap());
            }
        }
        "spawn_yield" => {
            for i in 0..n {
                let child = keen::spawn(async move {
                    keen::task::yield_now().await;
                    black_box(i)
                });
                black_box(child.await.unwrap());
            }
        }
        // A timeout whose body is pending once: registers its timer, then
        // removes it when the body completes.
        "timeout_cancel" => {
            for _ in 0..n {
                let r = keen::time::timeout(Duration::from_secs(60), keen::task::yield_now()).await;
                r.unwrap();
            }
        }
        // One batch of `spawn_many@…`: 10,000 children that yield once,
        // spawned, then awaited in order.
        "spawn_many" => {
            for _ in 0..n {
                let handles: Vec<_> = (0..10_000)
                    .map(|_| keen::spawn(keen::task::yield_now()))
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            }
        }
        // A timeout around a body ready in its first poll: no timer.
        "timeout_ready" => {
            for i in 0..n {
                let r = keen::time::timeout(Duration::from_secs(60), async { black_box(i) }).await;
                black_box(r.unwrap());
            }
        }
        "mutex" => {
            let m = keen::sync::Mutex::new(0u64);
            for _ in 0..n {
                *m.lock().await += 1;
            }
            black_box(m.into_inner());
        }
        "semaphore" => {
            let s = keen::sync::Semaphore::new(1);
            for _ in 0..n {
                let permit = s.acquire().await.unwrap();
                drop(black_box(permit));
            }
        }
        // The timer batch: N timeouts around never-ready futures, each
        // polled once (registering N timers), then all dropped.
        "timeouts_batch" => {
            let mut all: Vec<_> = (0..n)
                .map(|_| {
                    Box::pin(keen::time::timeout(
                        Duration::from_secs(1),
                        std::future::pending::<()>(),
                    ))
                })
                .collect();
            std::future::poll_fn(|cx| {
                for t in all.iter_mut() {
                    let _ = black_box(t.as_mut().poll(cx).is_ready());
                }
                std::task::Poll::Ready(())
            })
            .await;
            drop(all);
        }
        // Ping-pong with a partner task over two `Notify`s: one iteration
        // is a round trip (two waits, two notifies, two task wakes).
        "notify" => {
            let ping = std::sync::Arc::new(keen::sync::Notify::new());
            let pong = std::sync::Arc::new(keen::sync::Notify::new());
            let (p, q) = (ping.clone(), pong.clone());
            let partner = keen::spawn(async move {
                for _ in 0..n {
                    p.notified().await;
                    q.notify_one();
                }
            });
            for _ in 0..n {
                ping.notify_one();
                pong.notified().await;
            }
            partner.await.unwrap();
        }
        // One `broadcast_fan_out` batch per iteration: 8 receiver tasks,
        // 1,000 values into `channel(1024)`.
        "broadcast" => {
            for _ in 0..n {
                let (tx, rx) = keen::sync::broadcast::channel::<u64>(1024);
                let receivers: Vec<_> = (0..8)
                    .map(|_| {
                        let mut rx = tx.subscribe();
                        keen::spawn(async move {
                            let mut got = 0;
                            while rx.recv().await.is_ok() {
                                got += 1;
                            }
                            got
                        })
                    })
                    .collect();
                drop(rx);
                for i in 0..1000 {
                    tx.send(black_box(i)).unwrap();
                }
                drop(tx);
                for r in receivers {
                    assert_eq!(r.await.unwrap(), 1000);
                }
            }
        }
        other => panic!("unknown workload {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (name, flavour, n, site) = match &args[..] {
        [name, flavour, n] => (name, flavour, n, "task"),
        [name, flavour, n, site] => (name, flavour, n, site.as_str()),
        _ => {
            eprintln!("usage: instr_probe WORKLOAD ct|mt N [task|block_on|thread]");
            std::process::exit(2);
        }
    };
    let n: u64 = n.parse().expect("N is a count");
    // `mt1`: multi-thread with one worker, so callgrind (which runs one
    // thread at a time) counts the scheduler's own work, not a steal race.
    let rt = if flavour == "mt1" {
        keen::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap()
    } else {
        common::keen_rt(flavour == "mt")
    };
    let name = name.clone();
    match site {
        "task" => rt
            .block_on(rt.spawn(async move { workload(&name, n).await }))
            .unwrap(),
        "block_on" => rt.block_on(workload(&name, n)),
        // From this plain thread through a Handle, waiting here (the
        // call-site benches' `@thread`; multi-thread only: a current-thread
        // runtime would need a second thread to drive it).
        "thread" => {
            let handle = rt.handle().clone();
            match name.as_str() {
                "spawn_ready" => {
                    for i in 0..n {
                        let task = handle.spawn(async move { black_box(i) });
                        black_box(common::park_on(task).unwrap());
                    }
                }
                "timeout_cancel" => {
                    let _in = handle.enter();
                    for _ in 0..n {
                        let t =
                            keen::time::timeout(Duration::from_secs(60), keen::task::yield_now());
                        common::park_on(t).unwrap();
                    }
                }
                other => panic!("the thread site runs spawn_ready or timeout_cancel, not {other}"),
            }
        }
        other => panic!("unknown site {other}: task or block_on"),
    }
}
