//! The call-site dimension (issue 17): the same workloads spawned and timed
//! from the three places users call a runtime from, keen beside tokio, on
//! current-thread and on multi-thread with 2 workers.
//!
//! - `…@task`: inside a task (`rt.block_on(rt.spawn(loop))`), where
//!   applications spawn — the shape of the other bench files;
//! - `…@block_on`: in the body of `Runtime::block_on` itself (the body of
//!   `main`, of every test, of most benchmarks people write);
//! - `…@thread`: from a plain thread through a `Handle`, waiting on that
//!   thread (`park_on`) for the task or the timer. A current-thread runtime
//!   needs a thread driving it meanwhile: one sits in `block_on` for the
//!   whole group.
//!
//! | workload | one iteration | sites |
//! |---|---|---|
//! | `spawn_ready` | spawn + await a future ready in its first poll | all |
//! | `spawn_yield` | spawn + await a future that yields once | task, block_on |
//! | `timeout_cancel` | `timeout(60 s, yield_now())`: registers its timer, removes it | all |
//! | `gather/100`, `gather/10000` | the seed: N children each `timeout(0, yield_now())`, awaited in order | task, block_on |
//! | `spawn_many` | 10,000 children that yield once, awaited | task, block_on |
//!
//! Each workload is written once over the runtime's crate name (`keen` and
//! tokio have `spawn`, `time::timeout` and `task::yield_now` of the same
//! shapes). `cargo bench --bench sites`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};

mod common;
use common::{flavor, keen_rt, park_on, tokio_rt};

const LONG: Duration = Duration::from_secs(60);
const MANY: usize = 10_000;

/// `$iters` runs of one workload of crate `$rtc`, as an async block.
macro_rules! workload {
    ($rtc:ident, spawn_ready, $iters:expr) => {
        async move {
            for i in 0..$iters {
                black_box($rtc::spawn(async move { black_box(i) }).await.unwrap());
            }
        }
    };
    ($rtc:ident, spawn_yield, $iters:expr) => {
        async move {
            for i in 0..$iters {
                let child = $rtc::spawn(async move {
                    $rtc::task::yield_now().await;
                    black_box(i)
                });
                black_box(child.await.unwrap());
            }
        }
    };
    ($rtc:ident, timeout_cancel, $iters:expr) => {
        async move {
            for _ in 0..$iters {
                let r = $rtc::time::timeout(LONG, $rtc::task::yield_now()).await;
                black_box(r.is_ok());
            }
        }
    };
    ($rtc:ident, gather, $iters:expr, $children:expr) => {
        async move {
            for _ in 0..$iters {
                let handles: Vec<_> = (0..$children)
                    .map(|_| {
                        $rtc::spawn(async {
                            let r =
                                $rtc::time::timeout(Duration::ZERO, $rtc::task::yield_now()).await;
                            black_box(r.is_ok())
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            }
        }
    };
    ($rtc:ident, spawn_many, $iters:expr) => {
        async move {
            for _ in 0..$iters {
                let handles: Vec<_> = (0..MANY)
                    .map(|_| $rtc::spawn(async { $rtc::task::yield_now().await }))
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            }
        }
    };
}

/// Benches `workload!($rtc, $name $(, $arg)*)` from a task and from
/// `block_on`, for both runtimes and flavours.
macro_rules! in_task_and_block_on {
    ($c:expr, $group:expr, $name:ident $(, $arg:expr)*) => {{
        for site in ["task", "block_on"] {
            let mut group = $c.benchmark_group(format!("{}@{site}", $group));
            configure(&mut group, stringify!($name));
            for multi in [false, true] {
                let rt = keen_rt(multi);
                group.bench_function(format!("keen/{}", flavor(multi)), |b| {
                    b.iter_custom(|iters| {
                        let start = Instant::now();
                        if site == "task" {
                            rt.block_on(rt.spawn(workload!(keen, $name, iters $(, $arg)*)))
                                .unwrap();
                        } else {
                            rt.block_on(workload!(keen, $name, iters $(, $arg)*));
                        }
                        start.elapsed()
                    })
                });
                drop(rt);
                let rt = tokio_rt(multi);
                group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
                    b.iter_custom(|iters| {
                        let start = Instant::now();
                        if site == "task" {
                            rt.block_on(rt.spawn(workload!(tokio, $name, iters $(, $arg)*)))
                                .unwrap();
                        } else {
                            rt.block_on(workload!(tokio, $name, iters $(, $arg)*));
                        }
                        start.elapsed()
                    })
                });
            }
            group.finish();
        }
    }};
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>, workload: &str) {
    if matches!(workload, "gather" | "spawn_many") {
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(4));
    } else {
        group.measurement_time(Duration::from_secs(3));
    }
}

/// A runtime driven by another thread for the length of a group (the plain
/// thread's spawns need someone to run them on a current-thread runtime).
struct Driven<R> {
    rt: Arc<R>,
    stop: Option<std::sync::mpsc::Sender<()>>,
    driver: Option<std::thread::JoinHandle<()>>,
}

impl<R: Send + Sync + 'static> Driven<R> {
    fn new(rt: R, multi: bool, drive: fn(&R, std::sync::mpsc::Receiver<()>)) -> Driven<R> {
        let rt = Arc::new(rt);
        let (stop, stopped) = std::sync::mpsc::channel();
        // A multi-thread runtime runs its tasks on its workers: no driver.
        let driver = (!multi).then(|| {
            let rt = rt.clone();
            std::thread::spawn(move || drive(&rt, stopped))
        });
        Driven {
            rt,
            stop: Some(stop),
            driver,
        }
    }
}

impl<R> Drop for Driven<R> {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(driver) = self.driver.take() {
            driver.join().unwrap();
        }
    }
}

/// Sits in `block_on` until the group ends (polling its stop channel
/// between yields, so the runtime's tasks run meanwhile).
macro_rules! drive {
    ($rtc:ident) => {
        |rt, stopped| {
            rt.block_on(async move {
                while let Err(std::sync::mpsc::TryRecvError::Empty) = stopped.try_recv() {
                    $rtc::time::sleep(Duration::from_millis(1)).await;
                }
            })
        }
    };
}

/// `iters` runs of `$workload` from this plain thread through `$handle` of
/// crate `$rtc`: spawn and wait here, or enter the runtime and wait here
/// for a timeout.
macro_rules! from_this_thread {
    ($rtc:ident, $handle:expr, $workload:expr, $iters:expr) => {{
        let start = Instant::now();
        for i in 0..$iters {
            if $workload == "spawn_ready" {
                let task = $handle.spawn(async move { black_box(i) });
                black_box(park_on(task).unwrap());
            } else {
                let _in = $handle.enter();
                let r = park_on($rtc::time::timeout(LONG, $rtc::task::yield_now()));
                black_box(r.is_ok());
            }
        }
        start.elapsed()
    }};
}

/// From a plain thread: spawn through the handle (or enter it, for a
/// timeout) and wait here.
fn from_thread(c: &mut Criterion) {
    for workload in ["spawn_ready", "timeout_cancel"] {
        let mut group = c.benchmark_group(format!("{workload}@thread"));
        group.measurement_time(Duration::from_secs(3));
        for multi in [false, true] {
            let keen = Driven::new(keen_rt(multi), multi, drive!(keen));
            let handle = keen.rt.handle().clone();
            group.bench_function(format!("keen/{}", flavor(multi)), |b| {
                b.iter_custom(|iters| from_this_thread!(keen, handle, workload, iters))
            });
            drop(keen);
            let tokio = Driven::new(tokio_rt(multi), multi, drive!(tokio));
            let handle = tokio.rt.handle().clone();
            group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
                b.iter_custom(|iters| from_this_thread!(tokio, handle, workload, iters))
            });
        }
        group.finish();
    }
}

fn sites(c: &mut Criterion) {
    in_task_and_block_on!(c, "spawn_ready", spawn_ready);
    in_task_and_block_on!(c, "spawn_yield", spawn_yield);
    in_task_and_block_on!(c, "timeout_cancel", timeout_cancel);
    in_task_and_block_on!(c, "gather/100", gather, 100);
    in_task_and_block_on!(c, "gather/10000", gather, 10_000);
    in_task_and_block_on!(c, "spawn_many", spawn_many);
}

criterion_group!(benches, sites, from_thread);
criterion_main!(benches);
