//! The reproduction suite's tokio ports (scenario 24), on tokio's
//! current-thread and multi-thread(2) runtimes.

mod repro;

use repro::{TOKIO_SCENARIOS, timed};

#[test]
fn tokio_ports() {
    for scenario in TOKIO_SCENARIOS {
        for multi in [false, true] {
            let (check, _) = timed(|| (scenario.run)(multi));
            if let Err(e) = check {
                panic!("{} (multi-thread: {multi}): {e}", scenario.name);
            }
        }
    }
}
