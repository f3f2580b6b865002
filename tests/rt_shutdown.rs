//! Shutdown: futures dropped at shutdown see their runtime,
//! `shutdown_timeout` does not wait for a stuck blocking closure, and wakes
//! racing workers that park and unpark are not lost; a worker that outlives
//! `shutdown_timeout` shuts its queued tasks down when it returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use keen::Handle;
use keen_suite::{ALL, each, signal};

struct SeesRuntimeOnDrop(Arc<AtomicBool>);

impl Drop for SeesRuntimeOnDrop {
    fn drop(&mut self) {
        self.0
            .store(Handle::try_current().is_ok(), Ordering::SeqCst);
    }
}

#[test]
fn futures_dropped_at_shutdown_run_in_the_runtime_context() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let saw = Arc::new(AtomicBool::new(false));
        let guard = SeesRuntimeOnDrop(saw.clone());
        let (_trigger, never) = signal();
        drop(rt.spawn(async move {
            let _guard = guard;
            never.await
        }));
        rt.block_on(keen::task::yield_now());
        drop(rt);
        assert!(
            saw.load(Ordering::SeqCst),
            "Handle::current() works in a drop at shutdown"
        );
    });
}

#[test]
fn shutdown_timeout_leaves_a_stuck_blocking_closure_behind() {
    let rt = keen_suite::Config {
        flavor: keen_suite::Flavor::MultiThread(2),
        eager: true,
    }
    .build();
    let release = Arc::new(AtomicBool::new(false));
    let r = release.clone();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let stuck = rt.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        while !r.load(Ordering::SeqCst) {
            std::thread::park_timeout(Duration::from_millis(5));
        }
    });
    started_rx.recv().unwrap();
    // Returns although the closure still runs (it would otherwise hang).
    rt.shutdown_timeout(Duration::from_millis(50));
    release.store(true, Ordering::SeqCst);
    drop(stuck);
}

#[test]
fn wakes_after_idling_are_not_lost() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        for _ in 0..50 {
            let (trigger, signal) = signal();
            let task = rt.spawn(signal);
            // Fire from a foreign thread while workers park and unpark.
            std::thread::spawn(move || trigger.fire());
            rt.block_on(task).unwrap();
        }
    });
}

/// Sends on its channel when dropped.
struct SignalsDrop(std::sync::mpsc::Sender<()>);

impl Drop for SignalsDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[test]
fn a_worker_stuck_past_shutdown_timeout_has_its_queued_tasks_shut_down_when_it_returns() {
    // The only worker's task eagerly spawns a child that yields forever
    // (queued on that worker, never bound to the owned-task list), then
    // blocks the worker. `shutdown_timeout` gives up waiting for it, so
    // shutdown's drain never sees that worker's queue. When the worker is
    // released it finishes its poll, sees the shutdown and returns its core:
    // the child queued there must be shut down then, not left to the runtime
    // memory's eventual drop.
    let rt = keen::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let (dropped_tx, dropped) = std::sync::mpsc::channel();
    let (spawned_tx, spawned) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    drop(rt.spawn(async move {
        let token = SignalsDrop(dropped_tx);
        drop(keen::spawn(async move {
            let _token = token;
            loop {
                keen::task::yield_now().await;
            }
        }));
        spawned_tx.send(()).unwrap();
        let _ = released.recv(); // the worker is stuck until the test says
    }));
    spawned.recv().unwrap();
    rt.shutdown_timeout(Duration::from_millis(50));
    assert!(
        dropped.try_recv().is_err(),
        "the child sits in the stuck worker's queue"
    );
    drop(release);
    dropped
        .recv_timeout(Duration::from_secs(60))
        .expect("the returning worker shut its queued child down");
}
