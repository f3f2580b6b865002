//! Task-locals: every child (eager, lazy, blocking) starts with a copy of its
//! parent's values, a child's change never reaches its parent, `scope`
//! restores the outer value, and values follow a task across workers.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use keen::task;
use keen_suite::{ALL, Config, each, signal};

keen::task_local! {
    static VALUE: u32;
    static NAME: String;
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
fn values_follow_tasks_across_workers() {
    let cfg = Config {
        flavor: keen_suite::Flavor::MultiThread(2),
        eager: true,
    };
    let rt = cfg.build();
    let threads = Arc::new(Mutex::new(HashSet::new()));
    rt.block_on(async {
        let mut handles = Vec::new();
        let mut triggers = Vec::new();
        for i in 0..200u32 {
            let threads = threads.clone();
            let (trigger, signal) = signal();
            triggers.push(trigger);
            handles.push(keen::spawn(async move {
                VALUE.set(i);
                for _ in 0..20 {
                    task::yield_now().await;
                    threads.lock().unwrap().insert(std::thread::current().id());
                    assert_eq!(VALUE.get(), i);
                }
                // Woken from a foreign thread: resumed by whichever worker
                // takes it from the injector.
                signal.await;
                assert_eq!(VALUE.get(), i);
            }));
        }
        std::thread::spawn(move || triggers.into_iter().for_each(|t| t.fire()));
        for h in handles {
            h.await.unwrap();
        }
    });
    // Both workers ran these tasks, so values had to travel with them.
    assert!(
        threads.lock().unwrap().len() >= 2,
        "expected tasks on both workers"
    );
}
