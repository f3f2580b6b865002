//! `WorkerPool` and `Pool` on every configuration: a worker pool runs every
//! job with at most N at once, drains its queue on `stop`, refuses jobs once
//! stopped by a panic, and aborts its workers when dropped; a resource pool
//! never exceeds its size, reuses resources, drops unhealthy ones, times out
//! acquirers exactly (paused clock), serves waiters in order and reports
//! creation errors without losing its place.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keen::patterns::{Pool, PoolError, WorkerPool};
use keen::task::yield_now;
use keen::time::{Instant, sleep};
use keen_suite::{
    ALL, DropCounter, beside_a_shield_in_a_cancelled_scope, each, panic_message, run_in_task,
};

const MS: Duration = Duration::from_millis(1);
const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_worker_pool_runs_every_job_n_at_a_time_and_drains_on_stop() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let (running, peak, done) = (
                Arc::new(AtomicUsize::new(0)),
                Arc::new(AtomicUsize::new(0)),
                Arc::new(Mutex::new(Vec::new())),
            );
            let (r, p, d) = (running.clone(), peak.clone(), done.clone());
            let pool = WorkerPool::new(3, 4, move |job: u32| {
                let (r, p, d) = (r.clone(), p.clone(), d.clone());
                async move {
                    let now = r.fetch_add(1, SeqCst) + 1;
                    p.fetch_max(now, SeqCst);
                    sleep(2 * MS).await;
                    r.fetch_sub(1, SeqCst);
                    d.lock().unwrap().push(job);
                }
            });
            for job in 0..12 {
                pool.submit(job).await.unwrap();
            }
            pool.stop().await.expect("no job failed");
            let mut done = done.lock().unwrap().clone();
            done.sort_unstable();
            assert_eq!(done, (0..12).collect::<Vec<_>>(), "every queued job ran");
            assert_eq!(peak.load(SeqCst), 3, "three workers, all busy, no more");
            assert_eq!(start.elapsed(), 8 * MS, "12 jobs of 2 ms on 3 workers");
        });
    });
}

#[test]
fn a_panicking_job_stops_the_pool_and_comes_out_of_stop() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let pool = WorkerPool::new(2, 8, |job: u32| async move {
                if job == 3 {
                    panic!("job 3 failed");
                }
                sleep(HOUR).await;
            });
            for job in 0..4 {
                pool.submit(job).await.unwrap();
            }
            // The workers are cancelled by the failure: nothing takes jobs.
            let mut refused = false;
            for _ in 0..100 {
                if pool.submit(99).await.is_err() {
                    refused = true;
                    break;
                }
                yield_now().await;
            }
            assert!(refused, "a stopped pool refuses jobs");
            let err = pool.stop().await.expect_err("the panic is reported");
            let panic = err.into_errors().remove(0).into_panic();
            assert_eq!(panic_message(&*panic), "job 3 failed");
        });
    });
}

#[test]
fn dropping_a_worker_pool_aborts_its_workers() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let dropped = DropCounter::new();
            let started = Arc::new(AtomicUsize::new(0));
            let (counter, starts) = (dropped.clone(), started.clone());
            let pool = WorkerPool::new(2, 4, move |_: ()| {
                let token = counter.token();
                starts.fetch_add(1, SeqCst);
                async move {
                    let _token = token;
                    sleep(HOUR).await;
                }
            });
            pool.submit(()).await.unwrap();
            pool.submit(()).await.unwrap();
            // Both workers take a job at their next turn.
            while started.load(SeqCst) < 2 {
                yield_now().await;
            }
            drop(pool);
            let start = Instant::now();
            while dropped.get() < 2 && start.elapsed() < HOUR {
                sleep(MS).await;
            }
            assert_eq!(dropped.get(), 2, "both running jobs were dropped");
        });
    });
}

#[test]
fn a_pool_never_exceeds_its_size_and_reuses_resources() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let created = Arc::new(AtomicUsize::new(0));
            let out = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let made = created.clone();
            let pool = Pool::builder(3, move || {
                let id = made.fetch_add(1, SeqCst);
                async move { Ok::<_, std::io::Error>(id) }
            })
            .build();
            let tg = keen::group::TaskGroup::new();
            for _ in 0..20 {
                let (pool, out, peak) = (pool.clone(), out.clone(), peak.clone());
                tg.spawn(async move {
                    let conn = pool.acquire().await.expect("acquired within 30 s");
                    let now = out.fetch_add(1, SeqCst) + 1;
                    peak.fetch_max(now, SeqCst);
                    sleep(MS).await;
                    out.fetch_sub(1, SeqCst);
                    drop(conn);
                });
            }
            tg.join().await.unwrap();
            assert_eq!(peak.load(SeqCst), 3, "at most max_size out at once");
            assert_eq!(created.load(SeqCst), 3, "resources were reused");
            assert_eq!(pool.idle(), 3);
        });
    });
}

#[test]
fn unhealthy_resources_are_dropped_and_replaced() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let created = Arc::new(AtomicUsize::new(0));
            let made = created.clone();
            let pool = Pool::builder(1, move || {
                made.fetch_add(1, SeqCst);
                async { Ok::<_, std::io::Error>(0u32) }
            })
            .health_check(|uses| {
                *uses += 1;
                *uses < 2 // retire after two uses
            })
            .build();
            for _ in 0..6 {
                drop(pool.acquire().await.unwrap());
            }
            assert_eq!(created.load(SeqCst), 3, "each lasts two uses");
            let broken = pool.acquire().await.unwrap();
            broken.discard();
            assert_eq!(pool.idle(), 0, "a discarded resource is not returned");
        });
    });
}

#[test]
fn acquire_times_out_exactly_and_waiters_are_served_in_order() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let start = Instant::now();
            let pool = Pool::builder(1, || async { Ok::<_, std::io::Error>(()) })
                .acquire_timeout(10 * MS)
                .build();
            let held = pool.acquire().await.unwrap();
            let err = pool.acquire().await.expect_err("the only resource is out");
            assert!(matches!(err, PoolError::Timeout));
            assert_eq!(start.elapsed(), 10 * MS);

            let order = Arc::new(Mutex::new(Vec::new()));
            let tg = keen::group::TaskGroup::new();
            for i in 0..3 {
                let (pool, order) = (pool.clone(), order.clone());
                tg.spawn(async move {
                    let _conn = pool.acquire().await.unwrap();
                    order.lock().unwrap().push(i);
                    sleep(MS).await;
                });
                yield_now().await; // queue them in spawn order
            }
            sleep(2 * MS).await;
            drop(held);
            tg.join().await.unwrap();
            assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
        });
    });
}

#[test]
fn a_creation_error_is_reported_and_frees_its_place() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let attempts = Arc::new(AtomicUsize::new(0));
            let tries = attempts.clone();
            let pool = Pool::builder(1, move || {
                let n = tries.fetch_add(1, SeqCst);
                async move {
                    if n == 0 {
                        Err(std::io::Error::other("refused"))
                    } else {
                        Ok(n)
                    }
                }
            })
            .acquire_timeout(5 * MS)
            .build();
            match pool.acquire().await {
                Err(PoolError::Create(e)) => assert_eq!(e.to_string(), "refused"),
                other => panic!("expected the creation error, got {other:?}"),
            }
            let conn = pool
                .acquire()
                .await
                .expect("the failed attempt freed its place");
            assert_eq!(*conn, 1);
        });
    });
}

/// `WorkerPool::stop` promises every queued job runs. Inside a scope that
/// was cancelled at 20 ms but keeps polling (a shielded sleep beside it),
/// the workers are cancelled: `stop` must not return `Ok` as if the queue
/// had drained; the scope catches at 100 ms.
#[test]
fn worker_pool_stop_never_reports_a_drain_that_was_cut_short() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let ran = Arc::new(AtomicUsize::new(0));
            let counted = ran.clone();
            let (completed, caught_at) = beside_a_shield_in_a_cancelled_scope(async move {
                let pool = WorkerPool::new(4, 100, move |_job: u32| {
                    let ran = counted.clone();
                    async move {
                        sleep(5 * MS).await;
                        ran.fetch_add(1, SeqCst);
                    }
                });
                for job in 0..100 {
                    pool.submit(job).await.unwrap();
                }
                let _ = pool.stop().await;
            })
            .await;
            assert!(
                !completed,
                "stop returned after {} of 100 jobs",
                ran.load(SeqCst)
            );
            assert!(ran.load(SeqCst) < 100);
            assert_eq!(caught_at, Some(100 * MS));
        });
    });
}

/// `Pool::acquire` under a cancelled scope that keeps polling: its
/// caller's cancellation is not an acquire time-out.
#[test]
fn pool_acquire_does_not_take_its_callers_cancellation_for_a_timeout() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        run_in_task(&rt, async {
            let pool = Pool::builder(1, || async { Ok::<_, std::io::Error>(()) })
                .acquire_timeout(30 * MS)
                .build();
            let _held = pool.acquire().await.unwrap();
            let (completed, caught_at) = beside_a_shield_in_a_cancelled_scope(async {
                let _ = pool.acquire().await;
            })
            .await;
            assert!(!completed, "acquire returned inside a cancelled scope");
            assert_eq!(caught_at, Some(100 * MS));
        });
    });
}
