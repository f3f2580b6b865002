//! Regressions from the review of the timer code: a `Sleep` moved to another
//! task while it fires, threads that must keep a paused clock from
//! advancing (a second current-thread `block_on`, `block_on` inside
//! `spawn_blocking`), `pause()` from outside, and dropping a runtime while a
//! blocking closure sleeps. Each of these hung or misbehaved before its fix.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use keen::runtime::UnhandledPanic;
use keen::time::{self, Instant, Sleep};
use keen_suite::{ALL, Flavor, each, signal};

/// A `Sleep` registered by one task and finished by another must complete
/// even when the handover races with the timer firing.
#[test]
fn sleep_moved_between_tasks_completes() {
    each(&ALL, |cfg| {
        if cfg.flavor != Flavor::MultiThread(2) {
            return; // the race needs the timer to fire on another thread
        }
        let rt = cfg.build();
        for round in 0..300u64 {
            let slot: Arc<Mutex<Option<Sleep>>> = Arc::new(Mutex::new(None));
            let first = slot.clone();
            rt.block_on(rt.spawn(async move {
                let mut s = time::sleep(Duration::from_millis(1));
                poll_fn(|cx| {
                    let _ = Pin::new(&mut s).poll(cx);
                    Poll::Ready(())
                })
                .await;
                *first.lock().unwrap() = Some(s);
            }))
            .unwrap();
            let second = rt.spawn(async move {
                let spin = std::time::Instant::now();
                while spin.elapsed() < Duration::from_micros(round * 7 % 1500) {
                    std::hint::spin_loop();
                }
                poll_fn(|cx| Pin::new(slot.lock().unwrap().as_mut().unwrap()).poll(cx)).await;
            });
            rt.block_on(second).unwrap();
        }
    });
}

/// A second thread in a current-thread runtime's `block_on` (another thread
/// drives) counts as busy: the paused clock fires its 1 s timer at 1 s and
/// does not jump past it to the driver's 2 s timeout.
#[test]
fn second_block_on_thread_keeps_paused_time_honest() {
    let rt = keen::runtime::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let result = rt.block_on(async move {
        let (registered, is_registered) = signal();
        let (trigger, fired) = signal();
        let thread = std::thread::spawn(move || {
            handle.block_on(async move {
                let mut sleep = time::sleep(Duration::from_secs(1));
                let first = poll_fn(|cx| Poll::Ready(Pin::new(&mut sleep).poll(cx))).await;
                assert!(first.is_pending());
                registered.fire();
                sleep.await;
                trigger.fire();
            })
        });
        // Until the other thread is inside block_on, it is not part of the
        // runtime; wait for its timer (no timer here: no auto-advance).
        is_registered.await;
        let r = time::timeout(Duration::from_secs(2), fired).await;
        (r, thread)
    });
    let (r, thread) = result;
    thread.join().unwrap();
    assert!(r.is_ok(), "the 1 s event was reported as a 2 s timeout");
}

/// `block_on` inside `spawn_blocking` on a paused clock: the thread is
/// counted once, so its parks let the clock advance.
#[test]
fn block_on_inside_spawn_blocking_on_a_paused_clock() {
    each(&ALL, |cfg| {
        let rt = cfg.build_paused();
        let handle = rt.handle().clone();
        let elapsed = rt
            .block_on(rt.spawn_blocking(move || {
                handle.block_on(async {
                    let start = Instant::now();
                    time::sleep(Duration::from_secs(1)).await;
                    start.elapsed()
                })
            }))
            .unwrap();
        assert_eq!(elapsed, Duration::from_secs(1), "{cfg:?}");
    });
}

/// `pause()` called from outside (through `enter`) while the driver is
/// parked until a real one-hour timer: the clock auto-advances at once.
#[test]
fn pause_from_outside_wakes_the_parked_driver() {
    let rt = keen::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let task = rt.spawn(async move {
        let sleep = time::sleep(Duration::from_secs(3600));
        tx.send(()).unwrap();
        sleep.await;
    });
    rx.recv().unwrap(); // the sleep exists; its first poll follows at once
    {
        let _enter = rt.enter();
        time::pause();
    }
    let real = std::time::Instant::now();
    rt.block_on(task).unwrap();
    assert!(
        real.elapsed() < Duration::from_secs(600),
        "waited for real time"
    );
}

/// Dropping a runtime while a blocking closure is inside `block_on` on one
/// of its sleeps: shutdown fires the timer, the sleep reports the shutdown
/// (a panic in that closure), and the drop returns.
#[test]
fn runtime_drop_with_a_blocking_closure_sleeping() {
    each(&ALL, |cfg| {
        let rt = cfg
            .builder()
            .unhandled_panic(UnhandledPanic::Ignore)
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        let (tx, rx) = mpsc::channel();
        let job = rt.spawn_blocking(move || {
            handle.block_on(async move {
                let mut sleep = time::sleep(Duration::from_secs(3600));
                assert!(
                    poll_fn(|cx| Poll::Ready(Pin::new(&mut sleep).poll(cx)))
                        .await
                        .is_pending()
                );
                tx.send(()).unwrap(); // registered in the wheel
                sleep.await;
            })
        });
        rx.recv().unwrap();
        drop(rt); // must return
        let err = futures_block_on(job).unwrap_err();
        assert!(err.is_panic() || err.is_cancelled(), "{cfg:?}");
    });
}

/// Polls a future to completion on this thread (no runtime).
fn futures_block_on<F: Future>(future: F) -> F::Output {
    let rt = keen::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(future)
}
