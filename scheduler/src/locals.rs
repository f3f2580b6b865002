//! Task-local storage that travels *with the task*: a small copy-on-write map
//! kept in the task's header, installed as "current" on whichever thread
//! polls the task, so values follow a task that is stolen by another worker.
//!
//! A child starts with a copy of its parent's map (an `Arc` clone, or nothing
//! when the map is empty); writing copies the map first, so a child's change
//! never reaches the parent and vice versa. Values are shared immutably, which
//! is why they must be `Send + Sync`.

use std::any::Any;
use std::sync::Arc;

/// Identifies one task-local key: the address of a `static` the key owns.
pub type LocalKeyId = usize;

/// A stored value: shared, immutable, usable from any thread.
pub type LocalValue = Arc<dyn Any + Send + Sync>;
type Value = LocalValue;

/// One task's task-local values.
#[derive(Clone, Default)]
pub struct Locals(Option<Arc<Vec<(LocalKeyId, Value)>>>);

impl Locals {
    /// An empty map.
    pub const fn new() -> Locals {
        Locals(None)
    }

    /// The value stored under `key`, if any.
    pub fn get(&self, key: LocalKeyId) -> Option<&Value> {
        let map = self.0.as_ref()?;
        map.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Stores `value` under `key` (replacing any value) and returns the old one.
    pub fn insert(&mut self, key: LocalKeyId, value: Value) -> Option<Value> {
        let map = Arc::make_mut(self.0.get_or_insert_with(Default::default));
        match map.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => Some(std::mem::replace(slot, value)),
            None => {
                map.push((key, value));
                None
            }
        }
    }

    /// Removes the value under `key`, returning it.
    pub fn remove(&mut self, key: LocalKeyId) -> Option<Value> {
        let arc = self.0.as_mut()?;
        let pos = arc.iter().position(|(k, _)| *k == key)?;
        let map = Arc::make_mut(arc);
        let (_, value) = map.swap_remove(pos);
        if map.is_empty() {
            self.0 = None;
        }
        Some(value)
    }

    /// Whether no value is stored.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }
}

impl std::fmt::Debug for Locals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.0.as_ref().map_or(0, |m| m.len());
        f.debug_struct("Locals").field("len", &len).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_on_write_isolates_child_and_parent() {
        let mut parent = Locals::new();
        parent.insert(1, Arc::new(1u32));
        let mut child = parent.clone();
        child.insert(1, Arc::new(2u32));
        child.insert(2, Arc::new("x"));
        assert_eq!(parent.get(1).unwrap().downcast_ref::<u32>(), Some(&1));
        assert_eq!(child.get(1).unwrap().downcast_ref::<u32>(), Some(&2));
        assert!(parent.get(2).is_none());
        assert!(child.remove(2).is_some());
        assert!(child.remove(1).is_some());
        assert!(child.is_empty());
        assert!(!parent.is_empty());
    }
}
