//! The reproduction suite on keen: every scenario of `tests/repro/` as its
//! own test, run on current-thread and multi-thread(2), eager on and off.
//! (`cargo run --release --example repro` prints the same as a table.)

mod repro;

use repro::{CONFIGS, SCENARIOS, config_name, timed};

/// Runs scenario `name` on every configuration; fails naming each failure.
fn run(name: &str) {
    let scenario = SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario {name}"));
    let failures: Vec<String> = CONFIGS
        .iter()
        .filter_map(|&cfg| {
            let (check, _) = timed(|| (scenario.run)(cfg));
            check.err().map(|e| format!("{}: {e}", config_name(cfg)))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "scenario {} ({}) failed:\n{}",
        scenario.number,
        scenario.expected,
        failures.join("\n")
    );
}

macro_rules! scenario_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run(stringify!($name));
            }
        )*

        #[test]
        fn every_scenario_has_a_test() {
            let tested = [$(stringify!($name)),*];
            for s in SCENARIOS {
                assert!(tested.contains(&s.name), "scenario {} has no test", s.name);
            }
        }
    };
}

scenario_tests!(
    seed,
    seed_thousand,
    eager_scope_is_the_childs,
    zero_timeout_ready_body,
    parent_timeout_around_join,
    nested_attribution,
    childs_timeout_inside_parent_scope,
    cancel_before_first_poll,
    eager_timeout_fires_after_promotion,
    task_id_stable,
    task_local_isolation,
    ordering,
    eager_completion_never_queued,
    abort_after_eager_phase,
    deep_nested_spawn,
    panic_in_eager_phase,
    eager_panic_in_group,
    move_on_after_around_group,
    spawn_into_cancelled_group,
    shield,
    start,
    lazy_group_order,
    spawn_from_outside,
);
