//! Smoke tests of the runtime facade (temporary while the matrix lands).
use keen::runtime::Builder;

#[test]
fn ct_block_on_ready() {
    let rt = Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(async { 5 }), 5);
}

#[test]
fn ct_spawn_eager() {
    let rt = Builder::new_current_thread().build().unwrap();
    let v = rt.block_on(async { keen::spawn(async { 5 }).await.unwrap() });
    assert_eq!(v, 5);
}
