//! Shared support for keen's cross-crate tests, side-by-side benches and
//! examples: the runtime configuration matrix every scenario runs on
//! (current-thread, multi-thread with 1 and 2 workers; eager on and off),
//! a drop counter, a waker that counts its wakes, and a one-shot signal
//! that any thread can fire.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub mod tools;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use keen::Runtime;
use keen::runtime::Builder;

/// Scheduler flavour of one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// `Builder::new_current_thread()`.
    CurrentThread,
    /// `Builder::new_multi_thread().worker_threads(n)`.
    MultiThread(usize),
}

/// One runtime configuration of the test matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The scheduler flavour.
    pub flavor: Flavor,
    /// Whether `spawn` is eager.
    pub eager: bool,
}

/// Every configuration: three flavours, eager on and off.
pub const ALL: [Config; 6] = [
    Config {
        flavor: Flavor::CurrentThread,
        eager: true,
    },
    Config {
        flavor: Flavor::MultiThread(1),
        eager: true,
    },
    Config {
        flavor: Flavor::MultiThread(2),
        eager: true,
    },
    Config {
        flavor: Flavor::CurrentThread,
        eager: false,
    },
    Config {
        flavor: Flavor::MultiThread(1),
        eager: false,
    },
    Config {
        flavor: Flavor::MultiThread(2),
        eager: false,
    },
];

/// The eager configurations only.
pub const EAGER: [Config; 3] = [ALL[0], ALL[1], ALL[2]];

impl Config {
    /// A builder for this configuration.
    pub fn builder(self) -> Builder {
        let mut builder = match self.flavor {
            Flavor::CurrentThread => Builder::new_current_thread(),
            Flavor::MultiThread(n) => {
                let mut b = Builder::new_multi_thread();
                b.worker_threads(n);
                b
            }
        };
        builder.eager(self.eager);
        builder
    }

    /// Builds the runtime.
    pub fn build(self) -> Runtime {
        self.builder().build().expect("runtime builds")
    }

    /// Builds the runtime with its clock paused (auto-advance on).
    pub fn build_paused(self) -> Runtime {
        self.builder()
            .start_paused(true)
            .build()
            .expect("runtime builds")
    }

    /// Whether tasks run on threads other than the `block_on` thread.
    pub fn is_multi_thread(self) -> bool {
        matches!(self.flavor, Flavor::MultiThread(_))
    }
}

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match self.flavor {
            Flavor::CurrentThread => "current_thread".to_owned(),
            Flavor::MultiThread(n) => format!("multi_thread({n})"),
        };
        let eager = if self.eager { "eager" } else { "lazy" };
        write!(f, "{flavor}/{eager}")
    }
}

/// Runs `test` once per configuration, naming the configuration if it fails.
pub fn each(configs: &[Config], test: impl Fn(Config)) {
    for &config in configs {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(config)));
        if let Err(payload) = outcome {
            eprintln!("failed on configuration {config}");
            std::panic::resume_unwind(payload);
        }
    }
}

/// Runs `future` as a task of `rt` and waits for its output, re-raising
/// its panic. Code that tests eager spawn runs here: on a multi-thread
/// runtime the body then runs on a worker, the only threads where `spawn`
/// is eager (as in application code, where spawns happen inside tasks).
pub fn run_in_task<F>(rt: &Runtime, future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match rt.block_on(rt.spawn(future)) {
        Ok(out) => out,
        Err(err) => std::panic::resume_unwind(err.into_panic()),
    }
}

/// Counts drops of the [`DropToken`]s it hands out.
#[derive(Debug, Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    /// A new counter at zero.
    pub fn new() -> DropCounter {
        DropCounter::default()
    }

    /// A token that increments the counter when dropped.
    pub fn token(&self) -> DropToken {
        DropToken(self.0.clone())
    }

    /// Drops so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Increments its [`DropCounter`] when dropped.
#[derive(Debug)]
pub struct DropToken(Arc<AtomicUsize>);

impl Drop for DropToken {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Debug, Default)]
struct SignalState {
    fired: bool,
    waker: Option<Waker>,
}

/// Fires a [`Signal`] from any thread.
#[derive(Debug, Clone)]
pub struct Trigger(Arc<Mutex<SignalState>>);

/// A future that completes once its [`Trigger`] fires.
#[derive(Debug)]
pub struct Signal(Arc<Mutex<SignalState>>);

/// A connected trigger/signal pair.
pub fn signal() -> (Trigger, Signal) {
    let state = Arc::new(Mutex::new(SignalState::default()));
    (Trigger(state.clone()), Signal(state))
}

impl Trigger {
    /// Completes the signal and wakes its waiter.
    pub fn fire(&self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.fired = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Future for Signal {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.0.lock().unwrap();
        if state.fired {
            Poll::Ready(())
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// The text of a panic payload (`&str` or `String`), or "" for others.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Polls `future` once with a no-op waker.
pub fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Counts the wakes of the waker [`counting_waker`] made.
#[derive(Debug, Default)]
pub struct CountWakes(AtomicUsize);

impl CountWakes {
    /// Wakes so far.
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that counts its wakes, and its counter.
pub fn counting_waker() -> (Arc<CountWakes>, Waker) {
    let count = Arc::new(CountWakes::default());
    (count.clone(), Waker::from(count))
}

/// Wraps `future` so that `pending` fires the first time it returns
/// `Pending` (it is then queued as a waiter, say).
pub fn announce_pending<F: Future>(future: F, pending: Trigger) -> impl Future<Output = F::Output> {
    let mut future = Box::pin(future);
    let mut pending = Some(pending);
    std::future::poll_fn(move |cx| {
        let out = future.as_mut().poll(cx);
        if out.is_pending() {
            if let Some(pending) = pending.take() {
                pending.fire();
            }
        }
        out
    })
}

/// Where tasks took their first step, to tell a step run *inside* `spawn`
/// (on the spawning thread, before `spawn` returned) from one run at once
/// on another worker: the spawner asks [`ran_here`](Self::ran_here) right
/// after `spawn` returns, without suspending in between, so a first step
/// on its own thread can only have run inside the call.
#[derive(Debug, Clone, Default)]
pub struct FirstSteps(Arc<Mutex<Vec<(usize, std::thread::ThreadId)>>>);

impl FirstSteps {
    /// No step recorded yet.
    pub fn new() -> FirstSteps {
        FirstSteps::default()
    }

    /// Task `task` takes its first step now, on this thread.
    pub fn record(&self, task: usize) {
        let here = std::thread::current().id();
        self.0.lock().unwrap().push((task, here));
    }

    /// Whether task `task` already took its first step on this thread.
    pub fn ran_here(&self, task: usize) -> bool {
        let here = std::thread::current().id();
        self.0
            .lock()
            .unwrap()
            .iter()
            .any(|&(t, on)| t == task && on == here)
    }
}

/// Polls both futures until both are done (each only while it is still
/// pending), like `futures::join!` for two.
pub async fn join2<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut out_a, mut out_b) = (None, None);
    std::future::poll_fn(move |cx| {
        if out_a.is_none() {
            if let Poll::Ready(out) = a.as_mut().poll(cx) {
                out_a = Some(out);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(out) = b.as_mut().poll(cx) {
                out_b = Some(out);
            }
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready((out_a.take().unwrap(), out_b.take().unwrap()))
        } else {
            Poll::Pending
        }
    })
    .await
}

/// Runs `work` beside a 100 ms shielded sleep inside a scope cancelled by a
/// 20 ms deadline (the review's recipe for a cancelled scope that keeps
/// polling its body): returns whether `work` completed, and when the scope
/// caught (`None`: it did not, the body finished). `work` must never
/// complete with a cut-short result there: the scope catches once the
/// shield is done, at 100 ms. Needs a paused clock.
pub async fn beside_a_shield_in_a_cancelled_scope<F: Future>(work: F) -> (bool, Option<Duration>) {
    use keen::scope::CancelScope;
    let start = keen::time::Instant::now();
    let completed = AtomicBool::new(false);
    let shield = CancelScope::new();
    shield.set_shield(true);
    let outer = CancelScope::with_timeout(Duration::from_millis(20));
    let out = outer
        .run(join2(
            async {
                work.await;
                completed.store(true, Ordering::SeqCst);
            },
            shield.run(keen::time::sleep(Duration::from_millis(100))),
        ))
        .await;
    let caught_at = out.is_err().then(|| start.elapsed());
    (completed.load(Ordering::SeqCst), caught_at)
}

/// A 20 ms `timeout` around a body whose first poll takes 30 ms and which
/// then stays pending: on the real clock the deadline counts from the end of
/// that first poll, so the timeout fires, and not before 20 ms after it.
/// Needs a real-clock runtime.
pub async fn slow_first_poll_then_timeout() {
    const MS: Duration = Duration::from_millis(1);
    let mut first_poll_end = None;
    let body = std::future::poll_fn(|_| {
        if first_poll_end.is_none() {
            std::thread::sleep(30 * MS);
            first_poll_end = Some(std::time::Instant::now());
        }
        Poll::<()>::Pending
    });
    assert!(keen::time::timeout(20 * MS, body).await.is_err());
    let fired_after = first_poll_end.expect("polled once").elapsed();
    assert!(
        fired_after >= 20 * MS,
        "fired {fired_after:?} after the first poll"
    );
}

/// Timers in the current runtime's wheel.
///
/// # Panics
/// Outside a runtime.
pub fn timers() -> usize {
    keen::Handle::current().metrics().timers
}
