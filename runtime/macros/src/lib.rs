//! `keen-macros`: the `#[keen::main]` and `#[keen::test]` attribute macros.
//!
//! Use them through the `keen` crate (feature `macros`, on by default), not
//! from here. Each turns an `async fn` into a plain `fn` that builds a keen
//! runtime with [`Builder`] and runs the body on it with `block_on`, as
//! tokio's `#[tokio::main]`/`#[tokio::test]` do; the arguments have tokio's
//! names and meanings, plus keen's `eager`. `args.rs` parses and checks the
//! arguments; `expand.rs` checks the function and writes the expansion.
//!
//! [`Builder`]: https://docs.rs/keen/latest/keen/runtime/struct.Builder.html
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod args;
mod expand;

use proc_macro::TokenStream;

use crate::args::Macro;

/// Runs an `async fn` on a new keen runtime: `#[keen::main] async fn main()`.
///
/// The function becomes a plain `fn` that builds a runtime, runs the body
/// with `block_on` and returns its value, so `main` may return `()` or a
/// `Result`. Any function without parameters or generics works, not only
/// `main`.
///
/// ```
/// #[keen::main]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let n: u32 = keen::spawn(async { "42".parse() }).await.unwrap()?;
///     assert_eq!(n, 42);
///     Ok(())
/// }
/// ```
///
/// # Arguments
///
/// | argument | meaning | default |
/// |---|---|---|
/// | `flavor = "multi_thread"` or `"current_thread"` | `Builder::new_multi_thread()` or `Builder::new_current_thread()` | `"multi_thread"` |
/// | `worker_threads = N` | `Builder::worker_threads(N)`; multi-thread only | one per core |
/// | `start_paused = true` | `Builder::start_paused(true)`: the clock starts paused (either flavour) | `false` |
/// | `eager = false` | `Builder::eager(false)`: `spawn` queues like tokio's instead of polling in place | `true` |
/// | `crate = "path"` | where the keen crate is, for a crate that renames or re-exports it | `"::keen"` |
///
/// ```
/// #[keen::main(flavor = "current_thread", eager = false)]
/// async fn main() {
///     let child = keen::spawn(async { 1 });
///     assert!(!child.is_finished()); // queued, not polled in place
///     assert_eq!(child.await.unwrap(), 1);
/// }
/// ```
///
/// Misuse is a compile error that names the fix: a function that is not
/// `async`, parameters or generics, an unknown or repeated argument, an
/// unknown flavour, `worker_threads` with `flavor = "current_thread"`.
///
/// ```compile_fail
/// #[keen::main(flavor = "current_thread", worker_threads = 2)]
/// async fn main() {}
/// ```
///
/// The one difference from tokio: `start_paused` works on both flavours,
/// because keen's `Builder::start_paused` does (tokio allows it only on
/// current-thread).
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Macro::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a new keen runtime: `#[keen::test] async fn
/// name()`.
///
/// Like [`macro@main`], with a current-thread runtime by default, and the
/// function marked `#[test]`. Attributes after it stay on the test
/// (`#[should_panic]`, `#[ignore]`); a `Result`-returning test fails on
/// `Err`, as a plain test does. The arguments are `main`'s: `flavor`,
/// `worker_threads` (multi-thread only), `start_paused`, `eager`, `crate`.
///
/// ```no_run
/// use std::time::Duration;
///
/// #[keen::test(start_paused = true)]
/// async fn an_hour_passes_at_once() {
///     let start = keen::time::Instant::now();
///     keen::time::sleep(Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// }
///
/// #[keen::test(flavor = "multi_thread", worker_threads = 2)]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     keen::task::yield_now().await;
///     panic!("boom");
/// }
/// # fn main() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Macro::Test, args.into(), item.into()).into()
}
