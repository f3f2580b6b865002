//! Timer benches, keen beside tokio and smol in one run (issue 4's targets
//! against tokio; keen ahead of smol, the second peer):
//!
//! - `timeout_pending_once`: `timeout(1 s, yield_now())` from inside a task,
//!   per call. The body is pending once, so the timer really is inserted into
//!   the wheel and removed again (tokio's own timeout benches use a ready
//!   future and never reach the wheel).
//! - `timeout_ready`: the same around a ready future (labelled as such: no
//!   timer is registered on either runtime).
//! - `timeouts_100k`: create 100,000 timeouts around never-ready futures,
//!   poll each once (registering 100,000 timers), then drop them all
//!   (cancelling them); per batch. Beside them, the batch's floor: the same
//!   loop over a plain pending future of the size of keen's `Timeout` (box,
//!   poll, drop: what any runtime pays before its timers cost anything), in
//!   a task of the same keen runtime.
//! - `sleep_1ms`: wall time of `sleep(1 ms)` on an otherwise idle runtime
//!   (the fire latency is this minus 1 ms; `examples/timer_latency.rs`
//!   prints its p50/p99).
//!
//! Each runs on current-thread and on multi-thread with 2 workers, as
//! `keen/…`, `tokio/…` and `smol/…`. smol's timeout is written as smol
//! users write it (`common/smol.rs`): the future raced against an
//! `async_io::Timer` with `futures_lite::future::or`, the future first, so
//! the timer registers with async-io's reactor when the body is pending
//! and not when it is ready; its sleep is `Timer::after`.

use std::future::{Future, pending, poll_fn};
use std::hint::black_box;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::{each_runtime, flavor, keen_rt, smol, time_in_task};

const SECOND: Duration = Duration::from_secs(1);
const BATCH: usize = 100_000;

fn timeout_pending_once(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeout_pending_once");
    group.measurement_time(Duration::from_secs(3));
    macro_rules! cell {
        ($b:ident, $rt:ident, $rtc:ident) => {
            $b.iter_custom(|iters| {
                time_in_task!($rt, iters, {
                    let r = $rtc::time::timeout(SECOND, $rtc::task::yield_now()).await;
                    black_box(r).unwrap()
                })
            })
        };
    }
    for multi in [false, true] {
        each_runtime!(group, multi, cell);
    }
    group.finish();
}

fn timeout_ready(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeout_ready");
    group.measurement_time(Duration::from_secs(2));
    macro_rules! cell {
        ($b:ident, $rt:ident, $rtc:ident) => {
            $b.iter_custom(|iters| {
                time_in_task!($rt, iters, {
                    let r = $rtc::time::timeout(SECOND, async { black_box(1u64) }).await;
                    black_box(r.unwrap())
                })
            })
        };
    }
    for multi in [false, true] {
        each_runtime!(group, multi, cell);
    }
    group.finish();
}

/// Polls every future once with the calling task's context.
async fn poll_all_once<F: Future + ?Sized>(futures: &mut [Pin<Box<F>>]) {
    poll_fn(|cx| {
        for f in futures.iter_mut() {
            let _ = black_box(f.as_mut().poll(cx).is_ready());
        }
        Poll::Ready(())
    })
    .await
}

/// A pending future the size of keen's `Timeout<Pending<()>>`, for the
/// batch's floor.
struct FloorFuture {
    _room: [u8; size_of::<keen::time::Timeout<std::future::Pending<()>>>()],
}

impl Future for FloorFuture {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

fn timeouts_100k(c: &mut Criterion) {
    let mut group = c.benchmark_group("timeouts_100k_create_cancel");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5));
    macro_rules! cell {
        ($b:ident, $rt:ident, $rtc:ident) => {
            $b.iter(|| {
                $rt.block_on($rt.spawn(async {
                    let mut all: Vec<_> = (0..BATCH)
                        .map(|_| Box::pin($rtc::time::timeout(SECOND, pending::<()>())))
                        .collect();
                    poll_all_once(&mut all).await;
                    drop(all);
                }))
                .unwrap()
            })
        };
    }
    for multi in [false, true] {
        let rt = keen_rt(multi);
        group.bench_function(format!("floor/{}", flavor(multi)), |b| {
            b.iter(|| {
                rt.block_on(rt.spawn(async {
                    let mut all: Vec<_> = (0..BATCH)
                        .map(|_| {
                            Box::pin(FloorFuture {
                                _room: black_box([0; _]),
                            })
                        })
                        .collect();
                    poll_all_once(&mut all).await;
                    drop(all);
                }))
                .unwrap()
            })
        });
        drop(rt);
        each_runtime!(group, multi, cell);
    }
    group.finish();
}

fn sleep_1ms(c: &mut Criterion) {
    let mut group = c.benchmark_group("sleep_1ms");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3));
    let ms = Duration::from_millis(1);
    macro_rules! cell {
        ($b:ident, $rt:ident, $rtc:ident) => {
            $b.iter(|| $rt.block_on(async { $rtc::time::sleep(ms).await }))
        };
    }
    for multi in [false, true] {
        each_runtime!(group, multi, cell);
    }
    group.finish();
}

criterion_group!(
    benches,
    timeout_pending_once,
    timeout_ready,
    timeouts_100k,
    sleep_1ms
);
criterion_main!(benches);
