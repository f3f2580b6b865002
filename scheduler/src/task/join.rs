//! `JoinHandle` and `AbortHandle`: the spawner's view of a task.
//!
//! A task that finished in its eager poll with nothing else referring to it
//! is freed before `spawn` returns; its handle then holds the output itself,
//! so awaiting it touches no task memory and no atomic. The handle is one
//! word plus the output slot, a shape small outputs return in registers
//! (the hot path of `spawn(ready).await` is a few loads, not a copy through
//! memory that stalls on the stores that just made it).
//!
//! | `word` (low two bits) | meaning                                              |
//! |-----------------------|------------------------------------------------------|
//! | `00`                  | a live task's header: join reference and interest   |
//! | `01` (`DONE`)         | a freed task's id (`word >> 2`); `output` is set    |
//! | `10` (`TAKEN`)        | a freed task's id; its output was returned          |

use std::fmt;
use std::future::Future;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::num::{NonZeroU64, NonZeroUsize};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::core::Header;
use super::{Id, JoinError, RawTask};

const TAG_MASK: usize = 0b11;
const DONE: usize = 0b01;
const TAKEN: usize = 0b10;

/// An owned permission to await a task's output.
///
/// Awaiting yields `Ok(output)`, or a [`JoinError`] if the task was cancelled
/// or panicked. Dropping the handle *detaches* the task: it keeps running.
/// A task that finished during its eager first poll is already finished when
/// `spawn` returns: [`is_finished`](Self::is_finished) is `true` at once.
///
/// Size: one word plus room for a `T`, which holds the output of a task
/// freed during its eager poll. For a large output, box it (or return it
/// through a channel) if the handle itself is moved around a lot.
pub struct JoinHandle<T> {
    /// See the module docs. A header is aligned to more than the tag bits
    /// (checked below), so a real pointer has both clear.
    word: NonNull<Header>,
    /// Initialised exactly while `word` is tagged `DONE`.
    output: MaybeUninit<T>,
}

// A real header pointer never has a tag bit set.
const _: () = assert!(std::mem::align_of::<Header>() > TAG_MASK);

/// A word with no provenance (it points at nothing) holding `addr`.
fn tagged(addr: NonZeroUsize) -> NonNull<Header> {
    NonNull::dangling().with_addr(addr)
}

/// What a handle's word says.
enum Word {
    Task(RawTask),
    Done(Id),
    Taken(Id),
}

// SAFETY: the handle moves the output (`T: Send`) to whichever thread awaits
// it; everything else it touches is synchronised by the task state.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads the state and requests aborts (atomic);
// it never gives access to a stored output.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// Takes over the join-handle reference and interest of `raw`.
    pub(crate) fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            word: raw.ptr,
            output: MaybeUninit::uninit(),
        }
    }

    /// The word of a freed task, if its id fits beside the tag bits (any
    /// id does on 64-bit targets).
    pub(crate) fn done_word(id: Id) -> Option<NonZeroUsize> {
        let shifted = usize::try_from(id.as_u64())
            .ok()?
            .checked_mul(TAG_MASK + 1)?;
        NonZeroUsize::new(shifted | DONE)
    }

    /// The handle of a freed task whose [`done_word`](Self::done_word) is
    /// `word` and whose output is `output`.
    pub(crate) fn ready(word: NonZeroUsize, output: T) -> JoinHandle<T> {
        debug_assert_eq!(word.get() & TAG_MASK, DONE);
        JoinHandle {
            word: tagged(word),
            output: MaybeUninit::new(output),
        }
    }

    fn word(&self) -> Word {
        let addr = self.word.addr().get();
        let id = || {
            let raw = NonZeroU64::new((addr >> 2) as u64).expect("a freed task's id is never 0");
            Id::from_raw(raw)
        };
        match addr & TAG_MASK {
            0 => Word::Task(RawTask { ptr: self.word }),
            DONE => Word::Done(id()),
            _ => Word::Taken(id()),
        }
    }

    /// Requests cancellation. A task that already finished is unaffected; a
    /// pending one has its future dropped at the next opportunity (at once
    /// if idle) and its handle then yields a cancelled [`JoinError`].
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, SpawnMode, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let task = rt.handle().spawn(SpawnMode::Eager, std::future::pending::<()>(), Locals::new());
    /// task.abort();
    /// assert!(rt.block_on(task).unwrap_err().is_cancelled());
    /// ```
    pub fn abort(&self) {
        if let Word::Task(raw) = self.word() {
            raw.remote_abort();
        }
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, SpawnMode, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let task = rt.handle().spawn(SpawnMode::Eager, async { 1 }, Locals::new());
    /// assert!(!task.is_finished()); // spawned from outside: queued
    /// let watch = task.abort_handle();
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// assert!(watch.is_finished());
    /// ```
    pub fn is_finished(&self) -> bool {
        match self.word() {
            Word::Task(raw) => raw.header().state.load().is_complete(),
            Word::Done(_) | Word::Taken(_) => true,
        }
    }

    /// A handle that can abort the task but not await it.
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, SpawnMode, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let task = rt.handle().spawn(SpawnMode::Eager, std::future::pending::<()>(), Locals::new());
    /// let abort = task.abort_handle();
    /// assert_eq!(abort.id(), task.id());
    /// abort.abort();
    /// assert!(rt.block_on(task).unwrap_err().is_cancelled());
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        match self.word() {
            Word::Task(raw) => {
                raw.header().state.ref_inc();
                AbortHandle(AbortInner::Task(raw))
            }
            Word::Done(id) | Word::Taken(id) => AbortHandle(AbortInner::Done(id)),
        }
    }

    /// The task's id.
    ///
    /// ```
    /// # use keen_scheduler::{Config, Scheduler, SpawnMode, locals::Locals, park::ParkThread};
    /// # let rt = Scheduler::new_current_thread(Config::default(), Box::new(ParkThread::new()));
    /// # rt.launch().unwrap();
    /// let a = rt.handle().spawn(SpawnMode::Eager, async {}, Locals::new());
    /// let b = rt.handle().spawn(SpawnMode::Eager, async {}, Locals::new());
    /// assert_ne!(a.id(), b.id());
    /// ```
    pub fn id(&self) -> Id {
        match self.word() {
            Word::Task(raw) => raw.header().id,
            Word::Done(id) | Word::Taken(id) => id,
        }
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let addr = this.word.addr().get();
        if addr & DONE != 0 {
            let taken = NonZeroUsize::new(addr ^ (DONE | TAKEN)).expect("the id bits are nonzero");
            // SAFETY: tagged `DONE`, so the output is initialised; the word
            // becomes `TAKEN` right after, with nothing in between that can
            // unwind, so it is read only this once.
            let output = unsafe { this.output.assume_init_read() };
            this.word = tagged(taken);
            return Poll::Ready(Ok(output));
        }
        let raw = match this.word() {
            Word::Task(raw) => raw,
            Word::Done(_) | Word::Taken(_) => {
                panic!("JoinHandle polled after it returned its output")
            }
        };
        let mut out: Poll<Result<T, JoinError>> = Poll::Pending;
        let header = raw.header();
        // SAFETY: we are the task's join handle and `out` has the type the
        // task's output slot was created with (`T` = `F::Output`).
        unsafe {
            (header.vtable.try_read_output)(raw.ptr, &mut out as *mut _ as *mut (), cx.waker())
        };
        out
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        match self.word() {
            // SAFETY: we are the join handle; this gives up its reference.
            Word::Task(raw) => unsafe { (raw.header().vtable.drop_join_handle)(raw.ptr) },
            Word::Done(id) => {
                // SAFETY: tagged `DONE`: initialised, and never read again
                // (the handle is going away).
                let output = ManuallyDrop::new(unsafe { self.output.assume_init_read() });
                // An unread output is dropped here, as a task's would be: a
                // panic in its drop is reported, not thrown at the caller.
                let dropped = panic::catch_unwind(AssertUnwindSafe(move || {
                    drop(ManuallyDrop::into_inner(output))
                }));
                if let Err(payload) = dropped {
                    super::print_unhandled_panic(id, &*payload);
                }
            }
            Word::Taken(_) => {}
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Aborts a task without owning its output.
pub struct AbortHandle(AbortInner);

enum AbortInner {
    /// A live task: the handle holds a reference.
    Task(RawTask),
    /// A task that finished and was freed: aborting it does nothing.
    Done(Id),
}

// SAFETY: an abort handle only touches the atomic state and, when the task
// must be queued for cancellation, its thread-safe scheduler.
unsafe impl Send for AbortHandle {}
// SAFETY: `abort` through `&AbortHandle` is the same atomic transition and
// scheduler call from any thread; nothing in the handle is mutated.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Requests cancellation; see [`JoinHandle::abort`].
    pub fn abort(&self) {
        if let AbortInner::Task(raw) = &self.0 {
            raw.remote_abort();
        }
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        match &self.0 {
            AbortInner::Task(raw) => raw.header().state.load().is_complete(),
            AbortInner::Done(_) => true,
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        match &self.0 {
            AbortInner::Task(raw) => raw.header().id,
            AbortInner::Done(id) => *id,
        }
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        match &self.0 {
            AbortInner::Task(raw) => {
                raw.header().state.ref_inc();
                AbortHandle(AbortInner::Task(*raw))
            }
            AbortInner::Done(id) => AbortHandle(AbortInner::Done(*id)),
        }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        if let AbortInner::Task(raw) = &self.0 {
            raw.drop_reference();
        }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}
