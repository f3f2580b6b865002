//! Loom models of the task core: every interleaving of a wake, an abort,
//! a join and a completion racing on one task, with the real state machine
//! and harness. Compiled as a module of the library under
//! `cfg(all(test, loom))` (it needs crate internals); run with
//! `RUSTFLAGS="--cfg loom --cfg crossbeam_loom" cargo test -p keen-scheduler
//! --release --lib loom` (as `.ci/run` does).
//!
//! Futures and outputs hold a `loom::sync::Arc` token, so loom's leak check
//! fails a model in which a task (and so its future or output) is never
//! freed, and the token counts prove "dropped exactly once".

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};
use loom::thread;

use crate::locals::Locals;
use crate::task::{self, Header, Id, Notified, Placement, Schedule, Task};

/// A scheduler whose queue is a loom mutex; `run_all` drains it.
#[derive(Clone, Default)]
pub(crate) struct TestScheduler(Arc<Inner>);

#[derive(Default)]
struct Inner {
    queue: Mutex<VecDeque<Notified>>,
    /// The owned-task list, and whether shutdown closed it.
    owned: Mutex<(Vec<Task>, bool)>,
}

impl Schedule for TestScheduler {
    fn bind(&self, task: Task) -> Result<(), Task> {
        let mut owned = self.0.owned.lock().unwrap();
        if owned.1 {
            return Err(task);
        }
        owned.0.push(task);
        Ok(())
    }
    fn release(&self, ptr: NonNull<Header>) -> Option<Task> {
        let owned = &mut self.0.owned.lock().unwrap().0;
        let pos = owned.iter().position(|t| t.ptr() == ptr)?;
        Some(owned.swap_remove(pos))
    }
    fn schedule(&self, task: Notified, _placement: Placement) {
        self.0.queue.lock().unwrap().push_back(task);
    }
    fn unhandled_panic(&self, _id: Id, _payload: &(dyn std::any::Any + Send)) {}
}

impl TestScheduler {
    /// Shutdown's first half, as the flavours do it: closes the owned-task
    /// list (later binds fail) and cancels every task in it.
    fn close_and_cancel_owned(&self) {
        let owned = {
            let mut owned = self.0.owned.lock().unwrap();
            owned.1 = true;
            std::mem::take(&mut owned.0)
        };
        for task in owned {
            task.shutdown();
        }
    }

    /// Shutdown's second half: every queued task is shut down (not just
    /// dropped: a task queued from its eager step was never bound).
    fn shut_down_queue(&self) {
        for task in self.take_queue() {
            task.shutdown();
        }
    }

    /// Takes every queued wake, in order.
    pub(crate) fn take_queue(&self) -> Vec<Notified> {
        self.0.queue.lock().unwrap().drain(..).collect()
    }

    fn run_all(&self) {
        loop {
            let next = self.0.queue.lock().unwrap().pop_front();
            match next {
                Some(task) => task.run(),
                None => return,
            }
        }
    }
}

/// Pending on its first poll (handing its waker out), ready on the next.
struct TwoStep {
    waker_out: Arc<Mutex<Option<Waker>>>,
    polled: bool,
    _token: Arc<()>,
}

impl Future for TwoStep {
    type Output = Arc<()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Arc<()>> {
        if self.polled {
            return Poll::Ready(self._token.clone());
        }
        self.polled = true;
        *self.waker_out.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The common start of every model: a promoted `TwoStep` task, its join
/// handle, the waker it handed out, and the token it holds.
pub(crate) struct Setup {
    pub(crate) s: TestScheduler,
    pub(crate) token: Arc<()>,
    pub(crate) handle: task::JoinHandle<Arc<()>>,
    pub(crate) waker: Waker,
}

pub(crate) fn setup_on(s: TestScheduler) -> Setup {
    let token = Arc::new(());
    let waker_out = Arc::new(Mutex::new(None));
    let future = TwoStep {
        waker_out: waker_out.clone(),
        polled: false,
        _token: token.clone(),
    };
    let (handle, completed) = task::spawn_eager(future, &s, Locals::new());
    assert!(!completed, "promoted after its eager Pending");
    let waker = waker_out.lock().unwrap().take().unwrap();
    Setup {
        s,
        token,
        handle,
        waker,
    }
}

fn setup() -> Setup {
    setup_on(TestScheduler::default())
}

#[test]
fn loom_wake_from_another_thread_then_join() {
    loom::model(|| {
        let Setup {
            s,
            token,
            handle,
            waker,
        } = setup();
        let waking = thread::spawn(move || waker.wake());
        let s2 = s.clone();
        let running = thread::spawn(move || s2.run_all());
        waking.join().unwrap();
        running.join().unwrap();
        s.run_all();
        let out = loom::future::block_on(handle).unwrap();
        drop(out);
        assert_eq!(Arc::strong_count(&token), 1, "future and output dropped");
    });
}

#[test]
fn loom_join_waker_registration_races_completion() {
    loom::model(|| {
        let Setup {
            s,
            token,
            handle,
            waker,
        } = setup();
        let s2 = s.clone();
        let completing = thread::spawn(move || {
            waker.wake();
            s2.run_all();
        });
        // Polls the handle (registering its waker) while the task may be
        // completing: the join must never miss its wake.
        let out = loom::future::block_on(handle).unwrap();
        completing.join().unwrap();
        drop(out);
        assert_eq!(Arc::strong_count(&token), 1);
    });
}

#[test]
fn loom_abort_races_wake_and_poll() {
    loom::model(|| {
        let Setup {
            s,
            token,
            handle,
            waker,
        } = setup();
        let abort = handle.abort_handle();
        let s2 = s.clone();
        let running = thread::spawn(move || {
            waker.wake();
            s2.run_all();
        });
        let aborting = thread::spawn(move || abort.abort());
        running.join().unwrap();
        aborting.join().unwrap();
        s.run_all();
        match loom::future::block_on(handle) {
            Ok(out) => drop(out),
            Err(e) => assert!(e.is_cancelled()),
        }
        assert_eq!(
            Arc::strong_count(&token),
            1,
            "dropped exactly once, either way"
        );
    });
}

#[test]
fn loom_drop_join_handle_races_completion() {
    loom::model(|| {
        let Setup {
            s,
            token,
            handle,
            waker,
        } = setup();
        let s2 = s.clone();
        let completing = thread::spawn(move || {
            waker.wake();
            s2.run_all();
        });
        let dropping = thread::spawn(move || drop(handle));
        completing.join().unwrap();
        dropping.join().unwrap();
        assert_eq!(
            Arc::strong_count(&token),
            1,
            "the output is dropped by one side"
        );
    });
}

#[test]
fn loom_two_wakers_race_to_schedule() {
    loom::model(|| {
        let Setup {
            s,
            token,
            handle,
            waker,
        } = setup();
        let other = waker.clone();
        let a = thread::spawn(move || waker.wake());
        let b = thread::spawn(move || other.wake_by_ref());
        a.join().unwrap();
        b.join().unwrap();
        // Exactly one Notified was queued.
        assert_eq!(s.0.queue.lock().unwrap().len(), 1);
        s.run_all();
        drop(loom::future::block_on(handle).unwrap());
        assert_eq!(Arc::strong_count(&token), 1);
    });
}

#[test]
fn loom_shutdown_races_a_wake() {
    loom::model(|| {
        let Setup {
            s,
            token,
            handle,
            waker,
        } = setup();
        let waking = thread::spawn(move || waker.wake());
        // Shutdown: take the owned list and cancel each task.
        s.close_and_cancel_owned();
        waking.join().unwrap();
        s.run_all(); // stale wakes are dropped
        let dropped = Arc::new(AtomicUsize::new(0));
        match loom::future::block_on(handle) {
            Ok(out) => drop(out),
            Err(e) => {
                assert!(e.is_cancelled());
                dropped.fetch_add(1, SeqCst);
            }
        }
        assert_eq!(
            dropped.load(SeqCst),
            1,
            "shutdown cancels a task that was not run"
        );
        assert_eq!(Arc::strong_count(&token), 1);
    });
}

/// Ready on its first poll, after handing a clone of its waker to a thread
/// that wakes it (`wake`) or just drops it.
struct EscapingWaker {
    wake: bool,
    thread: Arc<Mutex<Option<thread::JoinHandle<()>>>>,
    token: Arc<()>,
}

impl Future for EscapingWaker {
    type Output = Arc<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Arc<()>> {
        let waker = cx.waker().clone();
        let wake = self.wake;
        let t = thread::spawn(move || {
            if wake {
                waker.wake();
            } else {
                drop(waker);
            }
        });
        *self.thread.lock().unwrap() = Some(t);
        Poll::Ready(self.token.clone())
    }
}

/// A waker clone that escaped the eager poll races the spawner's check that
/// nothing else refers to the finished task (which then frees it at once):
/// whichever way it goes, the task is freed exactly once, after the clone
/// is done with it, and the output reaches the handle.
#[test]
fn loom_an_escaped_waker_races_the_eager_completion() {
    for wake in [false, true] {
        loom::model(move || {
            let s = TestScheduler::default();
            let token = Arc::new(());
            let thread = Arc::new(Mutex::new(None));
            let future = EscapingWaker {
                wake,
                thread: thread.clone(),
                token: token.clone(),
            };
            let (handle, completed) = task::spawn_eager(future, &s, Locals::new());
            assert!(completed);
            let out = loom::future::block_on(handle).unwrap();
            thread.lock().unwrap().take().unwrap().join().unwrap();
            assert!(s.take_queue().is_empty(), "a finished task is never queued");
            drop(out);
            assert_eq!(Arc::strong_count(&token), 1);
        });
    }
}

/// Wakes itself in its first (eager) poll, so it is queued without being
/// bound; in its second poll hands its waker out and waits; ready in its
/// third.
struct SelfWakeThenWait {
    polls: usize,
    waker_out: Arc<Mutex<Option<Waker>>>,
    token: Arc<()>,
}

impl Future for SelfWakeThenWait {
    type Output = Arc<()>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Arc<()>> {
        self.polls += 1;
        match self.polls {
            1 => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            2 => {
                *self.waker_out.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            }
            _ => Poll::Ready(self.token.clone()),
        }
    }
}

/// A task queued from its eager step, never bound to the owned-task list,
/// races shutdown: a runner polls it (it binds itself before going idle)
/// while shutdown closes the list and cancels what is in it; then the queue
/// is shut down and the handed-out waker fires late. Whichever way the bind
/// and the close interleave — bound first and cancelled from the list, or
/// refused by the closed list and cancelled by the runner, or (with no
/// runner) cancelled from the queue — the future is dropped exactly once
/// and the handle reports cancellation.
#[test]
fn loom_an_unbound_queued_task_races_shutdown() {
    for with_runner in [true, false] {
        loom::model(move || {
            let s = TestScheduler::default();
            let token = Arc::new(());
            let waker_out = Arc::new(Mutex::new(None));
            let future = SelfWakeThenWait {
                polls: 0,
                waker_out: waker_out.clone(),
                token: token.clone(),
            };
            let (handle, completed) = task::spawn_eager(future, &s, Locals::new());
            assert!(!completed);
            assert!(s.0.owned.lock().unwrap().0.is_empty(), "queued, not bound");
            let running = with_runner.then(|| {
                let s2 = s.clone();
                thread::spawn(move || s2.run_all())
            });
            s.close_and_cancel_owned();
            if let Some(running) = running {
                running.join().unwrap();
            }
            s.shut_down_queue();
            if let Some(waker) = waker_out.lock().unwrap().take() {
                waker.wake(); // after shutdown: harmless
            }
            s.shut_down_queue();
            match loom::future::block_on(handle) {
                Ok(_) => panic!("the task was never woken for its third poll"),
                Err(e) => assert!(e.is_cancelled()),
            }
            assert_eq!(Arc::strong_count(&token), 1, "dropped exactly once");
        });
    }
}
