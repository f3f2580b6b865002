//! [`Executor`]: hyper's `rt::Executor` on a keen runtime.
//!
//! Decision: it spawns **lazily** by default (the task is queued, as with
//! tokio, whose `spawn` never polls at once): hyper calls `execute` from
//! inside a connection's poll, and its code was written for a runtime that
//! does not run the new task there. [`Executor::eager`] opts in to keen's
//! eager spawn (the HTTP/2 stream's first step runs inside `execute`); the
//! test suite runs every HTTP/2 case both ways.

use std::future::Future;

use crate::runtime::Handle;

/// Spawns hyper's background tasks on a keen runtime. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Executor {
    handle: Handle,
    eager: bool,
}

impl Executor {
    /// An executor on the current runtime, spawning lazily.
    ///
    /// # Panics
    ///
    /// Outside a keen runtime (see [`Handle::current`]).
    #[track_caller]
    pub fn new() -> Executor {
        Executor::with_handle(Handle::current())
    }

    /// An executor on `handle`'s runtime, spawning lazily.
    pub fn with_handle(handle: Handle) -> Executor {
        Executor {
            handle,
            eager: false,
        }
    }

    /// The same executor, spawning eagerly: a spawned task runs its first
    /// step inside `execute`.
    pub fn eager(self) -> Executor {
        Executor {
            eager: true,
            ..self
        }
    }
}

impl Default for Executor {
    /// [`Executor::new`].
    #[track_caller]
    fn default() -> Executor {
        Executor::new()
    }
}

impl<F> ::hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        // Detached, as hyper expects: the task's result is not awaited.
        if self.eager {
            drop(self.handle.spawn(future));
        } else {
            drop(self.handle.spawn_lazy(future));
        }
    }
}
