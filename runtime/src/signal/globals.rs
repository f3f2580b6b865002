//! The process-wide half of `keen::signal`: one self-pipe (a non-blocking
//! Unix socket pair) and one [`Slot`] per signal number, created the first
//! time any runtime asks for a signal and never freed (signal handlers
//! cannot be taken back safely, and they point here).
//!
//! The handler keen installs for a signal (through `signal-hook-registry`,
//! which chains it after any handler already there) does two
//! async-signal-safe things: it sets the slot's `pending` flag, then writes
//! one byte to the pipe. Reactors that watch signals have the pipe's read
//! end in their epoll set; when it is readable the reactor calls
//! [`dispatch`], which drains the pipe, *then* takes every `pending` flag,
//! bumps that signal's `version` and wakes its listeners. Draining before
//! taking the flags means a delivery racing with a dispatch is either seen
//! by it or leaves a byte behind for the next one: none is lost.

use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::Waker;

use libc::c_int;
use parking_lot::Mutex;
use slab::Slab;

/// Signal numbers `0..SLOTS` have a slot (Linux's real-time signals end
/// at 64; other Unixes stop lower).
const SLOTS: usize = 65;

/// The signals no handler may be installed for (as tokio refuses them):
/// the two that cannot be caught and the synchronous faults, whose handler
/// returning would re-run the faulting instruction.
const FORBIDDEN: [c_int; 6] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
];

/// Everything keen knows about one signal number.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    /// Set by the handler, taken by [`dispatch`].
    pending: AtomicBool,
    /// Deliveries dispatched so far (coalesced: one per dispatch that
    /// found the flag set). A listener remembers the last one it saw.
    version: AtomicU64,
    /// Whether keen's handler is installed (under the lock: installing is
    /// rare and must happen once).
    installed: Mutex<bool>,
    /// The listeners waiting for the next version; a listener keeps its
    /// key for its whole life.
    waiters: Mutex<Slab<Option<Waker>>>,
}

/// The pipe and the slots.
#[derive(Debug)]
pub(crate) struct Globals {
    /// The handler writes here; never read.
    sender: UnixStream,
    /// Reactors watch this and [`dispatch`] drains it.
    receiver: UnixStream,
    slots: Box<[Slot]>,
    /// Reactors that watch the pipe and have not shut down.
    reactors: AtomicUsize,
}

static GLOBALS: OnceLock<Globals> = OnceLock::new();
/// Serialises the creation of [`GLOBALS`] (which can fail, so it is not a
/// plain `get_or_init`).
static CREATE: Mutex<()> = Mutex::new(());

/// The globals, created on first use.
pub(crate) fn globals() -> io::Result<&'static Globals> {
    if let Some(globals) = GLOBALS.get() {
        return Ok(globals);
    }
    let _creating = CREATE.lock();
    if let Some(globals) = GLOBALS.get() {
        return Ok(globals);
    }
    let (sender, receiver) = UnixStream::pair()?;
    sender.set_nonblocking(true)?;
    receiver.set_nonblocking(true)?;
    let globals = Globals {
        sender,
        receiver,
        slots: (0..SLOTS).map(|_| Slot::default()).collect(),
        reactors: AtomicUsize::new(0),
    };
    Ok(GLOBALS.get_or_init(|| globals))
}

/// Checks that keen may handle `signum`: an error (kind `Other`, as
/// tokio's) for a forbidden or out-of-range signal.
pub(crate) fn check(signum: c_int) -> io::Result<usize> {
    if FORBIDDEN.contains(&signum) {
        return Err(io::Error::other(format!(
            "keen: refusing to register signal {signum} (it cannot be caught, or is a fault)"
        )));
    }
    match usize::try_from(signum) {
        Ok(index) if (1..SLOTS).contains(&index) => Ok(index),
        _ => Err(io::Error::other(format!(
            "keen: signal {signum} is not a valid signal number"
        ))),
    }
}

impl Globals {
    /// The slot of a checked signal number.
    pub(crate) fn slot(&self, index: usize) -> &Slot {
        &self.slots[index]
    }

    /// The fd reactors register for readability.
    pub(crate) fn receiver_fd(&self) -> RawFd {
        self.receiver.as_raw_fd()
    }

    /// Installs keen's handler for `index` unless it already is.
    pub(crate) fn install(&'static self, index: usize) -> io::Result<()> {
        let slot = &self.slots[index];
        let mut installed = slot.installed.lock();
        if *installed {
            return Ok(());
        }
        let fd = self.sender.as_raw_fd();
        let action = move || {
            // `write` may set errno, and the interrupted code may be about
            // to read it: save it and put it back (POSIX asks handlers to).
            let errno = errno_location();
            // SAFETY: `errno_location` returns this thread's errno slot,
            // valid for the thread's life; reading and writing it is
            // async-signal-safe.
            let saved = unsafe { *errno };
            slot.pending.store(true, Ordering::SeqCst);
            let byte = 1u8;
            // SAFETY: `fd` is the pipe's write end, open for the life of
            // the process (the globals are never dropped); `byte` is a
            // live one-byte buffer. `write(2)` is async-signal-safe, and
            // its failure (a full pipe: a byte is already waiting) needs
            // no handling.
            let _ = unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
            // SAFETY: as above.
            unsafe { *errno = saved };
        };
        let signum = c_int::try_from(index).expect("checked signal numbers fit a c_int");
        // SAFETY: the action only stores to an atomic and calls
        // `write(2)`, both async-signal-safe; it allocates, locks and
        // panics nowhere. `check` kept the forbidden signals out (the
        // registry would panic on them).
        unsafe { signal_hook_registry::register(signum, action) }?;
        *installed = true;
        Ok(())
    }

    /// The number of deliveries of `index` dispatched so far.
    pub(crate) fn version(&self, index: usize) -> u64 {
        self.slots[index].version.load(Ordering::Acquire)
    }

    /// Whether some live reactor watches the pipe (otherwise no delivery
    /// will ever be dispatched).
    pub(crate) fn watched(&self) -> bool {
        self.reactors.load(Ordering::SeqCst) > 0
    }

    /// A reactor started watching the pipe.
    pub(crate) fn reactor_added(&self) {
        self.reactors.fetch_add(1, Ordering::SeqCst);
    }

    /// A watching reactor shut down: wakes every listener so one that is
    /// now unwatched ends (`recv` returns `None`).
    pub(crate) fn reactor_removed(&self) {
        self.reactors.fetch_sub(1, Ordering::SeqCst);
        for slot in self.slots.iter() {
            wake_all(slot);
        }
    }
}

impl Slot {
    /// Stores `waker` for the listener `key` (a new key if `None`) and
    /// returns the version current while the lock was held, so the caller
    /// can tell whether it must still wait (no lost wake: [`dispatch`]
    /// bumps the version before it takes this lock).
    pub(crate) fn wait(&self, key: &mut Option<usize>, waker: &Waker) -> u64 {
        let mut waiters = self.waiters.lock();
        match key {
            Some(key) => match &mut waiters[*key] {
                Some(old) if old.will_wake(waker) => {}
                entry => *entry = Some(waker.clone()),
            },
            None => *key = Some(waiters.insert(Some(waker.clone()))),
        }
        self.version.load(Ordering::Acquire)
    }

    /// The listener `key` is gone.
    pub(crate) fn remove(&self, key: usize) {
        self.waiters.lock().remove(key);
    }
}

/// This thread's `errno` slot.
fn errno_location() -> *mut c_int {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "emscripten"))]
    // SAFETY: no preconditions; returns the calling thread's errno slot.
    return unsafe { libc::__errno_location() };
    #[cfg(any(target_os = "macos", target_os = "ios", target_os = "freebsd"))]
    // SAFETY: no preconditions; returns the calling thread's errno slot.
    return unsafe { libc::__error() };
    #[cfg(any(target_os = "netbsd", target_os = "openbsd"))]
    // SAFETY: no preconditions; returns the calling thread's errno slot.
    return unsafe { libc::__errno() };
}

/// Takes every waker of `slot` and wakes them outside the lock.
fn wake_all(slot: &Slot) {
    let wakers: Vec<Waker> = slot
        .waiters
        .lock()
        .iter_mut()
        .filter_map(|(_, waker)| waker.take())
        .collect();
    for waker in wakers {
        waker.wake();
    }
}

/// Drains the pipe and hands every pending delivery to its listeners.
/// Called by a reactor whose turn saw the pipe readable; harmless (and
/// cheap) when nothing is pending, so any number of reactors may race.
pub(crate) fn dispatch() {
    let Some(globals) = GLOBALS.get() else {
        return;
    };
    let mut scratch = [0u8; 64];
    loop {
        match (&globals.receiver).read(&mut scratch) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            // WouldBlock: drained. Anything else cannot happen on a live
            // socket pair; the flags below are what matters anyway.
            Err(_) => break,
        }
    }
    for slot in globals.slots.iter() {
        if slot.pending.swap(false, Ordering::SeqCst) {
            slot.version.fetch_add(1, Ordering::AcqRel);
            wake_all(slot);
        }
    }
}
