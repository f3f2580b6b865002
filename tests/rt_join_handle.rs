//! Join handles of tasks that finished during their eager poll. When nothing
//! else ever referred to such a task it is freed before `spawn` returns and
//! its handle holds the output itself; every handle operation must still
//! behave exactly as on a live task. Also the cases that must *not* take
//! that path (a waker clone escaped the eager poll).

#![allow(
    clippy::async_yields_async,
    reason = "some tests hand a finished task's handle out of `block_on` on purpose"
)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use keen::task;
use keen_suite::{ALL, DropCounter, each, panic_message, poll_once, run_in_task};

#[test]
fn an_eagerly_finished_handle_answers_like_a_live_one() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async move {
            let seen = Arc::new(Mutex::new(None));
            let inside = seen.clone();
            let handle = keen::spawn(async move {
                *inside.lock().unwrap() = Some(task::id());
                String::from("out")
            });
            if cfg.eager {
                assert!(handle.is_finished());
            }
            while !handle.is_finished() {
                task::yield_now().await;
            }
            assert_eq!(Some(handle.id()), *seen.lock().unwrap());
            let abort = handle.abort_handle();
            let abort2 = abort.clone();
            assert!(abort.is_finished() && abort2.is_finished());
            assert_eq!(abort2.id(), handle.id());
            // Aborting a finished task does nothing, through either handle.
            handle.abort();
            abort.abort();
            let id = handle.id();
            assert_eq!(handle.await.unwrap(), "out");
            // The abort handle outlives the join handle.
            assert_eq!(abort2.id(), id);
            assert!(abort2.is_finished());
        });
    });
}

#[test]
fn an_output_is_dropped_once_whether_read_or_not() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let drops = DropCounter::new();
        let token = drops.token();
        let counted = drops.clone();
        run_in_task(&rt, async move {
            // Unread: dropped with the handle.
            drop(keen::spawn(async move { token }));
            while counted.get() == 0 {
                task::yield_now().await; // lazy configurations run it later
            }
            assert_eq!(counted.get(), 1);
        });
        let token = drops.token();
        let read = rt.block_on(async move { keen::spawn(async move { token }).await.unwrap() });
        assert_eq!(
            drops.get(),
            1,
            "a returned output is the caller's, not dropped"
        );
        drop(read);
        assert_eq!(drops.get(), 2);
    });
}

#[test]
fn polling_a_handle_again_after_its_output_panics_clearly() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let mut handle = rt.block_on(async {
            let handle = keen::spawn(async { 3u8 });
            while !handle.is_finished() {
                task::yield_now().await;
            }
            handle
        });
        assert!(matches!(poll_once(&mut handle), Poll::Ready(Ok(3))));
        let again = catch_unwind(AssertUnwindSafe(|| poll_once(&mut handle)));
        let message = panic_message(&*again.unwrap_err());
        assert!(
            message.contains("after it returned its output"),
            "{message}"
        );
        // Dropping it afterwards drops nothing a second time.
        drop(handle);
    });
}

struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("output drop panicked");
    }
}

#[test]
fn a_panic_dropping_an_unread_output_is_reported_not_thrown() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let handle = keen::spawn(async { PanicsOnDrop });
            while !handle.is_finished() {
                task::yield_now().await;
            }
            // Reaching the next line at all is the assertion: the panic
            // stays inside the drop and is printed for the runtime's log.
            drop(handle);
        });
    });
}

#[test]
fn a_waker_cloned_in_the_eager_poll_keeps_the_finished_task_alive() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let kept: Arc<Mutex<Option<Waker>>> = Arc::default();
        let slot = kept.clone();
        let handle = rt.block_on(async move {
            let handle = keen::spawn(std::future::poll_fn(move |cx| {
                *slot.lock().unwrap() = Some(cx.waker().clone());
                Poll::Ready(9)
            }));
            while !handle.is_finished() {
                task::yield_now().await;
            }
            handle
        });
        // The clone outlives the poll: the task's memory must still be
        // there for it (valgrind checks this run; see docs/scheduler.md).
        let waker = kept.lock().unwrap().take().unwrap();
        std::thread::spawn(move || waker.wake()).join().unwrap();
        assert_eq!(rt.block_on(handle).unwrap(), 9);
    });
}

/// Ready with an output that panics when dropped, and panics itself when
/// dropped after that.
struct BothPanic(bool);

impl std::future::Future for BothPanic {
    type Output = PanicsOnDrop;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> Poll<PanicsOnDrop> {
        self.0 = true;
        Poll::Ready(PanicsOnDrop)
    }
}

impl Drop for BothPanic {
    fn drop(&mut self) {
        if self.0 {
            panic!("future drop panicked");
        }
    }
}

#[test]
fn a_future_whose_drop_panics_after_ready_reports_that_panic_and_drops_the_output_quietly() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let err = run_in_task(&rt, async {
            // The output's own drop panics too: it must stay inside the task.
            match keen::spawn(BothPanic(false)).await {
                Ok(_) => panic!("the future's drop panicked: the handle must say so"),
                Err(err) => err,
            }
        });
        assert_eq!(panic_message(&*err.into_panic()), "future drop panicked");
    });
}

#[test]
fn a_task_that_woke_itself_and_finished_is_never_polled_again() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let polls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = polls.clone();
        let out = run_in_task(&rt, async move {
            let handle = keen::spawn(std::future::poll_fn(move |cx| {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // Asks for another poll, then finishes anyway.
                cx.waker().wake_by_ref();
                Poll::Ready(5)
            }));
            if cfg.eager {
                assert!(handle.is_finished());
            }
            // Give a stale wake every chance to run the task again.
            for _ in 0..10 {
                task::yield_now().await;
            }
            handle.await.unwrap()
        });
        assert_eq!(out, 5);
        assert_eq!(polls.load(std::sync::atomic::Ordering::SeqCst), 1);
    });
}
