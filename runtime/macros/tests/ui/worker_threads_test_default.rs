#[keen::test(worker_threads = 2)]
async fn needs_workers() {}

fn main() {}
