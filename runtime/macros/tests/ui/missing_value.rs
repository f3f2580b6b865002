#[keen::main(start_paused)]
async fn main() {}
