//! Timeouts in a process where no clock is ever paused, so every first
//! poll of a relative timeout takes the path that never finds the runtime's
//! clock (`scope/lazy.rs`: the paused-clock count is 0). A file of its own
//! because a test binary is one process: a paused runtime in any other test
//! of the same file would send these polls down the full path instead. It
//! proves the short path still panics outside a runtime at the first poll
//! (and runs inside `Handle::enter` on a plain thread), and keeps the
//! real-clock rule (the deadline counts from the end of the first body
//! poll). Nothing here may build a paused runtime.

use std::future::pending;
use std::time::Duration;

use keen::time::{Instant, timeout, timeout_at};
use keen_suite::{ALL, each, poll_once, run_in_task, slow_first_poll_then_timeout};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

/// Outside any runtime a timeout panics at its first poll, with the time
/// code's message, whichever start its deadline takes (relative, zero or
/// absolute) and although its body would be ready at once (the path that
/// never reads the clock still checks that a runtime is current). Inside
/// `Handle::enter` on a plain thread it runs, and panics again once the
/// guard is gone.
#[test]
fn a_timeout_outside_a_runtime_panics_at_its_first_poll() {
    let first_poll_panics = |mut t: keen::time::Timeout<std::future::Ready<u8>>| {
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| poll_once(&mut t)))
            .expect_err("a timeout needs a runtime");
        let msg = keen_suite::panic_message(&*err);
        assert!(msg.contains("outside a keen runtime"), "{msg}");
    };
    first_poll_panics(timeout(HOUR, std::future::ready(1)));
    first_poll_panics(timeout(Duration::ZERO, std::future::ready(1)));
    let rt = ALL[0].build();
    let at = rt.block_on(async { Instant::now() }) + HOUR;
    first_poll_panics(timeout_at(at, std::future::ready(1)));
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let handle = rt.handle().clone();
        std::thread::spawn(move || {
            let guard = handle.enter();
            let mut t = timeout(HOUR, std::future::ready(2));
            assert_eq!(poll_once(&mut t), std::task::Poll::Ready(Ok(2)));
            drop(guard);
            first_poll_panics(timeout(HOUR, std::future::ready(3)));
        })
        .join()
        .unwrap();
    });
}

/// The real-clock rule on the short path: a first body poll that takes
/// 30 ms does not use up a 20 ms timeout, and a ready body is `Ok`.
#[test]
fn the_short_path_defers_the_deadline_to_the_first_pending() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            assert_eq!(timeout(HOUR, async { 7 }).await, Ok(7));
            slow_first_poll_then_timeout().await;
            assert!(timeout(MS, pending::<()>()).await.is_err());
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}
