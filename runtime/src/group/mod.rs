//! Task groups: structured concurrency on top of cancel scopes, as trio's
//! nurseries and anyio's task groups.
//!
//! A [`TaskGroup`] owns a [`CancelScope`] entered where the group is created
//! (so it is a child of the scope polling there). Every child task runs in a
//! scope of its own entered under the group's, so cancelling the group —
//! [`cancel`](GroupHandle::cancel), a deadline on
//! [`cancel_scope`](GroupHandle::cancel_scope), a failing sibling, or any
//! scope around the group — cancels every child at its next suspension
//! (shielded parts finish first). [`join`](TaskGroup::join) waits for every
//! child and returns every failure ([`GroupError`]); a scope around the
//! group that was cancelled catches only after the children have finished.
//! Dropping a group without joining it aborts its children.
//!
//! Children are spawned eagerly, like [`crate::spawn`] (or lazily with
//! [`spawn_lazy`](GroupHandle::spawn_lazy)); a child may return `()` or
//! `Result<(), E>` ([`ChildOutput`]). See `docs/structured-concurrency.md`.

mod child;
mod error;
mod members;
// Here, not in lib.rs: the models need the private `Members`.
#[cfg(all(test, loom))]
#[path = "../../tests/loom_group.rs"]
mod loom_group;
mod start;
mod state;

use std::fmt;
use std::future::{Future, poll_fn};
use std::ops::Deref;
use std::sync::Arc;

use self::child::{Child, StartReport};
pub use self::error::{BoxError, ChildError, ChildOutput, GroupError, StartError};
pub use self::start::Started;
use self::start::{Slot, Starting};
use self::state::GroupInner;
use crate::scope::{CancelScope, enclosing_scope};
use crate::task::AbortHandle;

/// A task group: children that run under one cancel scope and are joined
/// together. Derefs to its [`GroupHandle`], which spawns.
///
/// ```
/// use std::time::Duration;
/// use keen::group::TaskGroup;
///
/// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let tg = TaskGroup::new();
///     for ms in [3, 1, 2] {
///         tg.spawn(keen::time::sleep(Duration::from_millis(ms)));
///     }
///     tg.spawn(async { Err::<(), _>("boom") });
///     let err = tg.join().await.unwrap_err();
///     assert_eq!(err.errors().len(), 1); // the sleepers were cancelled, not failed
///     assert!(err.to_string().contains("boom"));
/// });
/// ```
pub struct TaskGroup {
    handle: GroupHandle,
    joined: bool,
}

/// A cloneable handle to a [`TaskGroup`], for spawning from its children or
/// from anywhere else. Spawning after the group was joined or dropped
/// panics.
#[derive(Clone)]
pub struct GroupHandle {
    inner: Arc<GroupInner>,
}

impl TaskGroup {
    /// A group whose scope is a child of the scope polling here (if any).
    ///
    /// # Panics
    /// Outside a runtime.
    #[track_caller]
    pub fn new() -> TaskGroup {
        TaskGroup {
            handle: GroupHandle {
                inner: GroupInner::new(),
            },
            joined: false,
        }
    }

    /// A handle to spawn with from elsewhere (children, other threads).
    pub fn handle(&self) -> GroupHandle {
        self.handle.clone()
    }

    /// Waits for every child: `Ok` if none failed (children cancelled by
    /// the group are not failures), otherwise every failure.
    ///
    /// If a scope around the group was cancelled (so the children were
    /// cancelled through it) and nothing failed, `join` does not return:
    /// it stays pending so that scope catches here, as a trio nursery
    /// re-raises `Cancelled`. Code after `join` never sees a group whose
    /// children were cut short from outside — also when that scope keeps
    /// polling its body for a while because a shielded scope elsewhere in
    /// it is still running (it drops the body once the shield is done).
    pub async fn join(mut self) -> Result<(), GroupError> {
        let inner = self.handle.inner.clone();
        let result = poll_fn(|cx| inner.poll_join(cx)).await;
        self.joined = true;
        inner.scope.inner.exit();
        let group = &inner.scope.inner;
        let cut_short_from_outside = !group.is_shielded()
            && group
                .parent()
                .is_some_and(|p| p.effective_reason().is_some());
        if result.is_ok() && cut_short_from_outside && polled_in_cancelled_scope() {
            // The innermost scope around this poll is cancelled, so one of
            // the scopes polling us catches when we are pending and no
            // shield holds it: it drops this future, which never resumes.
            std::future::pending::<()>().await;
        }
        result
    }
}

/// Whether the scope innermost around this poll is effectively cancelled.
/// (A group moved out of the scope it was made in and joined elsewhere
/// has no cancelled scope around its join: it returns as its children
/// left it.)
fn polled_in_cancelled_scope() -> bool {
    enclosing_scope().is_some_and(|scope| scope.effective_reason().is_some())
}

impl Default for TaskGroup {
    fn default() -> TaskGroup {
        TaskGroup::new()
    }
}

impl Deref for TaskGroup {
    type Target = GroupHandle;

    fn deref(&self) -> &GroupHandle {
        &self.handle
    }
}

impl Drop for TaskGroup {
    fn drop(&mut self) {
        if !self.joined {
            self.handle.inner.abort_all();
            self.handle.inner.scope.inner.exit();
        }
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("live", &self.handle.inner.live())
            .field("cancelled", &self.handle.inner.scope.is_cancelled())
            .finish()
    }
}

impl GroupHandle {
    /// Spawns a child, eagerly (polled here until its first suspension when
    /// called on a runtime thread, as [`crate::spawn`]). A child returning
    /// `Err` or panicking cancels its siblings; its error goes to `join`.
    ///
    /// # Panics
    /// If the group was joined or dropped.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> AbortHandle
    where
        F: Future + Send + 'static,
        F::Output: ChildOutput,
    {
        self.spawn_child(future, false, None).0
    }

    /// As [`spawn`](Self::spawn), but queued rather than polled here: the
    /// children then start in spawn order after the caller suspends, as in
    /// trio.
    #[track_caller]
    pub fn spawn_lazy<F>(&self, future: F) -> AbortHandle
    where
        F: Future + Send + 'static,
        F::Output: ChildOutput,
    {
        self.spawn_child(future, true, None).0
    }

    /// Spawns the child `f(started)` and waits until it calls
    /// `started.send(value)`; returns `value`. If the child fails, returns
    /// or is cancelled first, that comes out here as a [`StartError`] (and
    /// does not cancel the group). If this call is cancelled (dropped)
    /// before the child started, the child is cancelled.
    ///
    /// ```
    /// use keen::group::TaskGroup;
    ///
    /// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let tg = TaskGroup::new();
    ///     let port = tg.start(|started| async move {
    ///         started.send(8080u16); // bound and listening
    ///         keen::task::yield_now().await; // then serve…
    ///     }).await.unwrap();
    ///     assert_eq!(port, 8080);
    ///     tg.join().await.unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn start<T, F, Fut>(
        &self,
        f: F,
    ) -> impl Future<Output = Result<T, StartError>> + use<T, F, Fut>
    where
        T: Send + 'static,
        F: FnOnce(Started<T>) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: ChildOutput,
    {
        let this = self.clone();
        async move {
            let slot = Slot::new();
            let report: Arc<dyn StartReport> = slot.clone();
            let (_abort, scope) = this.spawn_child(f(slot.started()), false, Some(report));
            Starting::new(slot, scope).await
        }
    }

    /// Cancels the group: every child, at its next suspension.
    pub fn cancel(&self) {
        self.inner.scope.cancel();
    }

    /// Whether the group's scope was cancelled (not counting enclosing
    /// scopes).
    pub fn is_cancelled(&self) -> bool {
        self.inner.scope.is_cancelled()
    }

    /// The group's scope: give it a deadline, shield it, or cancel it.
    ///
    /// ```
    /// use std::time::Duration;
    /// use keen::group::TaskGroup;
    ///
    /// let rt = keen::runtime::Builder::new_current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let tg = TaskGroup::new();
    ///     tg.cancel_scope().set_deadline(keen::time::Instant::now() + Duration::from_millis(5));
    ///     tg.spawn(std::future::pending::<()>());
    ///     tg.join().await.unwrap(); // cancelled at the deadline: not a failure
    /// });
    /// ```
    pub fn cancel_scope(&self) -> CancelScope {
        self.inner.scope.clone()
    }

    #[track_caller]
    fn spawn_child<F>(
        &self,
        future: F,
        lazy: bool,
        start: Option<Arc<dyn StartReport>>,
    ) -> (AbortHandle, CancelScope)
    where
        F: Future + Send + 'static,
        F::Output: ChildOutput,
    {
        let inner = &self.inner;
        let Some(child) = inner.register_child() else {
            panic!("spawn into a task group that was already joined or dropped");
        };
        let scope = CancelScope::new();
        scope.inner.enter(Some(inner.scope.inner.clone()));
        let task = Child::new(inner.clone(), child, scope.clone(), future, start);
        let join = if lazy {
            inner.handle.spawn_lazy(task)
        } else {
            inner.handle.spawn(task)
        };
        let abort = join.abort_handle();
        inner.set_abort(child, abort.clone());
        (abort, scope)
    }
}

impl fmt::Debug for GroupHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupHandle")
            .field("live", &self.inner.live())
            .finish()
    }
}

/// Runs `body` with a new [`TaskGroup`] and joins the group before
/// returning, whatever the body does: `Ok(body's output)` if no child
/// failed, otherwise every failure.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use keen::group::task_group;
///
/// let rt = keen::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let total = Arc::new(AtomicU32::new(0));
///     let out = task_group(async |tg| {
///         for i in 1..=3 {
///             let total = total.clone();
///             tg.spawn(async move {
///                 keen::task::yield_now().await;
///                 total.fetch_add(i, Ordering::Relaxed);
///             });
///         }
///         "body done"
///     })
///     .await;
///     assert_eq!(out.unwrap(), "body done");
///     assert_eq!(total.load(Ordering::Relaxed), 6); // joined before returning
/// });
/// ```
pub async fn task_group<R>(body: impl AsyncFnOnce(&TaskGroup) -> R) -> Result<R, GroupError> {
    let group = TaskGroup::new();
    let out = body(&group).await;
    group.join().await.map(|()| out)
}
