//! tokio's own scheduler benches, run on keen, on tokio and on smol side by
//! side (issue 7; smol, the second peer, is `common/smol.rs`: a
//! `LocalExecutor`, or an `Executor` on 2 threads). Every workload is one
//! generic function over [`Rt`], so all three runtimes execute the same
//! code (`keen/…`, `tokio/…` and `smol/…` cells); each runs on current-thread and on
//! multi-thread with 2 workers (tokio's multi-thread benches use 4 workers,
//! its `spawn.rs` uses 1; this suite uses 2 everywhere, the machine's cores).
//!
//! Shapes and counts follow tokio's `benches/rt_current_thread.rs` (C),
//! `benches/rt_multi_threaded.rs` (M) and `benches/spawn.rs` (S). Where tokio
//! has the workload for one flavour only, the same shape runs on the other.
//!
//! | group | shape | tasks |
//! |---|---|---|
//! | `rt_spawn_many_local` | current-thread (C): spawn from `block_on`, await every handle. Multi-thread (M): spawn from `block_on`, handles dropped, the last task to finish counts a shared counter down to zero and signals `block_on` | 1,000 (C) / 10,000 (M) empty tasks |
//! | `rt_spawn_many_remote_idle` | `rt.spawn` from the bench thread, then `block_on` awaits every handle | 1,000 (C) / 10,000 (M) |
//! | `rt_spawn_many_remote_busy` | as `remote_idle` while the runtime is busy. Current-thread (C): one task that spawns its successor forever. Multi-thread (M's `busy1`): 4 (2 × workers) tasks that each yield, then spin 10 µs, in a loop | 1,000 (C) / 10,000 (M) |
//! | `rt_spawn_many_remote_busy2` | multi-thread only (M's `busy2`): as `remote_idle` while 2 (one per worker) chains each spawn a successor that spins 10 µs | 1,000 |
//! | `rt_yield_many` | 200 tasks spawned with `rt.spawn`, each yields 1,000 times | 200 × 1,000 yields |
//! | `rt_ping_pong` | from `block_on`, one task spawns 1,000 pingers; each spawns a ponger, signals it, and waits for its reply | 1,000 round trips, 2,001 tasks |
//! | `rt_chained_spawn` | from `block_on`, a task spawns a task that spawns a task ... | 1,000 links |
//! | `rt_spawn` | (S) `block_on` spawns one task (`1 + 1`, a yield, the sum) and awaits it | 1 |
//! | `rt_spawn10` | (S) the same with ten tasks, awaited in order | 10 |
//!
//! Adaptations (the same on every runtime):
//!
//! - Completion. tokio blocks in `std::sync::mpsc::Receiver::recv` (inside
//!   `block_on`, or on the bench thread for `yield_many`) until the last task
//!   reports. That deadlocks a current-thread runtime, whose tasks only run
//!   inside `block_on`, so here `block_on` awaits a small runtime-neutral
//!   one-shot [`signal`] instead, on both flavours; like tokio's channel
//!   sender, every task holds a clone of it. `yield_many` counts down
//!   a shared counter and signals once instead of sending 200 messages.
//! - `ping_pong`'s two `tokio::sync::oneshot` channels per round trip are two
//!   [`signal`]s, so neither runtime uses its own channel.
//! - The busy tasks check a stop flag (tokio's current-thread one has none),
//!   so each runtime is idle again before the next one is measured.
//! - Every spawn from inside the runtime is the runtime's plain `spawn`:
//!   eager on keen where keen is eager (inside tasks, and in `block_on` on
//!   both flavours), queued everywhere else. A chain
//!   of eager spawns nests in place up to keen's depth limit (32), then queues
//!   (`docs/eager.md`), which is what keeps `chained_spawn` and the busy
//!   chains from growing the stack. smol's spawns always queue.
//! - smol's handle detaches its task when dropped, as keen's and tokio's
//!   do (`common/smol.rs`), so the dropped handles below mean the same.
//!
//! `cargo bench --bench rt`: each group takes under three quarters of a
//! minute, the whole file about four and a half minutes on 2 cores.

use std::fmt::Debug;
use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main};

mod common;
use common::smol::SmolRt;
use common::{flavor, keen_rt, smol, smol_rt, tokio_rt};

/// Workers of the multi-thread flavour (`common` builds it with 2).
const WORKERS: usize = 2;
/// Tasks per batch on current-thread (tokio's `rt_current_thread.rs`).
const SPAWN_CT: usize = 1_000;
/// Tasks per batch on multi-thread (tokio's `rt_multi_threaded.rs`).
const SPAWN_MT: usize = 10_000;
/// Tasks per batch in `remote_busy2`.
const SPAWN_BUSY2: usize = 1_000;
const YIELD_TASKS: usize = 200;
const YIELDS: usize = 1_000;
const PINGS: usize = 1_000;
const CHAIN: usize = 1_000;
/// How long a busy task spins between yields or spawns.
const STALL: Duration = Duration::from_micros(10);

/// What a workload needs from a runtime; implemented by keen's, tokio's and
/// smol's with direct calls, so a workload compiles to the same code it would be
/// written as by hand.
trait Rt: Sized + 'static {
    /// The runtime's name in bench ids.
    const NAME: &'static str;
    type JoinError: Debug;
    type Join<T: Send + 'static>: Future<Output = Result<T, Self::JoinError>> + Send + 'static;

    /// The flavour's runtime, built by `benches/common`.
    fn build(multi: bool) -> Self;
    fn block_on<F: Future>(&self, future: F) -> F::Output;
    /// A spawn from outside the runtime (`rt.spawn`).
    fn spawn_remote<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    /// The free `spawn`, from inside the runtime.
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    fn yield_now() -> impl Future<Output = ()> + Send;
}

impl Rt for keen::Runtime {
    const NAME: &'static str = "keen";
    type JoinError = keen::task::JoinError;
    type Join<T: Send + 'static> = keen::task::JoinHandle<T>;

    fn build(multi: bool) -> Self {
        keen_rt(multi)
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        keen::Runtime::block_on(self, future)
    }
    fn spawn_remote<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        keen::Runtime::spawn(self, future)
    }
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        keen::spawn(future)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        keen::task::yield_now()
    }
}

impl Rt for tokio::runtime::Runtime {
    const NAME: &'static str = "tokio";
    type JoinError = tokio::task::JoinError;
    type Join<T: Send + 'static> = tokio::task::JoinHandle<T>;

    fn build(multi: bool) -> Self {
        tokio_rt(multi)
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        tokio::runtime::Runtime::block_on(self, future)
    }
    fn spawn_remote<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::runtime::Runtime::spawn(self, future)
    }
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(future)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

impl Rt for SmolRt {
    const NAME: &'static str = "smol";
    type JoinError = std::convert::Infallible;
    type Join<T: Send + 'static> = smol::JoinHandle<T>;

    fn build(multi: bool) -> Self {
        smol_rt(multi)
    }
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        SmolRt::block_on(self, future)
    }
    fn spawn_remote<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SmolRt::spawn(self, future)
    }
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        smol::spawn(future)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        smol::task::yield_now()
    }
}

/// A runtime-neutral one-shot, payload-free signal: the stand-in for
/// tokio's `oneshot` and for the bench's `std::sync::mpsc` completion
/// channel. Senders clone; the first `send` completes the receiver.
mod signal {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::AtomicBool;
    use std::sync::atomic::Ordering::{Acquire, Release};
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    struct Shared {
        sent: AtomicBool,
        waker: Mutex<Option<Waker>>,
    }

    #[derive(Clone)]
    pub struct Sender(Arc<Shared>);

    pub struct Receiver(Arc<Shared>);

    pub fn channel() -> (Sender, Receiver) {
        let shared = Arc::new(Shared {
            sent: AtomicBool::new(false),
            waker: Mutex::new(None),
        });
        (Sender(shared.clone()), Receiver(shared))
    }

    impl Sender {
        pub fn send(&self) {
            self.0.sent.store(true, Release);
            // Taking the lock after the store: a receiver that registered
            // before it is woken here, one that registers after sees `sent`.
            let waker = self.0.waker.lock().unwrap().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }

    impl Future for Receiver {
        type Output = ();

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0.sent.load(Acquire) {
                return Poll::Ready(());
            }
            let mut slot = self.0.waker.lock().unwrap();
            if self.0.sent.load(Acquire) {
                return Poll::Ready(());
            }
            match &mut *slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            Poll::Pending
        }
    }
}

/// Spins for [`STALL`], as tokio's busy tasks do.
fn stall() {
    let start = Instant::now();
    while start.elapsed() < STALL {
        std::thread::yield_now();
    }
}

/// Counts a batch down; the task that takes it to zero sends the signal.
fn count_down(remaining: &AtomicUsize, done: &signal::Sender) {
    if remaining.fetch_sub(1, Relaxed) == 1 {
        done.send();
    }
}

/// Keeps a runtime busy while remote spawns are measured; dropping it stops
/// the busy tasks.
struct Busy(Arc<AtomicBool>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(false, Relaxed);
    }
}

/// A task that spawns its successor until `running` clears, optionally
/// spinning first (tokio's current-thread busy task, and `busy2`'s chain).
fn respawn_forever<R: Rt>(running: Arc<AtomicBool>, spin: bool) {
    drop(R::spawn(async move {
        if running.load(Relaxed) {
            if spin {
                stall();
            }
            respawn_forever::<R>(running, spin);
        }
    }));
}

/// One workload: its group, its settings, an optional background load, and
/// one measured batch.
trait Workload {
    const GROUP: &'static str;
    /// Whether it runs on multi-thread only.
    const MULTI_ONLY: bool = false;

    fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
        group
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
    }

    fn background<R: Rt>(_rt: &R, _multi: bool) -> Option<Busy> {
        None
    }

    fn batch<R: Rt>(rt: &R, multi: bool);
}

/// Settings for groups whose batches take tens of milliseconds: flat
/// sampling, so 10 samples need 10 batches rather than 55.
fn configure_slow(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
}

/// Benches `W` on keen, tokio and smol, current-thread then multi-thread. Each
/// cell builds its own runtime and drops it (and its background load) before
/// the next one starts.
fn side_by_side<W: Workload>(c: &mut Criterion) {
    let mut group = c.benchmark_group(W::GROUP);
    W::configure(&mut group);
    for multi in [false, true] {
        if W::MULTI_ONLY && !multi {
            continue;
        }
        cell::<keen::Runtime, W>(&mut group, multi);
        cell::<tokio::runtime::Runtime, W>(&mut group, multi);
        cell::<SmolRt, W>(&mut group, multi);
    }
    group.finish();
}

fn cell<R: Rt, W: Workload>(group: &mut BenchmarkGroup<'_, WallTime>, multi: bool) {
    let rt = R::build(multi);
    let busy = W::background(&rt, multi);
    group.bench_function(format!("{}/{}", R::NAME, flavor(multi)), |b| {
        b.iter(|| W::batch(&rt, multi))
    });
    drop(busy);
    drop(rt);
}

/// Awaits every handle in spawn order.
async fn join_all<T, E: Debug>(handles: Vec<impl Future<Output = Result<T, E>>>) {
    for handle in handles {
        handle.await.unwrap();
    }
}

/// `n` remote spawns of empty tasks, then `block_on` awaits them all.
fn spawn_remote_batch<R: Rt>(rt: &R, n: usize) {
    let handles: Vec<_> = (0..n).map(|_| rt.spawn_remote(async {})).collect();
    rt.block_on(join_all(handles));
}

struct SpawnManyLocal;

impl Workload for SpawnManyLocal {
    const GROUP: &'static str = "rt_spawn_many_local";

    fn batch<R: Rt>(rt: &R, multi: bool) {
        if !multi {
            rt.block_on(async {
                let handles: Vec<_> = (0..SPAWN_CT).map(|_| R::spawn(async {})).collect();
                join_all(handles).await;
            });
            return;
        }
        let remaining = Arc::new(AtomicUsize::new(SPAWN_MT));
        let (done, finished) = signal::channel();
        rt.block_on(async {
            for _ in 0..SPAWN_MT {
                let remaining = remaining.clone();
                let done = done.clone();
                drop(R::spawn(async move { count_down(&remaining, &done) }));
            }
            finished.await;
        });
    }
}

struct SpawnManyRemoteIdle;

impl Workload for SpawnManyRemoteIdle {
    const GROUP: &'static str = "rt_spawn_many_remote_idle";

    fn batch<R: Rt>(rt: &R, multi: bool) {
        spawn_remote_batch(rt, if multi { SPAWN_MT } else { SPAWN_CT });
    }
}

struct SpawnManyRemoteBusy;

impl Workload for SpawnManyRemoteBusy {
    const GROUP: &'static str = "rt_spawn_many_remote_busy";

    fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
        configure_slow(group);
    }

    fn background<R: Rt>(rt: &R, multi: bool) -> Option<Busy> {
        let running = Arc::new(AtomicBool::new(true));
        if multi {
            for _ in 0..2 * WORKERS {
                let running = running.clone();
                drop(rt.spawn_remote(async move {
                    while running.load(Relaxed) {
                        R::yield_now().await;
                        stall();
                    }
                }));
            }
        } else {
            let running = running.clone();
            drop(rt.spawn_remote(async move { respawn_forever::<R>(running, false) }));
        }
        Some(Busy(running))
    }

    fn batch<R: Rt>(rt: &R, multi: bool) {
        spawn_remote_batch(rt, if multi { SPAWN_MT } else { SPAWN_CT });
    }
}

struct SpawnManyRemoteBusy2;

impl Workload for SpawnManyRemoteBusy2 {
    const GROUP: &'static str = "rt_spawn_many_remote_busy2";
    const MULTI_ONLY: bool = true;

    fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
        configure_slow(group);
    }

    fn background<R: Rt>(rt: &R, _multi: bool) -> Option<Busy> {
        let running = Arc::new(AtomicBool::new(true));
        for _ in 0..WORKERS {
            let running = running.clone();
            drop(rt.spawn_remote(async move { respawn_forever::<R>(running, true) }));
        }
        Some(Busy(running))
    }

    fn batch<R: Rt>(rt: &R, _multi: bool) {
        spawn_remote_batch(rt, SPAWN_BUSY2);
    }
}

struct YieldMany;

impl Workload for YieldMany {
    const GROUP: &'static str = "rt_yield_many";

    fn batch<R: Rt>(rt: &R, _multi: bool) {
        let remaining = Arc::new(AtomicUsize::new(YIELD_TASKS));
        let (done, finished) = signal::channel();
        for _ in 0..YIELD_TASKS {
            let remaining = remaining.clone();
            let done = done.clone();
            drop(rt.spawn_remote(async move {
                for _ in 0..YIELDS {
                    R::yield_now().await;
                }
                count_down(&remaining, &done);
            }));
        }
        rt.block_on(finished);
    }
}

struct PingPong;

impl Workload for PingPong {
    const GROUP: &'static str = "rt_ping_pong";

    fn batch<R: Rt>(rt: &R, _multi: bool) {
        let remaining = Arc::new(AtomicUsize::new(PINGS));
        let (done, finished) = signal::channel();
        rt.block_on(async {
            drop(R::spawn(async move {
                for _ in 0..PINGS {
                    let remaining = remaining.clone();
                    let done = done.clone();
                    drop(R::spawn(async move {
                        let (ping, pinged) = signal::channel();
                        let (pong, ponged) = signal::channel();
                        drop(R::spawn(async move {
                            pinged.await;
                            pong.send();
                        }));
                        ping.send();
                        ponged.await;
                        count_down(&remaining, &done);
                    }));
                }
            }));
            finished.await;
        });
    }
}

/// One link: spawns the next, or signals at the end of the chain.
fn chain<R: Rt>(done: signal::Sender, links_left: usize) {
    if links_left == 0 {
        done.send();
    } else {
        drop(R::spawn(async move { chain::<R>(done, links_left - 1) }));
    }
}

struct ChainedSpawn;

impl Workload for ChainedSpawn {
    const GROUP: &'static str = "rt_chained_spawn";

    fn batch<R: Rt>(rt: &R, _multi: bool) {
        let (done, finished) = signal::channel();
        rt.block_on(async {
            drop(R::spawn(async move { chain::<R>(done, CHAIN) }));
            finished.await;
        });
    }
}

/// tokio's `spawn.rs` task body: a sum, one yield, the sum.
async fn work<R: Rt>() -> usize {
    let sum = 1 + 1;
    R::yield_now().await;
    black_box(sum)
}

struct Spawn1;

impl Workload for Spawn1 {
    const GROUP: &'static str = "rt_spawn";

    fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
        group
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(2));
    }

    fn batch<R: Rt>(rt: &R, _multi: bool) {
        rt.block_on(async {
            assert_eq!(R::spawn(work::<R>()).await.unwrap(), 2);
        });
    }
}

struct Spawn10;

impl Workload for Spawn10 {
    const GROUP: &'static str = "rt_spawn10";

    fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
        Spawn1::configure(group);
    }

    fn batch<R: Rt>(rt: &R, _multi: bool) {
        rt.block_on(async {
            let handles: Vec<_> = (0..10).map(|_| R::spawn(work::<R>())).collect();
            for handle in handles {
                assert_eq!(handle.await.unwrap(), 2);
            }
        });
    }
}

criterion_group!(
    benches,
    side_by_side::<SpawnManyLocal>,
    side_by_side::<SpawnManyRemoteIdle>,
    side_by_side::<SpawnManyRemoteBusy>,
    side_by_side::<SpawnManyRemoteBusy2>,
    side_by_side::<YieldMany>,
    side_by_side::<PingPong>,
    side_by_side::<ChainedSpawn>,
    side_by_side::<Spawn1>,
    side_by_side::<Spawn10>
);
criterion_main!(benches);
