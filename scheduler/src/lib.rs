//! `keen-scheduler`: the task machinery under the `keen` runtime.
//!
//! This crate will own raw tasks (one allocation each, header first), the eager
//! first poll and the promotion of a task that returned `Pending`, join handles,
//! the run queues, the current-thread and the work-stealing multi-thread
//! schedulers, and worker parking through a driver trait. It knows nothing of
//! time or cancel scopes; the `keen` crate stacks those on top.
//!
//! Status: skeleton. The task core lands with issue 3; see `docs/architecture.md`.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
