//! The main-job demo of `keen-timer-wheel`: one million timers through one
//! wheel, timed and checked.
//!
//! 1. Inserts 1,000,000 timers at deadlines uniform over `1..=3_600_000`
//!    ticks (one hour at 1 ms per tick) into a `Wheel::new()` (slab growth
//!    included) and reports the insert throughput.
//! 2. With those timers live, runs 1,000,000 insert + remove pairs (deadline
//!    in `1..60_000`) and reports the time per pair.
//! 3. Advances time in 1-tick steps up to tick 1,000, then in 1,000-tick jumps
//!    up to the hour, draining `poll_expired` at each step, and reports the
//!    fire throughput.
//! 4. Checks that every timer fired exactly once, none of the removed ones
//!    fired, none fired early or late, and deadlines came out non-decreasing.
//!    A failed check panics, so the process exits non-zero.
//!
//! Run with `cargo run --release -p keen-timer-wheel --example wheel`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use keen_timer_wheel::Wheel;

#[path = "../benches/rng.rs"]
mod rng;
use rng::SplitMix64;

/// Timers loaded into the wheel.
const TIMERS: usize = 1_000_000;
/// Insert + remove pairs run with the timers live.
const PAIRS: usize = 1_000_000;
/// Last possible deadline: one hour of 1 ms ticks.
const HOUR: u64 = 3_600_000;
/// Deadlines of the insert + remove pairs lie in `1..PAIR_SPAN`.
const PAIR_SPAN: u64 = 60_000;
/// Time advances one tick per poll up to this tick ...
const FINE_UNTIL: u64 = 1_000;
/// ... and by this many ticks per poll after it.
const JUMP: u64 = 1_000;

/// `n` with thousands separators.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One aligned report line: `count` operations of `what` took `time`.
fn report(what: &str, count: usize, unit: &str, time: Duration) {
    let ns = time.as_secs_f64() * 1e9 / count as f64;
    println!(
        "  {what:<24} {:>10} {:>11} {:>16} {:>14}",
        thousands(count as u64),
        format!("{:.2} ms", time.as_secs_f64() * 1e3),
        format!("{:.2} M {unit}/s", 1e3 / ns),
        format!("{ns:.2} ns/{unit}"),
    );
}

fn main() {
    let total = Instant::now();
    let mut rng = SplitMix64::new(0x6b65_656e_6465_6d6f);
    let deadlines: Vec<u64> = (0..TIMERS).map(|_| rng.range(1, HOUR + 1)).collect();
    let pair_deadlines: Vec<u64> = (0..PAIRS).map(|_| rng.range(1, PAIR_SPAN)).collect();

    println!(
        "keen-timer-wheel demo: {} timers, deadlines uniform in 1..={} ticks (1 h at 1 ms)\n",
        thousands(TIMERS as u64),
        thousands(HOUR),
    );
    println!(
        "  {:<24} {:>10} {:>11} {:>16} {:>14}",
        "phase", "count", "time", "throughput", "per op"
    );

    // 1. Load: value = timer id, so the checks can find the deadline.
    let mut wheel: Wheel<u32> = Wheel::new();
    let start = Instant::now();
    for (id, &when) in deadlines.iter().enumerate() {
        black_box(wheel.insert(when, id as u32));
    }
    let insert_time = start.elapsed();
    assert_eq!(wheel.len(), TIMERS);
    report("insert", TIMERS, "op", insert_time);

    // 2. Insert + remove pairs among the live timers. Their ids start at
    //    TIMERS, so one of them firing later is caught below.
    let start = Instant::now();
    let mut removed = 0usize;
    for (i, &when) in pair_deadlines.iter().enumerate() {
        let id = (TIMERS + i) as u32;
        let key = wheel.insert(when, id);
        removed += usize::from(wheel.remove(black_box(key)) == Some(id));
    }
    let pair_time = start.elapsed();
    assert_eq!(removed, PAIRS, "a remove returned the wrong value");
    assert_eq!(wheel.len(), TIMERS);
    report("insert+remove (1M live)", PAIRS, "pair", pair_time);

    // 3. Advance and fire. Record (id, poll step) only; check afterwards so
    //    the checks stay out of the timed loop.
    let mut steps: Vec<u64> = Vec::new();
    let mut order: Vec<(u32, u32)> = Vec::with_capacity(TIMERS);
    let start = Instant::now();
    let mut now = 0;
    while now < HOUR {
        now = if now < FINE_UNTIL {
            now + 1
        } else {
            (now + JUMP).min(HOUR)
        };
        let step = steps.len() as u32;
        steps.push(now);
        while let Some((_, id)) = wheel.poll_expired(now) {
            order.push((id, step));
        }
    }
    let fire_time = start.elapsed();
    report("advance + fire", order.len(), "op", fire_time);
    println!(
        "  ({} polls: 1-tick steps up to tick {}, then {}-tick jumps)\n",
        thousands(steps.len() as u64),
        thousands(FINE_UNTIL),
        thousands(JUMP),
    );

    // 4. Check.
    assert!(wheel.is_empty(), "{} timers never fired", wheel.len());
    assert_eq!(wheel.elapsed(), HOUR);
    let mut fired = vec![false; TIMERS];
    let mut last = 0;
    for &(id, step) in &order {
        let id = id as usize;
        assert!(id < TIMERS, "removed timer {id} fired");
        assert!(!fired[id], "timer {id} fired twice");
        fired[id] = true;
        let when = deadlines[id];
        let now = steps[step as usize];
        let prev = if step == 0 {
            0
        } else {
            steps[step as usize - 1]
        };
        assert!(when <= now, "timer {id} (due {when}) fired early at {now}");
        assert!(when > prev, "timer {id} (due {when}) fired late at {now}");
        assert!(when >= last, "timer {id} (due {when}) fired after {last}");
        last = when;
    }
    assert_eq!(order.len(), TIMERS, "not every timer fired");
    println!(
        "  check: {} timers fired exactly once, no removed timer fired,",
        thousands(TIMERS as u64)
    );
    println!("         none early or late, deadlines non-decreasing: ok");
    println!("\n  total run time {:.2} s", total.elapsed().as_secs_f64());
}
