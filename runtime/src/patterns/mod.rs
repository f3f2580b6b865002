//! Common concurrency patterns built on task groups, scopes and `sync`:
//! [`map_concurrent`] (bounded parallel map), [`retry_with_timeout`]
//! (per-attempt deadlines with backoff).

mod map;
mod retry;

pub use self::map::map_concurrent;
pub use self::retry::{Backoff, RetryError, retry_with_timeout};
