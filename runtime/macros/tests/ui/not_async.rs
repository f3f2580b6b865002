#[keen::main]
fn main() {}
