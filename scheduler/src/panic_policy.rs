//! The unhandled-panic policy of one runtime: what happens when a task
//! panics and no `JoinHandle` will ever see it, shared by both schedulers.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering::*};

use crate::config::UnhandledPanic;
use crate::task::{self, Id};

/// The message `block_on` panics with under `ShutdownRuntime`.
const SHUTDOWN_MESSAGE: &str = "a spawned task panicked and the runtime is configured to shut \
     down on unhandled panics (UnhandledPanic::ShutdownRuntime)";

#[derive(Debug)]
pub(crate) struct PanicPolicy {
    policy: UnhandledPanic,
    tripped: AtomicBool,
}

impl PanicPolicy {
    pub(crate) fn new(policy: UnhandledPanic) -> PanicPolicy {
        PanicPolicy {
            policy,
            tripped: AtomicBool::new(false),
        }
    }

    /// Applies the policy to an unobserved panic. `true`: the runtime must
    /// shut down, and the caller wakes its `block_on` threads so they see it.
    pub(crate) fn report(&self, id: Id, payload: &(dyn Any + Send)) -> bool {
        match self.policy {
            UnhandledPanic::Print => task::print_unhandled_panic(id, payload),
            UnhandledPanic::Ignore => {}
            UnhandledPanic::ShutdownRuntime => {
                task::print_unhandled_panic(id, payload);
                self.tripped.store(true, Release);
                return true;
            }
        }
        false
    }

    /// Panics in `block_on` once the policy asked for shutdown.
    pub(crate) fn check(&self) {
        if self.tripped.load(Acquire) {
            panic!("{SHUTDOWN_MESSAGE}");
        }
    }
}
