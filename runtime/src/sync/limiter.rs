//! [`CapacityLimiter`]: trio's and anyio's capacity limiter — a FIFO
//! token pool where each borrower holds at most one token, the total can
//! change at run time, and a freed token is handed to the next waiter.

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::borrower::Borrower;
use super::waiters::{Status, WaitList, Wakers};
use crate::loom::Mutex;

/// Limits how many borrowers use a resource at once, one token each.
///
/// - [`acquire`](Self::acquire) borrows a token for the current task
///   ([`Borrower::current`]: the keen task; outside a keen task each
///   acquire is a borrower of its own);
///   [`acquire_on_behalf_of`](Self::acquire_on_behalf_of) for any identity.
/// - A borrower that already holds a token, or is already waiting for one,
///   gets [`BorrowError`] instead of a second one.
/// - Waiters are served first come, first served. A token given back while
///   someone waits is handed to the first waiter directly: it never becomes
///   "available", so nobody can overtake the queue.
/// - [`set_total_tokens`](Self::set_total_tokens) changes the size at any
///   time; raising it serves waiters at once, lowering it below the tokens
///   in use makes new borrowers wait until enough come back.
/// - Dropping a waiting acquire is safe: it leaves the queue, and if a token
///   had already been handed to it, that token goes on to the next waiter.
///
/// A token is a [`CapacityToken`] guard (or an [`OwnedCapacityToken`] from
/// the `_owned` forms); dropping it gives the token back.
///
/// ```
/// use std::sync::Arc;
/// use keen::sync::CapacityLimiter;
///
/// keen::block_on(async {
///     let limiter = Arc::new(CapacityLimiter::new(2));
///     let tasks: Vec<_> = (0..5)
///         .map(|_| {
///             let limiter = limiter.clone();
///             keen::spawn(async move {
///                 let _token = limiter.acquire().await.unwrap();
///                 assert!(limiter.borrowed_tokens() <= 2);
///                 keen::task::yield_now().await;
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     assert_eq!(limiter.available_tokens(), 2);
/// });
/// ```
pub struct CapacityLimiter {
    state: Mutex<State>,
}

struct State {
    total: usize,
    borrowed: usize,
    /// Every borrower holding or waiting for a token.
    borrowers: HashSet<Borrower>,
    waiters: WaitList<Borrower>,
}

impl State {
    /// Hands tokens to the front waiters while the total allows.
    fn serve(&mut self, wakers: &mut Wakers) {
        while self.borrowed < self.total && self.waiters.grant_front(wakers) {
            self.borrowed += 1;
        }
    }

    fn give_back(&mut self, borrower: &Borrower, wakers: &mut Wakers) {
        self.borrowers.remove(borrower);
        self.borrowed -= 1;
        self.serve(wakers);
    }
}

/// Error of a waiting acquire: this borrower already holds a token of the
/// limiter, or is already waiting for one.
///
/// ```
/// keen::block_on(async {
///     let limiter = keen::sync::CapacityLimiter::new(5);
///     let _token = limiter.acquire_on_behalf_of("me").await.unwrap();
///     let err = limiter.acquire_on_behalf_of("me").await.unwrap_err();
///     assert_eq!(err.to_string(), "this borrower already holds or waits for a token");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BorrowError(());

/// Error of [`CapacityLimiter::try_acquire`] and
/// [`try_acquire_on_behalf_of`](CapacityLimiter::try_acquire_on_behalf_of).
///
/// ```
/// use keen::sync::{CapacityLimiter, TryBorrowError};
/// let limiter = CapacityLimiter::new(1);
/// let _t = limiter.try_acquire_on_behalf_of(1).unwrap();
/// assert_eq!(limiter.try_acquire_on_behalf_of(1).unwrap_err(), TryBorrowError::AlreadyBorrowed);
/// assert_eq!(limiter.try_acquire_on_behalf_of(2).unwrap_err(), TryBorrowError::NoTokens);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryBorrowError {
    /// The borrower already holds or waits for a token.
    AlreadyBorrowed,
    /// No token is free, or others are waiting first.
    NoTokens,
}

impl CapacityLimiter {
    /// A limiter with `total` tokens (`0` holds every borrower until
    /// [`set_total_tokens`](Self::set_total_tokens) raises it).
    ///
    /// ```
    /// let limiter = keen::sync::CapacityLimiter::new(3);
    /// assert_eq!(limiter.total_tokens(), 3);
    /// ```
    pub fn new(total: usize) -> CapacityLimiter {
        CapacityLimiter {
            state: Mutex::new(State {
                total,
                borrowed: 0,
                borrowers: HashSet::new(),
                waiters: WaitList::new(),
            }),
        }
    }

    /// Borrows a token for the current task ([`Borrower::current`]: the
    /// keen task awaiting this), waiting in FIFO order if none is free.
    ///
    /// Outside a keen task (a plain thread, a `block_on` future, a task of
    /// another runtime) no identity follows the caller, so each call is its
    /// own borrower and is never refused as a second borrow; use
    /// [`acquire_on_behalf_of`](Self::acquire_on_behalf_of) to name one.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let limiter = keen::sync::CapacityLimiter::new(1);
    ///     let task = keen::spawn(async move {
    ///         let token = limiter.acquire().await.unwrap();
    ///         assert_eq!(token.borrower().task(), Some(keen::task::id()));
    ///         assert!(limiter.acquire().await.is_err()); // one token per task
    ///     });
    ///     task.await.unwrap();
    /// });
    /// ```
    ///
    /// # Errors
    /// [`BorrowError`] if the current task already holds or waits for one.
    pub async fn acquire(&self) -> Result<CapacityToken<'_>, BorrowError> {
        let borrower = self.acquire_as(Borrower::current()).await?;
        Ok(CapacityToken {
            limiter: self,
            borrower,
        })
    }

    /// Borrows a token on behalf of `borrower` (any `Hash + Eq` identity,
    /// or a [`Borrower`]), waiting in FIFO order if none is free.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let limiter = keen::sync::CapacityLimiter::new(2);
    ///     let a = limiter.acquire_on_behalf_of("worker-a").await.unwrap();
    ///     let _b = limiter.acquire_on_behalf_of("worker-b").await.unwrap();
    ///     assert_eq!(limiter.available_tokens(), 0);
    ///     drop(a);
    ///     assert_eq!(limiter.available_tokens(), 1);
    /// });
    /// ```
    ///
    /// # Errors
    /// [`BorrowError`] if `borrower` already holds or waits for a token.
    pub async fn acquire_on_behalf_of<B>(
        &self,
        borrower: B,
    ) -> Result<CapacityToken<'_>, BorrowError>
    where
        B: Hash + Eq + Send + Sync + 'static,
    {
        let borrower = self.acquire_as(Borrower::new(borrower)).await?;
        Ok(CapacityToken {
            limiter: self,
            borrower,
        })
    }

    /// [`acquire`](Self::acquire) for an `Arc<CapacityLimiter>`: the token
    /// owns the `Arc`, so it is `'static` and can move into another task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let limiter = Arc::new(keen::sync::CapacityLimiter::new(1));
    ///     let token = limiter.clone().acquire_owned().await.unwrap();
    ///     keen::spawn(async move { drop(token) }).await.unwrap();
    ///     assert_eq!(limiter.available_tokens(), 1);
    /// });
    /// ```
    ///
    /// # Errors
    /// [`BorrowError`] if the current task already holds or waits for one.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedCapacityToken, BorrowError> {
        let borrower = self.acquire_as(Borrower::current()).await?;
        Ok(OwnedCapacityToken {
            limiter: self,
            borrower,
        })
    }

    /// [`acquire_on_behalf_of`](Self::acquire_on_behalf_of) for an
    /// `Arc<CapacityLimiter>`, with an owned token.
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let limiter = Arc::new(keen::sync::CapacityLimiter::new(1));
    ///     let token = limiter.clone().acquire_on_behalf_of_owned("job").await.unwrap();
    ///     assert_eq!(*token.borrower(), keen::sync::Borrower::new("job"));
    /// });
    /// ```
    ///
    /// # Errors
    /// [`BorrowError`] if `borrower` already holds or waits for a token.
    pub async fn acquire_on_behalf_of_owned<B>(
        self: Arc<Self>,
        borrower: B,
    ) -> Result<OwnedCapacityToken, BorrowError>
    where
        B: Hash + Eq + Send + Sync + 'static,
    {
        let borrower = self.acquire_as(Borrower::new(borrower)).await?;
        Ok(OwnedCapacityToken {
            limiter: self,
            borrower,
        })
    }

    fn acquire_as(&self, borrower: Borrower) -> LimiterAcquire<'_> {
        LimiterAcquire {
            limiter: self,
            borrower: Some(borrower),
            key: None,
        }
    }

    /// Borrows a token for the current task if one is free and nobody waits.
    ///
    /// ```
    /// let limiter = keen::sync::CapacityLimiter::new(1);
    /// let token = limiter.try_acquire().unwrap(); // outside a task: its own borrower
    /// assert!(limiter.try_acquire().is_err()); // no token left
    /// drop(token);
    /// ```
    ///
    /// # Errors
    /// [`TryBorrowError`] says whether it was a second borrow or no token.
    pub fn try_acquire(&self) -> Result<CapacityToken<'_>, TryBorrowError> {
        self.try_acquire_as(Borrower::current())
    }

    /// Borrows a token for `borrower` if one is free and nobody waits.
    ///
    /// ```
    /// let limiter = keen::sync::CapacityLimiter::new(1);
    /// let token = limiter.try_acquire_on_behalf_of(42u64).unwrap();
    /// assert_eq!(*token.borrower(), keen::sync::Borrower::new(42u64));
    /// ```
    ///
    /// # Errors
    /// [`TryBorrowError`] says whether it was a second borrow or no token.
    pub fn try_acquire_on_behalf_of<B>(
        &self,
        borrower: B,
    ) -> Result<CapacityToken<'_>, TryBorrowError>
    where
        B: Hash + Eq + Send + Sync + 'static,
    {
        self.try_acquire_as(Borrower::new(borrower))
    }

    fn try_acquire_as(&self, borrower: Borrower) -> Result<CapacityToken<'_>, TryBorrowError> {
        let mut state = self.state.lock();
        if state.borrowers.contains(&borrower) {
            return Err(TryBorrowError::AlreadyBorrowed);
        }
        if !state.waiters.is_empty() || state.borrowed >= state.total {
            return Err(TryBorrowError::NoTokens);
        }
        state.borrowed += 1;
        state.borrowers.insert(borrower.clone());
        Ok(CapacityToken {
            limiter: self,
            borrower,
        })
    }

    /// Changes the number of tokens. Raising it hands the new tokens to
    /// waiters at once; lowering it takes no token back from its holder.
    ///
    /// ```
    /// keen::block_on(async {
    ///     let limiter = std::sync::Arc::new(keen::sync::CapacityLimiter::new(0));
    ///     let waiter = keen::spawn({
    ///         let limiter = limiter.clone();
    ///         async move { limiter.acquire().await.map(|_| ()) }
    ///     });
    ///     limiter.set_total_tokens(1); // wakes the waiter
    ///     waiter.await.unwrap().unwrap();
    /// });
    /// ```
    pub fn set_total_tokens(&self, total: usize) {
        let mut wakers = Wakers::new();
        let mut state = self.state.lock();
        state.total = total;
        state.serve(&mut wakers);
        drop(state);
        wakers.wake_all();
    }

    /// The number of tokens.
    ///
    /// ```
    /// assert_eq!(keen::sync::CapacityLimiter::new(4).total_tokens(), 4);
    /// ```
    pub fn total_tokens(&self) -> usize {
        self.state.lock().total
    }

    /// Tokens borrowed now (including ones handed to waiters that have not
    /// run yet).
    ///
    /// ```
    /// let limiter = keen::sync::CapacityLimiter::new(4);
    /// let _t = limiter.try_acquire().unwrap();
    /// assert_eq!(limiter.borrowed_tokens(), 1);
    /// ```
    pub fn borrowed_tokens(&self) -> usize {
        self.state.lock().borrowed
    }

    /// Tokens free now: total minus borrowed, or zero if the total was
    /// lowered below what is borrowed.
    ///
    /// ```
    /// let limiter = keen::sync::CapacityLimiter::new(2);
    /// let _t = limiter.try_acquire().unwrap();
    /// limiter.set_total_tokens(0);
    /// assert_eq!(limiter.available_tokens(), 0);
    /// ```
    pub fn available_tokens(&self) -> usize {
        let state = self.state.lock();
        state.total.saturating_sub(state.borrowed)
    }

    fn give_back(&self, borrower: &Borrower) {
        let mut wakers = Wakers::new();
        let mut state = self.state.lock();
        state.give_back(borrower, &mut wakers);
        drop(state);
        wakers.wake_all();
    }

    /// How many borrowers are waiting for a token.
    ///
    /// ```
    /// assert_eq!(keen::sync::CapacityLimiter::new(1).waiters(), 0);
    /// ```
    pub fn waiters(&self) -> usize {
        self.state.lock().waiters.len()
    }
}

impl fmt::Debug for CapacityLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("CapacityLimiter")
            .field("total", &state.total)
            .field("borrowed", &state.borrowed)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// Future of the waiting acquires.
struct LimiterAcquire<'a> {
    limiter: &'a CapacityLimiter,
    /// Until it has polled once.
    borrower: Option<Borrower>,
    /// Its queue node while it waits.
    key: Option<usize>,
}

impl Future for LimiterAcquire<'_> {
    type Output = Result<Borrower, BorrowError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = this.limiter.state.lock();
        let key = match (this.key, this.borrower.take()) {
            (Some(key), _) => key,
            (None, Some(borrower)) => {
                if state.borrowers.contains(&borrower) {
                    return Poll::Ready(Err(BorrowError(())));
                }
                state.borrowers.insert(borrower.clone());
                if state.waiters.is_empty() && state.borrowed < state.total {
                    state.borrowed += 1;
                    return Poll::Ready(Ok(borrower));
                }
                *this.key.insert(state.waiters.push_back(borrower, None))
            }
            (None, None) => panic!("`LimiterAcquire` polled after completion"),
        };
        match state.waiters.poll(key, cx.waker()) {
            Status::Queued => Poll::Pending,
            Status::Granted | Status::Closed => {
                this.key = None;
                let (borrower, _) = state.waiters.remove(key);
                Poll::Ready(Ok(borrower))
            }
        }
    }
}

impl Drop for LimiterAcquire<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else {
            return;
        };
        let mut wakers = Wakers::new();
        let mut state = self.limiter.state.lock();
        match state.waiters.remove(key) {
            // Handed a token it will never use: pass it to the next waiter.
            (borrower, Status::Granted) => state.give_back(&borrower, &mut wakers),
            (borrower, _) => {
                state.borrowers.remove(&borrower);
            }
        }
        drop(state);
        wakers.wake_all();
    }
}

/// A borrowed [`CapacityLimiter`] token; dropping it gives the token back
/// (to the first waiter, if any).
///
/// ```
/// let limiter = keen::sync::CapacityLimiter::new(1);
/// {
///     let token = limiter.try_acquire_on_behalf_of("me").unwrap();
///     assert_eq!(*token.borrower(), keen::sync::Borrower::new("me"));
///     assert_eq!(limiter.available_tokens(), 0);
/// }
/// assert_eq!(limiter.available_tokens(), 1);
/// ```
#[must_use = "the token is given back as soon as it is dropped"]
pub struct CapacityToken<'a> {
    limiter: &'a CapacityLimiter,
    borrower: Borrower,
}

impl CapacityToken<'_> {
    /// On whose behalf the token is held.
    ///
    /// ```
    /// let limiter = keen::sync::CapacityLimiter::new(1);
    /// let token = limiter.try_acquire_on_behalf_of("job").unwrap();
    /// assert_eq!(*token.borrower(), keen::sync::Borrower::new("job"));
    /// ```
    pub fn borrower(&self) -> &Borrower {
        &self.borrower
    }
}

impl Drop for CapacityToken<'_> {
    fn drop(&mut self) {
        self.limiter.give_back(&self.borrower);
    }
}

impl fmt::Debug for CapacityToken<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapacityToken")
            .field("borrower", &self.borrower)
            .finish_non_exhaustive()
    }
}

/// A [`CapacityToken`] that owns an `Arc` of its limiter; `'static`, so
/// it can move into a spawned task. Dropping it gives the token back.
///
/// ```
/// use std::sync::Arc;
/// keen::block_on(async {
///     let limiter = Arc::new(keen::sync::CapacityLimiter::new(2));
///     let token = limiter.clone().acquire_on_behalf_of_owned(1).await.unwrap();
///     std::thread::spawn(move || drop(token)).join().unwrap();
///     assert_eq!(limiter.borrowed_tokens(), 0);
/// });
/// ```
#[must_use = "the token is given back as soon as it is dropped"]
pub struct OwnedCapacityToken {
    limiter: Arc<CapacityLimiter>,
    borrower: Borrower,
}

impl OwnedCapacityToken {
    /// On whose behalf the token is held.
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let limiter = Arc::new(keen::sync::CapacityLimiter::new(1));
    ///     let token = limiter.acquire_on_behalf_of_owned('x').await.unwrap();
    ///     assert_eq!(*token.borrower(), keen::sync::Borrower::new('x'));
    /// });
    /// ```
    pub fn borrower(&self) -> &Borrower {
        &self.borrower
    }

    /// The limiter the token belongs to.
    ///
    /// ```
    /// use std::sync::Arc;
    /// keen::block_on(async {
    ///     let limiter = Arc::new(keen::sync::CapacityLimiter::new(1));
    ///     let token = limiter.clone().acquire_owned().await.unwrap();
    ///     assert!(Arc::ptr_eq(token.limiter(), &limiter));
    /// });
    /// ```
    pub fn limiter(&self) -> &Arc<CapacityLimiter> {
        &self.limiter
    }
}

impl Drop for OwnedCapacityToken {
    fn drop(&mut self) {
        self.limiter.give_back(&self.borrower);
    }
}

impl fmt::Debug for OwnedCapacityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedCapacityToken")
            .field("borrower", &self.borrower)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for BorrowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("this borrower already holds or waits for a token")
    }
}

impl std::error::Error for BorrowError {}

impl fmt::Display for TryBorrowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryBorrowError::AlreadyBorrowed => "this borrower already holds or waits for a token",
            TryBorrowError::NoTokens => "no tokens available",
        })
    }
}

impl std::error::Error for TryBorrowError {}
