//! Common concurrency patterns built on task groups, scopes and `sync`:
//! [`map_concurrent`] (bounded parallel map), [`retry_with_timeout`]
//! (per-attempt deadlines with backoff), [`WorkerPool`] (N workers over a
//! queue, graceful stop that drains) and [`Pool`] (a resource pool with a
//! maximum size, an acquire timeout and a health check on return).

mod map;
mod pool;
mod retry;
mod worker_pool;

pub use self::map::map_concurrent;
pub use self::pool::{Pool, PoolBuilder, PoolError, Pooled};
pub use self::retry::{Backoff, RetryError, retry_with_timeout};
pub use self::worker_pool::WorkerPool;
