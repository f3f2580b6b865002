//! Loom models of a task group's bookkeeping (`group/members.rs`): the
//! join racing a child's failure on another thread (the failure is never
//! lost and the joiner is never left unwoken, whichever comes first), and
//! two children finishing at once on two threads (exactly one wakes the
//! joiner, the group's scope is cancelled by the failure). No runtime is
//! needed: `Members` is the part of a group that holds no runtime handle.
//! Compiled as a module of `group` under `cfg(all(test, loom))`; see
//! `loom_semaphore.rs` for how to run it.

use std::sync::Arc;
use std::task::{Context, Poll};

use keen_scheduler::task::Id;
use loom::thread;

use super::error::ChildError;
use super::members::Members;
use crate::loom_support::counting_waker;
use crate::scope::CancelScope;

fn failure(id: u64) -> ChildError {
    ChildError::Failed {
        id: Id::for_loom_model(id),
        error: "child failed".into(),
    }
}

/// The joiner polls while the group's last child fails on another thread:
/// either the join sees the child live and is woken by its `child_done`,
/// or it sees it gone and reports its failure. Then the group's scope is
/// cancelled (a failure cancels the siblings) and the failure is reported
/// exactly once.
#[test]
fn loom_join_racing_a_childs_failure() {
    loom::model(|| {
        let scope = CancelScope::new();
        let members = Arc::new(Members::new());
        let child = members.register_child(&scope).unwrap();
        let failing = {
            let (members, scope) = (members.clone(), scope.clone());
            thread::spawn(move || members.child_done(&scope, child, Some(failure(1))))
        };
        let (woken, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let first = members.poll_join(&mut cx);
        failing.join().unwrap();
        let result = match first {
            Poll::Ready(result) => result,
            Poll::Pending => {
                assert!(woken.woken(), "the last child's end must wake the joiner");
                match members.poll_join(&mut cx) {
                    Poll::Ready(result) => result,
                    Poll::Pending => panic!("no child is live any more"),
                }
            }
        };
        let errors = result.expect_err("the failure is reported").into_errors();
        assert_eq!(errors.len(), 1);
        assert!(scope.is_cancelled(), "a failure cancels the group's scope");
    });
}

/// Two children end at once on two threads, one failing, while the group
/// is joined here: the joiner is woken (by whichever ends last) if it saw
/// either live, and the join reports the one failure.
#[test]
fn loom_two_children_ending_at_once_wake_the_joiner() {
    loom::model(|| {
        let scope = CancelScope::new();
        let members = Arc::new(Members::new());
        let a = members.register_child(&scope).unwrap();
        let b = members.register_child(&scope).unwrap();
        let (woken, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(members.poll_join(&mut cx).is_pending(), "two children live");
        let ends: Vec<_> = [(a, Some(failure(1))), (b, None)]
            .into_iter()
            .map(|(child, outcome)| {
                let (members, scope) = (members.clone(), scope.clone());
                thread::spawn(move || members.child_done(&scope, child, outcome))
            })
            .collect();
        for end in ends {
            end.join().unwrap();
        }
        assert_eq!(woken.get(), 1, "woken once, by the last child");
        match members.poll_join(&mut cx) {
            Poll::Ready(Err(err)) => assert_eq!(err.into_errors().len(), 1),
            other => panic!("expected the one failure, got {other:?}"),
        }
        assert!(members.register_child(&scope).is_none(), "joined: closed");
    });
}
