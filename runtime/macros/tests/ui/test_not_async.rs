#[keen::test]
fn not_async() {}

fn main() {}
