//! The task-combinations matrix: every way a task can be spawned, fail,
//! be aborted and have its `JoinHandle` treated, on every flavour, each in
//! a fresh runtime. For every case: the future is dropped exactly once,
//! its output (if one was produced) is dropped exactly once, a `spawn_local`
//! task's future and output are dropped on their own thread, no panic
//! escapes to the runtime, an awaited handle reports what happened, and
//! once the runtime is dropped nothing is left alive.
//!
//! Dimensions (the idea of tokio's `task_combinations.rs`, on keen's axes):
//! flavour (current-thread, multi-thread 1 and 2 workers) × spawn kind
//! (eager `spawn`, `spawn_lazy`, `spawn_local` on current-thread) × the
//! future panics in poll / in drop / not × its output panics in drop / not
//! × the handle is awaited / dropped at once / dropped from another thread
//! while the task completes / dropped after completion × abort never /
//! before the first poll (lazy) / inside a poll / after promotion (idle) /
//! after completion × by the `JoinHandle` or an `AbortHandle`.
//!
//! An abort *during the eager step* cannot be written: no handle to the
//! task exists until `spawn` returns. The nearest case, an abort from
//! inside a later poll, is covered; a cancel scope cancelled inside the
//! eager step is covered by `tests/scope_eager.rs`.
//!
//! Every step is ordered by the test (a oneshot gate the task waits on, and
//! `is_finished` polled with yields), never by sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use keen::runtime::{Builder, UnhandledPanic};
use keen::sync::oneshot;
use keen::task::{AbortHandle, JoinHandle, yield_now};
use keen_suite::panic_message;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Current,
    Multi(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Eager,
    Lazy,
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fails {
    No,
    InPoll,
    InDrop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handle {
    Awaited,
    DroppedAtOnce,
    DroppedWhileCompleting,
    DroppedAfterCompletion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Abort {
    Never,
    BeforeFirstPoll,
    InsidePoll,
    AfterPromotion,
    AfterCompletion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    JoinHandle,
    AbortHandle,
}

#[derive(Debug, Clone, Copy)]
struct Case {
    flavor: Flavor,
    kind: Kind,
    fails: Fails,
    output_panics: bool,
    handle: Handle,
    abort: Abort,
    by: By,
}

impl Case {
    /// Whether the case can be written at all.
    fn possible(&self) -> bool {
        let join_handle_gone_early = self.handle == Handle::DroppedAtOnce;
        match (self.abort, self.by) {
            (Abort::Never, By::AbortHandle) => false, // one "never" is enough
            (Abort::BeforeFirstPoll, _) if self.kind != Kind::Lazy => false,
            (Abort::InsidePoll, By::JoinHandle) => false, // the task holds no JoinHandle
            (_, By::JoinHandle) if join_handle_gone_early => false,
            (Abort::AfterCompletion | Abort::AfterPromotion, By::JoinHandle)
                if self.handle == Handle::DroppedWhileCompleting =>
            {
                false // the handle is on another thread by then
            }
            _ => !(self.kind == Kind::Local && self.flavor != Flavor::Current),
        }
    }

    /// Whether the abort lands before the task could complete.
    fn aborted_before_completion(&self) -> bool {
        matches!(
            self.abort,
            Abort::BeforeFirstPoll | Abort::InsidePoll | Abort::AfterPromotion
        )
    }
}

/// What the probe and its output record, checked after the runtime is gone.
#[derive(Default)]
struct Counters {
    future_drops: AtomicUsize,
    outputs_made: AtomicUsize,
    output_drops: AtomicUsize,
    off_home: AtomicUsize,
}

/// The task's future: pending on a gate the test opens, then done (or
/// panicking), with a self-abort inside that last poll if asked.
struct Probe {
    counters: Arc<Counters>,
    gate: oneshot::Receiver<()>,
    fails: Fails,
    output_panics: bool,
    self_abort: Arc<Mutex<Option<AbortHandle>>>,
    /// The thread a `spawn_local` task must be dropped on.
    home: Option<ThreadId>,
    /// The same for its output, unless the test sends the handle (and so
    /// the output, which is `Send`) to another thread on purpose.
    output_home: Option<ThreadId>,
}

struct Output {
    counters: Arc<Counters>,
    panics: bool,
    home: Option<ThreadId>,
}

fn check_home(counters: &Counters, home: Option<ThreadId>) {
    if home.is_some_and(|home| home != thread::current().id()) {
        counters.off_home.fetch_add(1, SeqCst);
    }
}

impl Future for Probe {
    type Output = Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        if Pin::new(&mut self.gate).poll(cx).is_pending() {
            return Poll::Pending;
        }
        if let Some(abort) = self.self_abort.lock().unwrap().take() {
            abort.abort();
            return Poll::Pending; // cancelled once this poll returns
        }
        if self.fails == Fails::InPoll {
            panic!("probe: poll");
        }
        self.counters.outputs_made.fetch_add(1, SeqCst);
        Poll::Ready(Output {
            counters: self.counters.clone(),
            panics: self.output_panics,
            home: self.output_home,
        })
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.counters.future_drops.fetch_add(1, SeqCst);
        check_home(&self.counters, self.home);
        if self.fails == Fails::InDrop && !thread::panicking() {
            panic!("probe: drop");
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.counters.output_drops.fetch_add(1, SeqCst);
        check_home(&self.counters, self.home);
        if self.panics && !thread::panicking() {
            panic!("probe: output drop");
        }
    }
}

/// Silences the probes' own panics (thousands of them); others still print.
fn quiet_probe_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !panic_message(info.payload()).starts_with("probe:") {
                default(info);
            }
        }));
    });
}

async fn until_finished(task: &AbortHandle) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !task.is_finished() {
        assert!(Instant::now() < deadline, "the task never finished");
        yield_now().await;
    }
}

fn abort(by: By, join: Option<&JoinHandle<Output>>, handle: &AbortHandle) {
    match by {
        By::JoinHandle => join.expect("the case keeps its JoinHandle").abort(),
        By::AbortHandle => handle.abort(),
    }
}

/// What an awaited handle must report.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Value,
    Cancelled,
    Panic(&'static str),
}

fn expected(case: &Case) -> Outcome {
    if case.aborted_before_completion() {
        match case.fails {
            Fails::InDrop => Outcome::Panic("probe: drop"),
            _ => Outcome::Cancelled,
        }
    } else {
        match case.fails {
            Fails::InPoll => Outcome::Panic("probe: poll"),
            Fails::InDrop => Outcome::Panic("probe: drop"),
            Fails::No => Outcome::Value,
        }
    }
}

fn run(case: Case) {
    let mut builder = match case.flavor {
        Flavor::Current => Builder::new_current_thread(),
        Flavor::Multi(n) => {
            let mut b = Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
    };
    let rt = builder
        .unhandled_panic(UnhandledPanic::Ignore)
        .build()
        .unwrap();
    let counters = Arc::new(Counters::default());
    let outcome = rt.block_on(scenario(case, counters.clone()));
    drop(rt);
    let made = counters.outputs_made.load(SeqCst);
    assert_eq!(counters.future_drops.load(SeqCst), 1, "future dropped once");
    assert!(made <= 1);
    assert_eq!(
        counters.output_drops.load(SeqCst),
        made,
        "output dropped once"
    );
    assert_eq!(counters.off_home.load(SeqCst), 0, "dropped off its thread");
    if let Some(outcome) = outcome {
        assert_eq!(outcome, expected(&case));
    }
}

async fn scenario(case: Case, counters: Arc<Counters>) -> Option<Outcome> {
    let (open, gate) = oneshot::channel();
    let self_abort = Arc::new(Mutex::new(None));
    let probe = Probe {
        counters,
        gate,
        fails: case.fails,
        output_panics: case.output_panics,
        self_abort: self_abort.clone(),
        home: (case.kind == Kind::Local).then(|| thread::current().id()),
        output_home: (case.kind == Kind::Local && case.handle != Handle::DroppedWhileCompleting)
            .then(|| thread::current().id()),
    };
    let mut join = Some(match case.kind {
        Kind::Eager => keen::spawn(probe),
        Kind::Lazy => keen::spawn_lazy(probe),
        Kind::Local => keen::spawn_local(probe),
    });
    let handle = join.as_ref().unwrap().abort_handle();
    if case.abort == Abort::InsidePoll {
        *self_abort.lock().unwrap() = Some(handle.clone());
    }
    if case.abort == Abort::BeforeFirstPoll {
        abort(case.by, join.as_ref(), &handle);
    }
    if case.handle == Handle::DroppedAtOnce {
        drop(join.take());
    }
    if case.abort == Abort::AfterPromotion {
        abort(case.by, join.as_ref(), &handle);
    }
    if case.handle == Handle::DroppedWhileCompleting {
        let join = join.take().unwrap();
        let start = Arc::new(std::sync::Barrier::new(2));
        let dropper = {
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                drop(join);
            })
        };
        start.wait();
        let _ = open.send(());
        dropper.join().expect("dropping a JoinHandle never panics");
    } else {
        let _ = open.send(());
    }
    if case.abort == Abort::AfterCompletion {
        until_finished(&handle).await;
        abort(case.by, join.as_ref(), &handle);
    }
    if case.handle == Handle::DroppedAfterCompletion {
        until_finished(&handle).await;
        drop(join.take());
    }
    let outcome = match join.take() {
        Some(join) => Some(match join.await {
            Ok(output) => {
                // The output is ours now; a panic in its drop is ours too.
                let dropped = std::panic::catch_unwind(move || drop(output));
                assert_eq!(dropped.is_err(), case.output_panics);
                Outcome::Value
            }
            Err(err) if err.is_cancelled() => Outcome::Cancelled,
            Err(err) => match panic_message(&*err.into_panic()).as_str() {
                "probe: poll" => Outcome::Panic("probe: poll"),
                "probe: drop" => Outcome::Panic("probe: drop"),
                other => panic!("unexpected panic {other:?}"),
            },
        }),
        None => None,
    };
    until_finished(&handle).await;
    outcome
}

fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for flavor in [Flavor::Current, Flavor::Multi(1), Flavor::Multi(2)] {
        for kind in [Kind::Eager, Kind::Lazy, Kind::Local] {
            for fails in [Fails::No, Fails::InPoll, Fails::InDrop] {
                for output_panics in [false, true] {
                    for handle in [
                        Handle::Awaited,
                        Handle::DroppedAtOnce,
                        Handle::DroppedWhileCompleting,
                        Handle::DroppedAfterCompletion,
                    ] {
                        for abort in [
                            Abort::Never,
                            Abort::BeforeFirstPoll,
                            Abort::InsidePoll,
                            Abort::AfterPromotion,
                            Abort::AfterCompletion,
                        ] {
                            for by in [By::JoinHandle, By::AbortHandle] {
                                let case = Case {
                                    flavor,
                                    kind,
                                    fails,
                                    output_panics,
                                    handle,
                                    abort,
                                    by,
                                };
                                if case.possible() {
                                    cases.push(case);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    cases
}

fn run_all(flavor: Flavor) -> usize {
    quiet_probe_panics();
    let cases: Vec<_> = all_cases()
        .into_iter()
        .filter(|c| c.flavor == flavor)
        .collect();
    for &case in &cases {
        let outcome = std::panic::catch_unwind(|| run(case));
        if let Err(payload) = outcome {
            eprintln!("failed case: {case:?}");
            std::panic::resume_unwind(payload);
        }
    }
    cases.len()
}

#[test]
fn every_combination_on_current_thread() {
    let n = run_all(Flavor::Current);
    assert!(n > 300, "{n} cases");
}

#[test]
fn every_combination_on_one_worker() {
    let n = run_all(Flavor::Multi(1));
    assert!(n > 200, "{n} cases");
}

#[test]
fn every_combination_on_two_workers() {
    let n = run_all(Flavor::Multi(2));
    assert!(n > 200, "{n} cases");
}
