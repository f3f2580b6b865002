//! The seed workload (gather of N children each `timeout(0, yield_now())`),
//! (issue 7). Placeholder until the workloads land.

use criterion::{Criterion, criterion_group, criterion_main};

fn placeholder(_c: &mut Criterion) {}

criterion_group!(benches, placeholder);
criterion_main!(benches);
