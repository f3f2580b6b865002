//! [`Started`] and the wait behind [`GroupHandle::start`]: spawn a child
//! and wait until it says it is ready, as trio's `nursery.start`.
//!
//! Before it calls [`Started::send`], the child's outcome belongs to the
//! caller of `start`: a failure, an early return or a cancellation comes out
//! of `start` as a [`StartError`] (and does not cancel the group); dropping
//! the `start` future (its caller was cancelled) cancels the child. After
//! `send`, the child is an ordinary member of the group.
//!
//! A child that drops its [`Started`] without sending and keeps running
//! fails `start` at once with [`StartError::NeverSignalled`]; the child
//! goes on as an ordinary member of the group, as in trio. So that a child
//! that *returns* (or fails, or is cancelled) without sending still reports
//! that, a drop during the child's own poll (or before its first one, by
//! the closure given to `start`) is settled when that poll ends: still
//! pending means "never signalled", finished means the outcome.
//!
//! [`GroupHandle::start`]: super::GroupHandle::start

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use super::child::StartReport;
use super::error::{ChildError, StartError};
use crate::scope::CancelScope;

/// The child's half of [`GroupHandle::start`](super::GroupHandle::start):
/// call [`send`](Self::send) once it is ready.
pub struct Started<T> {
    slot: Arc<Slot<T>>,
}

pub(crate) struct Slot<T> {
    state: Mutex<State<T>>,
}

enum State<T> {
    /// Neither side has finished.
    Waiting {
        /// The `start` caller's waker.
        waker: Option<Waker>,
        /// The child's task is polling (or dropping) its future right now,
        /// or has not polled it yet.
        in_child: bool,
        /// `Started` was dropped unsent during that poll.
        abandoned: bool,
    },
    Started(T),
    Exited(StartError),
    /// The value or error was taken, or the caller gave up.
    Done,
}

impl<T: Send + 'static> Started<T> {
    /// Reports that the child has started: `start` returns `value`. From now
    /// on the child's failures go to its group.
    pub fn send(self, value: T) {
        let waker = {
            let mut state = self.slot.state.lock();
            match &mut *state {
                State::Waiting { waker, .. } => {
                    let waker = waker.take();
                    *state = State::Started(value);
                    waker
                }
                // The caller gave up waiting: nobody takes the value.
                _ => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Drop for Started<T> {
    /// Dropped unsent: `start` fails with [`StartError::NeverSignalled`] —
    /// now, or when the child's current poll ends still pending.
    fn drop(&mut self) {
        let waker = {
            let mut state = self.slot.state.lock();
            match &mut *state {
                State::Waiting {
                    in_child: true,
                    abandoned,
                    ..
                } => {
                    *abandoned = true;
                    None
                }
                State::Waiting { waker, .. } => {
                    let waker = waker.take();
                    *state = State::Exited(StartError::NeverSignalled);
                    waker
                }
                // Sent, exited, or the caller gave up.
                _ => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> fmt::Debug for Started<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Started")
    }
}

impl<T> Slot<T> {
    pub(crate) fn new() -> Arc<Slot<T>> {
        Arc::new(Slot {
            // Until the first poll ends the `Started` is the child's future's
            // (dropped by `f` itself, it is settled by that poll).
            state: Mutex::new(State::Waiting {
                waker: None,
                in_child: true,
                abandoned: false,
            }),
        })
    }

    pub(crate) fn started(self: &Arc<Self>) -> Started<T> {
        Started { slot: self.clone() }
    }
}

impl<T: Send + 'static> StartReport for Slot<T> {
    fn enter_child(&self) -> bool {
        match &mut *self.state.lock() {
            State::Waiting { in_child, .. } => {
                *in_child = true;
                true
            }
            _ => false,
        }
    }

    fn leave_child_pending(&self) {
        let waker = {
            let mut state = self.state.lock();
            match &mut *state {
                State::Waiting {
                    abandoned: true,
                    waker,
                    ..
                } => {
                    let waker = waker.take();
                    *state = State::Exited(StartError::NeverSignalled);
                    waker
                }
                State::Waiting { in_child, .. } => {
                    *in_child = false;
                    None
                }
                _ => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn child_exited(
        &self,
        failure: Option<ChildError>,
        cancelled: bool,
    ) -> Result<(), Option<ChildError>> {
        let waker = {
            let mut state = self.state.lock();
            let State::Waiting { waker, .. } = &mut *state else {
                return Err(failure);
            };
            let waker = waker.take();
            *state = State::Exited(match failure {
                Some(failure) => StartError::Failed(failure),
                None if cancelled => StartError::Cancelled,
                None => StartError::ExitedEarly,
            });
            waker
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }
}

/// The caller's half: resolves when the child starts or exits first;
/// cancels the child if dropped before that.
pub(crate) struct Starting<T> {
    slot: Arc<Slot<T>>,
    child: CancelScope,
}

impl<T> Starting<T> {
    pub(crate) fn new(slot: Arc<Slot<T>>, child: CancelScope) -> Starting<T> {
        Starting { slot, child }
    }
}

impl<T> Future for Starting<T> {
    type Output = Result<T, StartError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.slot.state.lock();
        match std::mem::replace(&mut *state, State::Done) {
            State::Started(value) => Poll::Ready(Ok(value)),
            State::Exited(error) => Poll::Ready(Err(error)),
            State::Waiting {
                mut waker,
                in_child,
                abandoned,
            } => {
                match &mut waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                *state = State::Waiting {
                    waker,
                    in_child,
                    abandoned,
                };
                Poll::Pending
            }
            State::Done => panic!("GroupHandle::start polled after it completed"),
        }
    }
}

impl<T> Drop for Starting<T> {
    fn drop(&mut self) {
        let gave_up = {
            let mut state = self.slot.state.lock();
            let waiting = matches!(*state, State::Waiting { .. });
            if waiting {
                *state = State::Done;
            }
            waiting
        };
        if gave_up {
            // The caller was cancelled before the child started.
            self.child.cancel();
        }
    }
}
