//! Loom models of `RwLock` (a `RawSemaphore` of `max_readers` permits:
//! one per reader, all for a writer): readers and writers never overlap
//! (the data is a loom-tracked cell, so an access the permits do not order
//! fails the model), a queued writer holds back every later reader and
//! every `try_*`, a cancelled waiter (queued or already handed the lock)
//! passes what it was given on, and `downgrade` lets no writer in. Run
//! with `RUSTFLAGS="--cfg loom --cfg crossbeam_loom"
//! LOOM_MAX_PREEMPTIONS=2 cargo test -p keen --release --lib loom_rwlock`.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Release};

use loom::future::block_on;
use loom::sync::atomic::AtomicBool;
use loom::thread;

use crate::loom_support::{Tracked, poll_once};
use crate::sync::RwLock;

fn lock() -> Arc<RwLock<Tracked>> {
    Arc::new(RwLock::new(Tracked::new(0)))
}

/// Two readers and a writer on three threads: the writer's write and the
/// readers' reads are ordered by the lock (loom tracks the cell), each
/// reader sees 0 or 1, and the writer's increment is not lost.
#[test]
fn loom_readers_and_a_writer_never_overlap() {
    loom::model(|| {
        let lock = lock();
        let writer = {
            let lock = lock.clone();
            thread::spawn(move || {
                let guard = block_on(lock.write());
                guard.set(guard.get() + 1);
            })
        };
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || block_on(lock.read()).get())
        };
        let here = block_on(lock.read()).get();
        assert!(here <= 1);
        assert!(reader.join().unwrap() <= 1);
        writer.join().unwrap();
        assert_eq!(lock.try_read().unwrap().get(), 1);
    });
}

/// A reader holds the lock and a writer is queued. Another thread's
/// `try_read` and `read` race the first reader's release: neither gets in
/// before the writer is done (write preference, no barging), and the
/// writer gets the lock straight from the release.
#[test]
fn loom_a_queued_writer_holds_back_later_readers() {
    loom::model(|| {
        let lock = lock();
        let first = lock.clone().try_read_owned().unwrap();
        let mut writer = Box::pin(lock.write());
        assert!(poll_once(writer.as_mut()).is_pending());
        let written = Arc::new(AtomicBool::new(false));
        let late = {
            let (lock, written) = (lock.clone(), written.clone());
            thread::spawn(move || {
                if let Ok(guard) = lock.try_read() {
                    assert!(written.load(Acquire), "try_read barged past the writer");
                    assert_eq!(guard.get(), 1);
                }
                let guard = block_on(lock.read());
                assert!(written.load(Acquire), "a later reader overtook the writer");
                assert_eq!(guard.get(), 1);
            })
        };
        drop(first);
        let std::task::Poll::Ready(guard) = poll_once(writer.as_mut()) else {
            panic!("the release handed the writer the lock");
        };
        guard.set(1);
        written.store(true, Release);
        drop(guard);
        late.join().unwrap();
    });
}

/// A reader holds the lock; a writer and then a reader queue behind it.
/// The writer is cancelled while the first reader releases: whichever
/// comes first, the reader it held back gets in, and nothing is lost
/// (a writer can take the whole lock afterwards).
#[test]
fn loom_cancelled_queued_writer_racing_a_release() {
    loom::model(|| {
        let lock = lock();
        let first = lock.clone().try_read_owned().unwrap();
        let mut writer = Box::pin(lock.write());
        assert!(poll_once(writer.as_mut()).is_pending());
        let mut reader = pin!(lock.read());
        assert!(poll_once(reader.as_mut()).is_pending());
        let releaser = thread::spawn(move || drop(first));
        drop(writer);
        releaser.join().unwrap();
        let std::task::Poll::Ready(guard) = poll_once(reader.as_mut()) else {
            panic!("the reader held back by the cancelled writer is stuck");
        };
        assert_eq!(guard.get(), 0);
        drop(guard);
        assert!(lock.try_write().is_ok(), "every permit came back");
    });
}

/// A writer holds the lock; a reader and then a writer queue. The reader
/// is cancelled while the release hands it its permit: the permit goes on
/// and the writer behind it gets the lock.
#[test]
fn loom_granted_reader_cancelled_passes_the_permit_on() {
    loom::model(|| {
        let lock = lock();
        let held = lock.clone().try_write_owned().unwrap();
        let mut reader = Box::pin(lock.read());
        assert!(poll_once(reader.as_mut()).is_pending());
        let mut writer = pin!(lock.write());
        assert!(poll_once(writer.as_mut()).is_pending());
        let releaser = thread::spawn(move || drop(held));
        drop(reader);
        releaser.join().unwrap();
        assert!(
            poll_once(writer.as_mut()).is_ready(),
            "the cancelled reader's permit was not passed on"
        );
    });
}

/// A writer downgrades while another writer and a reader arrive on other
/// threads: the downgraded guard still sees its own write (no writer got
/// in between), and everyone finishes.
#[test]
fn loom_downgrade_racing_a_writer_and_a_reader() {
    loom::model(|| {
        let lock = lock();
        let guard = lock.try_write().unwrap();
        guard.set(1);
        let writer = {
            let lock = lock.clone();
            thread::spawn(move || {
                let guard = block_on(lock.write());
                guard.set(guard.get() + 10);
            })
        };
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || block_on(lock.read()).get())
        };
        let read = guard.downgrade();
        assert_eq!(read.get(), 1, "a writer got in during the downgrade");
        drop(read);
        let seen = reader.join().unwrap();
        assert!(seen == 1 || seen == 11);
        writer.join().unwrap();
        assert_eq!(lock.try_read().unwrap().get(), 11);
    });
}

/// A writer and then a reader are queued behind a write guard that is
/// downgraded: the queued writer keeps its place (not enough permits for
/// it yet, and the reader behind it stays queued), and a `try_read` from
/// another thread never gets past it, until the writer has been and gone.
#[test]
fn loom_try_read_never_barges_past_a_writer_queued_across_downgrade() {
    loom::model(|| {
        let lock = lock();
        let guard = lock.try_write().unwrap();
        let mut writer = pin!(lock.write());
        assert!(poll_once(writer.as_mut()).is_pending());
        let mut reader = pin!(lock.read());
        assert!(poll_once(reader.as_mut()).is_pending());
        let written = Arc::new(AtomicBool::new(false));
        let barger = {
            let (lock, written) = (lock.clone(), written.clone());
            thread::spawn(move || {
                if let Ok(guard) = lock.try_read() {
                    assert!(written.load(Acquire), "try_read barged past the writer");
                    assert_eq!(guard.get(), 1);
                }
            })
        };
        let read = guard.downgrade();
        assert!(
            poll_once(reader.as_mut()).is_pending(),
            "FIFO: the writer is first"
        );
        assert!(
            poll_once(writer.as_mut()).is_pending(),
            "a reader still holds it"
        );
        drop(read);
        let std::task::Poll::Ready(w) = poll_once(writer.as_mut()) else {
            panic!("the last reader's release hands the writer the lock");
        };
        w.set(1);
        written.store(true, Release);
        drop(w);
        assert!(poll_once(reader.as_mut()).is_ready());
        barger.join().unwrap();
    });
}
