//! [`Borrower`]: who holds a [`CapacityLimiter`](super::CapacityLimiter)
//! token — a keen task, an anonymous one-off identity (an acquire outside
//! any keen task), or any `Hash + Eq` value the caller picks.

use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::task::{self, Id};

/// The identity a [`CapacityLimiter`](super::CapacityLimiter) token is
/// borrowed on behalf of; each borrower holds at most one token.
///
/// [`Borrower::current`] is the current keen task; outside a keen task (a
/// plain thread, a `block_on` future, a task of another runtime) there is
/// no identity that follows the caller, so each call is a new anonymous
/// borrower. [`Borrower::new`] wraps any `Hash + Eq` value; values of
/// different types never compare equal, and a `task::Id` given to `new` is
/// the same borrower as the task it names.
///
/// ```
/// use keen::sync::Borrower;
///
/// assert_eq!(Borrower::new("job-7"), Borrower::new("job-7"));
/// assert_ne!(Borrower::new(7u32), Borrower::new(7u64));
/// // Outside a keen task every call is its own borrower.
/// assert_ne!(Borrower::current(), Borrower::current());
/// ```
#[derive(Clone)]
pub struct Borrower(Repr);

#[derive(Clone)]
enum Repr {
    Task(Id),
    /// A one-off identity: [`Borrower::current`] outside a keen task.
    Anonymous(u64),
    Key(Arc<dyn Key>),
}

/// A caller-chosen identity, compared by type and value.
trait Key: Any + Send + Sync {
    fn key_eq(&self, other: &dyn Key) -> bool;
    fn key_hash(&self, state: &mut dyn Hasher);
    fn as_any(&self) -> &dyn Any;
}

impl<K: Hash + Eq + Send + Sync + 'static> Key for K {
    fn key_eq(&self, other: &dyn Key) -> bool {
        other.as_any().downcast_ref::<K>() == Some(self)
    }

    fn key_hash(&self, mut state: &mut dyn Hasher) {
        self.hash(&mut state);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Borrower {
    /// The current keen task; outside any keen task, a new anonymous
    /// borrower, equal only to its own clones.
    ///
    /// Outside a keen task the thread is not an identity worth borrowing
    /// for: two tasks of another runtime share it (and would refuse each
    /// other a token), and one such task may move between threads (and
    /// borrow twice). A caller that wants a stable identity there names one
    /// with [`CapacityLimiter::acquire_on_behalf_of`](super::CapacityLimiter::acquire_on_behalf_of).
    ///
    /// ```
    /// keen::block_on(async {
    ///     let task = keen::spawn(async { keen::sync::Borrower::current() });
    ///     let id = task.id();
    ///     assert_eq!(task.await.unwrap(), keen::sync::Borrower::new(id));
    /// });
    /// ```
    pub fn current() -> Borrower {
        match task::try_id() {
            Some(id) => Borrower(Repr::Task(id)),
            None => Borrower::anonymous(),
        }
    }

    /// A borrower no other one equals (its clones aside).
    fn anonymous() -> Borrower {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        Borrower(Repr::Anonymous(NEXT.fetch_add(1, Relaxed)))
    }

    /// A borrower named by `key`: any `Hash + Eq` value.
    ///
    /// ```
    /// use keen::sync::Borrower;
    /// #[derive(Hash, PartialEq, Eq)]
    /// struct Connection(u32);
    /// assert_eq!(Borrower::new(Connection(1)), Borrower::new(Connection(1)));
    /// assert_ne!(Borrower::new(Connection(1)), Borrower::new(Connection(2)));
    /// ```
    pub fn new<K: Hash + Eq + Send + Sync + 'static>(key: K) -> Borrower {
        let any: &dyn Any = &key;
        if let Some(borrower) = any.downcast_ref::<Borrower>() {
            borrower.clone()
        } else if let Some(&id) = any.downcast_ref::<Id>() {
            Borrower(Repr::Task(id))
        } else {
            Borrower(Repr::Key(Arc::new(key)))
        }
    }

    /// The task this borrower is, if it is one.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let task = keen::spawn(async { keen::sync::Borrower::current().task() });
    ///     let id = task.id();
    ///     assert_eq!(task.await.unwrap(), Some(id));
    /// });
    /// ```
    pub fn task(&self) -> Option<Id> {
        match self.0 {
            Repr::Task(id) => Some(id),
            _ => None,
        }
    }
}

impl PartialEq for Borrower {
    fn eq(&self, other: &Borrower) -> bool {
        match (&self.0, &other.0) {
            (Repr::Task(a), Repr::Task(b)) => a == b,
            (Repr::Anonymous(a), Repr::Anonymous(b)) => a == b,
            (Repr::Key(a), Repr::Key(b)) => a.key_eq(&**b),
            _ => false,
        }
    }
}

impl Eq for Borrower {}

impl Hash for Borrower {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match &self.0 {
            Repr::Task(id) => (0u8, id).hash(state),
            Repr::Anonymous(n) => (1u8, n).hash(state),
            Repr::Key(key) => {
                (2u8, Any::type_id(key.as_any())).hash(state);
                key.key_hash(state);
            }
        }
    }
}

impl fmt::Debug for Borrower {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Task(id) => f.debug_tuple("Borrower::Task").field(id).finish(),
            Repr::Anonymous(n) => f.debug_tuple("Borrower::Anonymous").field(n).finish(),
            Repr::Key(_) => f.write_str("Borrower::Key(..)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_hash_and_compare_by_type_and_value() {
        let mut set = HashSet::new();
        assert!(set.insert(Borrower::new("a")));
        assert!(!set.insert(Borrower::new("a")));
        assert!(
            set.insert(Borrower::new(String::from("a"))),
            "a String is not a &str"
        );
        let anonymous = Borrower::current();
        assert!(set.insert(anonymous.clone()));
        assert!(!set.insert(anonymous), "a clone is the same borrower");
        assert!(set.insert(Borrower::current()), "outside a task: a new one");
        assert!(!set.insert(Borrower::new(Borrower::new("a"))));
        let thread = std::thread::current().id();
        assert!(set.insert(Borrower::new(thread)));
        assert!(!set.insert(Borrower::new(thread)), "a ThreadId is a key");
    }
}
