//! `keen::time::interval` and `interval_at` on every runtime configuration,
//! on the paused clock: the first tick at once, then exact period spacing;
//! each `MissedTickBehavior` (Burst, Delay, Skip) when the ticking task is
//! late, with tokio's rules (a tick counts as missed when more than 5 ms
//! late; `tick` returns the instant the tick was scheduled for); `reset*`;
//! cancel safety of `tick`; a zero period panics.

use std::time::Duration;

use keen::time::{Instant, Interval, MissedTickBehavior, advance, interval, interval_at, timeout};
use keen_suite::{ALL, each, panic_message, poll_once, run_in_task};

const MS: Duration = Duration::from_millis(1);

/// Ticks once; returns (scheduled instant, now), both relative to `start`.
async fn tick(iv: &mut Interval, start: Instant) -> (Duration, Duration) {
    let scheduled = iv.tick().await;
    (scheduled - start, start.elapsed())
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn first_tick_at_once_then_every_period() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let mut iv = interval(10 * MS);
            assert_eq!(iv.period(), 10 * MS);
            assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
            for k in 0..6 {
                assert_eq!(tick(&mut iv, start).await, (ms(10 * k), ms(10 * k)));
            }

            let start = Instant::now();
            let mut iv = interval_at(start + 50 * MS, 7 * MS);
            assert_eq!(tick(&mut iv, start).await, (ms(50), ms(50)));
            assert_eq!(tick(&mut iv, start).await, (ms(57), ms(57)));
            assert_eq!(tick(&mut iv, start).await, (ms(64), ms(64)));
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn burst_fires_missed_ticks_back_to_back_on_the_old_schedule() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let mut iv = interval(10 * MS);
            iv.set_missed_tick_behavior(MissedTickBehavior::Burst);
            assert_eq!(tick(&mut iv, start).await, (ms(0), ms(0)));
            // Wait for the next tick once (its timer registers), give up on
            // it, then be late by 25 ms: ticks 10, 20 and 30 are missed.
            assert!(poll_once(&mut Box::pin(iv.tick())).is_pending());
            advance(35 * MS).await;
            assert_eq!(tick(&mut iv, start).await, (ms(10), ms(35)));
            assert_eq!(tick(&mut iv, start).await, (ms(20), ms(35)));
            assert_eq!(tick(&mut iv, start).await, (ms(30), ms(35)));
            assert_eq!(tick(&mut iv, start).await, (ms(40), ms(40)));
            assert_eq!(tick(&mut iv, start).await, (ms(50), ms(50)));
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn delay_restarts_the_schedule_from_the_late_tick() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let mut iv = interval(10 * MS);
            iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
            assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Delay);
            assert_eq!(tick(&mut iv, start).await, (ms(0), ms(0)));
            advance(35 * MS).await;
            assert_eq!(tick(&mut iv, start).await, (ms(10), ms(35)));
            assert_eq!(tick(&mut iv, start).await, (ms(45), ms(45)));
            assert_eq!(tick(&mut iv, start).await, (ms(55), ms(55)));
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn skip_drops_missed_ticks_and_keeps_the_phase() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let mut iv = interval(10 * MS);
            iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
            assert_eq!(tick(&mut iv, start).await, (ms(0), ms(0)));
            advance(35 * MS).await;
            assert_eq!(tick(&mut iv, start).await, (ms(10), ms(35)));
            assert_eq!(tick(&mut iv, start).await, (ms(40), ms(40)));
            assert_eq!(tick(&mut iv, start).await, (ms(50), ms(50)));
            // Late by exactly whole periods: the next multiple after now.
            advance(30 * MS).await;
            assert_eq!(tick(&mut iv, start).await, (ms(60), ms(80)));
            assert_eq!(tick(&mut iv, start).await, (ms(90), ms(90)));
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn a_tick_up_to_5ms_late_is_not_missed() {
    for behavior in [
        MissedTickBehavior::Burst,
        MissedTickBehavior::Delay,
        MissedTickBehavior::Skip,
    ] {
        each(&ALL, |cfg| {
            let rt = cfg.build_paused();
            run_in_task(&rt, async move {
                let start = Instant::now();
                let mut iv = interval(10 * MS);
                iv.set_missed_tick_behavior(behavior);
                assert_eq!(tick(&mut iv, start).await, (ms(0), ms(0)));
                advance(15 * MS).await; // tick 10 is 5 ms late
                assert_eq!(tick(&mut iv, start).await, (ms(10), ms(15)));
                assert_eq!(tick(&mut iv, start).await, (ms(20), ms(20)), "{behavior:?}");
            });
        });
    }
}

#[test]
fn reset_variants() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let mut iv = interval(10 * MS);
            assert_eq!(tick(&mut iv, start).await, (ms(0), ms(0)));
            advance(3 * MS).await;
            iv.reset();
            assert_eq!(tick(&mut iv, start).await, (ms(13), ms(13)));
            iv.reset_immediately();
            assert_eq!(tick(&mut iv, start).await, (ms(13), ms(13)));
            assert_eq!(tick(&mut iv, start).await, (ms(23), ms(23)));
            iv.reset_at(start + 30 * MS);
            assert_eq!(tick(&mut iv, start).await, (ms(30), ms(30)));
            assert_eq!(tick(&mut iv, start).await, (ms(40), ms(40)));
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn dropping_a_tick_future_loses_no_tick() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let mut iv = interval(10 * MS);
            assert_eq!(tick(&mut iv, start).await, (ms(0), ms(0)));
            assert!(timeout(5 * MS, iv.tick()).await.is_err());
            assert_eq!(start.elapsed(), 5 * MS);
            assert_eq!(tick(&mut iv, start).await, (ms(10), ms(10)));
            assert_eq!(tick(&mut iv, start).await, (ms(20), ms(20)));
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn zero_period_panics() {
    // Checked before any timer is involved, so not flavour-specific.
    for make in [(|| drop(interval(Duration::ZERO))) as fn(), || {
        drop(interval_at(Instant::now(), Duration::ZERO))
    }] {
        let err = std::panic::catch_unwind(make).expect_err("a zero period panics");
        let msg = panic_message(&*err);
        assert!(msg.contains("period must be non-zero"), "{msg}");
    }
}
