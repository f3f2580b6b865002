//! The [`TimerQueue`] trait the `wheel` bench is written against, its impl
//! for [`keen_timer_wheel::Wheel`], and the two baseline timer queues the
//! wheel is compared with: [`binary_heap::HeapQueue`] (lazy deletion) and
//! [`btree_map::BTreeQueue`] (eager deletion).
//!
//! Every queue carries `()` values in the benches so that only the queue
//! mechanics are measured. Deadlines are abstract `u64` ticks.

use keen_timer_wheel::{TimerKey, Wheel};

/// The operations every bench needs, so each bench is written once and run
/// over all three queues.
pub trait TimerQueue {
    /// Names one timer; stale once the timer fired or was cancelled.
    type Key: Copy;

    /// An empty queue with room for `capacity` timers where the structure
    /// supports preallocation (the `BTreeMap` does not).
    fn with_capacity(capacity: usize) -> Self;

    /// Adds a timer due at tick `when`.
    fn insert(&mut self, when: u64) -> Self::Key;

    /// Cancels a live timer; `false` if the key is stale.
    fn cancel(&mut self, key: Self::Key) -> bool;

    /// The earliest tick at which [`poll_expired`](TimerQueue::poll_expired)
    /// has work, `None` when empty. Exact for the baselines; a lower bound
    /// (possibly a cascade point) for the wheel.
    fn next_expiration(&self) -> Option<u64>;

    /// Returns one timer due at or before `now`, earliest first; drain in a
    /// loop.
    fn poll_expired(&mut self, now: u64) -> Option<Self::Key>;
}

impl TimerQueue for Wheel<()> {
    type Key = TimerKey;

    fn with_capacity(capacity: usize) -> Self {
        Wheel::with_capacity(capacity)
    }

    #[inline]
    fn insert(&mut self, when: u64) -> TimerKey {
        Wheel::insert(self, when, ())
    }

    #[inline]
    fn cancel(&mut self, key: TimerKey) -> bool {
        self.remove(key).is_some()
    }

    #[inline]
    fn next_expiration(&self) -> Option<u64> {
        Wheel::next_expiration(self)
    }

    #[inline]
    fn poll_expired(&mut self, now: u64) -> Option<TimerKey> {
        Wheel::poll_expired(self, now).map(|(key, ())| key)
    }
}

pub mod binary_heap {
    //! A `BinaryHeap<Reverse<(when, seq)>>` timer queue with lazy deletion.
    //!
    //! `seq` packs a global insertion counter (high 40 bits, so timers due
    //! in the same tick pop in insertion order) and the index of the timer's
    //! liveness slot (low 24 bits). A slot records the `seq` of the timer
    //! that currently owns it, so a heap entry is live exactly when its slot
    //! still holds its `seq`; a cancelled timer's slot is reused at once.
    //!
    //! Cancel frees the slot and leaves the heap entry in place. Dead entries
    //! are discarded when they reach the top (the top is always kept live, so
    //! `next_expiration` is exact), and the heap is compacted with
    //! `BinaryHeap::retain` once dead entries outnumber live ones, which keeps
    //! memory bounded at O(1) amortised cost per cancel. Both are part of the
    //! honest cost of this design and are inside the measured time.

    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    use super::TimerQueue;

    /// Bits of `seq` holding the slot index.
    const SLOT_BITS: u32 = 24;
    /// Mask of the slot index in `seq`.
    const SLOT_MASK: u64 = (1 << SLOT_BITS) - 1;
    /// Slot marker: no timer owns it.
    const FREE: u64 = u64::MAX;
    /// Dead entries tolerated before a compaction is considered.
    const MIN_COMPACT: usize = 1024;

    /// A key of [`HeapQueue`]: the timer's packed `seq`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct HeapKey(u64);

    /// One liveness slot.
    #[derive(Debug)]
    struct Slot<T> {
        /// `seq` of the owning timer, or [`FREE`].
        seq: u64,
        value: Option<T>,
    }

    /// A binary min-heap timer queue with lazy deletion; see the module docs.
    #[derive(Debug)]
    pub struct HeapQueue<T> {
        heap: BinaryHeap<Reverse<(u64, u64)>>,
        slots: Vec<Slot<T>>,
        free: Vec<u32>,
        next_seq: u64,
        /// Cancelled entries still in `heap`.
        dead: usize,
    }

    impl<T> HeapQueue<T> {
        /// An empty queue with room for `capacity` timers.
        pub fn with_capacity(capacity: usize) -> Self {
            HeapQueue {
                heap: BinaryHeap::with_capacity(capacity),
                slots: Vec::with_capacity(capacity),
                free: Vec::new(),
                next_seq: 0,
                dead: 0,
            }
        }

        /// Adds a timer due at `when` carrying `value`.
        #[inline]
        pub fn insert(&mut self, when: u64, value: T) -> HeapKey {
            let slot = match self.free.pop() {
                Some(slot) => slot as u64,
                None => {
                    let slot = self.slots.len() as u64;
                    assert!(slot <= SLOT_MASK, "more than 2^24 live timers");
                    self.slots.push(Slot {
                        seq: FREE,
                        value: None,
                    });
                    slot
                }
            };
            let seq = (self.next_seq << SLOT_BITS) | slot;
            self.next_seq += 1;
            let entry = &mut self.slots[slot as usize];
            entry.seq = seq;
            entry.value = Some(value);
            self.heap.push(Reverse((when, seq)));
            HeapKey(seq)
        }

        /// Cancels a live timer and returns its value; `None` if stale.
        #[inline]
        pub fn cancel(&mut self, key: HeapKey) -> Option<T> {
            if self.slots[(key.0 & SLOT_MASK) as usize].seq != key.0 {
                return None;
            }
            let value = self.release(key.0);
            self.dead += 1;
            self.discard_dead_top();
            if self.dead >= MIN_COMPACT && self.dead > self.heap.len() - self.dead {
                let slots = &self.slots;
                self.heap
                    .retain(|Reverse((_, seq))| slots[(seq & SLOT_MASK) as usize].seq == *seq);
                self.dead = 0;
            }
            value
        }

        /// The earliest live deadline.
        #[inline]
        pub fn next_expiration(&self) -> Option<u64> {
            self.heap.peek().map(|Reverse((when, _))| *when)
        }

        /// Pops the earliest timer if it is due at or before `now`.
        #[inline]
        pub fn poll_expired(&mut self, now: u64) -> Option<(HeapKey, T)> {
            match self.heap.peek() {
                Some(&Reverse((when, seq))) if when <= now => {
                    self.heap.pop();
                    let value = self.release(seq);
                    self.discard_dead_top();
                    value.map(|value| (HeapKey(seq), value))
                }
                _ => None,
            }
        }

        /// Frees the slot of the live timer `seq` and takes its value.
        #[inline]
        fn release(&mut self, seq: u64) -> Option<T> {
            let index = seq & SLOT_MASK;
            let slot = &mut self.slots[index as usize];
            slot.seq = FREE;
            self.free.push(index as u32);
            slot.value.take()
        }

        /// Pops cancelled entries off the top so the top is always live.
        #[inline]
        fn discard_dead_top(&mut self) {
            while let Some(&Reverse((_, seq))) = self.heap.peek() {
                if self.slots[(seq & SLOT_MASK) as usize].seq == seq {
                    break;
                }
                self.heap.pop();
                self.dead -= 1;
            }
        }
    }

    impl TimerQueue for HeapQueue<()> {
        type Key = HeapKey;

        fn with_capacity(capacity: usize) -> Self {
            HeapQueue::with_capacity(capacity)
        }

        #[inline]
        fn insert(&mut self, when: u64) -> HeapKey {
            HeapQueue::insert(self, when, ())
        }

        #[inline]
        fn cancel(&mut self, key: HeapKey) -> bool {
            HeapQueue::cancel(self, key).is_some()
        }

        #[inline]
        fn next_expiration(&self) -> Option<u64> {
            HeapQueue::next_expiration(self)
        }

        #[inline]
        fn poll_expired(&mut self, now: u64) -> Option<HeapKey> {
            HeapQueue::poll_expired(self, now).map(|(key, ())| key)
        }
    }
}

pub mod btree_map {
    //! A `BTreeMap<(when, seq), T>` timer queue with eager deletion.
    //!
    //! The key `(when, seq)` is unique thanks to the insertion counter `seq`
    //! and orders timers by deadline, then insertion. Cancel is
    //! `BTreeMap::remove`; the earliest timer is `first_key_value`.

    use std::collections::BTreeMap;

    use super::TimerQueue;

    /// A key of [`BTreeQueue`]: the timer's `(when, seq)` map key.
    pub type BTreeKey = (u64, u64);

    /// An ordered-map timer queue; see the module docs.
    #[derive(Debug)]
    pub struct BTreeQueue<T> {
        map: BTreeMap<BTreeKey, T>,
        next_seq: u64,
    }

    impl<T> BTreeQueue<T> {
        /// An empty queue (a `BTreeMap` cannot preallocate).
        pub fn new() -> Self {
            BTreeQueue {
                map: BTreeMap::new(),
                next_seq: 0,
            }
        }

        /// Adds a timer due at `when` carrying `value`.
        #[inline]
        pub fn insert(&mut self, when: u64, value: T) -> BTreeKey {
            let key = (when, self.next_seq);
            self.next_seq += 1;
            self.map.insert(key, value);
            key
        }

        /// Cancels a live timer and returns its value; `None` if stale.
        #[inline]
        pub fn cancel(&mut self, key: BTreeKey) -> Option<T> {
            self.map.remove(&key)
        }

        /// The earliest deadline.
        #[inline]
        pub fn next_expiration(&self) -> Option<u64> {
            self.map.first_key_value().map(|(&(when, _), _)| when)
        }

        /// Removes the earliest timer if it is due at or before `now`.
        #[inline]
        pub fn poll_expired(&mut self, now: u64) -> Option<(BTreeKey, T)> {
            let entry = self.map.first_entry()?;
            if entry.key().0 > now {
                return None;
            }
            Some(entry.remove_entry())
        }
    }

    impl<T> Default for BTreeQueue<T> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl TimerQueue for BTreeQueue<()> {
        type Key = BTreeKey;

        fn with_capacity(_capacity: usize) -> Self {
            BTreeQueue::new()
        }

        #[inline]
        fn insert(&mut self, when: u64) -> BTreeKey {
            BTreeQueue::insert(self, when, ())
        }

        #[inline]
        fn cancel(&mut self, key: BTreeKey) -> bool {
            BTreeQueue::cancel(self, key).is_some()
        }

        #[inline]
        fn next_expiration(&self) -> Option<u64> {
            BTreeQueue::next_expiration(self)
        }

        #[inline]
        fn poll_expired(&mut self, now: u64) -> Option<BTreeKey> {
            BTreeQueue::poll_expired(self, now).map(|(key, ())| key)
        }
    }
}
