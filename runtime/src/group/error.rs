//! What a task group reports: [`GroupError`] (every child failure, none
//! lost), [`ChildError`], [`StartError`], and [`ChildOutput`], the outputs
//! a child may have.

use std::any::Any;
use std::error::Error;
use std::fmt;

use keen_scheduler::task::panic_message;

use crate::task::Id;

/// A child's error, boxed.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// What a task group child may return: `()` (it cannot fail) or
/// `Result<(), E>` (an `Err` is a failure that cancels its siblings). Values
/// leave a group through channels, or as the `started` value of
/// [`GroupHandle::start`](crate::group::GroupHandle::start).
pub trait ChildOutput: Send + 'static {
    /// The failure, if the child failed.
    fn into_failure(self) -> Option<BoxError>;
}

impl ChildOutput for () {
    fn into_failure(self) -> Option<BoxError> {
        None
    }
}

impl<E: Into<BoxError> + Send + 'static> ChildOutput for Result<(), E> {
    fn into_failure(self) -> Option<BoxError> {
        self.err().map(Into::into)
    }
}

/// How one child of a group failed.
pub enum ChildError {
    /// It returned `Err`.
    Failed {
        /// The child task.
        id: Id,
        /// Its error.
        error: BoxError,
    },
    /// It panicked.
    Panicked {
        /// The child task.
        id: Id,
        /// The panic's payload.
        payload: Box<dyn Any + Send + 'static>,
    },
}

impl ChildError {
    /// The child task that failed.
    pub fn id(&self) -> Id {
        match self {
            ChildError::Failed { id, .. } | ChildError::Panicked { id, .. } => *id,
        }
    }

    /// Whether the child panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, ChildError::Panicked { .. })
    }

    /// The error the child returned, if it returned one.
    pub fn error(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match self {
            ChildError::Failed { error, .. } => Some(&**error),
            ChildError::Panicked { .. } => None,
        }
    }

    /// The panic's payload, to resume it with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the child did not panic.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self {
            ChildError::Panicked { payload, .. } => payload,
            ChildError::Failed { .. } => {
                panic!("ChildError::into_panic on a child that returned Err")
            }
        }
    }
}

impl fmt::Debug for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildError::Failed { id, error } => f
                .debug_struct("Failed")
                .field("id", id)
                .field("error", error)
                .finish(),
            ChildError::Panicked { id, payload } => f
                .debug_struct("Panicked")
                .field("id", id)
                .field("message", &panic_message(&**payload))
                .finish(),
        }
    }
}

impl fmt::Display for ChildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildError::Failed { id, error } => write!(f, "task {id} failed: {error}"),
            ChildError::Panicked { id, payload } => {
                write!(f, "task {id} panicked: {}", panic_message(&**payload))
            }
        }
    }
}

/// Error of a group's `join`: every child that failed or panicked, in the
/// order they finished. Children cancelled by the group are not errors.
pub struct GroupError {
    errors: Vec<ChildError>,
}

impl GroupError {
    pub(crate) fn new(errors: Vec<ChildError>) -> GroupError {
        debug_assert!(!errors.is_empty());
        GroupError { errors }
    }

    /// Every failure, in the order the children finished.
    pub fn errors(&self) -> &[ChildError] {
        &self.errors
    }

    /// Every failure, owned (to resume a panic, say).
    pub fn into_errors(self) -> Vec<ChildError> {
        self.errors
    }
}

impl fmt::Debug for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("errors", &self.errors)
            .finish()
    }
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "{n} task{} of the group failed",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.errors.iter().enumerate() {
            write!(f, "{} {e}", if i == 0 { ":" } else { ";" })?;
        }
        Ok(())
    }
}

impl Error for GroupError {}

/// Error of [`GroupHandle::start`](crate::group::GroupHandle::start): the
/// child never called `started`.
#[derive(Debug)]
pub enum StartError {
    /// It failed or panicked first (the failure is reported here, not to
    /// the group, and does not cancel the group).
    Failed(ChildError),
    /// It returned without calling `started`.
    ExitedEarly,
    /// It was cancelled first (its group, or the caller of `start`, was).
    Cancelled,
    /// It dropped its [`Started`](crate::group::Started) without calling
    /// `send` and kept running. It goes on as an ordinary member of the
    /// group (its failures from now on go to the group's `join`).
    NeverSignalled,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Failed(e) => write!(f, "the started task failed before it started: {e}"),
            StartError::ExitedEarly => {
                f.write_str("the started task returned without calling started")
            }
            StartError::Cancelled => {
                f.write_str("the started task was cancelled before it started")
            }
            StartError::NeverSignalled => f.write_str(
                "the started task dropped its `Started` without calling `send`; \
                 it keeps running in the group",
            ),
        }
    }
}

impl Error for StartError {}
