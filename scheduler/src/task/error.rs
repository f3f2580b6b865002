//! `JoinError`: why a task produced no value — it was cancelled, or it panicked.

use std::any::Any;
use std::fmt;

use super::Id;

/// The error a [`JoinHandle`](crate::task::JoinHandle) returns when its task
/// did not run to completion: it was cancelled (aborted, or dropped at
/// runtime shutdown) or it panicked (while polled, or while its future was
/// dropped).
pub struct JoinError {
    id: Id,
    repr: Repr,
}

enum Repr {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled(id: Id) -> JoinError {
        JoinError {
            id,
            repr: Repr::Cancelled,
        }
    }

    pub(crate) fn panic(id: Id, payload: Box<dyn Any + Send + 'static>) -> JoinError {
        JoinError {
            id,
            repr: Repr::Panic(payload),
        }
    }

    /// Whether the task was cancelled.
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, SpawnMode, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let task = rt.handle().spawn(SpawnMode::Eager, std::future::pending::<()>(), Locals::new());
    /// task.abort();
    /// let err = rt.block_on(task).unwrap_err();
    /// assert!(err.is_cancelled() && !err.is_panic());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task panicked.
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, SpawnMode, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let task = rt.handle().spawn(SpawnMode::Eager, async { panic!("boom") }, Locals::new());
    /// let err = rt.block_on(task).unwrap_err();
    /// assert!(err.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The panic payload; panics if the task was cancelled instead.
    /// Pass it to [`std::panic::resume_unwind`] to propagate the panic.
    #[track_caller]
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, SpawnMode, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let task = rt.handle().spawn(SpawnMode::Eager, async { panic!("boom") }, Locals::new());
    /// let payload = rt.block_on(task).unwrap_err().into_panic();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    /// ```
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("`JoinError::into_panic` called on a cancelled task's error")
    }

    /// The panic payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }

    pub(crate) fn panic_payload(&self) -> Option<&(dyn Any + Send)> {
        match &self.repr {
            Repr::Panic(payload) => Some(&**payload),
            Repr::Cancelled => None,
        }
    }
}

/// The text of a panic payload, when it is a string.
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "<non-string panic payload>"
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panic(p) => write!(f, "task {} panicked: {}", self.id, panic_message(&**p)),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({:?})", self.id),
            Repr::Panic(p) => write!(
                f,
                "JoinError::Panic({:?}, {:?})",
                self.id,
                panic_message(&**p)
            ),
        }
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err.to_string())
    }
}
