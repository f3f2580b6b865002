//! `keen::signal` against real deliveries: the process raises signals at
//! itself and every listener created before a delivery sees it once, a
//! listener created after it does not, a cancelled `recv` loses nothing,
//! a listener outlives its runtime (and ends with `None` when no runtime
//! is left to watch), `ctrl_c` completes on SIGINT, and forbidden signals
//! are refused. Every test runs on every configuration.
//!
//! The tests share one process (and its signal dispositions, and the
//! count of runtimes watching signals), so they are serialised by `SERIAL`;
//! each still uses a signal of its own. Registration happens when a
//! `Signal` is created (or `ctrl_c` first polled), so raising after that
//! needs no sleep.

use std::future::poll_fn;
use std::sync::{Mutex, MutexGuard};
use std::task::Poll;

use keen::signal::unix::{Signal, SignalKind, signal};
use keen_suite::{ALL, each, poll_once, run_in_task};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn raise(signum: libc::c_int) {
    // SAFETY: raise(3) has no preconditions; each caller created a keen
    // listener for `signum` first, so the process is not terminated.
    assert_eq!(unsafe { libc::raise(signum) }, 0);
}

/// `recv` with a generous bound, so a broken delivery fails the test
/// instead of hanging it.
async fn within<F: std::future::Future>(recv: F) -> F::Output {
    keen::time::timeout(std::time::Duration::from_secs(60), recv)
        .await
        .expect("the signal was not delivered within 60 s")
}

/// Polls `sig.recv()` once with the task's waker and drops the future.
async fn is_pending(sig: &mut Signal) -> bool {
    poll_fn(|cx| Poll::Ready(sig.poll_recv(cx).is_pending())).await
}

#[test]
fn a_raised_signal_is_delivered_from_any_thread() {
    let _serial = serial();
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            assert!(is_pending(&mut usr1).await, "nothing delivered yet");
            raise(libc::SIGUSR1);
            assert_eq!(within(usr1.recv()).await, Some(()));
            // Raised on a plain thread (the handler runs there).
            std::thread::spawn(|| raise(libc::SIGUSR1)).join().unwrap();
            assert_eq!(within(usr1.recv()).await, Some(()));
            assert!(is_pending(&mut usr1).await, "each delivery seen once");
        });
    });
}

#[test]
fn every_listener_sees_each_delivery_once() {
    let _serial = serial();
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut listeners: Vec<Signal> = (0..3)
                .map(|_| signal(SignalKind::user_defined2()).unwrap())
                .collect();
            for round in 0..2 {
                raise(libc::SIGUSR2);
                for (i, sig) in listeners.iter_mut().enumerate() {
                    assert_eq!(
                        within(sig.recv()).await,
                        Some(()),
                        "listener {i}, round {round}"
                    );
                }
                for sig in &mut listeners {
                    assert!(is_pending(sig).await);
                }
            }
            // Listeners waiting in other tasks are all woken by one delivery.
            let waiting: Vec<_> = listeners
                .into_iter()
                .map(|mut sig| keen::spawn(async move { within(sig.recv()).await }))
                .collect();
            keen::task::yield_now().await;
            raise(libc::SIGUSR2);
            for task in waiting {
                assert_eq!(task.await.unwrap(), Some(()));
            }
        });
    });
}

#[test]
fn a_listener_created_after_a_delivery_does_not_see_it() {
    let _serial = serial();
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut early = signal(SignalKind::hangup()).unwrap();
            raise(libc::SIGHUP);
            // Once `early` saw it, the delivery was dispatched.
            assert_eq!(within(early.recv()).await, Some(()));
            let mut late = signal(SignalKind::hangup()).unwrap();
            assert!(
                is_pending(&mut late).await,
                "the old delivery is not replayed"
            );
            raise(libc::SIGHUP);
            assert_eq!(within(late.recv()).await, Some(()));
            assert_eq!(within(early.recv()).await, Some(()));
        });
    });
}

#[test]
fn a_cancelled_recv_loses_nothing() {
    let _serial = serial();
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut sig = signal(SignalKind::window_change()).unwrap();
            let mut witness = signal(SignalKind::window_change()).unwrap();
            // Cancelled while waiting, before any delivery.
            let mut recv = Box::pin(sig.recv());
            assert!(poll_once(&mut recv).is_pending());
            drop(recv);
            raise(libc::SIGWINCH);
            assert_eq!(within(sig.recv()).await, Some(()));
            assert_eq!(within(witness.recv()).await, Some(()));

            // Cancelled after the delivery woke it, before it was polled
            // again: the next recv reports that delivery at once.
            let mut recv = Box::pin(sig.recv());
            assert!(poll_once(&mut recv).is_pending());
            raise(libc::SIGWINCH);
            assert_eq!(within(witness.recv()).await, Some(())); // dispatched now
            drop(recv);
            let mut recv = Box::pin(sig.recv());
            assert_eq!(poll_once(&mut recv), Poll::Ready(Some(())));
        });
    });
}

#[test]
fn a_listener_outlives_its_runtime() {
    let _serial = serial();
    each(&ALL, |cfg| {
        let first = cfg.build();
        let mut sig = first
            .block_on(async { signal(SignalKind::alarm()) })
            .unwrap();
        drop(first);
        // No runtime watches signals now: nothing could ever arrive.
        let mut recv = Box::pin(sig.recv());
        assert_eq!(poll_once(&mut recv), Poll::Ready(None));
        drop(recv);
        // Polled on another runtime, that one starts watching.
        let second = cfg.build();
        second.block_on(async {
            assert!(is_pending(&mut sig).await);
            raise(libc::SIGALRM);
            assert_eq!(within(sig.recv()).await, Some(()));
        });
    });
}

#[test]
fn two_runtimes_listen_at_once() {
    let _serial = serial();
    each(&ALL, |cfg| {
        let (a, b) = (cfg.build(), cfg.build());
        let mut on_a = a.block_on(async { signal(SignalKind::child()) }).unwrap();
        let mut on_b = b.block_on(async { signal(SignalKind::child()) }).unwrap();
        raise(libc::SIGCHLD);
        assert_eq!(a.block_on(within(on_a.recv())), Some(()));
        assert_eq!(b.block_on(within(on_b.recv())), Some(()));
        // Dropping one runtime leaves the other watching, for both.
        drop(a);
        b.block_on(async {
            assert!(is_pending(&mut on_a).await && is_pending(&mut on_b).await);
            raise(libc::SIGCHLD);
            assert_eq!(within(on_a.recv()).await, Some(()));
            assert_eq!(within(on_b.recv()).await, Some(()));
        });
    });
}

#[test]
fn ctrl_c_completes_on_sigint() {
    let _serial = serial();
    each(&ALL, |cfg| {
        let rt = cfg.build();
        run_in_task(&rt, async {
            let mut ctrl_c = Box::pin(keen::signal::ctrl_c());
            // The first poll installs keen's handler and starts listening.
            assert!(poll_once(&mut ctrl_c).is_pending());
            raise(libc::SIGINT);
            within(ctrl_c).await.unwrap();
        });
    });
}

#[test]
fn forbidden_and_invalid_signals_are_refused() {
    let _serial = serial();
    each(&ALL, |cfg| {
        let rt = cfg.build();
        rt.block_on(async {
            for signum in [
                libc::SIGKILL,
                libc::SIGSTOP,
                libc::SIGSEGV,
                libc::SIGBUS,
                libc::SIGILL,
                libc::SIGFPE,
                0,
                -1,
                100_000,
            ] {
                let err = signal(SignalKind::from_raw(signum)).unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::Other, "signal {signum}");
            }
        });
    });
    // Outside a runtime: an error, not a panic.
    assert!(signal(SignalKind::user_defined1()).is_err());
}

#[test]
fn signal_kinds_are_the_os_numbers() {
    let kinds = [
        (SignalKind::alarm(), libc::SIGALRM),
        (SignalKind::child(), libc::SIGCHLD),
        (SignalKind::hangup(), libc::SIGHUP),
        (SignalKind::interrupt(), libc::SIGINT),
        (SignalKind::pipe(), libc::SIGPIPE),
        (SignalKind::quit(), libc::SIGQUIT),
        (SignalKind::terminate(), libc::SIGTERM),
        (SignalKind::user_defined1(), libc::SIGUSR1),
        (SignalKind::user_defined2(), libc::SIGUSR2),
        (SignalKind::window_change(), libc::SIGWINCH),
        (SignalKind::from_raw(libc::SIGURG), libc::SIGURG),
    ];
    for (kind, signum) in kinds {
        assert_eq!(kind.as_raw_value(), signum);
        assert_eq!(libc::c_int::from(kind), signum);
        assert_eq!(SignalKind::from(signum), kind);
    }
}

#[test]
fn the_types_are_send_and_sync_like_tokios() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Signal>();
    send_sync::<SignalKind>();
}
