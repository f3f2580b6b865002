//! [`Timer`]: hyper's `rt::Timer` on keen's timer wheel and clock, so a
//! paused runtime clock governs hyper's timeouts too.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant as StdInstant};

use crate::time::{self, Instant};

/// hyper's timer on keen's time. Its sleeps register with the runtime
/// they are first polled in; [`now`](::hyper::rt::Timer::now) reads that
/// runtime's clock (paused or not).
#[derive(Clone, Copy, Debug, Default)]
pub struct Timer {
    _private: (),
}

impl Timer {
    /// The timer.
    pub fn new() -> Timer {
        Timer { _private: () }
    }
}

/// A keen [`time::Sleep`] as hyper's `rt::Sleep`.
#[derive(Debug)]
pub struct Sleep(time::Sleep);

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl ::hyper::rt::Sleep for Sleep {}

impl ::hyper::rt::Timer for Timer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(Sleep(time::sleep(duration)))
    }

    fn sleep_until(&self, deadline: StdInstant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(Sleep(time::sleep_until(Instant::from_std(deadline))))
    }

    fn now(&self) -> StdInstant {
        Instant::now().into_std()
    }

    /// Moves a keen sleep in place (no new allocation or timer entry).
    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: StdInstant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(mut ours) => ours.0.reset(Instant::from_std(new_deadline)),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}
