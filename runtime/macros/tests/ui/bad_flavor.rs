#[keen::main(flavor = "local")]
async fn main() {}
