//! Loom models of cancel-scope delivery: `cancel()` from another thread
//! racing the body's first suspension (the scope catches at once, or its
//! waker is woken), a cancelled parent reaching a nested scope that waits
//! with a waker of its own (through the child list `arm` fills before it
//! reads the cancel state), and a shield dropped on another thread while
//! the cancelled outer scope is held open by it. No runtime is needed: the
//! scopes have no deadline. Compiled as a library module under
//! `cfg(all(test, loom))`; see `loom_semaphore.rs` for how to run it.

use std::future::{pending, poll_fn};
use std::pin::pin;
use std::task::{Context, Poll};

use loom::thread;

use crate::loom_support::{counting_waker, poll_with};
use crate::scope::CancelScope;

/// A cancel on another thread races the body's first `Pending`: the run
/// returns `Err(Cancelled)` at once, or stays pending with its waker
/// visible to the canceller, which wakes it.
#[test]
fn loom_cancel_racing_the_first_suspension() {
    loom::model(|| {
        let scope = CancelScope::new();
        let canceller = {
            let scope = scope.clone();
            thread::spawn(move || scope.cancel())
        };
        let (woken, waker) = counting_waker();
        let mut run = pin!(scope.run(pending::<()>()));
        let first = poll_with(run.as_mut(), &waker);
        canceller.join().unwrap();
        if first.is_pending() {
            assert!(woken.woken(), "cancellation lost its wake");
            assert!(matches!(
                poll_with(run.as_mut(), &waker),
                Poll::Ready(Err(_))
            ));
        } else {
            assert!(matches!(first, Poll::Ready(Err(_))));
        }
        assert!(scope.cancelled_caught());
    });
}

/// The outer scope is cancelled from another thread while a nested scope
/// inside it suspends with a waker of its own: if the poll missed the
/// cancellation, both wakers are woken (the inner one through the
/// outer's child list); the next poll catches at the outer scope.
#[test]
fn loom_parent_cancel_reaches_a_nested_scope() {
    loom::model(|| {
        let outer = CancelScope::new();
        let inner = CancelScope::new();
        let canceller = {
            let outer = outer.clone();
            thread::spawn(move || outer.cancel())
        };
        let (inner_woken, inner_waker) = counting_waker();
        let mut inner_run = Box::pin(inner.run(pending::<()>()));
        let body = poll_fn(move |_: &mut Context<'_>| {
            // The inner scope waits with its own waker, as a future that
            // hands its children a different waker would.
            poll_with(inner_run.as_mut(), &inner_waker)
        });
        let (outer_woken, outer_waker) = counting_waker();
        let mut run = pin!(outer.run(body));
        let first = poll_with(run.as_mut(), &outer_waker);
        canceller.join().unwrap();
        if first.is_pending() {
            assert!(outer_woken.woken(), "the outer scope missed its cancel");
            assert!(inner_woken.woken(), "the nested scope missed the cancel");
            assert!(matches!(
                poll_with(run.as_mut(), &outer_waker),
                Poll::Ready(Err(_))
            ));
        }
        assert!(outer.cancelled_caught(), "the outer scope catches");
        assert!(!inner.cancelled_caught());
    });
}

/// A cancelled outer scope is held open by a shielded inner scope; the
/// shield is dropped on another thread while the outer is polled: the
/// poll catches, or the release of the shield wakes the task, and the
/// next poll catches.
#[test]
fn loom_shield_dropped_elsewhere_lets_the_cancelled_outer_catch() {
    loom::model(|| {
        let outer = CancelScope::new();
        outer.cancel();
        let inner = CancelScope::new();
        inner.set_shield(true);
        let unshielder = {
            let inner = inner.clone();
            thread::spawn(move || inner.set_shield(false))
        };
        let body = {
            let inner = inner.clone();
            async move { inner.run(pending::<()>()).await }
        };
        let (woken, waker) = counting_waker();
        let mut run = pin!(outer.run(body));
        let first = poll_with(run.as_mut(), &waker);
        unshielder.join().unwrap();
        if first.is_pending() {
            assert!(woken.woken(), "the shield's release lost the wake");
            assert!(matches!(
                poll_with(run.as_mut(), &waker),
                Poll::Ready(Err(_))
            ));
        }
        assert!(outer.cancelled_caught());
    });
}
