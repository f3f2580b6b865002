//! The FIFO waiter queue every fair primitive in `keen::sync` is built on,
//! and [`Wakers`], which collects the wakers to call once a lock is dropped.
//!
//! A [`WaitList`] lives inside the primitive's `parking_lot::Mutex`. Each
//! waiting future owns one *node*, named by the key [`WaitList::push_back`]
//! returns; nodes are kept in a [`Slab`] and the queued ones are linked into
//! a doubly linked list by key, so a cancelled waiter leaves the middle of
//! the queue in O(1) and no `unsafe` is needed.
//!
//! Node life cycle (the key stays valid until step 3, because only the
//! owning future ever removes its node):
//!
//! 1. `push_back`: the node is [`Status::Queued`], at the back.
//! 2. The primitive hands something to the front node (`grant_front`): the
//!    node leaves the queue, becomes [`Status::Granted`] and its waker is
//!    returned to be woken after the lock is released. `close_all` does the
//!    same with [`Status::Closed`].
//! 3. The owning future, when polled or dropped, calls `remove`, which
//!    unlinks the node if it is still queued and tells which status it had.
//!    A future dropped in `Granted` owns what it was handed and must pass it
//!    on; that is how a cancelled waiter never blocks the ones behind it.
//!
//! Two primitives skip step 3 for grants: the semaphore tells a waiter it
//! was served through a ticket it can read without the lock
//! (`raw_semaphore.rs`), and a broadcast `recv` knows it was released once
//! the channel's tail moved past its position or the channel closed
//! (`broadcast/ring.rs`). They grant with [`WaitList::take_front`] /
//! [`WaitList::take_all`], which remove the node at once; its owner then
//! never uses that key again (the slab may hand it to a new waiter).

use std::fmt;
use std::task::Waker;

use slab::Slab;

/// Where a node is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// In the queue, waiting.
    Queued,
    /// Out of the queue: what it waited for was handed to it.
    Granted,
    /// Out of the queue: the primitive was closed before it was served.
    Closed,
}

/// Marks "no node" in the links.
const NIL: usize = usize::MAX;

struct Node<D> {
    data: D,
    waker: Option<Waker>,
    status: Status,
    prev: usize,
    next: usize,
}

/// A FIFO queue of waiters, each carrying `D` (how many permits it wants,
/// which borrower it is, or nothing).
pub(crate) struct WaitList<D> {
    nodes: Slab<Node<D>>,
    head: usize,
    tail: usize,
    queued: usize,
}

impl<D> WaitList<D> {
    /// An empty queue; allocates nothing.
    pub(crate) const fn new() -> WaitList<D> {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            queued: 0,
        }
    }

    /// Whether no node is queued (granted or closed nodes not yet removed
    /// by their futures do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// How many nodes are queued.
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    /// Queues a new node at the back and returns its key.
    pub(crate) fn push_back(&mut self, data: D, waker: Option<Waker>) -> usize {
        let key = self.nodes.insert(Node {
            data,
            waker,
            status: Status::Queued,
            prev: self.tail,
            next: NIL,
        });
        match self.tail {
            NIL => self.head = key,
            tail => self.nodes[tail].next = key,
        }
        self.tail = key;
        self.queued += 1;
        key
    }

    /// The data of the front node, if any node is queued.
    pub(crate) fn front(&self) -> Option<&D> {
        (self.head != NIL).then(|| &self.nodes[self.head].data)
    }

    /// The data of the front node, mutably (a notifier marks what it hands
    /// out before granting it).
    pub(crate) fn front_mut(&mut self) -> Option<&mut D> {
        (self.head != NIL).then(|| &mut self.nodes[self.head].data)
    }

    /// The node's status, leaving its waker as it is.
    pub(crate) fn status(&self, key: usize) -> Status {
        self.nodes[key].status
    }

    /// The data of every queued node, front to back.
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = &D> {
        let mut at = self.head;
        std::iter::from_fn(move || {
            let node = self.nodes.get(at)?;
            at = node.next;
            Some(&node.data)
        })
    }

    /// The data of the back node, mutably (`Notify::notify_last` marks what
    /// it hands out before granting it).
    pub(crate) fn back_mut(&mut self) -> Option<&mut D> {
        (self.tail != NIL).then(|| &mut self.nodes[self.tail].data)
    }

    /// Takes the back node (the newest) out of the queue as granted;
    /// returns whether there was one. Its waker goes into `wakers`.
    pub(crate) fn grant_back(&mut self, wakers: &mut Wakers) -> bool {
        let key = self.tail;
        if key == NIL {
            return false;
        }
        self.unlink(key);
        let node = &mut self.nodes[key];
        node.status = Status::Granted;
        wakers.push(node.waker.take());
        true
    }

    /// Takes the front node out of the queue as granted; returns whether
    /// there was one. Its waker goes into `wakers`.
    pub(crate) fn grant_front(&mut self, wakers: &mut Wakers) -> bool {
        self.finish_front(Status::Granted, wakers)
    }

    /// Takes the front node out of the queue *and* removes it (step 2 and 3
    /// at once), returning its data; its waker goes into `wakers`. For a
    /// primitive whose waiters learn that they were served some other way
    /// and never touch their key again.
    pub(crate) fn take_front(&mut self, wakers: &mut Wakers) -> Option<D> {
        let key = self.head;
        if key == NIL {
            return None;
        }
        self.unlink(key);
        let node = self.nodes.remove(key);
        wakers.push(node.waker);
        Some(node.data)
    }

    /// [`take_front`](Self::take_front) for every queued node.
    pub(crate) fn take_all(&mut self, wakers: &mut Wakers) {
        while self.take_front(wakers).is_some() {}
    }

    /// Grants every queued node.
    pub(crate) fn grant_all(&mut self, wakers: &mut Wakers) {
        while self.finish_front(Status::Granted, wakers) {}
    }

    /// Closes every queued node.
    pub(crate) fn close_all(&mut self, wakers: &mut Wakers) {
        while self.finish_front(Status::Closed, wakers) {}
    }

    fn finish_front(&mut self, status: Status, wakers: &mut Wakers) -> bool {
        let key = self.head;
        if key == NIL {
            return false;
        }
        self.unlink(key);
        let node = &mut self.nodes[key];
        node.status = status;
        wakers.push(node.waker.take());
        true
    }

    /// The node's status; while it is queued, its waker is replaced by
    /// `waker` (unless it would wake the same task already).
    pub(crate) fn poll(&mut self, key: usize, waker: &Waker) -> Status {
        let node = &mut self.nodes[key];
        if node.status == Status::Queued {
            match &mut node.waker {
                Some(old) if old.will_wake(waker) => {}
                slot => *slot = Some(waker.clone()),
            }
        }
        node.status
    }

    /// Removes the node for good (unlinking it if queued) and returns its
    /// data and the status it had. Only the node's owner calls this.
    pub(crate) fn remove(&mut self, key: usize) -> (D, Status) {
        if self.nodes[key].status == Status::Queued {
            self.unlink(key);
        }
        let node = self.nodes.remove(key);
        (node.data, node.status)
    }

    fn unlink(&mut self, key: usize) {
        let (prev, next) = {
            let node = &self.nodes[key];
            (node.prev, node.next)
        };
        match prev {
            NIL => self.head = next,
            prev => self.nodes[prev].next = next,
        }
        match next {
            NIL => self.tail = prev,
            next => self.nodes[next].prev = prev,
        }
        let node = &mut self.nodes[key];
        node.prev = NIL;
        node.next = NIL;
        self.queued -= 1;
    }
}

impl<D> fmt::Debug for WaitList<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList")
            .field("queued", &self.queued)
            .finish_non_exhaustive()
    }
}

/// Wakers to call after the primitive's lock is released: waking under
/// the lock would make the woken task's first act contend for it. The
/// common single wake needs no allocation. Dropping it wakes them all, so
/// no early return loses a wake.
#[derive(Default)]
pub(crate) struct Wakers {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl Wakers {
    /// An empty collection.
    pub(crate) const fn new() -> Wakers {
        Wakers {
            first: None,
            rest: Vec::new(),
        }
    }

    /// Adds a waker, if there is one.
    #[inline]
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        match (waker, &self.first) {
            (None, _) => {}
            (Some(waker), None) => self.first = Some(waker),
            (Some(waker), Some(_)) => self.rest.push(waker),
        }
    }

    /// Wakes every collected waker.
    #[inline]
    pub(crate) fn wake_all(self) {
        drop(self);
    }

    /// The wakers after the first (several waiters served at once).
    #[cold]
    fn wake_rest(&mut self) {
        for waker in self.rest.drain(..) {
            waker.wake();
        }
    }
}

impl Drop for Wakers {
    #[inline]
    fn drop(&mut self) {
        // `rest` is only ever filled after `first`.
        if let Some(waker) = self.first.take() {
            waker.wake();
            if !self.rest.is_empty() {
                self.wake_rest();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_and_removal_from_the_middle() {
        let mut list = WaitList::new();
        let a = list.push_back('a', None);
        let b = list.push_back('b', None);
        let c = list.push_back('c', None);
        assert_eq!(list.iter().copied().collect::<String>(), "abc");
        assert_eq!(list.remove(b), ('b', Status::Queued));
        assert_eq!(list.iter().copied().collect::<String>(), "ac");
        let mut wakers = Wakers::new();
        assert!(list.grant_front(&mut wakers));
        assert_eq!(list.front(), Some(&'c'));
        assert_eq!(list.len(), 1);
        assert_eq!(list.remove(a), ('a', Status::Granted));
        list.close_all(&mut wakers);
        assert!(list.is_empty());
        assert_eq!(list.remove(c), ('c', Status::Closed));
        assert!(!list.grant_front(&mut wakers));
    }

    #[test]
    fn keys_are_reused_only_after_removal() {
        let mut list = WaitList::new();
        let a = list.push_back(1, None);
        let mut wakers = Wakers::new();
        list.grant_front(&mut wakers);
        let b = list.push_back(2, None);
        assert_ne!(
            a, b,
            "a granted node keeps its key until its owner removes it"
        );
        list.remove(a);
        let c = list.push_back(3, None);
        assert_eq!(list.iter().copied().collect::<Vec<_>>(), [2, 3]);
        assert_eq!(c, a);
    }
}
