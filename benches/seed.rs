//! The seed workload, keen beside tokio and smol in one run (issue 7; smol
//! is the second peer, `common/smol.rs`): from inside a
//! task, spawn N children that each run `timeout(Duration::ZERO,
//! yield_now())`, then await every child in spawn order (a gather); per
//! batch, for N = 100 and N = 10,000.
//!
//! Each child is pending once (the yield), so its timeout really registers
//! a zero-length timer, and then completes with either the inner output or
//! `Elapsed`, whichever the runtime sees first; the result is only
//! `black_box`ed. (smol's timeout, the body raced against an
//! `async_io::Timer`, finds a zero-length timer already due when it first
//! polls it, so its children end `Elapsed` in their first poll without
//! registering a timer: that is what smol does with this code.) tokio has no counterpart among its own benches; the
//! spawn-then-gather shape is `spawn_many_yield_once` in `benches/spawn.rs`
//! with a timeout around each child's body.
//!
//! Groups `seed_gather/100` and `seed_gather/10000`; each runs on
//! current-thread and on multi-thread with 2 workers, as `keen/…`,
//! `tokio/…` and `smol/…`. `cargo bench --bench
//! seed`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

mod common;
use common::{flavor, keen_rt, smol, smol_rt, tokio_rt};

/// One batch on runtime `$rt` of crate `$rtc` (`keen`, `tokio` or
/// `common::smol`, whose `spawn`, `time::timeout` and `task::yield_now`
/// have the same shapes): the text is written once, so all three runtimes
/// run the same code.
macro_rules! gather {
    ($rtc:ident, $rt:expr, $children:expr) => {
        $rt.block_on(async {
            $rtc::spawn(async move {
                let handles: Vec<_> = (0..$children)
                    .map(|_| {
                        $rtc::spawn(async {
                            let r =
                                $rtc::time::timeout(Duration::ZERO, $rtc::task::yield_now()).await;
                            black_box(r.is_ok())
                        })
                    })
                    .collect();
                for h in handles {
                    h.await.unwrap();
                }
            })
            .await
            .unwrap()
        })
    };
}

fn seed_gather(c: &mut Criterion, children: usize) {
    let mut group = c.benchmark_group(format!("seed_gather/{children}"));
    if children > 1_000 {
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(4));
    } else {
        group.measurement_time(Duration::from_secs(3));
    }
    for multi in [false, true] {
        let rt = keen_rt(multi);
        group.bench_function(format!("keen/{}", flavor(multi)), |b| {
            b.iter(|| gather!(keen, rt, children))
        });
        drop(rt);
        let rt = tokio_rt(multi);
        group.bench_function(format!("tokio/{}", flavor(multi)), |b| {
            b.iter(|| gather!(tokio, rt, children))
        });
        drop(rt);
        let rt = smol_rt(multi);
        group.bench_function(format!("smol/{}", flavor(multi)), |b| {
            b.iter(|| gather!(smol, rt, children))
        });
    }
    group.finish();
}

fn seed_gather_100(c: &mut Criterion) {
    seed_gather(c, 100);
}

fn seed_gather_10000(c: &mut Criterion) {
    seed_gather(c, 10_000);
}

criterion_group!(benches, seed_gather_100, seed_gather_10000);
criterion_main!(benches);
