//! `ScheduledIo`: what the reactor and the tasks share about one
//! registration — its readiness word (`state.rs`) and its waiters
//! (`waiters.rs`) — and [`Readiness`], the future behind `readable()`,
//! `writable()` and `ready()`.
//!
//! Lost-wake freedom: the reactor sets the word *before* it locks the
//! waiters to take their wakers; a task checks the word again *under* that
//! lock before it stores its waker. Either the task sees the new readiness,
//! or its waker is stored before the reactor looks. Wakers are woken after
//! the lock is released, and a wake only queues the task (never polls it).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::io::error;
use crate::io::ready::{Interest, Ready};
use crate::io::state::{ReadyEvent, Snapshot, State};
use crate::io::waiters::{Direction, Waiters};
use crate::loom::Mutex;

/// One registration's shared state. Owned through `Arc`s by the reactor's
/// registration set and by the socket; the reactor's reference is the one
/// released last (see `registrations.rs`).
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    state: State,
    waiters: Mutex<Waiters>,
}

/// What one check of the word found.
enum Check {
    Ready(ReadyEvent),
    NotReady,
    Shutdown,
}

impl ScheduledIo {
    /// A registration whose readiness starts as `initial`.
    pub(crate) fn new(initial: Ready) -> ScheduledIo {
        ScheduledIo {
            state: State::new(initial),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    fn check(&self, mask: Ready) -> Check {
        match self.state.snapshot(mask) {
            Snapshot::Shutdown => Check::Shutdown,
            Snapshot::Live(event) if event.ready.is_empty() => Check::NotReady,
            Snapshot::Live(event) => Check::Ready(event),
        }
    }

    /// The reactor saw `ready`: record it, then wake the waiters it
    /// concerns (after the lock). `buf` is the reactor's scratch space.
    pub(crate) fn dispatch(&self, ready: Ready, buf: &mut Vec<Waker>) {
        self.state.set(ready);
        self.waiters.lock().take(ready, buf);
        buf.drain(..).for_each(Waker::wake);
    }

    /// The reactor shut down: fail every wait, now and later.
    pub(crate) fn shut_down(&self) {
        self.state.shut_down();
        let mut wakers = Vec::new();
        self.waiters.lock().take(Ready::ALL, &mut wakers);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Readiness for `interest` right now, without waiting; `Err` after
    /// shutdown.
    pub(crate) fn ready_now(&self, interest: Interest) -> io::Result<ReadyEvent> {
        match self.state.snapshot(interest.mask()) {
            Snapshot::Shutdown => Err(error::shut_down()),
            Snapshot::Live(event) => Ok(event),
        }
    }

    /// A task got `WouldBlock` after seeing `event`.
    pub(crate) fn clear(&self, event: ReadyEvent) {
        self.state.clear(event);
    }

    /// Readiness in `dir`, or the task's waker stored in that direction's
    /// single `poll_*` slot.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let mask = dir.mask();
        match self.check(mask) {
            Check::Ready(event) => return Poll::Ready(Ok(event)),
            Check::Shutdown => return Poll::Ready(Err(error::shut_down())),
            Check::NotReady => {}
        }
        let mut waiters = self.waiters.lock();
        match self.check(mask) {
            Check::Ready(event) => Poll::Ready(Ok(event)),
            Check::Shutdown => Poll::Ready(Err(error::shut_down())),
            Check::NotReady => {
                waiters.set_slot(dir, cx.waker());
                Poll::Pending
            }
        }
    }

    /// A future that completes once any readiness in `interest` is set.
    /// Cancel-safe: dropping it consumes nothing.
    pub(crate) fn readiness(&self, interest: Interest) -> Readiness<'_> {
        Readiness {
            io: self,
            interest,
            keys: [None, None],
        }
    }
}

/// Waits for readiness on one registration; every waiter is woken (a
/// list entry per direction of its interest).
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Readiness<'a> {
    io: &'a ScheduledIo,
    interest: Interest,
    /// This future's entry in each direction's list, once it waited.
    keys: [Option<usize>; 2],
}

impl Readiness<'_> {
    fn unregister(&mut self, waiters: &mut Waiters) {
        for dir in [Direction::Read, Direction::Write] {
            if let Some(key) = self.keys[dir as usize].take() {
                drop(waiters.remove(dir, key));
            }
        }
    }

    fn finish(
        &mut self,
        waiters: Option<&mut Waiters>,
        check: Check,
    ) -> Poll<io::Result<ReadyEvent>> {
        match waiters {
            Some(waiters) => self.unregister(waiters),
            None if self.keys.iter().any(Option::is_some) => {
                let io = self.io;
                self.unregister(&mut io.waiters.lock());
            }
            None => {}
        }
        match check {
            Check::Ready(event) => Poll::Ready(Ok(event)),
            Check::Shutdown => Poll::Ready(Err(error::shut_down())),
            Check::NotReady => unreachable!("finish only when done"),
        }
    }
}

impl Future for Readiness<'_> {
    type Output = io::Result<ReadyEvent>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mask = this.interest.mask();
        let check = this.io.check(mask);
        if !matches!(check, Check::NotReady) {
            return this.finish(None, check);
        }
        let io = this.io;
        let mut waiters = io.waiters.lock();
        let check = io.check(mask);
        if !matches!(check, Check::NotReady) {
            return this.finish(Some(&mut waiters), check);
        }
        for dir in Direction::of(this.interest) {
            match this.keys[dir as usize] {
                Some(key) => waiters.update(dir, key, cx.waker()),
                None => this.keys[dir as usize] = Some(waiters.insert(dir, cx.waker())),
            }
        }
        Poll::Pending
    }
}

impl Drop for Readiness<'_> {
    fn drop(&mut self) {
        if self.keys.iter().any(Option::is_some) {
            let io = self.io;
            let mut waiters = io.waiters.lock();
            self.unregister(&mut waiters);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn every_readiness_waiter_is_woken_and_only_in_its_direction() {
        let io = ScheduledIo::new(Ready::EMPTY);
        let (reads, read_waker) = counter();
        let (writes, write_waker) = counter();
        let mut a = Box::pin(io.readiness(Interest::READABLE));
        let mut b = Box::pin(io.readiness(Interest::READABLE));
        let mut w = Box::pin(io.readiness(Interest::WRITABLE));
        let mut rcx = Context::from_waker(&read_waker);
        let mut wcx = Context::from_waker(&write_waker);
        assert!(a.as_mut().poll(&mut rcx).is_pending());
        assert!(b.as_mut().poll(&mut rcx).is_pending());
        assert!(w.as_mut().poll(&mut wcx).is_pending());
        let mut buf = Vec::new();
        io.dispatch(Ready::READABLE, &mut buf);
        assert_eq!(reads.0.load(Ordering::SeqCst), 2);
        assert_eq!(writes.0.load(Ordering::SeqCst), 0);
        assert!(a.as_mut().poll(&mut rcx).is_ready());
        drop((a, b, w));
        assert_eq!(io.waiters.lock().len(), 0, "dropped futures leave no entry");
    }

    #[test]
    fn shutdown_wakes_every_waiter_with_an_error() {
        let io = ScheduledIo::new(Ready::EMPTY);
        let (count, waker) = counter();
        let mut cx = Context::from_waker(&waker);
        let mut fut = Box::pin(io.readiness(Interest::READABLE | Interest::WRITABLE));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert!(io.poll_ready(&mut cx, Direction::Write).is_pending());
        io.shut_down();
        assert_eq!(count.0.load(Ordering::SeqCst), 3);
        let err = match fut.as_mut().poll(&mut cx) {
            Poll::Ready(Err(err)) => err,
            other => panic!("{other:?}"),
        };
        assert!(err.to_string().contains("shut down"));
    }
}
