//! The gather/timeout reproduction suite (issue 6): every scenario as one
//! named function, written once, with its correct outcome in its doc
//! comment and in the table below. `tests/repro_keen.rs` runs each on every
//! configuration as a test; `examples/repro.rs` runs them all and prints the
//! table (this module is included there by path).
//!
//! A scenario returns `Err(message)` when keen does the wrong thing; a panic
//! inside it (a failed `unwrap`, say) counts as a failure too.

#![allow(dead_code)] // each including crate uses part of it

pub mod groups;
pub mod redis;
pub mod scopes;
pub mod seed;
pub mod tasks;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use keen_suite::{Config, Flavor, panic_message};

/// A scenario's verdict: `Err` says what went wrong.
pub type Check = Result<(), String>;

/// Fails the scenario with a message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// One scenario of the suite.
pub struct Scenario {
    /// Its number in issue 6.
    pub number: u32,
    /// Its name (the function's).
    pub name: &'static str,
    /// The correct outcome, in one line.
    pub expected: &'static str,
    /// Runs it on one configuration.
    pub run: fn(Config) -> Check,
}

/// A scenario ported to tokio, for comparison; `multi` picks the flavour.
pub struct TokioScenario {
    /// The keen scenario it ports.
    pub number: u32,
    /// Its name.
    pub name: &'static str,
    /// The correct outcome, in one line.
    pub expected: &'static str,
    /// Runs it.
    pub run: fn(bool) -> Check,
}

/// Current-thread and multi-thread(2), eager on and off.
pub const CONFIGS: [Config; 4] = [
    Config {
        flavor: Flavor::CurrentThread,
        eager: true,
    },
    Config {
        flavor: Flavor::MultiThread(2),
        eager: true,
    },
    Config {
        flavor: Flavor::CurrentThread,
        eager: false,
    },
    Config {
        flavor: Flavor::MultiThread(2),
        eager: false,
    },
];

macro_rules! scenario {
    ($number:literal, $module:ident :: $name:ident, $expected:literal) => {
        Scenario {
            number: $number,
            name: stringify!($name),
            expected: $expected,
            run: $module::$name,
        }
    };
}

/// Every keen scenario, in issue order.
pub const SCENARIOS: &[Scenario] = &[
    scenario!(
        1,
        seed::seed,
        "3 eager children each get their own Elapsed; the parent is untouched"
    ),
    scenario!(
        2,
        seed::seed_thousand,
        "1,000 children, with timeout, fail_after and move_on_after: each its own"
    ),
    scenario!(
        3,
        scopes::eager_scope_is_the_childs,
        "a scope entered in the eager phase belongs to the child"
    ),
    scenario!(
        4,
        scopes::zero_timeout_ready_body,
        "timeout(0) around a body that never suspends is Ok"
    ),
    scenario!(
        5,
        scopes::parent_timeout_around_join,
        "the parent's scope reports; the join is cancelled; later checkpoints are not"
    ),
    scenario!(
        6,
        scopes::nested_attribution,
        "both expired: outer catches; inner shorter: inner catches, outer completes"
    ),
    scenario!(
        7,
        scopes::childs_timeout_inside_parent_scope,
        "only the child's scope reports"
    ),
    scenario!(
        8,
        scopes::cancel_before_first_poll,
        "cancelled at the first suspension"
    ),
    scenario!(
        9,
        scopes::eager_timeout_fires_after_promotion,
        "caught by the child's scope"
    ),
    scenario!(
        10,
        tasks::task_id_stable,
        "eager phase == after resume == JoinHandle::id()"
    ),
    scenario!(
        11,
        tasks::task_local_isolation,
        "child reads 1, sets 2; parent keeps 1; child reads 2 after resume"
    ),
    scenario!(
        12,
        tasks::ordering,
        "eager: p0, c0 start, c1 start, p1; lazy: p0, p1, c0 start, c1 start"
    ),
    scenario!(
        13,
        tasks::eager_completion_never_queued,
        "finished when spawn returns; never queued"
    ),
    scenario!(
        14,
        tasks::abort_after_eager_phase,
        "abort after eager completion: no-op; after an eager block: cancelled"
    ),
    scenario!(
        15,
        tasks::deep_nested_spawn,
        "10,000-deep nested spawn returns its depth"
    ),
    scenario!(
        16,
        tasks::panic_in_eager_phase,
        "JoinError::is_panic(); parent's id, locals and scopes restored"
    ),
    scenario!(
        17,
        groups::eager_panic_in_group,
        "siblings cancelled; the panic is in GroupError"
    ),
    scenario!(
        18,
        groups::move_on_after_around_group,
        "all children cancelled; the outer scope caught"
    ),
    scenario!(
        19,
        groups::spawn_into_cancelled_group,
        "eager part runs, then cancelled at the first suspension"
    ),
    scenario!(
        20,
        scopes::shield,
        "the shielded sleep completes; the next suspension outside is cancelled"
    ),
    scenario!(
        21,
        groups::start,
        "an error before started comes out of start(); cancelling the caller cancels the child"
    ),
    scenario!(
        22,
        groups::lazy_group_order,
        "spawn_lazy keeps trio's order under an eager runtime"
    ),
    scenario!(
        23,
        tasks::spawn_from_outside,
        "not eager, scheduled, completes"
    ),
];

/// The tokio ports.
pub const TOKIO_SCENARIOS: &[TokioScenario] = &[TokioScenario {
    number: 24,
    name: "seed_on_tokio",
    expected: "3 tokio::spawn children with timeout(0): each completes on its own; the parent is untouched",
    run: seed::seed_on_tokio,
}];

/// Runs `run`, turning a panic into a failure, and times it.
pub fn timed(run: impl FnOnce() -> Check) -> (Check, Duration) {
    let start = Instant::now();
    let check = match catch_unwind(AssertUnwindSafe(run)) {
        Ok(check) => check,
        Err(payload) => Err(format!("panicked: {}", panic_message(&*payload))),
    };
    (check, start.elapsed())
}

/// A short name for a configuration, for tables.
pub fn config_name(cfg: Config) -> String {
    let flavor = match cfg.flavor {
        Flavor::CurrentThread => "ct".to_owned(),
        Flavor::MultiThread(n) => format!("mt{n}"),
    };
    format!("{flavor}/{}", if cfg.eager { "eager" } else { "lazy" })
}
