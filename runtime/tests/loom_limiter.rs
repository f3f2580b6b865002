//! Loom models of `CapacityLimiter`: raising the total (`set_total_tokens`)
//! while a borrower starts waiting serves it, a token given back on another
//! thread goes to the queued borrower and never to a late `try_acquire`,
//! and a cancelled waiter that was already handed a token passes it on.
//! Compiled as a library module under `cfg(all(test, loom))`; see
//! `loom_semaphore.rs` for how to run it.

use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use loom::thread;

use crate::loom_support::{counting_waker, poll_with};
use crate::sync::CapacityLimiter;

/// An owned token for borrower `key`, from a limiter with one free.
fn take(limiter: &Arc<CapacityLimiter>, key: u32) -> crate::sync::OwnedCapacityToken {
    loom::future::block_on(limiter.clone().acquire_on_behalf_of_owned(key)).unwrap()
}

/// No tokens; a borrower starts waiting while another thread raises the
/// total to one: it is served at once or woken with the token.
#[test]
fn loom_limiter_set_total_tokens_racing_a_waiter() {
    loom::model(|| {
        let limiter = Arc::new(CapacityLimiter::new(0));
        let resizer = {
            let limiter = limiter.clone();
            thread::spawn(move || limiter.set_total_tokens(1))
        };
        let (woken, waker) = counting_waker();
        let mut acquire = pin!(limiter.acquire_on_behalf_of(1u32));
        let first = poll_with(acquire.as_mut(), &waker);
        resizer.join().unwrap();
        let token = match first {
            Poll::Ready(token) => token,
            Poll::Pending => {
                assert!(woken.woken(), "lost wake");
                let Poll::Ready(token) = poll_with(acquire.as_mut(), &waker) else {
                    panic!("woken but not served");
                };
                token
            }
        };
        assert!(token.is_ok());
        assert_eq!(limiter.borrowed_tokens(), 1);
    });
}

/// The one token is given back on another thread while a borrower waits
/// and a third tries: the token goes to the waiter, the try fails.
#[test]
fn loom_limiter_release_goes_to_the_waiter_not_a_late_try() {
    loom::model(|| {
        let limiter = Arc::new(CapacityLimiter::new(1));
        let token = take(&limiter, 0);
        let (_, waker) = counting_waker();
        let mut waiter = pin!(limiter.acquire_on_behalf_of(1u32));
        assert!(poll_with(waiter.as_mut(), &waker).is_pending());
        let releaser = thread::spawn(move || drop(token));
        assert!(
            limiter.try_acquire_on_behalf_of(2u32).is_err(),
            "try_acquire barged past the waiter"
        );
        releaser.join().unwrap();
        let Poll::Ready(token) = poll_with(waiter.as_mut(), &waker) else {
            panic!("the returned token did not reach the waiter");
        };
        assert!(token.is_ok());
        assert_eq!(limiter.borrowed_tokens(), 1);
    });
}

/// Two borrowers wait for the one token; it is given back on another
/// thread while the first waiter is cancelled: the second gets it.
#[test]
fn loom_limiter_cancelled_waiter_passes_the_token_on() {
    loom::model(|| {
        let limiter = Arc::new(CapacityLimiter::new(1));
        let token = take(&limiter, 0);
        let (_, waker) = counting_waker();
        let mut first = Box::pin(limiter.acquire_on_behalf_of(1u32));
        let mut second = pin!(limiter.acquire_on_behalf_of(2u32));
        assert!(poll_with(first.as_mut(), &waker).is_pending());
        assert!(poll_with(second.as_mut(), &waker).is_pending());
        let releaser = thread::spawn(move || drop(token));
        drop(first);
        releaser.join().unwrap();
        let Poll::Ready(token) = poll_with(second.as_mut(), &waker) else {
            panic!("the token was lost with the cancelled waiter");
        };
        assert!(token.is_ok());
        assert_eq!(limiter.borrowed_tokens(), 1);
    });
}

/// Shrinking the total races a token's return with a borrower queued: the
/// waiter is served only if the return came first (then the pool is
/// transiently over its new total, as trio allows), and the books balance
/// once everything is given back.
#[test]
fn loom_limiter_shrink_racing_release() {
    loom::model(|| {
        let limiter = Arc::new(CapacityLimiter::new(2));
        let a = take(&limiter, 0);
        let b = take(&limiter, 1);
        let (_, waker) = counting_waker();
        let mut waiter = pin!(limiter.acquire_on_behalf_of(2u32));
        assert!(poll_with(waiter.as_mut(), &waker).is_pending());
        let resizer = {
            let limiter = limiter.clone();
            thread::spawn(move || limiter.set_total_tokens(1))
        };
        drop(a);
        resizer.join().unwrap();
        let served = match poll_with(waiter.as_mut(), &waker) {
            Poll::Ready(token) => Some(token.unwrap()),
            Poll::Pending => None,
        };
        assert_eq!(limiter.borrowed_tokens(), 1 + usize::from(served.is_some()));
        let was_served = served.is_some();
        drop(served);
        drop(b);
        if !was_served {
            // `b`'s return fits the new total: the waiter is served now.
            let Poll::Ready(token) = poll_with(waiter.as_mut(), &waker) else {
                panic!("a returned token within the total was not handed on");
            };
            drop(token);
        }
        assert_eq!(limiter.borrowed_tokens(), 0);
        assert_eq!(limiter.available_tokens(), 1);
        assert_eq!(limiter.waiters(), 0);
    });
}
