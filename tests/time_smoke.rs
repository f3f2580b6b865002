//! Scratch smoke test (to be replaced).
use keen::time::{self, Instant};
use keen_suite::{ALL, each};
use std::time::Duration;

#[test]
fn seed() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        rt.block_on(async {
            let hs: Vec<_> = (0..3)
                .map(|_| {
                    keen::spawn(async {
                        time::timeout(Duration::ZERO, keen::task::yield_now()).await
                    })
                })
                .collect();
            for h in hs {
                assert!(h.await.unwrap().is_err(), "{cfg:?}");
            }
            let t = Instant::now();
            time::sleep(Duration::from_secs(5)).await;
            assert_eq!(t.elapsed(), Duration::from_secs(5));
            let r = time::timeout(
                Duration::from_millis(10),
                time::sleep(Duration::from_secs(1)),
            )
            .await;
            assert!(r.is_err());
            assert_eq!(t.elapsed(), Duration::from_millis(5010));
        });
        assert_eq!(rt.metrics().timers, 0);
    });
}

#[test]
fn real_clock_sleep() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        rt.block_on(async {
            let t = std::time::Instant::now();
            time::sleep(Duration::from_millis(20)).await;
            assert!(t.elapsed() >= Duration::from_millis(20));
            let h = keen::spawn(async {
                time::sleep(Duration::from_millis(5)).await;
                3
            });
            assert_eq!(h.await.unwrap(), 3);
        });
    });
}
