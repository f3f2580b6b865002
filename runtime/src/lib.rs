//! `keen`: an async runtime whose `spawn` is eager.
//!
//! This crate will be the one users depend on: `Runtime`, `Builder` and
//! `Handle`, time, cancel scopes, task groups, sync primitives, task-locals,
//! the blocking pool and common patterns. It wires `keen-scheduler` (tasks and
//! workers) to `keen-timer-wheel` (deadlines).
//!
//! Status: skeleton. The runtime facade lands with issue 3; see
//! `docs/architecture.md`.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
