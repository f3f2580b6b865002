//! Idle workers park without a timeout: an idle multi-thread runtime uses
//! (almost) no CPU. Alone in its test binary, so no other test's threads
//! add to the process CPU time it measures.

use std::time::Duration;

fn process_cpu_time() -> Duration {
    // SAFETY: `getrusage` fills the zeroed struct we pass; RUSAGE_SELF is valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

#[test]
fn idle_workers_do_not_spin() {
    let rt = keen_suite::Config {
        flavor: keen_suite::Flavor::MultiThread(2),
        eager: true,
    }
    .build();
    // Let the workers run something, then go idle.
    rt.block_on(async {
        let handles: Vec<_> = (0..100)
            .map(|_| keen::spawn(keen::task::yield_now()))
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    let before = process_cpu_time();
    // Idle for 500 ms of wall time (this sleep is the measured period, not
    // synchronisation). Two spinning workers would burn ~1 s of CPU.
    std::thread::sleep(Duration::from_millis(500));
    let used = process_cpu_time() - before;
    assert!(
        used < Duration::from_millis(100),
        "idle runtime used {used:?} of CPU in 500 ms"
    );
}
