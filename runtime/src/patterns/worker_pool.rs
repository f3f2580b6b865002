//! [`WorkerPool`]: N workers over one bounded job queue, as children of a
//! task group; [`stop`](WorkerPool::stop) closes the queue and waits while
//! the workers drain it.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use crate::group::{GroupError, TaskGroup};
use crate::sync::Mutex;
use crate::sync::mpsc::{self, Receiver, Sender};

/// A fixed set of workers that run `handler(job)` for each submitted job.
///
/// The workers are children of a task group created with the pool, so they
/// are cancelled with the scope the pool was created in, and a panicking
/// job stops the pool (its panic comes out of [`stop`](Self::stop)).
/// Dropping the pool without `stop` aborts the workers and drops the jobs
/// still queued.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use keen::patterns::WorkerPool;
///
/// let rt = keen::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// rt.block_on(async {
///     let sum = Arc::new(AtomicU32::new(0));
///     let total = sum.clone();
///     let pool = WorkerPool::new(4, 16, move |n: u32| {
///         let total = total.clone();
///         async move { total.fetch_add(n, Ordering::Relaxed); }
///     });
///     for n in 1..=100 {
///         pool.submit(n).await.unwrap();
///     }
///     pool.stop().await.unwrap(); // drains the queue first
///     assert_eq!(sum.load(Ordering::Relaxed), 5050);
/// });
/// ```
pub struct WorkerPool<J> {
    jobs: Sender<J>,
    group: TaskGroup,
    workers: usize,
}

impl<J: Send + 'static> WorkerPool<J> {
    /// Starts `workers` workers over a queue of `capacity` jobs.
    ///
    /// # Panics
    /// If `workers` or `capacity` is 0, or outside a runtime.
    #[track_caller]
    pub fn new<F, Fut>(workers: usize, capacity: usize, handler: F) -> WorkerPool<J>
    where
        F: Fn(J) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        assert!(workers > 0, "a WorkerPool needs at least one worker");
        let (jobs, queue) = mpsc::channel(capacity);
        let queue: Arc<Mutex<Receiver<J>>> = Arc::new(Mutex::new(queue));
        let handler = Arc::new(handler);
        let group = TaskGroup::new();
        for _ in 0..workers {
            let (queue, handler) = (queue.clone(), handler.clone());
            group.spawn_lazy(async move {
                loop {
                    // One worker waits on the queue at a time; the others
                    // queue fairly on the lock.
                    let job = queue.lock().await.recv().await;
                    match job {
                        Some(job) => handler(job).await,
                        None => break, // closed and drained
                    }
                }
            });
        }
        WorkerPool {
            jobs,
            group,
            workers,
        }
    }

    /// Queues a job, waiting for room. `Err(job)` if the pool has stopped
    /// (a job panicked).
    pub async fn submit(&self, job: J) -> Result<(), J> {
        self.jobs.send(job).await.map_err(|e| e.0)
    }

    /// Queues a job if there is room now; otherwise gives it back.
    pub fn try_submit(&self, job: J) -> Result<(), J> {
        self.jobs.try_send(job).map_err(|e| e.into_inner())
    }

    /// The number of workers.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Graceful stop: no more jobs are accepted, every queued job runs,
    /// then the workers exit. Returns the panics of failed jobs, if any.
    pub async fn stop(self) -> Result<(), GroupError> {
        let WorkerPool { jobs, group, .. } = self;
        drop(jobs); // closes the queue once it is drained
        group.join().await
    }
}

impl<J> fmt::Debug for WorkerPool<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkerPool")
            .field("workers", &self.workers)
            .field("group", &self.group)
            .finish()
    }
}
