//! Memory probe for the bench report (`examples/bench-report.rs`): spawns
//! N tasks (default 1,000,000) that each wait on one shared event, on keen
//! or on tokio (`idle_tasks keen|tokio [N]`), on a multi-thread(2) runtime.
//! Once every task is parked it sets the event, joins them all and exits.
//! The report measures the process's peak RSS from outside (`wait4`).
//!
//! keen's tasks wait on `keen::sync::Event`; tokio has no event type, so its
//! tasks wait on a registered `tokio::sync::Notify` (`notify_waiters`), the
//! closest equivalent: a waiter node in a shared list, woken all at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_default();
    let n: usize = args
        .next()
        .map_or(1_000_000, |s| s.parse().expect("N is a number"));
    match which.as_str() {
        "keen" => keen_idle(n),
        "tokio" => tokio_idle(n),
        _ => {
            eprintln!("usage: idle_tasks keen|tokio [N]");
            std::process::exit(2);
        }
    }
}

fn keen_idle(n: usize) {
    let rt = keen::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let parked = rt.block_on(rt.spawn(async move {
        let event = Arc::new(keen::sync::Event::new());
        let waiting = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (event, waiting) = (event.clone(), waiting.clone());
                keen::spawn(async move {
                    waiting.fetch_add(1, SeqCst);
                    event.wait().await;
                })
            })
            .collect();
        // The event is sticky: a task counted but not yet parked still sees it.
        while waiting.load(SeqCst) < n {
            keen::task::yield_now().await;
        }
        let parked = waiting.load(SeqCst);
        event.set();
        for task in tasks {
            task.await.unwrap();
        }
        parked
    }));
    println!("keen: {} tasks parked and woken", parked.unwrap());
}

fn tokio_idle(n: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let parked = rt.block_on(rt.spawn(async move {
        let notify = Arc::new(tokio::sync::Notify::new());
        let waiting = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (notify, waiting) = (notify.clone(), waiting.clone());
                tokio::spawn(async move {
                    let notified = notify.notified();
                    tokio::pin!(notified);
                    // Registered before counted, so notify_waiters reaches it.
                    notified.as_mut().enable();
                    waiting.fetch_add(1, SeqCst);
                    notified.await;
                })
            })
            .collect();
        while waiting.load(SeqCst) < n {
            tokio::task::yield_now().await;
        }
        let parked = waiting.load(SeqCst);
        notify.notify_waiters();
        for task in tasks {
            task.await.unwrap();
        }
        parked
    }));
    println!("tokio: {} tasks parked and woken", parked.unwrap());
}
