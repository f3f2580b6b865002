//! The blocking pool: where a runtime runs closures that may block.
//!
//! Owns [`BlockingPool`] (one per runtime, shared by everything in it; pools
//! never nest), its cheap cloneable [`BlockingSpawner`], the pool's
//! [`BlockingConfig`], the [`SpawnError`] a spawn on a shut-down pool returns,
//! and [`is_blocking_thread`], which tells whether the current thread belongs
//! to some blocking pool. The pool itself lives in `pool.rs`.
//!
//! The pool runs type-erased [`Job`]s; turning a closure with a result into a
//! job plus a join handle is the caller's business (the runtime's
//! `spawn_blocking`).

mod pool;

pub(crate) use pool::{BlockingConfig, BlockingPool, BlockingSpawner};
