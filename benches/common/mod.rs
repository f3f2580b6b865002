//! Runtime construction shared by the side-by-side benches: the same
//! flavours, built the same way, for keen, for tokio and for smol (whose
//! runtime and names live in `smol.rs`).

pub mod smol;

/// A keen runtime: current-thread, or multi-thread with 2 workers.
pub fn keen_rt(multi: bool) -> keen::Runtime {
    let mut b = if multi {
        keen::runtime::Builder::new_multi_thread()
    } else {
        keen::runtime::Builder::new_current_thread()
    };
    if multi {
        b.worker_threads(2);
    }
    b.build().unwrap()
}

/// A tokio runtime of the same flavour, with timers enabled.
pub fn tokio_rt(multi: bool) -> tokio::runtime::Runtime {
    let mut b = if multi {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    if multi {
        b.worker_threads(2);
    }
    b.enable_all().build().unwrap()
}

/// A smol runtime of the same flavour: a `LocalExecutor` on the calling
/// thread, or an `Executor` driven by 2 threads (see `smol.rs`).
#[allow(dead_code, reason = "the examples build keen and tokio runtimes only")]
pub fn smol_rt(multi: bool) -> smol::SmolRt {
    if multi {
        smol::SmolRt::multi_thread(2)
    } else {
        smol::SmolRt::current_thread()
    }
}

/// The flavour's label in bench ids.
pub fn flavor(multi: bool) -> &'static str {
    if multi {
        "multi_thread(2)"
    } else {
        "current_thread"
    }
}

/// Runs `$body` (an expression that may `.await`) `$iters` times inside one
/// task of `$rt` — where applications spawn and time out — and returns the
/// time the loop took. Same text for keen, tokio and smol: all three
/// runtimes have `block_on` and `spawn` with these shapes.
#[allow(
    unused_macros,
    reason = "examples include this module for the runtime constructors only"
)]
macro_rules! time_in_task {
    ($rt:expr, $iters:expr, $body:expr) => {
        $rt.block_on($rt.spawn(async move {
            let start = std::time::Instant::now();
            for _ in 0..$iters {
                $body;
            }
            start.elapsed()
        }))
        .unwrap()
    };
}
#[allow(unused_imports, reason = "see the macro")]
pub(crate) use time_in_task;

/// Benches one workload on keen, tokio and smol in `$group`, one cell each
/// (`keen/<flavour>`, …), each on its own runtime of flavour `$multi`.
/// `$cell` is the bench file's macro for the workload: `$cell!(b, rt,
/// crate)` is the body of the bench closure, with `b` the `Bencher`, `rt`
/// the runtime and `crate` the runtime's crate name (`keen`, `tokio`, or
/// the `smol` module here), so the workload is written once.
#[allow(
    unused_macros,
    reason = "examples include this module for the runtime constructors only"
)]
macro_rules! each_runtime {
    ($group:expr, $multi:expr, $cell:ident) => {
        each_runtime!(@cell $group, $multi, $cell, keen, keen_rt);
        each_runtime!(@cell $group, $multi, $cell, tokio, tokio_rt);
        each_runtime!(@cell $group, $multi, $cell, smol, smol_rt);
    };
    (@cell $group:expr, $multi:expr, $cell:ident, $rtc:ident, $build:ident) => {{
        let rt = $crate::common::$build($multi);
        let id = format!(
            "{}/{}",
            stringify!($rtc),
            $crate::common::flavor($multi)
        );
        $group.bench_function(id, |b| $cell!(b, rt, $rtc));
    }};
}
#[allow(unused_imports, reason = "see the macro")]
pub(crate) use each_runtime;

/// Drives `future` on the calling thread, parking between polls: how a
/// plain thread waits for a task or a timer of a runtime it is not part of.
/// The same for every runtime, so it costs them all alike.
#[allow(dead_code, reason = "used by the call-site benches only")]
pub fn park_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::park();
    }
}
