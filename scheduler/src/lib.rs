//! `keen-scheduler`: the task machinery under the `keen` runtime.
//!
//! This crate owns raw tasks (one allocation each, header first), the eager
//! first poll and the promotion of a task that returned `Pending`, join
//! handles, the run queues, the current-thread and the work-stealing
//! multi-thread schedulers, and worker parking through a [`park::Driver`].
//! It knows nothing of time or cancel scopes; the `keen` crate stacks those
//! on top and is the crate users should depend on.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    clippy::undocumented_unsafe_blocks
)]

pub mod activity;
pub mod config;
pub mod context;
mod eager;
mod flavors;
mod handle;
pub mod locals;
mod loom;
mod metrics;
mod panic_policy;
pub mod park;
pub mod task;

pub use config::{Config, UnhandledPanic};
pub use eager::SpawnMode;
pub use flavors::{Spawner, with_runtime_thread};
pub use handle::{Flavor, Handle, NESTED_BLOCK_ON, Scheduler};
pub use metrics::MetricsSnapshot;

#[cfg(loom)]
#[doc(hidden)]
pub use loom::loom_sync;

#[cfg(all(test, loom))]
#[path = "../tests/loom_task.rs"]
mod loom_task;

#[cfg(all(test, loom))]
#[path = "../tests/loom_state.rs"]
mod loom_state;

#[cfg(all(test, loom))]
#[path = "../tests/loom_park.rs"]
mod loom_park;

#[cfg(all(test, loom, crossbeam_loom))]
#[path = "../tests/loom_steal.rs"]
mod loom_steal;
