//! Spawn benches, keen beside tokio and smol in one run (issue 3's
//! targets against tokio; keen ahead of smol, the second peer):
//!
//! - `spawn_ready`: spawn + await of a future that is ready on its first
//!   poll, from inside a task, per spawn; plus the floor, a `Box::pin`
//!   + poll + drop of the same future with no runtime at all.
//! - `spawn_many`: from inside a task, spawn 10,000 tasks that each yield
//!   once, then await them all; per batch.
//!
//! Each runs on current-thread and on multi-thread with 2 workers, as
//! `keen/…`, `tokio/…` and `smol/…` (smol's executor as `common/smol.rs`
//! builds it; its spawns start queued, as smol's always do).
//! `cargo bench --bench spawn`; the bench report (issue 7) reads the results.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;

use std::task::{Context, Waker};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::{flavor, keen_rt, smol, smol_rt, time_in_task, tokio_rt};

const MANY: usize = 10_000;

fn spawn_ready(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_ready");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("floor/box_pin_poll_drop", |b| {
        let mut cx = Context::from_waker(Waker::noop());
        b.iter(|| {
            // `black_box` on the box keeps the allocation from being elided.
            let mut fut: Pin<Box<dyn Future<Output = u64> + Send>> =
                black_box(Box::pin(async { black_box(1u64) }));
            let _ = black_box(fut.as_mut().poll(&mut cx));
        })
    });
    for multi in [false, true] {
        let rt = keen_rt(multi);
        group.bench_function(format!("keen/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| {
                time_in_task!(rt, iters, {
                    black_box(keen::spawn(async { black_box(1u64) }).await.unwrap())
                })
            })
        });
        let rt = tokio_rt(multi);
        group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| {
                time_in_task!(rt, iters, {
                    black_box(tokio::spawn(async { black_box(1u64) }).await.unwrap())
                })
            })
        });
        let rt = smol_rt(multi);
        group.bench_function(format!("smol/{}", flavor(multi)), |b| {
            b.iter_custom(|iters| {
                time_in_task!(rt, iters, {
                    black_box(smol::spawn(async { black_box(1u64) }).await.unwrap())
                })
            })
        });
    }
    group.finish();
}

fn spawn_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_many_yield_once");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    for multi in [false, true] {
        let rt = keen_rt(multi);
        group.bench_function(format!("keen/{}", flavor(multi)), |b| {
            b.iter(|| {
                rt.block_on(async {
                    keen::spawn(async {
                        let handles: Vec<_> = (0..MANY)
                            .map(|_| keen::spawn(async { keen::task::yield_now().await }))
                            .collect();
                        for h in handles {
                            h.await.unwrap();
                        }
                    })
                    .await
                    .unwrap()
                })
            })
        });
        let rt = tokio_rt(multi);
        group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
            b.iter(|| {
                rt.block_on(async {
                    tokio::spawn(async {
                        let handles: Vec<_> = (0..MANY)
                            .map(|_| tokio::spawn(async { tokio::task::yield_now().await }))
                            .collect();
                        for h in handles {
                            h.await.unwrap();
                        }
                    })
                    .await
                    .unwrap()
                })
            })
        });
        let rt = smol_rt(multi);
        group.bench_function(format!("smol/{}", flavor(multi)), |b| {
            b.iter(|| {
                rt.block_on(async {
                    smol::spawn(async {
                        let handles: Vec<_> = (0..MANY)
                            .map(|_| smol::spawn(async { smol::task::yield_now().await }))
                            .collect();
                        for h in handles {
                            h.await.unwrap();
                        }
                    })
                    .await
                    .unwrap()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, spawn_ready, spawn_many);
criterion_main!(benches);
