#[keen::main(flavor = "current_thread")]
async fn main(port: u16) {
    let _ = port;
}
