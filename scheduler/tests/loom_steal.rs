//! Loom model of stealing: a worker pops from its own deque while a sibling
//! steals half of it. Every task must run exactly once: a lost task would
//! leave its join waiting forever (loom reports the deadlock), a task run
//! twice would corrupt its reference count. Needs the deque itself under
//! loom: run with `RUSTFLAGS="--cfg loom --cfg crossbeam_loom"`.

use crossbeam_deque::{Steal, Worker};
use loom::sync::Arc;
use loom::thread;

use crate::loom_task::{Setup, TestScheduler, setup_on};

#[test]
fn loom_steal_races_pop() {
    let mut builder = loom::model::Builder::new();
    // The deque's epoch machinery makes the full space huge; two
    // preemptions cover the pop/steal races on the two tasks.
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let s = TestScheduler::default();
        let a = setup_on(s.clone());
        let b = setup_on(s.clone());
        a.waker.wake_by_ref();
        b.waker.wake_by_ref();
        let local = Worker::new_fifo();
        for task in s.take_queue() {
            local.push(task);
        }
        let stealer = local.stealer();
        let thief = thread::spawn(move || {
            let mine = Worker::new_fifo();
            loop {
                match stealer.steal_batch_and_pop(&mine) {
                    Steal::Success(task) => {
                        task.run();
                        while let Some(task) = mine.pop() {
                            task.run();
                        }
                        return;
                    }
                    Steal::Empty => return,
                    Steal::Retry => thread::yield_now(),
                }
            }
        });
        while let Some(task) = local.pop() {
            task.run();
        }
        thief.join().unwrap();
        for Setup {
            token,
            handle,
            waker,
            ..
        } in [a, b]
        {
            drop(waker);
            drop(loom::future::block_on(handle).unwrap());
            assert_eq!(Arc::strong_count(&token), 1);
        }
    });
}
