//! Task-locals: every child (eager, lazy, blocking) starts with a copy of its
//! parent's values, a child's change never reaches its parent, `scope`
//! restores the outer value, and values follow a task across workers.

use keen::task;
use keen_suite::{ALL, Config, each, signal};

keen::task_local! {
    static VALUE: u32;
    static NAME: String;
    static BOMB: Bomb;
}

/// A task-local value whose drop panics.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("task-local drop panicked");
    }
}

#[test]
fn a_panicking_task_local_drop_stays_inside_its_task() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let (ready, suspended) = rt.block_on(async {
            // Finishes in its eager poll (or first poll, when lazy).
            let ready = keen::spawn(async {
                BOMB.set(Bomb);
                1
            });
            // Finishes after a suspension, on whichever worker runs it.
            let suspended = keen::spawn(async {
                BOMB.set(Bomb);
                task::yield_now().await;
                2
            });
            (ready.await.unwrap(), suspended.await.unwrap())
        });
        assert_eq!((ready, suspended), (1, 2));
        // The runtime is unharmed: its workers still run tasks.
        assert_eq!(
            rt.block_on(async { keen::spawn(async { 3 }).await.unwrap() }),
            3
        );
    });
}

#[test]
fn children_inherit_a_copy_and_never_leak_back() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        rt.block_on(async {
            VALUE.set(1);
            let eager = keen::spawn(async {
                let seen = VALUE.get();
                VALUE.set(2);
                task::yield_now().await;
                (seen, VALUE.get())
            });
            let lazy = keen::spawn_lazy(async {
                let seen = VALUE.get();
                VALUE.set(3);
                (seen, VALUE.get())
            });
            let blocking = keen::spawn_blocking(|| {
                let seen = VALUE.get();
                VALUE.set(4);
                (seen, VALUE.get())
            });
            assert_eq!(VALUE.get(), 1, "parent unchanged after eager child set 2");
            assert_eq!(eager.await.unwrap(), (1, 2));
            assert_eq!(lazy.await.unwrap(), (1, 3));
            assert_eq!(blocking.await.unwrap(), (1, 4));
            assert_eq!(VALUE.get(), 1);
        });
    });
}

#[test]
fn grandchildren_inherit_the_childs_value() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let out = rt.block_on(async {
            VALUE.set(1);
            keen::spawn(async {
                VALUE.set(10);
                keen::spawn(async { VALUE.get() }).await.unwrap()
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 10);
    });
}

#[test]
fn unset_keys_and_outside_tasks_are_errors() {
    assert_eq!(VALUE.try_get(), Err(task::AccessError::NoTask));
    let rt = Config {
        flavor: keen_suite::Flavor::CurrentThread,
        eager: true,
    }
    .build();
    rt.block_on(async {
        assert_eq!(NAME.try_get(), Err(task::AccessError::Unset));
        NAME.set("x".into());
        assert_eq!(NAME.remove(), Ok(true));
        assert_eq!(NAME.try_get(), Err(task::AccessError::Unset));
    });
}

#[test]
fn scope_sets_while_polled_and_restores() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        rt.block_on(async {
            VALUE.set(1);
            let inner = VALUE
                .scope(5, async {
                    let before = VALUE.get();
                    task::yield_now().await;
                    let child = keen::spawn(async { VALUE.get() }).await.unwrap();
                    (before, VALUE.get(), child)
                })
                .await;
            assert_eq!(inner, (5, 5, 5));
            assert_eq!(VALUE.get(), 1);
            assert_eq!(VALUE.sync_scope(9, || VALUE.get()), 9);
            assert_eq!(VALUE.get(), 1);
        });
    });
}

#[test]
#[allow(
    clippy::async_yields_async,
    reason = "the join handle is returned on purpose, to be awaited on another thread"
)]
fn values_follow_a_task_to_another_thread() {
    // A current-thread runtime runs its tasks on whichever thread calls
    // `block_on`: a task that starts under one thread's `block_on` and
    // resumes under another's changes thread deterministically, and its
    // task-local value must come along.
    let rt = Config {
        flavor: keen_suite::Flavor::CurrentThread,
        eager: true,
    }
    .build();
    let (trigger, signal) = signal();
    let child = rt.block_on(async {
        keen::spawn(async move {
            VALUE.set(42);
            let first = std::thread::current().id();
            signal.await;
            (first, std::thread::current().id(), VALUE.get())
        })
    });
    let (first, resumed, value) = std::thread::scope(|s| {
        s.spawn(|| {
            trigger.fire();
            rt.block_on(child).unwrap()
        })
        .join()
        .unwrap()
    });
    assert_eq!(
        first,
        std::thread::current().id(),
        "first step on this thread"
    );
    assert_ne!(resumed, first, "resumed on the other thread");
    assert_eq!(value, 42);
}

#[test]
fn values_stay_with_their_tasks_under_stealing() {
    // Many tasks yielding on two workers, some resumed from a foreign
    // thread through the injector: wherever each one runs, it sees its own
    // value. (Which worker runs what is up to the scheduler; the test only
    // asserts the values.)
    let rt = Config {
        flavor: keen_suite::Flavor::MultiThread(2),
        eager: true,
    }
    .build();
    rt.block_on(async {
        let mut handles = Vec::new();
        let mut triggers = Vec::new();
        for i in 0..200u32 {
            let (trigger, signal) = signal();
            triggers.push(trigger);
            handles.push(keen::spawn(async move {
                VALUE.set(i);
                for _ in 0..20 {
                    task::yield_now().await;
                    assert_eq!(VALUE.get(), i);
                }
                signal.await;
                assert_eq!(VALUE.get(), i);
            }));
        }
        std::thread::spawn(move || triggers.into_iter().for_each(|t| t.fire()));
        for h in handles {
            h.await.unwrap();
        }
    });
}
