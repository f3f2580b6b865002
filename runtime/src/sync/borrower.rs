//! [`Borrower`]: who holds a [`CapacityLimiter`](super::CapacityLimiter)
//! token — a task, a thread, or any `Hash + Eq` value the caller picks.

use std::any::Any;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::thread::{self, ThreadId};

use crate::task::{self, Id};

/// The identity a [`CapacityLimiter`](super::CapacityLimiter) token is
/// borrowed on behalf of; each borrower holds at most one token.
///
/// [`Borrower::current`] is the current keen task or, outside a task (a
/// plain thread, a `block_on` future), the current thread. [`Borrower::new`]
/// wraps any `Hash + Eq` value; values of different types never compare
/// equal, and a `task::Id` or `ThreadId` given to `new` is the same borrower
/// as the task or thread it names.
///
/// ```
/// use keen::sync::Borrower;
///
/// assert_eq!(Borrower::new("job-7"), Borrower::new("job-7"));
/// assert_ne!(Borrower::new(7u32), Borrower::new(7u64));
/// assert_eq!(Borrower::current(), Borrower::new(std::thread::current().id()));
/// ```
#[derive(Clone)]
pub struct Borrower(Repr);

#[derive(Clone)]
enum Repr {
    Task(Id),
    Thread(ThreadId),
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
    /// The current keen task, or the current thread outside any task.
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
            None => Borrower(Repr::Thread(thread::current().id())),
        }
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
        } else if let Some(&id) = any.downcast_ref::<ThreadId>() {
            Borrower(Repr::Thread(id))
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
            (Repr::Thread(a), Repr::Thread(b)) => a == b,
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
            Repr::Thread(id) => (1u8, id).hash(state),
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
            Repr::Thread(id) => f.debug_tuple("Borrower::Thread").field(id).finish(),
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
        assert!(set.insert(Borrower::current()));
        assert!(!set.insert(Borrower::new(thread::current().id())));
        assert!(!set.insert(Borrower::new(Borrower::new("a"))));
    }
}
