//! Precise timer waits (issue 17) on every runtime configuration, on the
//! real clock: short sleeps (100 µs to 3 ms, alone, from tasks and from
//! `block_on`, many at once) never end before their deadline by
//! `Instant::now()`, and a far timer pending on an idle runtime does not
//! make the driver spin (its parks stay few). Upper bounds are generous:
//! they catch a hang, not a slow machine.

use std::time::{Duration, Instant as StdInstant};

use keen::time::{Instant, sleep, sleep_until};
use keen_suite::{ALL, each, run_in_task, signal};

const SHORT: [Duration; 4] = [
    Duration::from_micros(100),
    Duration::from_micros(500),
    Duration::from_millis(1),
    Duration::from_millis(3),
];
/// Far beyond any sleep here: only a hang exceeds it.
const HANG: Duration = Duration::from_secs(10);

fn check(d: Duration, took: Duration, what: &str) {
    assert!(took >= d, "{what} sleep({d:?}) ended early, after {took:?}");
    assert!(took < d + HANG, "{what} sleep({d:?}) took {took:?}");
}

#[test]
fn short_sleeps_never_end_before_their_deadline() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            for round in 0..10 {
                for d in SHORT {
                    let start = StdInstant::now();
                    let keen_start = Instant::now();
                    sleep(d).await;
                    check(d, start.elapsed(), "task");
                    check(d, keen_start.elapsed(), "task (keen clock)");
                    let at = Instant::now() + d;
                    sleep_until(at).await;
                    assert!(Instant::now() >= at, "sleep_until woke early ({round})");
                }
            }
        });
        rt.block_on(async {
            for d in SHORT {
                let start = StdInstant::now();
                sleep(d).await;
                check(d, start.elapsed(), "block_on");
            }
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn many_concurrent_short_sleepers_each_wait_their_own_duration() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let handles: Vec<_> = (0..200usize)
                .map(|i| {
                    // Spread over the four durations and a few µs apart, so
                    // deadlines fall in many different ticks.
                    let d = SHORT[i % 4] + Duration::from_micros(i as u64 * 7 % 50);
                    keen::spawn(async move {
                        let start = StdInstant::now();
                        sleep(d).await;
                        (d, start.elapsed())
                    })
                })
                .collect();
            for handle in handles {
                let (d, took) = handle.await.unwrap();
                check(d, took, "spawned");
            }
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn a_far_timer_on_an_idle_runtime_does_not_make_the_driver_spin() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        rt.block_on(async {
            let far = keen::spawn(sleep(Duration::from_secs(10)));
            // Let every thread settle into its park first.
            sleep(Duration::from_millis(5)).await;
            let before = keen::runtime::Handle::current().metrics().parks;
            let (trigger, idle) = signal();
            // The 200 ms of idleness is the measured period, not
            // synchronisation: nothing in the runtime waits for it.
            let timer = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                trigger.fire();
            });
            idle.await;
            let parks = keen::runtime::Handle::current().metrics().parks - before;
            // A woken driver re-parks a handful of times at most (the
            // timer's cascade points, the wake that ends the wait); a
            // spinning one parks thousands of times in 200 ms.
            assert!(parks <= 20, "{parks} parks while idle with a far timer");
            timer.join().unwrap();
            drop(far); // the runtime's shutdown drops the sleeper
        });
    });
}
