//! Shared support for keen's cross-crate tests, side-by-side benches and
//! examples: the runtime configuration matrix every scenario runs on, and
//! counters for polls and drops. It fills in as the runtime lands (issue 3).
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
