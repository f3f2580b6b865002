//! Bad use gets a clear error, never a hang: spawning outside a runtime,
//! `block_on` on a runtime thread, and the unhandled-panic policies.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use keen::runtime::{Builder, UnhandledPanic};
use keen::{Handle, task};
use keen_suite::{ALL, each, panic_message, signal};

#[test]
fn spawn_outside_a_runtime_names_the_fix() {
    let err = catch_unwind(|| drop(keen::spawn(async {}))).unwrap_err();
    let msg = panic_message(&*err);
    assert!(msg.contains("no keen runtime"), "{msg}");
    assert!(msg.contains("block_on") && msg.contains("Handle"), "{msg}");
    assert!(Handle::try_current().is_err());
}

#[test]
fn block_on_on_a_runtime_thread_panics_clearly() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        // Inside block_on.
        let msg = rt.block_on(async {
            let handle = Handle::current();
            let err = catch_unwind(AssertUnwindSafe(|| handle.block_on(async {}))).unwrap_err();
            panic_message(&*err)
        });
        assert!(
            msg.contains("cannot call `block_on` from a keen runtime thread"),
            "{msg}"
        );
        // Inside a task (a worker on multi-thread).
        let err = rt
            .block_on(async {
                keen::spawn_lazy(async {
                    task::yield_now().await;
                    Handle::current().block_on(async {})
                })
                .await
            })
            .unwrap_err();
        assert!(panic_message(&*err.into_panic()).contains("spawn_blocking"));
    });
}

#[test]
fn block_on_inside_spawn_blocking_works() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        let out = rt.block_on(async {
            keen::spawn_blocking(|| {
                let handle = Handle::current();
                handle.block_on(async {
                    // The nested block_on can spawn and join, too.
                    keen::spawn(async { 20 }).await.unwrap() + 1
                })
            })
            .await
            .unwrap()
        });
        assert_eq!(out, 21);
    });
}

#[test]
fn spawn_blocking_panics_reach_the_handle_and_threads_are_counted() {
    each(&ALL, |cfg| {
        let rt = cfg.build();
        rt.block_on(async {
            let err = keen::spawn_blocking(|| panic!("blocking boom"))
                .await
                .unwrap_err();
            assert!(err.is_panic());
            assert!(keen::spawn_blocking(|| 3).await.unwrap() == 3);
        });
        assert!(rt.metrics().blocking_threads >= 1);
    });
}

/// Runs `body` in `block_on` of a runtime with the `ShutdownRuntime`
/// policy, expecting `block_on` to panic because of it.
fn expect_policy_shutdown<F: std::future::Future<Output = ()>>(mut builder: Builder, body: F) {
    let rt = builder
        .unhandled_panic(UnhandledPanic::ShutdownRuntime)
        .build()
        .unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| rt.block_on(body))).unwrap_err();
    assert!(panic_message(&*err).contains("ShutdownRuntime"));
}

#[test]
fn shutdown_runtime_policy_stops_block_on() {
    for multi in [false, true] {
        let mut builder = if multi {
            Builder::new_multi_thread()
        } else {
            Builder::new_current_thread()
        };
        if multi {
            builder.worker_threads(2);
        }
        let (_trigger, never) = signal();
        expect_policy_shutdown(builder, async {
            // Detached, and panicking after promotion.
            drop(keen::spawn(async {
                task::yield_now().await;
                panic!("unobserved")
            }));
            never.await
        });
    }
}

#[test]
fn shutdown_runtime_policy_also_sees_eager_panics_with_dropped_handles() {
    let (_trigger, never) = signal();
    expect_policy_shutdown(Builder::new_current_thread(), async {
        drop(keen::spawn(async { panic!("eager, unobserved") }));
        never.await
    });
}

#[test]
fn observed_panics_do_not_trigger_the_policy() {
    let rt = Builder::new_current_thread()
        .unhandled_panic(UnhandledPanic::ShutdownRuntime)
        .build()
        .unwrap();
    let out = rt.block_on(async {
        let err = keen::spawn(async { panic!("observed") }).await.unwrap_err();
        task::yield_now().await;
        err.is_panic()
    });
    assert!(out);
}

#[test]
fn thread_hooks_and_names() {
    let starts = Arc::new(AtomicUsize::new(0));
    let stops = Arc::new(AtomicUsize::new(0));
    let (s1, s2) = (starts.clone(), stops.clone());
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("hooked")
        .on_thread_start(move || {
            s1.fetch_add(1, Ordering::SeqCst);
        })
        .on_thread_stop(move || {
            s2.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let name = rt.block_on(async {
        keen::spawn_lazy(async { std::thread::current().name().map(str::to_owned) })
            .await
            .unwrap()
    });
    assert_eq!(name.as_deref(), Some("hooked"));
    drop(rt);
    assert_eq!(starts.load(Ordering::SeqCst), stops.load(Ordering::SeqCst));
    assert!(starts.load(Ordering::SeqCst) >= 2);
}

#[test]
fn futures_task_spawn_traits() {
    use futures_task::{FutureObj, LocalFutureObj, LocalSpawn, Spawn};
    let rt = Builder::new_current_thread().build().unwrap();
    let handle = rt.handle().clone();
    let (trigger, done) = signal();
    rt.block_on(async {
        handle
            .spawn_obj(FutureObj::new(Box::new(async move { trigger.fire() })))
            .unwrap();
        done.await;
        let local = std::rc::Rc::new(5);
        handle
            .spawn_local_obj(LocalFutureObj::new(Box::new(async move {
                assert_eq!(*local, 5)
            })))
            .unwrap();
    });
    // Off the driving thread, local spawning is refused.
    assert!(
        handle
            .spawn_local_obj(LocalFutureObj::new(Box::new(async {})))
            .is_err()
    );
}

#[test]
fn dropping_the_runtime_frees_it() {
    // The hooks live inside the runtime; if anything kept the runtime
    // alive (an Arc cycle), the token they capture would never drop.
    for multi in [false, true] {
        let drops = keen_suite::DropCounter::new();
        let token = drops.token();
        let mut builder = if multi {
            Builder::new_multi_thread()
        } else {
            Builder::new_current_thread()
        };
        let rt = builder
            .on_thread_start(move || {
                let _ = &token;
            })
            .build()
            .unwrap();
        rt.block_on(async { keen::spawn_blocking(|| ()).await.unwrap() });
        drop(builder);
        drop(rt);
        assert_eq!(drops.get(), 1, "runtime (multi = {multi}) was not freed");
    }
}
