//! Loom models of the reactor's shared state: the readiness word (a clear
//! after `WouldBlock` racing a new edge never loses the edge), the
//! register-waker / dispatch hand-off (never a lost wake), a
//! registration released by its socket while the reactor delivers an
//! event for it, a waker registered (readiness future and `poll_*` slot)
//! while the reactor shuts the registration down, a registration racing
//! the shutdown, and a waiting future dropped while the reactor dispatches
//! to it. Compiled as a library module under `cfg(all(test, loom))`;
//! run with `RUSTFLAGS="--cfg loom --cfg crossbeam_loom"
//! CARGO_TARGET_DIR=target/loom cargo test -p keen --release --lib loom`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;

use crate::io::{Direction, Interest, Ready, Registrations, ScheduledIo, Snapshot, State};
use crate::loom_support::counting_waker;

fn seen(state: &State) -> crate::io::ReadyEvent {
    match state.snapshot(Ready::ALL) {
        Snapshot::Live(event) => event,
        Snapshot::Shutdown => unreachable!(),
    }
}

/// A task saw READABLE at the first tick and its read got `WouldBlock`;
/// meanwhile the reactor reports a new edge. Whatever the interleaving,
/// the edge survives unless the task's snapshot already included it (its
/// read then really found nothing new).
#[test]
fn loom_clear_after_would_block_racing_a_new_edge() {
    loom::model(|| {
        let state = Arc::new(State::new(Ready::READABLE));
        let reactor = {
            let state = state.clone();
            thread::spawn(move || state.set(Ready::READABLE))
        };
        let event = seen(&state);
        state.clear(event);
        reactor.join().unwrap();
        let after = seen(&state);
        if event.tick == 0 {
            assert!(after.ready.is_readable(), "the new edge was lost");
        }
        assert_eq!(after.tick, 1);
    });
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

/// A readiness future registers its waker while the reactor dispatches:
/// either the poll sees the readiness or the waker is woken.
#[test]
fn loom_waiting_task_and_dispatch_never_lose_a_wake() {
    loom::model(|| {
        let io = Arc::new(ScheduledIo::new(Ready::EMPTY));
        let reactor = {
            let io = io.clone();
            thread::spawn(move || io.dispatch(Ready::READABLE, &mut Vec::new()))
        };
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut wait = pin!(io.readiness(Interest::READABLE));
        let ready = wait
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready();
        reactor.join().unwrap();
        assert!(ready || flag.0.load(SeqCst), "lost wake");
        if !ready {
            assert!(matches!(
                wait.as_mut().poll(&mut Context::from_waker(&waker)),
                Poll::Ready(Ok(_))
            ));
        }
    });
}

/// The socket releases its registration while the reactor is delivering
/// an event for it and then starts its next turn. The reactor either
/// delivers to the still-present state or misses the token; the socket's
/// own reference stays valid throughout; the slot is freed once, by the
/// reactor, and a later registration in it is not reachable by the old
/// token.
#[test]
fn loom_registration_released_while_the_reactor_delivers() {
    loom::model(|| {
        let set = Arc::new(Registrations::new());
        let (token, socket_io) = set.insert(Ready::EMPTY).unwrap();
        let socket = {
            let set = set.clone();
            thread::spawn(move || {
                // The socket: its fd left epoll; it releases the token and
                // drops its own reference.
                let _ = socket_io.ready_now(Interest::READABLE).unwrap();
                set.release(token);
                drop(socket_io);
            })
        };
        // The reactor: an event from this turn's batch names the token.
        if let Some(io) = set.get(token) {
            io.dispatch(Ready::READABLE, &mut Vec::new());
        }
        // Its next turn frees what was released by then.
        set.free_released();
        socket.join().unwrap();
        set.free_released();
        assert_eq!(set.len(), 0, "freed by the reactor");
        let (new, _) = set.insert(Ready::EMPTY).unwrap();
        assert_ne!(new, token);
        assert!(
            set.get(token).is_none(),
            "a stale token misses the new occupant"
        );
    });
}

/// A task registers its wakers (a readiness future's list entry and the
/// `poll_*` slot) while the reactor shuts down: each poll sees the
/// shutdown, or its waker is woken and the next poll fails.
#[test]
fn loom_waker_registered_while_the_registration_shuts_down() {
    loom::model(|| {
        let set = Arc::new(Registrations::new());
        let (_, io) = set.insert(Ready::EMPTY).unwrap();
        let reactor = {
            let set = set.clone();
            thread::spawn(move || {
                for io in set.shutdown() {
                    io.shut_down();
                }
            })
        };
        let (list, list_waker) = counting_waker();
        let (slot, slot_waker) = counting_waker();
        let mut wait = pin!(io.readiness(Interest::READABLE));
        let listed = wait
            .as_mut()
            .poll(&mut Context::from_waker(&list_waker))
            .is_ready();
        let slotted = io
            .poll_ready(&mut Context::from_waker(&slot_waker), Direction::Write)
            .is_ready();
        reactor.join().unwrap();
        assert!(listed || list.get() == 1, "lost wake (readiness future)");
        assert!(slotted || slot.get() == 1, "lost wake (poll slot)");
        let again = wait.as_mut().poll(&mut Context::from_waker(&list_waker));
        assert!(matches!(again, Poll::Ready(Err(_))), "shutdown not seen");
        let again = io.poll_ready(&mut Context::from_waker(&slot_waker), Direction::Write);
        assert!(matches!(again, Poll::Ready(Err(_))));
    });
}

/// A socket registers while the reactor shuts down: it is refused, or
/// it was in the set shutdown drained and is shut down: never a live
/// registration nobody will ever wake.
#[test]
fn loom_registration_racing_shutdown_is_never_left_live() {
    loom::model(|| {
        let set = Arc::new(Registrations::new());
        let reactor = {
            let set = set.clone();
            thread::spawn(move || {
                for io in set.shutdown() {
                    io.shut_down();
                }
            })
        };
        let registered = set.insert(Ready::EMPTY);
        reactor.join().unwrap();
        match registered {
            Ok((token, io)) => {
                assert!(io.ready_now(Interest::READABLE).is_err(), "left live");
                assert!(!set.release(token), "nothing to release after shutdown");
            }
            Err(_) => assert!(set.is_shutdown(), "refused only by the shutdown"),
        }
        assert_eq!(set.len(), 0);
    });
}

/// A task's waiting readiness future is dropped, and its socket releases
/// the registration, while the reactor dispatches an event to it: the
/// dispatch finds the waker or finds none, nothing is woken twice, and
/// the slot is freed once.
#[test]
fn loom_waiting_future_dropped_while_the_reactor_dispatches_to_it() {
    loom::model(|| {
        let set = Arc::new(Registrations::new());
        let (token, io) = set.insert(Ready::EMPTY).unwrap();
        let (count, waker) = counting_waker();
        let reactor = {
            let set = set.clone();
            thread::spawn(move || {
                if let Some(io) = set.get(token) {
                    io.dispatch(Ready::READABLE, &mut Vec::new());
                }
                set.free_released();
            })
        };
        {
            let mut wait = pin!(io.readiness(Interest::READABLE));
            let _ = wait.as_mut().poll(&mut Context::from_waker(&waker));
        }
        set.release(token);
        drop(io);
        reactor.join().unwrap();
        set.free_released();
        assert!(count.get() <= 1, "woken twice");
        assert_eq!(set.len(), 0);
        assert!(set.get(token).is_none());
    });
}
