//! Property test: random insert/remove/reset/advance sequences run against
//! the wheel and against a `BTreeMap` model must fire the same timers in the
//! same order, over small tick ranges (dense same-tick collisions, level-0
//! and level-1 cascades) and huge ones (every level, overflow, `u64::MAX`).
//!
//! The model: a timer's effective deadline is `max(when, now)` at the time it
//! was inserted or reset, and timers fire ordered by (effective deadline,
//! order of insertion/reset). Advances always drain fully, so the wheel's
//! `elapsed()` equals the model's `now` between operations.

use std::collections::{BTreeMap, HashMap};

use keen_timer_wheel::{TimerKey, Wheel};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Insert at `now + delta` (saturating), or at an absolute tick.
    Insert(When),
    /// Remove the i-th key ever issued (mod count), live or stale.
    Remove(usize),
    /// Reset the i-th key ever issued to a new deadline.
    Reset(usize, When),
    /// Advance `now` by this many ticks (saturating) and drain.
    Advance(u64),
}

#[derive(Debug, Clone, Copy)]
enum When {
    Relative(i64),
    Absolute(u64),
}

impl When {
    fn resolve(self, now: u64) -> u64 {
        match self {
            When::Relative(d) if d >= 0 => now.saturating_add(d as u64),
            When::Relative(d) => now.saturating_sub(d.unsigned_abs()),
            When::Absolute(t) => t,
        }
    }
}

#[derive(Default)]
struct Model {
    now: u64,
    seq: u64,
    /// (effective deadline, seq) -> id
    queue: BTreeMap<(u64, u64), usize>,
    /// id -> its current queue position
    live: HashMap<usize, (u64, u64)>,
}

impl Model {
    fn insert(&mut self, id: usize, when: u64) {
        let pos = (when.max(self.now), self.seq);
        self.seq += 1;
        self.queue.insert(pos, id);
        self.live.insert(id, pos);
    }

    fn remove(&mut self, id: usize) -> bool {
        match self.live.remove(&id) {
            Some(pos) => {
                self.queue.remove(&pos);
                true
            }
            None => false,
        }
    }

    fn advance(&mut self, now: u64) -> Vec<usize> {
        self.now = now;
        let later = self.queue.split_off(&(now.saturating_add(1), 0));
        let due = std::mem::replace(&mut self.queue, later);
        if now == u64::MAX {
            // split_off at (MAX, 0) would keep MAX-deadline timers; all are due.
            let all: Vec<usize> = due
                .into_values()
                .chain(self.queue.values().copied())
                .collect();
            self.queue.clear();
            for id in &all {
                self.live.remove(id);
            }
            return all;
        }
        let fired: Vec<usize> = due.into_values().collect();
        for id in &fired {
            self.live.remove(id);
        }
        fired
    }

    fn min_deadline(&self) -> Option<u64> {
        self.queue.keys().next().map(|&(when, _)| when)
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut wheel: Wheel<usize> = Wheel::new();
    let mut model = Model::default();
    let mut keys: Vec<TimerKey> = Vec::new();

    for op in ops {
        match op {
            Op::Insert(when) => {
                let id = keys.len();
                let when = when.resolve(model.now);
                keys.push(wheel.insert(when, id));
                model.insert(id, when);
            }
            Op::Remove(i) if !keys.is_empty() => {
                let id = i % keys.len();
                let expected = model.remove(id).then_some(id);
                prop_assert_eq!(wheel.remove(keys[id]), expected);
            }
            Op::Reset(i, when) if !keys.is_empty() => {
                let id = i % keys.len();
                let when = when.resolve(model.now);
                let was_live = model.remove(id);
                if was_live {
                    model.insert(id, when);
                }
                prop_assert_eq!(wheel.reset(keys[id], when), was_live);
            }
            Op::Remove(_) | Op::Reset(..) => {}
            Op::Advance(delta) => {
                let now = model.now.saturating_add(delta);
                // Nothing may fire before next_expiration().
                if let Some(next) = wheel.next_expiration() {
                    let min = model.min_deadline().expect("wheel has timers, model none");
                    prop_assert!(next <= min, "next_expiration {} > earliest {}", next, min);
                    prop_assert!(next >= wheel.elapsed());
                } else {
                    prop_assert!(model.queue.is_empty());
                }
                let expected = model.advance(now);
                let mut fired = Vec::new();
                while let Some((key, id)) = wheel.poll_expired(now) {
                    prop_assert_eq!(key, keys[id]);
                    fired.push(id);
                }
                prop_assert_eq!(fired, expected);
                prop_assert_eq!(wheel.elapsed(), now);
            }
        }
        prop_assert_eq!(wheel.len(), model.live.len());
    }
    // Finally everything left fires, in order, by the end of time.
    let expected = model.advance(u64::MAX);
    let fired: Vec<usize> =
        std::iter::from_fn(|| wheel.poll_expired(u64::MAX).map(|(_, id)| id)).collect();
    prop_assert_eq!(fired, expected);
    prop_assert!(wheel.is_empty());
    Ok(())
}

fn small_when() -> impl Strategy<Value = When> {
    prop_oneof![
        8 => (-20i64..300).prop_map(When::Relative),
        1 => (0u64..400).prop_map(When::Absolute),
    ]
}

fn huge_when() -> impl Strategy<Value = When> {
    prop_oneof![
        3 => (-1000i64..5000).prop_map(When::Relative),
        3 => (0i64..(1i64 << 40)).prop_map(When::Relative),
        2 => any::<u64>().prop_map(When::Absolute),
        1 => Just(When::Absolute(u64::MAX)),
        1 => (0u64..4).prop_map(|k| When::Absolute(k << 36)),
    ]
}

fn ops(when: BoxedStrategy<When>, advance: BoxedStrategy<u64>) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        6 => when.clone().prop_map(Op::Insert),
        2 => any::<usize>().prop_map(Op::Remove),
        2 => (any::<usize>(), when).prop_map(|(i, w)| Op::Reset(i, w)),
        3 => advance.prop_map(Op::Advance),
    ];
    prop::collection::vec(op, 1..80)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn matches_model_on_small_ranges(
        ops in ops(small_when().boxed(), (0u64..130).boxed())
    ) {
        run(ops)?;
    }

    #[test]
    fn matches_model_on_huge_ranges(
        ops in ops(
            huge_when().boxed(),
            prop_oneof![
                3 => 0u64..5000,
                2 => 0u64..(1 << 40),
                1 => any::<u64>(),
            ].boxed(),
        )
    ) {
        run(ops)?;
    }
}
