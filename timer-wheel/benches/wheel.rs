//! Criterion benches of [`keen_timer_wheel::Wheel`] against two baseline
//! timer queues, a lazily deleting `BinaryHeap` and a `BTreeMap` (both in
//! [`baseline`]).
//!
//! This file owns the bench bodies and their configuration. Every bench is
//! one generic function over [`TimerQueue`], run by [`for_each_queue!`] for
//! the three queues, whose bench IDs are `wheel`, `binary_heap` and
//! `btree_map`. Groups:
//!
//! * `insert_cancel`: one insert (deadline in `1..60_000`) then the cancel of
//!   that key, with 10 000 live background timers; time per pair.
//! * `insert_cancel_empty`: the same pair on an otherwise empty queue.
//! * `insert_fire`: 10 000 timers at deadlines in `1..10_000`, inserted into
//!   a fresh queue and drained with `poll_expired(10_000)`.
//! * `next_expiration`: the query with 1 and with 100 000 live timers.
//! * `million_timers`: 1 000 000 timers at deadlines in `1..2^30`, inserted
//!   (`insert_1m`), and inserted then drained (`insert_drain_1m`).
//!
//! Before any timing, [`sanity_check`] drives all three queues through the
//! same random schedule and asserts that they fire the same timers on time.
//! Run with `cargo bench -p keen-timer-wheel --bench wheel`.

mod baseline;
mod rng;

use std::collections::HashMap;
use std::hash::Hash;
use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use keen_timer_wheel::Wheel;

use baseline::TimerQueue;
use baseline::binary_heap::HeapQueue;
use baseline::btree_map::BTreeQueue;
use rng::SplitMix64;

/// Seed of every random schedule, so all queues see the same deadlines.
const SEED: u64 = 0x6b65_656e_7469_6d65;
/// Live background timers in `insert_cancel`.
const BACKGROUND: usize = 10_000;
/// Deadlines of `insert_cancel` lie in `1..CANCEL_SPAN`.
const CANCEL_SPAN: u64 = 60_000;
/// Timers per `insert_fire` batch; deadlines lie in `1..FIRE_BATCH`.
const FIRE_BATCH: usize = 10_000;
/// Deadlines of `next_expiration` lie in `1..HOUR` (one hour at 1 ms).
const HOUR: u64 = 3_600_000;
/// Timers in `million_timers`.
const MILLION: usize = 1_000_000;
/// Deadlines of `million_timers` lie in `1..MILLION_SPAN`.
const MILLION_SPAN: u64 = 1 << 30;

/// Runs a generic bench function `$bench::<Q>(id, args..)` once per queue.
macro_rules! for_each_queue {
    ($bench:ident($($arg:expr),* $(,)?)) => {
        $bench::<Wheel<()>>("wheel", $($arg),*);
        $bench::<HeapQueue<()>>("binary_heap", $($arg),*);
        $bench::<BTreeQueue<()>>("btree_map", $($arg),*);
    };
}

/// `n` deadlines drawn uniformly from `1..span`.
fn deadlines(n: usize, span: u64) -> Vec<u64> {
    let mut rng = SplitMix64::new(SEED);
    (0..n).map(|_| rng.range(1, span)).collect()
}

/// A queue holding one timer per deadline.
fn filled<Q: TimerQueue>(deadlines: &[u64]) -> Q {
    let mut queue = Q::with_capacity(deadlines.len() + 1);
    for &when in deadlines {
        queue.insert(when);
    }
    queue
}

/// Asserts that `Q` fires exactly the uncancelled timers of a random
/// schedule, none early or late, in deadline order; returns the fired
/// deadlines for comparison across queues.
fn check_queue<Q>() -> Vec<u64>
where
    Q: TimerQueue,
    Q::Key: Eq + Hash,
{
    let mut rng = SplitMix64::new(SEED ^ 1);
    let mut queue = Q::with_capacity(0);
    let mut live: HashMap<Q::Key, u64> = HashMap::new();
    // Every key ever handed out and not yet picked for a cancel, in a
    // deterministic order (the map's order is random per instance).
    let mut keys: Vec<Q::Key> = Vec::new();
    let mut fired = Vec::new();
    let mut now = 0;
    while now < 200_000 {
        for _ in 0..rng.range(0, 200) {
            let when = now + rng.range(1, 100_000);
            let key = queue.insert(when);
            live.insert(key, when);
            keys.push(key);
        }
        for _ in 0..rng.range(0, 60) {
            if keys.is_empty() {
                break;
            }
            let key = keys.swap_remove(rng.range(0, keys.len() as u64) as usize);
            // Keys of fired timers are stale and must be refused.
            assert_eq!(queue.cancel(key), live.remove(&key).is_some(), "cancel");
            assert!(!queue.cancel(key), "stale key accepted");
        }
        let earliest = live.values().copied().min();
        match (queue.next_expiration(), earliest) {
            (Some(next), Some(min)) => assert!(next <= min, "next_expiration too late"),
            (None, None) => {}
            other => panic!("next_expiration disagrees with the live set: {other:?}"),
        }
        let prev = now;
        now += rng.range(1, 5_000);
        while let Some(key) = queue.poll_expired(now) {
            let when = live.remove(&key).expect("fired a dead or unknown timer");
            assert!(prev < when && when <= now, "fired early or late");
            assert!(
                fired.last().is_none_or(|&last| last <= when),
                "out of order"
            );
            fired.push(when);
        }
    }
    while let Some(key) = queue.poll_expired(u64::MAX) {
        fired.push(live.remove(&key).expect("fired a dead or unknown timer"));
    }
    assert!(live.is_empty(), "timers never fired");
    fired
}

/// Runs [`check_queue`] for every queue and compares their firing orders.
fn sanity_check(_: &mut Criterion) {
    let wheel = check_queue::<Wheel<()>>();
    assert_eq!(wheel, check_queue::<HeapQueue<()>>(), "binary_heap differs");
    assert_eq!(wheel, check_queue::<BTreeQueue<()>>(), "btree_map differs");
}

/// One insert at a random deadline and the cancel of that key, on a queue
/// that already holds `background` live timers.
fn insert_cancel<Q: TimerQueue>(id: &str, group: &mut BenchmarkGroup<WallTime>, background: usize) {
    let mut queue: Q = filled(&deadlines(background, CANCEL_SPAN));
    let mut rng = SplitMix64::new(SEED ^ 2);
    group.bench_function(id, |b| {
        b.iter(|| {
            let key = queue.insert(black_box(rng.range(1, CANCEL_SPAN)));
            queue.cancel(black_box(key))
        })
    });
}

/// Inserts `deadlines` into `queue`, then drains it at tick `now`, checking
/// every timer fired.
fn insert_and_drain<Q: TimerQueue>(queue: &mut Q, deadlines: &[u64], now: u64) {
    for &when in deadlines {
        black_box(queue.insert(when));
    }
    let mut fired = 0;
    while let Some(key) = queue.poll_expired(now) {
        black_box(key);
        fired += 1;
    }
    assert_eq!(fired, deadlines.len());
}

/// Inserts a batch of timers into a fresh queue and drains them all.
fn insert_fire<Q: TimerQueue>(id: &str, group: &mut BenchmarkGroup<WallTime>, deadlines: &[u64]) {
    group.bench_function(id, |b| {
        b.iter_batched_ref(
            || Q::with_capacity(deadlines.len()),
            |queue| insert_and_drain(queue, deadlines, FIRE_BATCH as u64),
            BatchSize::LargeInput,
        )
    });
}

/// `next_expiration` on a queue holding `live` timers.
fn next_expiration<Q: TimerQueue>(id: &str, group: &mut BenchmarkGroup<WallTime>, live: usize) {
    let queue: Q = filled(&deadlines(live, HOUR));
    group.bench_with_input(BenchmarkId::new(id, live), &queue, |b, queue| {
        b.iter(|| black_box(queue).next_expiration())
    });
}

/// Inserts [`MILLION`] timers into a fresh queue, and inserts then drains them.
fn million_timers<Q: TimerQueue>(
    id: &str,
    group: &mut BenchmarkGroup<WallTime>,
    deadlines: &[u64],
) {
    group.bench_function(BenchmarkId::new(id, "insert_1m"), |b| {
        b.iter_batched_ref(
            || Q::with_capacity(deadlines.len()),
            |queue| {
                for &when in deadlines {
                    black_box(queue.insert(when));
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function(BenchmarkId::new(id, "insert_drain_1m"), |b| {
        b.iter_batched_ref(
            || Q::with_capacity(deadlines.len()),
            |queue| insert_and_drain(queue, deadlines, MILLION_SPAN),
            BatchSize::PerIteration,
        )
    });
}

/// The `insert_cancel` and `insert_cancel_empty` groups.
fn bench_insert_cancel(c: &mut Criterion) {
    for (name, background) in [("insert_cancel", BACKGROUND), ("insert_cancel_empty", 0)] {
        let mut group = c.benchmark_group(name);
        group
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(2));
        for_each_queue!(insert_cancel(&mut group, background));
        group.finish();
    }
}

/// The `insert_fire` group.
fn bench_insert_fire(c: &mut Criterion) {
    let deadlines = deadlines(FIRE_BATCH, FIRE_BATCH as u64);
    let mut group = c.benchmark_group("insert_fire");
    group
        .throughput(Throughput::Elements(FIRE_BATCH as u64))
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for_each_queue!(insert_fire(&mut group, &deadlines));
    group.finish();
}

/// The `next_expiration` group.
fn bench_next_expiration(c: &mut Criterion) {
    let mut group = c.benchmark_group("next_expiration");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    for live in [1, 100_000] {
        for_each_queue!(next_expiration(&mut group, live));
    }
    group.finish();
}

/// The `million_timers` group.
fn bench_million_timers(c: &mut Criterion) {
    let deadlines = deadlines(MILLION, MILLION_SPAN);
    let mut group = c.benchmark_group("million_timers");
    group
        .throughput(Throughput::Elements(MILLION as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for_each_queue!(million_timers(&mut group, &deadlines));
    group.finish();
}

criterion_group!(
    benches,
    sanity_check,
    bench_insert_cancel,
    bench_insert_fire,
    bench_next_expiration,
    bench_million_timers
);
criterion_main!(benches);
