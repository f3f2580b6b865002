//! tokio's own runtime benches, mirrored on keen and tokio in one run
//! (issue 7). Placeholder until the workloads land.

use criterion::{Criterion, criterion_group, criterion_main};

fn placeholder(_c: &mut Criterion) {}

criterion_group!(benches, placeholder);
criterion_main!(benches);
