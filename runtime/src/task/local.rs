//! Task-local storage: [`task_local!`](crate::task_local) keys whose values
//! live in the task (not the thread), so they follow a task across workers,
//! are copied into every child at spawn (eager, lazy or blocking), and a
//! child's change never reaches its parent. A task's values are dropped when
//! it finishes; a panic in such a drop is reported like a panic nobody
//! observed (the runtime's `UnhandledPanic` policy once the task was
//! promoted, printed otherwise) and never reaches the scheduler or spawner.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use keen_scheduler::context::{NoTaskError, local_get, local_insert, local_remove};
use keen_scheduler::locals::LocalValue;

/// Declares task-local keys.
///
/// ```
/// keen::task_local! {
///     static REQUEST_ID: u64;
/// }
///
/// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     REQUEST_ID.set(1);
///     let child = keen::spawn(async {
///         let inherited = REQUEST_ID.get();
///         REQUEST_ID.set(2); // the child's own copy
///         inherited
///     });
///     assert_eq!(child.await.unwrap(), 1);
///     assert_eq!(REQUEST_ID.get(), 1);
/// });
/// ```
#[macro_export]
macro_rules! task_local {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = $crate::task::LocalKey::new();
        $crate::task_local!($($rest)*);
    };
    () => {};
}

/// A task-local key; declare one with [`task_local!`](crate::task_local).
/// Values are shared between a parent and its children until one of them
/// sets its own, so they must be `Send + Sync`.
pub struct LocalKey<T: 'static> {
    // A byte, so each key static has an address of its own: the address
    // is the key's identity.
    _unique: u8,
    _type: PhantomData<fn() -> T>,
}

/// Error of a task-local read outside a task, or of a key with no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessError {
    /// Not inside a keen task or `block_on`.
    NoTask,
    /// The current task has no value under this key.
    Unset,
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessError::NoTask => fmt::Display::fmt(&NoTaskError, f),
            AccessError::Unset => f.write_str("task-local value not set in this task"),
        }
    }
}

impl std::error::Error for AccessError {}

impl<T: Send + Sync + 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn new() -> LocalKey<T> {
        LocalKey {
            _unique: 0,
            _type: PhantomData,
        }
    }

    fn id(&'static self) -> usize {
        self as *const Self as usize
    }

    fn value(&'static self) -> Result<Arc<T>, AccessError> {
        let value = local_get(self.id())
            .map_err(|_| AccessError::NoTask)?
            .ok_or(AccessError::Unset)?;
        Ok(value
            .downcast::<T>()
            .expect("a task-local key always stores its own type"))
    }

    /// Sets the current task's value (children spawned later inherit it).
    ///
    /// # Panics
    /// Outside a task or `block_on`.
    #[track_caller]
    pub fn set(&'static self, value: T) {
        let old = local_insert(self.id(), Arc::new(value)).unwrap_or_else(|e| panic!("{e}"));
        drop(old); // after the map's borrow ended: a value's `Drop` may run here
    }

    /// Removes the current task's value, returning whether one was set.
    pub fn remove(&'static self) -> Result<bool, AccessError> {
        let old = local_remove(self.id()).map_err(|_| AccessError::NoTask)?;
        Ok(old.is_some())
    }

    /// Runs `f` with a reference to the current task's value.
    ///
    /// # Panics
    /// Outside a task, or if no value is set.
    #[track_caller]
    pub fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        match self.value() {
            Ok(v) => f(&v),
            Err(e) => panic!("{e}"),
        }
    }

    /// Runs `f` with a reference to the current task's value, or an error.
    ///
    /// ```
    /// keen::task_local! { static NAME: String; }
    /// keen::block_on(async {
    ///     assert_eq!(NAME.try_with(|n| n.len()), Err(keen::task::AccessError::Unset));
    ///     NAME.set("keen".into());
    ///     assert_eq!(NAME.try_with(|n| n.len()), Ok(4));
    /// });
    /// ```
    pub fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        self.value().map(|v| f(&v))
    }

    /// A copy of the current task's value.
    ///
    /// # Panics
    /// Outside a task, or if no value is set.
    #[track_caller]
    pub fn get(&'static self) -> T
    where
        T: Clone,
    {
        self.with(T::clone)
    }

    /// A copy of the current task's value, or an error.
    pub fn try_get(&'static self) -> Result<T, AccessError>
    where
        T: Clone,
    {
        self.try_with(T::clone)
    }

    /// Runs `future` with this key set to `value` while it is polled; the
    /// outer value (or its absence) is back in place between polls and after.
    ///
    /// ```
    /// keen::task_local! { static DEPTH: u32; }
    /// keen::block_on(async {
    ///     let inner = DEPTH.scope(1, async { DEPTH.get() }).await;
    ///     assert_eq!(inner, 1);
    ///     assert!(DEPTH.try_get().is_err()); // unset again outside the scope
    /// });
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> Scope<T, F> {
        Scope {
            key: self,
            value: Arc::new(value),
            future,
        }
    }

    /// Runs `f` with this key set to `value`, then restores the outer value.
    ///
    /// # Panics
    /// Outside a task or `block_on`.
    #[track_caller]
    pub fn sync_scope<R>(&'static self, value: T, f: impl FnOnce() -> R) -> R {
        let _restore = Swap::enter(self.id(), Arc::new(value));
        f()
    }
}

/// Installs a value and puts the outer one back on drop (unwind included).
struct Swap {
    key: usize,
    outer: Option<LocalValue>,
}

impl Swap {
    #[track_caller]
    fn enter(key: usize, value: LocalValue) -> Swap {
        let outer = local_insert(key, value).unwrap_or_else(|e| panic!("{e}"));
        Swap { key, outer }
    }
}

impl Drop for Swap {
    fn drop(&mut self) {
        let inner = match self.outer.take() {
            Some(outer) => local_insert(self.key, outer),
            None => local_remove(self.key),
        };
        drop(inner);
    }
}

/// The future of [`LocalKey::scope`].
pub struct Scope<T: 'static, F> {
    key: &'static LocalKey<T>,
    value: Arc<T>,
    future: F,
}

impl<T: Send + Sync + 'static, F: Future> Future for Scope<T, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of
        // `Scope`, and `Scope` has no `Drop` impl or `Unpin` impl that could
        // move it.
        let this = unsafe { self.get_unchecked_mut() };
        let value: Arc<dyn Any + Send + Sync> = this.value.clone();
        let _restore = Swap::enter(this.key.id(), value);
        // SAFETY: see above; `this.future` stays where it is.
        unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx)
    }
}

impl<T: 'static, F> fmt::Debug for Scope<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Scope")
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LocalKey")
    }
}
