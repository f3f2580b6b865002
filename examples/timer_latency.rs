//! Fire latency of `sleep(1 ms)` on an idle runtime, keen beside tokio:
//! how long after its deadline each sleep is observed complete, p50 / p99 /
//! max over many sleeps, on current-thread and multi-thread(2).
//!
//! `cargo run --release --example timer_latency [samples]` (default 1000).
//! tokio has 1 ms timer resolution, so its sleeps can end up to 1 ms after
//! their deadline by design; keen's tick is 10 µs and, on Linux, its driver
//! wakes at the timer's instant (a timerfd). The figures include rounding.

use std::time::{Duration, Instant};

// The benches' runtime constructors, so latency is measured on the same
// runtimes as the criterion figures.
#[path = "../benches/common/mod.rs"]
mod common;
use common::{flavor, keen_rt, tokio_rt};

const MS: Duration = Duration::from_millis(1);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index]
}

fn report(name: &str, mut lateness: Vec<Duration>) {
    lateness.sort();
    println!(
        "{name:<26} p50 {:>9.1?}  p99 {:>9.1?}  max {:>9.1?}",
        percentile(&lateness, 0.50),
        percentile(&lateness, 0.99),
        lateness[lateness.len() - 1],
    );
}

fn keen_lateness(multi: bool, samples: usize) -> Vec<Duration> {
    let rt = keen_rt(multi);
    rt.block_on(rt.spawn(async move {
        let mut out = Vec::with_capacity(samples);
        for _ in 0..samples {
            let start = Instant::now();
            keen::time::sleep(MS).await;
            out.push(start.elapsed().saturating_sub(MS));
        }
        out
    }))
    .unwrap()
}

fn tokio_lateness(multi: bool, samples: usize) -> Vec<Duration> {
    let rt = tokio_rt(multi);
    rt.block_on(rt.spawn(async move {
        let mut out = Vec::with_capacity(samples);
        for _ in 0..samples {
            let start = Instant::now();
            tokio::time::sleep(MS).await;
            out.push(start.elapsed().saturating_sub(MS));
        }
        out
    }))
    .unwrap()
}

fn main() {
    let samples = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("samples: a number"))
        .unwrap_or(1000);
    println!("sleep(1 ms) lateness past the deadline, {samples} samples each");
    for multi in [false, true] {
        let flavor = flavor(multi);
        report(&format!("keen/{flavor}"), keen_lateness(multi, samples));
        report(&format!("tokio/{flavor}"), tokio_lateness(multi, samples));
    }
}
