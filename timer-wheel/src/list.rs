//! Intrusive doubly linked lists threaded through the wheel's slab by index.
//!
//! A timer's `prev`/`next` links live in its slab entry, so moving a timer
//! between slots, cascading it, or removing it from the middle of a list is
//! O(1) and allocates nothing. Lists are FIFO, which is what keeps timers due
//! in the same tick firing in insertion order.

use slab::Slab;

use crate::entry::Entry;

/// The "no entry" link.
pub(crate) const NIL: usize = usize::MAX;

/// Head and tail of one list; the links are in the entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct List {
    head: usize,
    tail: usize,
}

impl List {
    pub(crate) const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    /// Appends `idx`, which must not be linked into any list.
    #[inline]
    pub(crate) fn push_back<T>(&mut self, entries: &mut Slab<Entry<T>>, idx: usize) {
        let entry = &mut entries[idx];
        entry.prev = self.tail;
        entry.next = NIL;
        if self.tail == NIL {
            self.head = idx;
        } else {
            entries[self.tail].next = idx;
        }
        self.tail = idx;
    }

    /// Unlinks `idx`, which must be linked into this list.
    #[inline]
    pub(crate) fn unlink<T>(&mut self, entries: &mut Slab<Entry<T>>, idx: usize) {
        let (prev, next) = {
            let entry = &mut entries[idx];
            let links = (entry.prev, entry.next);
            entry.prev = NIL;
            entry.next = NIL;
            links
        };
        if prev == NIL {
            self.head = next;
        } else {
            entries[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            entries[next].prev = prev;
        }
    }

    /// Unlinks and returns the first entry.
    #[inline]
    pub(crate) fn pop_front<T>(&mut self, entries: &mut Slab<Entry<T>>) -> Option<usize> {
        let idx = self.head;
        if idx == NIL {
            return None;
        }
        self.unlink(entries, idx);
        Some(idx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Place;

    fn entry(value: u32) -> Entry<u32> {
        Entry::new(value, 0, 0, Place::Pending)
    }

    fn drain(list: &mut List, entries: &mut Slab<Entry<u32>>) -> Vec<u32> {
        std::iter::from_fn(|| list.pop_front(entries).map(|i| entries[i].value)).collect()
    }

    #[test]
    fn fifo_order_and_middle_unlink() {
        let mut entries = Slab::new();
        let mut list = List::EMPTY;
        let ids: Vec<usize> = (0..5).map(|v| entries.insert(entry(v))).collect();
        for &id in &ids {
            list.push_back(&mut entries, id);
        }
        list.unlink(&mut entries, ids[2]);
        list.unlink(&mut entries, ids[0]);
        list.unlink(&mut entries, ids[4]);
        assert_eq!(drain(&mut list, &mut entries), vec![1, 3]);
        assert!(list.is_empty());
    }

    #[test]
    fn single_element_unlink_empties() {
        let mut entries = Slab::new();
        let mut list = List::EMPTY;
        let id = entries.insert(entry(7));
        list.push_back(&mut entries, id);
        list.unlink(&mut entries, id);
        assert_eq!(list, List::EMPTY);
    }
}
