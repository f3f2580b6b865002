//! Misuse of `#[keen::main]` and `#[keen::test]` fails to compile with a
//! message that names the fix: each case in `tests/ui/*.rs` must fail, and
//! rustc's output must match its `.stderr` file. Regenerate those with
//! `TRYBUILD=overwrite cargo test -p keen-macros --test compile_fail`
//! after changing a message, and read the diff.

#[test]
fn misuse_is_a_compile_error_naming_the_fix() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
