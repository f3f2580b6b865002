#[keen::main(eager = false, flavor = "current_thread", eager = true)]
async fn main() {}
