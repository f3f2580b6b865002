//! The one door to the atomics and locks of keen's sync primitives that
//! have loom models: `std` and `parking_lot` normally, loom under
//! `cfg(loom)`, so `tests/loom_*.rs` check the code that ships. (The
//! parking_lot-shaped wrapper over loom's mutex is the scheduler's, shared
//! under `cfg(loom)` only.)

#[cfg(not(loom))]
pub(crate) use parking_lot::{Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize};

#[cfg(loom)]
pub(crate) use keen_scheduler::loom_sync::{Mutex, MutexGuard};
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, AtomicU64, AtomicUsize};

/// Declares a `const fn` that is an ordinary `fn` under `cfg(loom)`
/// (loom's atomics and locks have no `const` constructors).
macro_rules! const_fn_unless_loom {
    ($(#[$meta:meta])* $vis:vis const fn $($rest:tt)*) => {
        #[cfg(not(loom))]
        $(#[$meta])* $vis const fn $($rest)*
        #[cfg(loom)]
        $(#[$meta])* $vis fn $($rest)*
    };
}
pub(crate) use const_fn_unless_loom;
