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

#[cfg(not(loom))]
pub(crate) use parking_lot::{RwLock, RwLockReadGuard};

#[cfg(loom)]
pub(crate) use self::loom_rwlock::{RwLock, RwLockReadGuard};

/// parking_lot's `RwLock` API (no poisoning: `read`/`write` return the
/// guard) over loom's, for `watch`.
#[cfg(loom)]
mod loom_rwlock {
    pub(crate) type RwLockReadGuard<'a, T> = loom::sync::RwLockReadGuard<'a, T>;

    #[derive(Debug)]
    pub(crate) struct RwLock<T>(loom::sync::RwLock<T>);

    impl<T> RwLock<T> {
        pub(crate) fn new(value: T) -> Self {
            RwLock(loom::sync::RwLock::new(value))
        }
        pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read().unwrap()
        }
        pub(crate) fn write(&self) -> loom::sync::RwLockWriteGuard<'_, T> {
            self.0.write().unwrap()
        }
    }
}

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
