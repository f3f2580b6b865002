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
use common::{each_runtime, smol, time_in_task};

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
    macro_rules! cell {
        ($b:ident, $rt:ident, $rtc:ident) => {
            $b.iter_custom(|iters| {
                time_in_task!($rt, iters, {
                    black_box($rtc::spawn(async { black_box(1u64) }).await.unwrap())
                })
            })
        };
    }
    for multi in [false, true] {
        each_runtime!(group, multi, cell);
    }
    group.finish();
}

fn spawn_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_many_yield_once");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    macro_rules! cell {
        ($b:ident, $rt:ident, $rtc:ident) => {
            $b.iter(|| {
                $rt.block_on(async {
                    $rtc::spawn(async {
                        let handles: Vec<_> = (0..MANY)
                            .map(|_| $rtc::spawn(async { $rtc::task::yield_now().await }))
                            .collect();
                        for h in handles {
                            h.await.unwrap();
                        }
                    })
                    .await
                    .unwrap()
                })
            })
        };
    }
    for multi in [false, true] {
        each_runtime!(group, multi, cell);
    }
    group.finish();
}

criterion_group!(benches, spawn_ready, spawn_many);
criterion_main!(benches);
